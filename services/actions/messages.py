"""Messages between a person and their caseworkers (issue 19): sent, read, flagged.

The text is encrypted at rest (Message.text). What leaves the app about a message — the
email or text to the person, the in-app notice to staff — says only that there is one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from services import audit
from services.auth import UNREAD, preloaded
from services.models.messages import Message
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.selectors import inbox, users
from services.tasks import send_message_notice


def message_notice_queue(message: Message) -> None:
    """Tell the person, from the worker once the message is committed ("robust": a broker
    that is down is logged; the message is on their plan all the same)."""
    message_id = message.pk

    def queue() -> None:  # named: a robust on_commit logs the callback's name
        send_message_notice.delay(message_id)

    transaction.on_commit(queue, robust=True)


@transaction.atomic
def message_send(
    *, by: AbstractUser, exoneree: Exoneree, text: str, from_person: bool, about: dict[str, Any] | None = None
) -> Message:
    """Add a message to the person's conversation. `about`: the need, referral or follow-up
    it points to (`{"need_id": 3}`), already checked to be the person's."""
    message = Message(
        exoneree=exoneree,
        organization_id=exoneree.organization_id,
        author=by,
        from_person=from_person,
        text=text,
        **(about or {}),
    )
    message.full_clean()
    message.save()
    audit.record_change(by, message, {}, exoneree=exoneree)
    if from_person:
        url = reverse("exoneree_messages", args=[exoneree.pk])
        text = f"{exoneree.display_name} sent you a message."
        Notification.objects.bulk_create(
            [Notification(user_id=user_id, text=text, url=url) for user_id in users.told_of(exoneree)]
        )
    else:
        message_notice_queue(message)
    return message


def messages_mark_read(*, by: AbstractUser, exoneree: Exoneree, from_person: bool) -> int:
    """The read receipts: the other side's unread messages, read now by `by` (the first
    reading counts; a later one changes nothing). Staff reading the person's messages have
    read the notices that announced them too. The header's counts follow (services.selectors.inbox)."""
    now = timezone.now()
    read = Message.objects.filter(exoneree=exoneree, from_person=from_person, read_at__isnull=True).update(
        read_at=now, read_by=by
    )
    notices = 0
    loaded, unread_notices = preloaded(by, UNREAD)
    # Staff reading the thread have read its notices, whoever of its caseworkers read the
    # messages first (each was told); no query when the header counted none.
    if from_person and (unread_notices or not loaded):
        notices = Notification.objects.filter(
            user=by, read_at__isnull=True, reminder__isnull=True, url=reverse("exoneree_messages", args=[exoneree.pk])
        ).update(read_at=now)
    inbox.counted_as_read(by, messages=read, notifications=notices)
    return read


@transaction.atomic
def message_set_needs_action(*, by: AbstractUser, message: Message, needs_action: bool) -> Message:
    before = audit.stored(message)
    message.needs_action = needs_action
    message.save(update_fields=["needs_action"])
    audit.record_change(by, message, before, exoneree=message.exoneree, fields=["needs_action"])
    return message
