"""A person's case over time: each enrolment opens on a date and may close with an exit.

A person has at most one open enrolment; reopening a closed case starts a new one and keeps
the old, so "people served in a period" counts every enrolment that overlapped it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import ExitDestination, ExitReason, HousingAtExit
from services.models.base import BaseModel
from services.models.people import Exoneree
from services.models.validators import validate_sensible_date


class Enrolment(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="enrolments")
    opened_on = models.DateField(_("enrolled on"), default=timezone.localdate, validators=[validate_sensible_date])
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_on = models.DateField(_("exit date"), null=True, blank=True, validators=[validate_sensible_date])
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    exit_reason = models.CharField(_("reason"), max_length=20, choices=ExitReason.choices, blank=True)
    destination = models.CharField(max_length=20, choices=ExitDestination.choices, blank=True)
    housing_at_exit = models.CharField(_("housing at exit"), max_length=20, choices=HousingAtExit.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exoneree", "opened_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exoneree"], condition=Q(closed_on__isnull=True), name="one_open_enrolment_per_person"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="enrolment_closes_after_it_opens",
            ),
        ]
        indexes = [models.Index(fields=["closed_on"])]

    def __str__(self) -> str:
        return f"{self.exoneree_id}: {self.opened_on}–{self.closed_on or ''}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None
