"""In-app notifications, read and unread."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.utils import timezone

from services.models.notifications import Notification

# In-app notifications (written by the reminder sender, services/reminders.py).


def notification_mark_read(*, user: AbstractUser, notification: Notification) -> Notification:
    # Only an unread one: the first time it was read is kept.
    Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(read_at=timezone.now())
    return notification


def notifications_mark_all_read(*, user: AbstractUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
