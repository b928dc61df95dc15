"""Two records of one person merged into one, and what an undo needs to split them again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from services.fields import EncryptedJSONField
from services.models.base import BaseModel
from services.models.enrolments import Enrolment
from services.models.organizations import Organization
from services.models.people import Exoneree

# How long a merge can be undone: long enough for a colleague to notice a wrong one.
UNDO_DAYS = 30


class Merge(BaseModel):
    """`duplicate` merged into `kept` (services/actions/merges.py).

    The duplicate's row stays, hidden (`Exoneree.merged_into`); its related rows moved to the
    kept record and are listed batch by batch in `MergeMove`; `kept_before` is the kept
    record's profile before the fields chosen from the duplicate replaced it (encrypted: it
    holds the SSN, birth date and contact details).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kept = models.ForeignKey(Exoneree, on_delete=models.PROTECT, related_name="+")
    duplicate = models.ForeignKey(Exoneree, on_delete=models.PROTECT, related_name="+")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    kept_before = EncryptedJSONField()
    # The duplicate's sign-in, moved to the kept record (which had none).
    login_moved = models.BooleanField(default=False)
    # The duplicate's open enrolment, closed as "merged" because the kept record had one open.
    closed_enrolment = models.ForeignKey(Enrolment, on_delete=models.SET_NULL, null=True, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at", "-pk"]
        indexes = [models.Index(fields=["kept", "undone_at"]), models.Index(fields=["duplicate", "undone_at"])]

    def __str__(self) -> str:
        return f"{self.duplicate_id} merged into {self.kept_id}"

    @property
    def undo_until(self) -> datetime:
        return self.merged_at + timedelta(days=UNDO_DAYS)

    @property
    def can_be_undone(self) -> bool:
        return self.undone_at is None and timezone.now() <= self.undo_until


class MergeMove(BaseModel):
    """One batch of rows a merge moved: `model`'s rows `row_ids`, whose `field` pointed at the
    duplicate and now points at the kept record. Batches keep a merge of a person with
    thousands of rows in bounded memory, both ways."""

    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="moves")
    model = models.CharField(max_length=100)  # its label, "services.Need"
    field = models.CharField(max_length=100)
    row_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["merge", "pk"]

    def __str__(self) -> str:
        return f"{len(self.row_ids)} {self.model}.{self.field}"
