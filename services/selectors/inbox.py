"""Staff notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from services.access import (
    exonerees_visible_to,
    staff_of,
)
from services.auth import UNREAD, UNREAD_MESSAGES, preloaded
from services.choices import (
    ReminderStatus,
    Role,
)
from services.models.messages import Message
from services.models.notifications import Notification, Reminder

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def notifications_page(user: AbstractUser) -> dict[str, Any]:
    """The user's latest notifications, and the reminders that could not be sent that they
    should know about: a director sees the organization's, a caseworker their own and
    those about the people they carry (e.g. a text to an exoneree with SMS switched off)."""
    staff = staff_of(user)
    failed = Reminder.objects.filter(organization_id=staff.organization_id, status=ReminderStatus.FAILED)
    if staff.role != Role.DIRECTOR:
        # Only about people they can still open: after a reassignment, the old caseworker's
        # failures about that person are the new caseworker's to see.
        visible = exonerees_visible_to(user)
        failed = failed.filter(Q(follow_up__exoneree__in=visible) | Q(exoneree__in=visible))
    return {
        "notifications": Notification.objects.filter(user=user).order_by("-created_at", "-pk")[:50],
        "failed": failed.select_related("follow_up__exoneree", "exoneree").order_by("-send_at", "-pk")[:50],
        "failed_count": failed.count(),  # all of them: the list shows the latest 50
    }


def unread_notification_count(user: AbstractUser) -> int:
    loaded, count = preloaded(user, UNREAD)  # counted when the request loaded the user
    return (count or 0) if loaded else Notification.objects.filter(user=user, read_at__isnull=True).count()


def unread_message_count(user: AbstractUser) -> int:
    """Messages waiting for this user (the header): counted with the user when the request
    loaded them (services.auth), else here."""
    loaded, count = preloaded(user, UNREAD_MESSAGES)
    if loaded:
        return count or 0
    from_them = Q(from_person=True, exoneree__caseworkers=user) | Q(from_person=False, exoneree__user=user)
    return Message.objects.filter(from_them, read_at__isnull=True).distinct().count()


def counted_as_read(user: AbstractUser, *, messages: int = 0, notifications: int = 0) -> None:
    """Take what was just read from the counts loaded with the user at the start of the
    request, so the page that reads them does not say they are still waiting."""
    for name, read in ((UNREAD_MESSAGES, messages), (UNREAD, notifications)):
        loaded, count = preloaded(user, name)
        if loaded and read:
            setattr(user, name, max(0, (count or 0) - read))
