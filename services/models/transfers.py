"""A person's record handed to another member organization, with the person's consent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import TransferStatus
from services.models.base import BaseModel
from services.models.organizations import Organization
from services.models.people import Exoneree


class Transfer(BaseModel):
    """Proposed by the sending organization's staff, accepted or declined by the receiving
    organization's director (services/actions/transfers.py). On acceptance the chosen `parts`
    are copied into a new record there (`received_as`) and the sending case closes."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="transfers")
    from_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    to_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="transfers_in")
    parts = models.JSONField(default=list)  # TransferPart values
    status = models.CharField(max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("why it is declined"), max_length=300, blank=True)
    received_as = models.ForeignKey(Exoneree, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exoneree"], condition=Q(status="pending"), name="one_pending_transfer_per_person"
            )
        ]
        indexes = [models.Index(fields=["to_organization", "status"])]

    def __str__(self) -> str:
        return f"transfer of {self.exoneree_id} to {self.to_organization_id}"
