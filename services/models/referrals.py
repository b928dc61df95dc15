"""Referrals of a need to a resource, what they may share, and their history."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    ConsentCategory,
    DeclineReason,
    PersonAnswer,
    ProviderLinkEnd,
    ReferralStatus,
)
from services.fields import EncryptedTextField
from services.lifecycle import (
    REFERRAL_ANSWER_ON_PERSON_PAGE,
    REFERRAL_CONTACT_ON_PLAN,
    REFERRAL_NO_HELP_TO_CONFIRM,
    REFERRAL_OPEN,
)
from services.models.base import BaseModel
from services.models.directory import Provider, Resource
from services.models.needs import Need
from services.models.organizations import Organization


class Referral(BaseModel):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="referrals")
    # Its need's organization, copied when it is made (see Need.organization).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT)
    note = EncryptedTextField(_("note to the provider"), blank=True)
    decline_reason = EncryptedTextField(blank=True)
    got_service = models.BooleanField(_("did they get the service?"), null=True, blank=True)
    helped = models.BooleanField(_("did it help?"), null=True, blank=True)
    feedback = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Set when a consent it relied on was revoked while it was open: the provider must be
    # told to stop using what they were given.
    consent_revoked_at = models.DateTimeField(null=True, blank=True)
    # The provider's answer through its link (services/actions/provider_answers.py).
    # (db_default: rows written outside the ORM, such as bench/seed.py's COPY, get them too.)
    provider_contact = models.CharField(
        _("contact person at the provider"), max_length=200, blank=True, default="", db_default=""
    )
    expected_on = models.DateField(_("expected date"), null=True, blank=True)
    decline_code = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True, default="", db_default="")
    # When its provider first answered through the link (the first ReferralEvent with
    # by_provider), kept here so the outcomes page counts answers without reading the events.
    provider_answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When it was sent (its ReferralEvent to "sent": services.lifecycle sends a referral once),
    # kept here so the outcomes page reads a period's sent referrals without the events.
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When it was accepted (its ReferralEvent to "accepted": the lifecycle accepts once), kept
    # here so "stalled now" (accepted and not completed in time) reads no event.
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The person's own word on their plan: did they get help? (their words are encrypted)
    person_answer = models.CharField(max_length=10, choices=PersonAnswer.choices, blank=True, default="", db_default="")
    person_words = EncryptedTextField(blank=True, default="", db_default="")
    person_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-status_changed_at", "-pk"]
        indexes = [
            models.Index(fields=["need", "status"]),
            models.Index(fields=["status", "status_changed_at"]),
            # Each carries the columns the outcomes page counts (INCLUDE, PostgreSQL only), so it
            # counts an organization's referrals from the index, not from their rows: the
            # referrals still waiting (stalled now), and the wait for providers' answers.
            models.Index(
                fields=["organization", "status"],
                include=["status_changed_at", "accepted_at", "id"],
                name="referral_org_status_cover",
            ),
            models.Index(
                fields=["organization", "sent_at"], include=["provider_answered_at"], name="referral_org_sent_cover"
            ),
        ]

    def __str__(self) -> str:
        return _("Referral to %(name)s (%(status)s)") % {
            "name": self.resource.name,
            "status": self.get_status_display(),
        }

    def get_absolute_url(self) -> str:
        return reverse("referral_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in REFERRAL_OPEN

    @property
    def asks_person_if_helped(self) -> bool:
        """Whether the person's plan asks "Did you get help from <provider>?": the one rule for
        the plan's form and for the answer it sends. The plan lists referrals under the needs
        still open only (a closed need is one line under "Done"), so a referral of a closed need
        is not asked about either."""
        return self.status not in REFERRAL_NO_HELP_TO_CONFIRM and self.need.is_open

    @property
    def contact_on_plan(self) -> str:
        """The provider's contact as the person's plan names it (see REFERRAL_CONTACT_ON_PLAN)."""
        return self.provider_contact if self.status in REFERRAL_CONTACT_ON_PLAN else ""

    @property
    def start_on_plan(self) -> date | None:
        """The day the provider planned to start, as the person's plan says it: only while the
        referral is accepted and not yet under way. Once started (or over) it is a day gone by,
        and "They are helping you. They plan to start on December 9" read as not started."""
        return self.expected_on if self.status == ReferralStatus.ACCEPTED else None

    @property
    def answer_on_person_page(self) -> bool:
        """Whether the person page's line for it says the contact and start day the provider
        gave (see REFERRAL_ANSWER_ON_PERSON_PAGE)."""
        return self.status in REFERRAL_ANSWER_ON_PERSON_PAGE


class ReferralCategory(BaseModel):
    """One category of information a referral hands to its provider (contact details are
    always handed over, with or without a row)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="category_rows")
    category = models.CharField(max_length=20, choices=ConsentCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "category"], name="referral_category_unique")]

    def __str__(self) -> str:
        return self.get_category_display()


class ReferralEvent(BaseModel):
    """One status change of a referral: when, by whom, from what to what."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Set when the provider made the change through its link (then `by` is empty).
    by_provider = models.ForeignKey(Provider, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        # The outcomes page counts referrals by the day they were sent (referral: read from the index alone).
        indexes = [models.Index(fields=["to_status", "at", "referral"])]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class ProviderLinkQuerySet(models.QuerySet):
    def live(self, now: datetime) -> ProviderLinkQuerySet:
        """Neither stopped (by staff, or replaced by a newer link) nor past their last day at
        `now`: the links that open the provider's page while its referral is with the provider
        and consent covers what it shares (selectors.provider_links.link_gone)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ProviderLink(BaseModel):
    """The link a referral's provider answers it from, without an account.

    Only the SHA-256 of its token is stored: the token itself exists in the email and
    nowhere else (the worker makes it at sending time), so a copy of the database opens
    nothing. A token has 256 bits from `secrets`, so hashing without a salt is safe: there
    is nothing to guess a dictionary from, and the lookup by hash is what makes a wrong
    token cost the same as a right one (no string comparison against a stored secret).
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="provider_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=ProviderLinkEnd.choices, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ProviderLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["referral", "revoked_at"])]

    def __str__(self) -> str:
        return f"Link for referral {self.referral_id} until {self.expires_at:%Y-%m-%d}"


class ProviderQuestion(BaseModel):
    """A question the provider sent back to the caseworker through its link, and the
    caseworker's answer, which the provider reads on the same page (never in an email)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="provider_questions")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    text = EncryptedTextField()
    at = models.DateTimeField(default=timezone.now)
    answer = EncryptedTextField(blank=True, default="", db_default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"Question from {self.provider_id} on referral {self.referral_id}"
