"""Reminders: planned as rows, claimed by a sweep, sent once by a task.

Why rows and not Celery ETA tasks: an ETA task lives in the broker (Redis hands it out
again once its visibility timeout passes, a restart can lose it) and cannot be seen,
moved or cancelled. A row can: moving a due date moves its reminders, marking a
follow-up done cancels them, and after an outage the sweep sends whatever came due.

The life of a row (ReminderStatus):

    pending ──sweep──▶ claimed ──send task──▶ sending ──▶ sent
       │  ▲               │  ▲                   │
       │  └─ quiet hours ─┼──┼───────────────────┤  (postponed to the end of quiet hours)
       │                  │  └── email failed ───┤  (released for the task's retry)
       ▼                  ▼                      ▼
    cancelled ◀──────── cancelled              failed (after the last retry)

Every move is a compare-and-set `UPDATE ... WHERE status = <expected>` (and, once a
task holds the row, `AND claim_token = <its token>`): whoever changes the row first wins,
everyone else finds it changed and does nothing. That is what makes a second sweep, a
redelivered task or a duplicate message harmless.

A claim that nobody finishes (the worker was killed, the broker lost the message) is
stale after REMINDER_CLAIM_TIMEOUT_SECONDS, and the next sweep claims it again, so a
reminder is never silently dropped.
"""

from __future__ import annotations

import logging
import time as clock
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from smtplib import SMTPException
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import caches
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F, Min, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from services import document_reminders, legal_reminders, referral_reminders
from services.choices import ContactPreference, ReminderChannel, ReminderKind, ReminderStatus
from services.lib.email import send_templated_email
from services.lib.sms import SmsDisabled, SmsError, send_sms
from services.models.follow_ups import FollowUp
from services.models.notifications import UNSENT, Notification, Reminder
from services.reminder_messages import Outgoing, Postpone, Skip
from services.reminder_plans import FOLLOW_UP_KINDS, quiet_until, reminders_plan_digests

logger = logging.getLogger(__name__)
Kind, Status = ReminderKind, ReminderStatus

# Delivery errors worth retrying: the mail server or network, a text provider.
RETRYABLE = (SMTPException, OSError, SmsError)


# --- the sweep: claim what is due, queue it after commit ----------------------------------------


def reminders_claim_due(*, now: datetime | None = None) -> list[int]:
    """Claim every due reminder (and every stale claim); returns their ids, for
    `services.tasks.reminders_sweep` to queue once the claim is committed.

    One compare-and-set UPDATE claims them all under a fresh token, one SELECT reads back
    which rows carry it: the query count does not depend on how many are due. Two sweeps
    at once cannot both claim a row: on PostgreSQL the second UPDATE waits for the first's
    row locks and then re-checks its WHERE (the row is no longer pending); on SQLite writes
    are serialized (IMMEDIATE transactions). The messages go out only after the claim is
    committed; if the broker is down they are lost, the rows stay claimed, and a sweep
    after the claim timeout takes them again.
    """
    now = now or timezone.now()
    try:
        reminders_plan_digests(now=now)
    except Exception:  # one organization's bad data must not stop every reminder
        logger.exception("planning the digests failed; claiming due reminders anyway")
    token = uuid.uuid4()
    stale_before = now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT_SECONDS)
    with transaction.atomic():
        # A row taken again and again without any task finishing it is given up on, and
        # shows as failed, instead of going round for ever.
        Reminder.objects.filter(
            status__in=[Status.CLAIMED, Status.SENDING],
            claimed_at__lt=stale_before,
            attempts__gt=settings.REMINDER_MAX_RETRIES,
        ).update(status=Status.FAILED, claim_token=None, reason="Gave up: no worker finished sending it.")
        claimed = Reminder.objects.filter(
            Q(status=Status.PENDING, send_at__lte=now)
            | Q(status__in=[Status.CLAIMED, Status.SENDING], claimed_at__lt=stale_before)
        ).update(status=Status.CLAIMED, claim_token=token, claimed_at=now)
        if not claimed:
            return []
        ids = list(Reminder.objects.filter(claim_token=token).order_by("send_at", "pk").values_list("pk", flat=True))
    logger.info("reminder sweep claimed %d", len(ids))
    return ids


