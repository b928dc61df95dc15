"""Reminders to send and the in-app notifications of staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from services.choices import (
    ReminderKind,
    ReminderStatus,
)
from services.models.base import BaseModel
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, RecordClearance
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import Referral

# Still to go out: waiting for its time, claimed by a worker, or being sent.
UNSENT = [ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.SENDING]


class Reminder(BaseModel):
    """One message to one person at one time, planned ahead as a row (services.reminders).

    The sweep claims due rows with a compare-and-set update and queues their sending; the
    send task moves a row claimed → sending → sent. `key` names what the reminder is about
    (kind, follow-up or exoneree, recipient, day), and its uniqueness makes a second
    reminder for the same thing impossible, even when two planners race.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=ReminderKind.choices)
    key = models.CharField(max_length=120)
    # None only for a reminder to an exoneree without a login (it goes to their contact).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    # The referral loop's rows (the notice to the provider, stall reminders); their
    # `exoneree` is the referral's person, so a failed one is listed like the others.
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    # Legal remedies (services/legal_reminders.py): a claim's deadline warnings, a record's re-check.
    compensation_claim = models.ForeignKey(
        CompensationClaim, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    record_clearance = models.ForeignKey(
        RecordClearance, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # An expiring ID's rows (services.document_reminders); their `exoneree` is its owner.
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    send_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    # Who holds the row: the sweep's batch, then the one task sending it (a fencing token).
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Why it failed or was skipped, e.g. "SMTPServerDisconnected": never a person's details.
    reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["send_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["key"], name="reminder_unique_key")]
        indexes = [
            models.Index(fields=["status", "send_at"]),
            models.Index(fields=["status", "claimed_at"]),
            models.Index(fields=["claim_token"]),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.send_at:%Y-%m-%d %H:%M} UTC ({self.get_status_display()})"

    @property
    def unsent(self) -> bool:
        return self.status in UNSENT


class Notification(BaseModel):
    """An in-app message, behind the login: it may name the person and the follow-up."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # One notification per reminder: a redelivered send task cannot add a second.
    reminder = models.OneToOneField(
        Reminder, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # The unread count, and the list newest first.
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return self.text
