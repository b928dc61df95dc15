"""The resource directory: providers and the services (resources) they offer."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from services.choices import (
    NeedDomain,
    ResourceStatus,
)
from services.fields import BoundedTextField
from services.models.base import BaseModel
from services.models.organizations import Organization


class Provider(BaseModel):
    """An organization that offers services (HSDS `organization`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="providers")
    name = models.CharField(max_length=200)
    description = BoundedTextField(blank=True)
    website = models.URLField(blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="provider_unique_name")]

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
    # Where referrals are sent (services/referral_reminders.py); the provider's email when empty.
    intake_email = models.EmailField(
        _("intake email"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Where referrals go. Empty: the provider's email."),
    )
    hours = models.CharField(max_length=200, blank=True, help_text=_("For example: Mon–Fri 9am–5pm"))
    status = models.CharField(max_length=30, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["organization", "status", "name"])]

    def __str__(self) -> str:
        return f"{self.name} — {self.provider.name}"

    def get_absolute_url(self) -> str:
        return reverse("resource_detail", args=[self.pk])

    @property
    def referral_email(self) -> str:
        return self.intake_email or self.provider.email


class ResourceDomain(BaseModel):
    """One need domain a resource serves (a row per domain keeps filtering a plain join)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="domain_rows")
    domain = models.CharField(max_length=30, choices=NeedDomain.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resource", "domain"], name="resource_domain_unique")]
        indexes = [models.Index(fields=["domain", "resource"])]

    def __str__(self) -> str:
        return self.get_domain_display()
