"""Retention (issue 23): legal holds, which stop a closed case from being purged or
de-identified, and the director's confirmation that a case may be."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.base import BaseModel
from services.models.people import Exoneree


class LegalHold(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.CharField(_("reason"), max_length=300)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    # Lifting lets the record be purged: why it was, kept beside why it was placed.
    lift_reason = models.CharField(_("why it was lifted"), max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exoneree"], condition=Q(lifted_at__isnull=True), name="one_hold_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"hold on {self.exoneree_id}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class RetentionReview(BaseModel):
    """A director confirmed that this closed case may be purged (or de-identified) once due.

    For one closing: a case reopened and closed again needs a new confirmation, since the
    confirmation names the closing date it was given for."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="retention_reviews")
    case_closed_on = models.DateField(_("case closed on"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-confirmed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["exoneree", "case_closed_on"], name="one_review_per_closing")]

    def __str__(self) -> str:
        return f"retention confirmed for {self.exoneree_id} closed on {self.case_closed_on}"
