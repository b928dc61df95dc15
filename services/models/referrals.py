"""Referrals of a need to a resource, what they may share, and their history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    ConsentCategory,
    ReferralStatus,
)
from services.fields import EncryptedTextField
from services.lifecycle import REFERRAL_OPEN
from services.models.base import BaseModel
from services.models.directory import Resource
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

    class Meta:
        ordering = ["-status_changed_at", "-pk"]
        indexes = [
            models.Index(fields=["need", "status"]),
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["organization", "status"]),
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
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        # The outcomes page counts referrals by the day they were sent (referral: read from the index alone).
        indexes = [models.Index(fields=["to_status", "at", "referral"])]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"
