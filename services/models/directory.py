"""The resource directory: providers and the services (resources) they offer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from services.choices import (
    Language,
    NeedDomain,
    ResourceStatus,
)
from services.fields import BoundedTextField
from services.lib.hsds import new_hsds_id
from services.models.base import BaseModel
from services.models.organizations import Organization


class Provider(BaseModel):
    """An organization that offers services (HSDS `organization`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="providers")
    name = models.CharField(max_length=200)
    description = BoundedTextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    # Its id in HSDS (services/lib/hsds.py): the organization's id in the file it was imported
    # from, or a new one; an import finds it again by this id (a second import updates it).
    hsds_id = models.CharField(_("HSDS id"), max_length=100, default=new_hsds_id, editable=False)
    # When the provider is itself a member organization of the network here: a consent to
    # share with it can let a person's record be transferred there (issue 23).
    member_organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("member organization on Reentry"),
    )
    # The language of the referral emails to the provider and of the page their link opens
    # (services/referral_reminders.py, services/views/provider.py). Not in HSDS: its
    # `organization` has no language, and its `language` rows say what a service is delivered
    # in, not what its staff read, so an import leaves this as it is and an export leaves it out.
    # db_default: rows written outside the ORM (bench/seed.py's COPY) get what a save gives.
    language = models.CharField(
        _("the provider's language"),
        max_length=10,
        choices=Language.choices,
        default=Language.ENGLISH,
        db_default=Language.ENGLISH,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="provider_unique_name"),
            models.UniqueConstraint(fields=["organization", "hsds_id"], name="provider_unique_hsds_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Resource(BaseModel):
    """A service a provider offers at a location (HSDS `service` + `location` + `phone`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="resources")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(_("service name"), max_length=200)
    description = BoundedTextField(blank=True)
    eligibility = BoundedTextField(blank=True)
    fees = models.CharField(max_length=200, blank=True)
    application_process = BoundedTextField(blank=True)
    languages = models.CharField(max_length=200, blank=True, help_text=_("For example: English, Spanish"))
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    # Where referrals are sent (services/referral_reminders.py); when empty, the service's own email
    # (an HSDS import fills it from the service, never this one), else the provider's.
    intake_email = models.EmailField(
        _("intake email"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Where referrals go. Empty: the email above, else the provider's."),
    )
    hours = models.CharField(max_length=200, blank=True, help_text=_("For example: Mon–Fri 9am–5pm"))
    # The hours as a person who reads Spanish reads them (hours_to_read). Of a resource, the
    # person's pages show its name and its provider's (names stay as they are), its phone, its
    # address and its hours: the hours are the one text there in words. Not in HSDS (no field of
    # a service or a schedule has a language): an export omits it, and an import that changes the
    # hours empties it, as it would still say the old ones (services.selectors.hsds_import).
    hours_es = models.CharField(
        _("hours, in Spanish"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("For example: lun.–vie., 9 a. m.–5 p. m."),
    )
    status = models.CharField(max_length=30, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)
    # Its HSDS service id (see Provider.hsds_id).
    hsds_id = models.CharField(_("HSDS id"), max_length=100, default=new_hsds_id, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["organization", "status", "name"])]
        constraints = [models.UniqueConstraint(fields=["organization", "hsds_id"], name="resource_unique_hsds_id")]

    def __str__(self) -> str:
        return f"{self.name} — {self.provider.name}"

    def get_absolute_url(self) -> str:
        return reverse("resource_detail", args=[self.pk])

    @property
    def referral_email(self) -> str:
        return self.intake_email or self.email or self.provider.email

    @property
    def hours_to_read(self) -> str:
        """The hours in the active language, as the person's pages say them: the Spanish ones
        when the page is in Spanish and staff typed them, else the English (never a blank)."""
        if get_language() == Language.SPANISH and self.hours_es.strip():
            return self.hours_es
        return self.hours


class ResourceDomain(BaseModel):
    """One need domain a resource serves (a row per domain keeps filtering a plain join)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="domain_rows")
    domain = models.CharField(max_length=30, choices=NeedDomain.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "domain"], name="resource_domain_unique")]
        indexes = [models.Index(fields=["domain", "resource"])]

    def __str__(self) -> str:
        return self.get_domain_display()


class TaxonomyTerm(BaseModel):
    """A term of another directory's taxonomy (HSDS `taxonomy_term`), met in an import, and
    the need domain the director maps it to (blank: not mapped yet, listed until it is)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="taxonomy_terms")
    hsds_id = models.CharField(_("HSDS id"), max_length=100)
    code = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200)
    taxonomy = models.CharField(max_length=200, blank=True)
    domain = models.CharField(_("need domain"), max_length=30, choices=NeedDomain.choices, blank=True)

    class Meta:
        ordering = ["taxonomy", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["organization", "hsds_id"], name="taxonomy_term_unique_hsds_id")]

    def __str__(self) -> str:
        return f"{self.taxonomy}: {self.name}" if self.taxonomy else self.name


class HsdsImport(BaseModel):
    """An HSDS file a director uploaded: kept, as read, between the preview and the confirm.

    Once applied (or replaced by a newer upload) its rows are emptied: what stays is who
    imported what file, when, and what it did."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="hsds_imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    file_name = models.CharField(max_length=200)
    # {table: [[place, {column: value}], …]}: services.lib.hsds.Tables, as JSON.
    rows = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # {"created": n, "updated": n, "unchanged": n}

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name
