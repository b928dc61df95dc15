"""Consent to share a person's information, and emergency (break-the-glass) access."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    ConsentCategory,
    ConsentRevokedHow,
    ConsentSignedHow,
    EmergencyReview,
)
from services.fields import EncryptedTextField
from services.lib.sql import split
from services.lib.text import visible_length
from services.models.base import BaseModel
from services.models.directory import Provider
from services.models.people import Exoneree
from services.models.validators import validate_past_date, validate_sensible_date

# The annotation `selectors.coverage.consents_for` adds: a consent's categories, joined by commas.
JOINED_CATEGORIES = "joined_categories"


class Consent(BaseModel):
    """A release of information (45 CFR 164.508(c)): what may be shared, with whom, why,
    from when until when, signed how and when; revocable at any time."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="consents")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="consents", verbose_name=_("shared with")
    )
    purpose = EncryptedTextField(help_text=_("Why the information is shared, in plain words."))
    starts_on = models.DateField("from", validators=[validate_sensible_date])
    ends_on = models.DateField("until", validators=[validate_sensible_date])
    signed_how = models.CharField("signed", max_length=20, choices=ConsentSignedHow.choices)
    signed_on = models.DateField(_("signed on"), validators=[validate_sensible_date, validate_past_date])
    witness = models.CharField(max_length=200, blank=True, help_text=_("Needed when the consent was given verbally."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_how = models.CharField(max_length=10, choices=ConsentRevokedHow.choices, blank=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["exoneree", "provider", "revoked_at"])]

    def __str__(self) -> str:
        return _("Consent to share with %(name)s") % {"name": self.provider.name}

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The end cannot be before the start.")
        if self.signed_how == ConsentSignedHow.VERBAL and not visible_length(self.witness):
            errors["witness"] = _("Name the witness of a verbal consent.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.revoked_at is None and self.starts_on <= today <= self.ends_on

    @property
    def categories(self) -> list[str]:
        """The categories in their fixed order: from the rows joined into the query that loaded
        the consent when it did (`selectors.coverage.consents_for`), else from the (prefetched) rows."""
        if (joined := getattr(self, JOINED_CATEGORIES, None)) is not None:
            return ConsentCategory.in_order(split(joined, ","))
        return ConsentCategory.in_order(row.category for row in self.category_rows.all())

    @property
    def category_labels(self) -> list[str]:
        return [ConsentCategory(value).label for value in self.categories]


class ConsentCategoryRow(BaseModel):
    """One category a consent names; a row each keeps "does a consent cover X" in SQL."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="category_rows")
    category = models.CharField(max_length=20, choices=ConsentCategory.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consent", "category"], name="consent_category_unique")]
        indexes = [models.Index(fields=["category", "consent"])]

    def __str__(self) -> str:
        return self.get_category_display()


class EmergencyAccess(BaseModel):
    """Break-the-glass: a caseworker read a record outside their caseload, for a stated
    reason, for a limited time; a director reviews every one afterwards."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_grants")
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="emergency_grants")
    reason = EncryptedTextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    review = models.CharField(max_length=20, choices=EmergencyReview.choices, default=EmergencyReview.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-granted_at", "-pk"]
        indexes = [models.Index(fields=["user", "expires_at"]), models.Index(fields=["review", "granted_at"])]

    def get_review_url(self) -> str:
        """Where the directors review this grant (a purge finds its notifications by it)."""
        return reverse("emergency_reviews") + f"#grant-{self.pk}"

    def __str__(self) -> str:
        return f"Emergency access by {self.user} at {self.granted_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