def reminders_unclaim(ids: list[int]) -> None:
    """Give back claimed rows that could not be queued, so the next sweep (a minute from now)
    takes them again instead of waiting out the claim timeout."""
    Reminder.objects.filter(pk__in=ids, status=Status.CLAIMED).update(status=Status.PENDING, claim_token=None)


def retry_countdown(retries: int) -> int:
    """Exponential backoff, kept below the claim timeout so a sweep never takes over a row
    whose retry is merely waiting."""
    base = settings.REMINDER_RETRY_SECONDS
    return min(base * 2**retries, settings.REMINDER_CLAIM_TIMEOUT_SECONDS // 2)


# --- liveness: is anyone sweeping and sending? ----------------------------------------------------

# In the cache every process shares (settings.CACHES): the sweep runs in the worker, /healthz/
# and the notifications page in the web process.
SHARED = "shared"

LAST_SWEEP = "reminders:last-sweep"


def reminders_sweep_done(*, now: datetime | None = None) -> None:
    """Note that a sweep finished (services.tasks.sweep_reminders), for reminders_liveness."""
    try:
        caches[SHARED].set(LAST_SWEEP, (now or timezone.now()).timestamp(), timeout=None)
    except Exception as exc:  # the note is for monitoring: never fail the sweep over it
        logger.warning("could not note the sweep's time: %s", type(exc).__name__)


@dataclass(frozen=True)
class Liveness:
    """When a sweep last finished, and since when the oldest due reminder has waited unsent.

    A worker that died (a Redis restart can make it exit), or beat that stopped, shows here
    before anyone misses an appointment: `ok` is False once the last sweep is older than
    REMINDER_SWEEP_LATE_SECONDS or a due reminder has waited REMINDER_SEND_LATE_SECONDS.
    No sweep noted at all (a new deployment; a cache that was emptied) is not late by
    itself: the waiting reminders tell.
    """

    now: datetime
    last_sweep: datetime | None
    oldest_due: datetime | None

    @property
    def sweep_age(self) -> int | None:
        return None if self.last_sweep is None else max(0, int((self.now - self.last_sweep).total_seconds()))

    @property
    def waiting(self) -> int | None:
        return None if self.oldest_due is None else max(0, int((self.now - self.oldest_due).total_seconds()))

    @property
    def sweep_late(self) -> bool:
        return self.sweep_age is not None and self.sweep_age > settings.REMINDER_SWEEP_LATE_SECONDS

    @property
    def sending_late(self) -> bool:
        return self.waiting is not None and self.waiting > settings.REMINDER_SEND_LATE_SECONDS

    @property
    def ok(self) -> bool:
        return not (self.sweep_late or self.sending_late)

    @property
    def late_minutes(self) -> int:
        """How long a due reminder may wait before this says it is not going out."""
        return max(1, settings.REMINDER_SEND_LATE_SECONDS // 60)


def reminders_liveness(*, organization_id: int | None = None, now: datetime | None = None) -> Liveness:
    """One query (the oldest due, on the status and send_at index) and one cache read."""
    now = now or timezone.now()
    try:
        noted = caches[SHARED].get(LAST_SWEEP)
    except Exception as exc:  # reported as unknown; the waiting reminders still tell
        logger.warning("could not read the sweep's time: %s", type(exc).__name__)
        noted = None
    due = Reminder.objects.filter(status__in=UNSENT, send_at__lte=now)
    if organization_id is not None:
        due = due.filter(organization_id=organization_id)
    oldest = due.aggregate(oldest=Min("send_at"))["oldest"]
    last_sweep = datetime.fromtimestamp(noted, tz=UTC) if noted is not None else None
    return Liveness(now=now, last_sweep=last_sweep, oldest_due=oldest)


# --- sending one reminder -----------------------------------------------------------------------


def _when(moment: datetime, zone: ZoneInfo) -> str:
    """ "Mar 4, 3:00 p.m." in the organization's zone, as the staff pages write a day and time."""
    return date_format(moment.astimezone(zone), "M j, g:i a")


def _compose(reminder: Reminder, now: datetime) -> Outgoing | Skip | Postpone:
    """Decide, at sending time, whether the reminder still stands and what it says.

    Emails and texts say what is due and link to it, nothing more: no name, no case
    detail, not even the follow-up's title (mailboxes and phones are not ours). The in-app
    notification is behind the login and may name the person and the follow-up.
    """
    organization = reminder.organization
    zone = organization.zone()
    recipient = reminder.recipient
    if recipient is not None and not recipient.is_active:
        return Skip("The recipient's account is switched off.")
    # Closing a case cancels its reminders in the same transaction; this is the belt to those
    # braces (a row moved back to pending by a planner racing the close is still not sent).
    whose = reminder.exoneree or (reminder.follow_up.exoneree if reminder.follow_up_id else None)
    if whose is not None and not whose.case_is_open:
        return Skip("The case is closed.")
    # The referral loop's, the legal remedies' and the documents' rows say their own words.
    for composer in (referral_reminders, legal_reminders, document_reminders):
        if reminder.kind in composer.KINDS:
            return composer.compose(reminder, now)
    follow_up = reminder.follow_up
    if follow_up is not None and follow_up.done_at is not None:
        return Skip("The follow-up was done.")
    site = settings.SITE_URL
    if reminder.kind in (Kind.BEFORE, Kind.EXONEREE_APPOINTMENT) and now >= follow_up.due_at:
        return Skip("Too late: the follow-up's time has passed.")
    if reminder.kind in FOLLOW_UP_KINDS or reminder.kind == Kind.ESCALATION:
        if reminder.kind in FOLLOW_UP_KINDS and follow_up.assigned_to_id != reminder.recipient_id:
            return Skip("The follow-up was reassigned.")
        person = follow_up.exoneree
        url = person.get_absolute_url()
        when = _when(follow_up.due_at, zone)
        context = {"kind": reminder.kind, "due_at": follow_up.due_at, "link": site + url}
        if reminder.kind == Kind.ESCALATION:
            days = max(1, (now - follow_up.due_at).days)
            assignee = follow_up.assigned_to.get_full_name() or follow_up.assigned_to.get_username()
            context |= {"days": days, "assignee": assignee}
            text = f"Overdue {days} days (due {when}), assigned to {assignee}: {follow_up.title}"
            text += f" — {person.display_name}"
            return Outgoing("reminder_escalation", context, recipient.email, notification=text, url=url)
        label = {Kind.BEFORE: f"Due {when}", Kind.DUE: f"Due now ({when})", Kind.OVERDUE: f"Overdue since {when}"}
        text = f"{label[reminder.kind]}: {follow_up.title} — {person.display_name}"
        return Outgoing("reminder_follow_up", context, recipient.email, notification=text, url=url)
    if reminder.kind == Kind.DIGEST:
        local_today = now.astimezone(zone).date()
        if reminder.send_at.astimezone(zone).date() != local_today:
            return Skip("Too late: that day's digest is out of date.")
        end_of_day = organization.tomorrow_starts(now)
        open_follow_ups = FollowUp.objects.filter(
            assigned_to=recipient, done_at__isnull=True, exoneree__case_closed_on__isnull=True
        )
        overdue = open_follow_ups.filter(due_at__lt=now).count()
        due_today = open_follow_ups.filter(due_at__gte=now, due_at__lt=end_of_day).count()
        if not overdue and not due_today:
            return Skip("Nothing due or overdue.")
        url = reverse("dashboard")
        context = {"due_today": due_today, "overdue": overdue, "link": site + url}
        text = render_to_string("emails/reminder_digest_subject.txt", context).strip() + "."
        return Outgoing("reminder_digest", context, recipient.email, notification=text, url=url)
    if reminder.kind == Kind.EXONEREE_APPOINTMENT:
        person = reminder.exoneree
        if person.contact_preference == ContactPreference.DO_NOT_CONTACT:
            return Skip("They asked not to be contacted.")
        if not person.appointment_reminders:
            return Skip("They no longer want appointment reminders.")
        if not follow_up.shared_with_exoneree:
            return Skip("The appointment is no longer on their plan.")
        if later := quiet_until(now, person, zone):
            if later >= follow_up.due_at:
                return Skip("Their quiet hours last until the appointment.")
            return Postpone(later, "Postponed until their quiet hours end.")
        link = site + reverse("my_plan")
        language = person.preferred_language
        if person.reminder_channel == ReminderChannel.SMS:
            if not person.phone:
                return Skip("No phone number for text messages.", failed=True)
            with translation.override(language):
                local = follow_up.due_at.astimezone(zone)
                # The day and time as the email and the plan page write them ("3:00 p.m.";
                # "15:00" in Spanish). The time comes first in English: "… on Mar 4 at
                # 3:00 p.m.. See" would end the sentence with two periods.
                text = _("Reminder: you have an appointment at %(time)s on %(day)s. See: %(link)s") % {
                    "time": time_format(local, _("g:i a")),
                    "day": date_format(local, _("l, M j")),
                    "link": link,
                }
            return Outgoing(sms_to=person.phone, sms_text=text, language=language)
        if not person.email:
            return Skip("No email address to send the reminder to.", failed=True)
        return Outgoing(
            "reminder_appointment", {"due_at": follow_up.due_at, "link": link}, person.email, language=language
        )
    return Skip(f"Unknown kind {reminder.kind}.", failed=True)


def _move(reminder_id: int, token: uuid.UUID, status: str, **fields: Any) -> int:
    """Compare-and-set from `sending`, only for the task holding the row's token."""
    return Reminder.objects.filter(pk=reminder_id, status=Status.SENDING, claim_token=token).update(
        status=status, **fields
    )


def reminder_send(reminder_id: int) -> str:
    """Send one claimed reminder. Returns what happened: sent, skipped, postponed, failed,
    or "not ours" when the row was not waiting for a task (already sent, cancelled, or
    held by another task) — which is what a redelivered message finds.

    The in-app notification is written in the same transaction that takes the row, and a
    reminder has at most one (one-to-one): exactly once. The email cannot join a database
    transaction, so we choose when to record it. We record it *after* the mail server
    accepted it (at-least-once): a worker killed while talking to the server leaves the
    row `sending`, and a later sweep sends it again; a worker killed in the instant
    between the server's acceptance and our UPDATE would send it twice. The other order
    (record, then send) would instead lose the reminder in that instant, and a silently
    missed reminder is the worse failure here.
    """
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        took = Reminder.objects.filter(pk=reminder_id, status=Status.CLAIMED).update(
            status=Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
        )
        if not took:
            return "not ours"
        reminder = Reminder.objects.select_related(
            "organization",
            "recipient",
            "exoneree",
            "follow_up__exoneree",
            "follow_up__assigned_to",
            "compensation_claim",
            "record_clearance",
        ).get(pk=reminder_id)
        try:
            outgoing = _compose(reminder, now)
        except Exception as exc:  # a bug or bad data: retrying cannot help; say so visibly
            logger.exception("reminder %s could not be composed", reminder_id)
            _move(reminder_id, token, Status.FAILED, reason=f"Could not be written: {type(exc).__name__}")
            return "failed"
        if isinstance(outgoing, Skip):
            status = Status.FAILED if outgoing.failed else Status.CANCELLED
            _move(reminder_id, token, status, reason=outgoing.reason)
            return "failed" if outgoing.failed else "skipped"
        if isinstance(outgoing, Postpone):
            _move(reminder_id, token, Status.PENDING, send_at=outgoing.until, reason=outgoing.reason)
            return "postponed"
        if outgoing.notification:
            Notification.objects.get_or_create(
                reminder=reminder,
                defaults={"user": reminder.recipient, "text": outgoing.notification[:300], "url": outgoing.url},
            )
    # Outside the transaction: no lock is held while a mail server takes its time. The
    # connection stays open until "sent" is recorded: saying goodbye to the server (QUIT, a
    # round trip) after the record rather than before keeps the instant in which a killed
    # worker sends a reminder twice as short as it can be.
    connection = get_connection()
    try:
        return _deliver(reminder_id, token, reminder, outgoing, connection)
    finally:
        _hang_up(reminder_id, connection)


def _deliver(
    reminder_id: int, token: uuid.UUID, reminder: Reminder, outgoing: Outgoing, connection: BaseEmailBackend
) -> str:
    """Send what `_compose` wrote, then record it: "sent" or "failed" (or raise to retry)."""
    try:
        with timezone.override(reminder.organization.zone()):  # times in the organization's zone
            if outgoing.email and outgoing.template:
                connection.open()
                send_templated_email(
                    to=outgoing.email,
                    template=outgoing.template,
                    context=outgoing.context,
                    language=outgoing.language,
                    message_id=reminder_message_id(reminder),
                    connection=connection,
                )
            if outgoing.sms_to:
                send_sms(to=outgoing.sms_to, text=outgoing.sms_text)
    except SmsDisabled as exc:  # our own message, naming the setting: nothing about the person
        _move(reminder_id, token, Status.FAILED, reason=str(exc))
        return "failed"
    except RETRYABLE as exc:
        # Released for the task's retry; the claim time restarts the stale-claim clock. The
        # error goes on by its type only: a mail server's refusal quotes the address (an
        # exoneree's is encrypted in our database) and Celery logs what it is given.
        name = type(exc).__name__
        _move(reminder_id, token, Status.CLAIMED, claimed_at=timezone.now(), reason=f"Retrying: {name}")
        raise ReminderSendError(name) from None
    except Exception as exc:
        name = type(exc).__name__
        logger.error("reminder %s failed: %s (not retried)", reminder_id, name)
        _move(reminder_id, token, Status.FAILED, reason=f"Could not be sent: {name}")
        return "failed"
    try:
        recorded = _finish(reminder_id, token)
    except DatabaseError as exc:
        # Delivered, and the database still away: the task retries the record alone, later.
        raise ReminderRecordError(reminder_id, token) from exc
    if not recorded:
        # Someone else holds the row now (a sweep took over a claim it thought abandoned):
        # the reminder may go out twice (mailboxes show it once: the same Message-ID). Say
        # so, by id only.
        logger.warning("reminder %s delivered after its claim was taken over: possible duplicate", reminder_id)
    return "sent"


def _hang_up(reminder_id: int, connection: BaseEmailBackend) -> None:
    """Close the mail connection; a server that fails the goodbye changes nothing any more."""
    try:
        connection.close()
    except RETRYABLE as exc:
        logger.info("reminder %s: the mail server's goodbye failed (%s)", reminder_id, type(exc).__name__)


def reminder_message_id(reminder: Reminder) -> str:
    """The same Message-ID every time this reminder is sent, so that if it ever goes out twice
    (a worker lost between the mail server's acceptance and our record) a mailbox shows it
    once. Keyed (SECRET_KEY): it says nothing about the reminder to whoever reads the header."""
    digest = salted_hmac("services.reminders.message_id", f"{reminder.pk}:{reminder.key}").hexdigest()[:32]
    return f"<reminder.{digest}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"


def reminder_record_sent(reminder_id: int, token: uuid.UUID) -> str:
    """A retry after the delivery could not be recorded: record it; never send again."""
    return "sent" if _finish(reminder_id, token) else "not ours"


def _finish(reminder_id: int, token: uuid.UUID) -> int:
    """Record the delivery: 1 when the row is marked sent by us, 0 when it is not ours any more.

    A database blip here would cost a second email (a row left `sending` is sent again by a
    later sweep), so the record is tried again, with backoff, for REMINDER_RECORD_RETRY_SECONDS
    (a PostgreSQL restart takes seconds). After a failed try the row is read again first: the
    UPDATE may have committed even though its answer was lost with the connection.
    """
    deadline = clock.monotonic() + settings.REMINDER_RECORD_RETRY_SECONDS
    pause = 0.5
    while True:
        try:
            if _move(reminder_id, token, Status.SENT, sent_at=timezone.now(), reason=""):
                return 1
            return int(Reminder.objects.filter(pk=reminder_id, status=Status.SENT, claim_token=token).exists())
        except DatabaseError as exc:
            if clock.monotonic() + pause > deadline:
                raise
            logger.warning("reminder %s sent, not yet recorded (%s): trying again", reminder_id, type(exc).__name__)
            close_old_connections()  # drops the broken connection; the next query opens a new one
            clock.sleep(pause)
            pause = min(pause * 2, 10)


class ReminderSendError(Exception):
    """A delivery failed in a way worth retrying; carries only the error's type name."""


class ReminderRecordError(Exception):
    """Delivered, but the database could not record it; the token lets a retry record it."""

    def __init__(self, reminder_id: int, token: uuid.UUID) -> None:
        super().__init__(f"reminder {reminder_id} delivered, not recorded")
        self.token = token


def reminder_fail(reminder_id: int, *, reason: str) -> None:
    """After the last retry: shown as failed on the notifications page."""
    Reminder.objects.filter(pk=reminder_id, status=Status.CLAIMED).update(
        status=Status.FAILED, reason=f"Gave up: {reason}"[:200]
    )
