"""Celery tasks: thin, they load by id and call one function."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from smtplib import SMTPException
from typing import Any
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from services import audit_anchor, figures, outcome_counts, reminders, retention
from services.choices import ContactPreference
from services.lib.email import send_templated_email
from services.lib.links import invitation_link
from services.lib.sms import SmsDisabled, send_sms
from services.models.messages import Message
from services.models.organizations import Organization
from services.selectors import users

logger = logging.getLogger(__name__)

# An account email (invitation, password reset): retried with backoff while the mail
# server is unreachable, acknowledged only once sent.
EMAIL_TASK = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**EMAIL_TASK)
def send_invitation(user_id: int, invited_by_id: int) -> None:
    """The set-password email for a new account. It names no case detail: an exoneree's
    invitation does not even name the organization, which would tell anyone reading the
    mailbox that the person was wrongfully convicted."""
    User = get_user_model()
    user = User.objects.select_related("staff__organization").filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        logger.warning("invitation for user %s not sent: no active account with an email", user_id)
        return
    invited_by = User.objects.filter(pk=invited_by_id).first()
    staff = getattr(user, "staff", None)
    send_templated_email(
        to=user.email,
        template="invitation",
        context={
            "user": user,
            "staff": staff is not None,
            "organization": staff.organization.name if staff else "",
            "invited_by": (invited_by.get_full_name() or invited_by.get_username())
            if invited_by
            else "Your caseworker",
            "link": invitation_link(user),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
        language=users.language_of(user),
    )


class PasswordResetSendForm(PasswordResetForm):
    """Django's reset form as the worker runs it: each account's email in its own language."""

    def send_mail(
        self, subject_template_name: str, email_template_name: str, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> None:
        with translation.override(users.language_of(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


@shared_task(**EMAIL_TASK)
def send_password_reset(email: str) -> None:
    """The password-reset email, if the address belongs to an active account (else nothing).

    Queued for every request, known address or not, so the page answers the same way and in
    the same time either way: the lookup and the slow SMTP send happen here, unseen.
    """
    site = urlsplit(settings.SITE_URL)
    form = PasswordResetSendForm(data={"email": email})
    if form.is_valid():
        form.save(domain_override=site.netloc, use_https=site.scheme == "https")


# Reminders (services/reminders.py). Beat runs the sweep every minute; the sweep claims due
# rows and queues them; a send task delivers one row, at most once per claim.


@shared_task(ignore_result=True)
def refresh_outcome_counts() -> int:
    """Nightly: recount every organization's outcome counts (a safety net for rows written
    outside the tracked actions). Returns how many organizations were recounted."""
    organizations = list(Organization.objects.order_by("pk"))
    for organization in organizations:
        outcome_counts.recount(organization)
    outcome_counts.refresh_statistics()  # the planner learns the new rows now, not at autovacuum's pace
    return len(organizations)


@shared_task(ignore_result=True)
def recompute_figures(organization_id: int) -> bool:
    """After a write, or when a director is served them past their minute: the organization's
    default outcomes page and dashboard counts, computed into the figures' cache before a
    director asks again (services.figures.recompute_soon)."""
    return figures.recompute(organization_id)


# How many reminder ids travel in one queued message (see `_queue`).
QUEUE_CHUNK = 200


def reminders_sweep(*, now: datetime | None = None) -> list[int]:
    """Claim every due reminder (services.reminders.reminders_claim_due) and queue them once
    the claim is committed; returns their ids."""
    with transaction.atomic():
        ids = reminders.reminders_claim_due(now=now)
        if ids:
            transaction.on_commit(lambda: _queue(ids), robust=True)
    return ids


def _queue(ids: list[int]) -> None:
    # A message per chunk, fanned out by the worker into a task per reminder: queueing
    # 100k messages here would take longer than the minute between sweeps.
    for start in range(0, len(ids), QUEUE_CHUNK):
        try:
            send_reminders.delay(ids[start : start + QUEUE_CHUNK])
        except Exception:
            # The broker is down: give back what was not queued.
            reminders.reminders_unclaim(ids[start:])
            raise


@shared_task(ignore_result=True)
def sweep_reminders() -> int:
    claimed = reminders_sweep()
    reminders.reminders_sweep_done()  # for /healthz/ and the director's notifications page
    return len(claimed)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_reminders(reminder_ids: list[int]) -> None:
    """One sweep's chunk, fanned out into a task per reminder so each one retries on its own.
    Running it twice (a redelivery) only queues tasks that find their rows already taken."""
    for reminder_id in reminder_ids:
        send_reminder.delay(reminder_id)


# A send is bounded, so a sweep that takes over a claim after
# REMINDER_CLAIM_TIMEOUT_SECONDS (checked to be longer) never races a live worker.
SEND_TIME_LIMIT = 300


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    time_limit=SEND_TIME_LIMIT,
    soft_time_limit=SEND_TIME_LIMIT - 30,
)
def send_reminder(self, reminder_id: int, record_token: str = "") -> str:
    """Idempotent: the row is taken with a compare-and-set, so a redelivered message (late
    acknowledgement, a worker lost mid-task) does nothing to a row already sent or held.

    A database error is retried with backoff: before the email went out, the retry takes the
    row again (or finds it taken); after, with `record_token`, the retry only records it."""
    countdown, limit = reminders.retry_countdown(self.request.retries), settings.REMINDER_MAX_RETRIES
    try:
        if record_token:
            return reminders.reminder_record_sent(reminder_id, uuid.UUID(record_token))
        return reminders.reminder_send(reminder_id)
    except reminders.ReminderRecordError as exc:
        kwargs = {"reminder_id": reminder_id, "record_token": str(exc.token)}
        raise self.retry(exc=exc, kwargs=kwargs, countdown=countdown, max_retries=limit) from exc
    except DatabaseError as exc:
        raise self.retry(exc=exc, countdown=countdown, max_retries=limit) from exc
    except reminders.ReminderSendError as exc:
        if self.request.retries >= limit:
            reminders.reminder_fail(reminder_id, reason=str(exc))
            logger.error("reminder %s failed after %d retries: %s", reminder_id, self.request.retries, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=countdown, max_retries=limit) from exc


@shared_task(ignore_result=True)
def audit_checkpoint() -> int | None:
    """Beat: a sealed checkpoint of the access log's count and head, outside its table
    (services.audit_anchor). Returns the count, or None when nothing was added since the last."""
    checkpoint = audit_anchor.audit_checkpoint_write()
    return checkpoint.count if checkpoint is not None else None


@shared_task(**EMAIL_TASK)
def send_message_notice(message_id: int) -> None:
    """Tell the person a caseworker wrote to them, the way they chose (by email when they chose
    texts and none can be sent): "You have a new message" and the link, nothing more (no text,
    no name: mailboxes and phones are not ours). Nothing for someone who asked not to be
    contacted, who has no login yet, or once they have read it in the app."""
    message = Message.objects.select_related("exoneree").filter(pk=message_id, read_at__isnull=True).first()
    if message is None:
        return
    person = message.exoneree
    if person.contact_preference == ContactPreference.DO_NOT_CONTACT or person.user_id is None:
        return  # nobody to tell, or no login to read it with ("Sign in to read it" would lead nowhere)
    link = settings.SITE_URL + reverse("my_messages")
    if person.contact_preference == ContactPreference.TEXT and person.phone:
        with translation.override(person.preferred_language):
            text = _("You have a new message: %(link)s") % {"link": link}
        try:
            send_sms(to=person.phone, text=text)
            return
        except SmsDisabled:
            logger.warning("message notice %s not texted: text messages are switched off", message_id)
    if person.email:  # their choice, or their address when no text can go
        send_templated_email(
            to=person.email,
            template="new_message",
            context={"link": link},
            language=person.preferred_language,
            message_id=f"<message-{message_id}@{urlsplit(settings.SITE_URL).hostname}>",
        )


@shared_task(ignore_result=True)
def retention_notice() -> int:
    """Nightly: tell the directors which closed cases reach their end of retention in 30 days."""
    return retention.notify_upcoming()
