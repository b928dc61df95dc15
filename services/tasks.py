"""Celery tasks: thin, they load by id and call one function."""

from __future__ import annotations

import logging
import uuid
from smtplib import SMTPException
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError

from services import outcome_counts, reminders, selectors
from services.forms import PasswordResetSendForm
from services.lib.email import send_templated_email
from services.lib.links import invitation_link
from services.models import Organization

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
        language=selectors.language_of(user),
    )


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
    return len(organizations)


@shared_task(ignore_result=True)
def sweep_reminders() -> int:
    claimed = reminders.reminders_sweep()
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
