"""Case notes and assessments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from services.choices import (
    AssessmentDomain,
    AssessmentKind,
    NoteVisibility,
)
from services.fields import EncryptedTextField
from services.models.base import BaseModel
from services.models.people import Exoneree
from services.models.validators import validate_past_date, validate_sensible_date


class CaseNote(BaseModel):
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    visibility = models.CharField(max_length=20, choices=NoteVisibility.choices, default=NoteVisibility.STAFF)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["exoneree", "visibility", "created_at"])]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.created_at:%Y-%m-%d}"


class Assessment(BaseModel):
    """A self-sufficiency assessment: each domain scored 1 (in crisis) to 5 (empowered)."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=10, choices=AssessmentKind.choices)
    taken_on = models.DateField(default=timezone.localdate, validators=[validate_sensible_date, validate_past_date])
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-taken_on", "-pk"]
        # A person's latest assessment by a given day (outcomes: housing, self-sufficiency).
        indexes = [models.Index(fields=["exoneree", "taken_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} assessment, {self.taken_on}"


class AssessmentScore(BaseModel):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    domain = models.CharField(max_length=30, choices=AssessmentDomain.choices)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "domain"], name="assessment_domain_unique"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="assessment_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}: {self.score}"
