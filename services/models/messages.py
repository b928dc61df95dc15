"""Messages between a person and their caseworkers: one conversation per person (issue 19)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from services.fields import EncryptedTextField
from services.models.base import BaseModel
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import Referral

MESSAGE_MAX_LENGTH = 4000


class Message(BaseModel):
    """One message of a person's conversation: written by the person (`from_person`) or by one
    of their caseworkers; read by the other side once (`read_at`, the read receipt)."""

    exoneree = models.ForeignKey(Exoneree, on_delete=models.CASCADE, related_name="messages")
    # Copied from the person (who never changes organization), like a need's.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_person = models.BooleanField(default=False)
    text = EncryptedTextField(max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    # The other side's first reading: the person for a caseworker's message, any assigned
    # caseworker for the person's (a director's reading does not count: they only look on).
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the message is about, if anything: one of the person's needs, referrals, follow-ups.
    need = models.ForeignKey(Need, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    follow_up = models.ForeignKey(FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Staff's flag: something to do about it (shown on the dashboard until cleared).
    needs_action = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["exoneree", "created_at"]),
            # The header's unread counts and the dashboard's lists read only these few rows.
            models.Index(
                fields=["exoneree", "from_person"], condition=models.Q(read_at__isnull=True), name="message_unread"
            ),
            models.Index(fields=["exoneree"], condition=models.Q(needs_action=True), name="message_needs_action"),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def about(self) -> Need | Referral | FollowUp | None:
        return self.need or self.referral or self.follow_up
