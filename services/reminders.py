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
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from smtplib import SMTPException
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from services import referral_reminders
from services.choices import CompensationStatus, ContactPreference, ReminderChannel, ReminderKind, ReminderStatus, Role
from services.lib.email import send_templated_email
from services.lib.sms import SmsDisabled, SmsError, send_sms
from services.models.follow_ups import FollowUp
from services.models.notifications import Notification, Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree

logger = logging.getLogger(__name__)

Kind, Status = ReminderKind, ReminderStatus
COMPENSATION_WARNINGS = (
    (90, Kind.COMPENSATION_90),
    (30, Kind.COMPENSATION_30),
    (7, Kind.COMPENSATION_7),
    (0, Kind.COMPENSATION_0),
)
COMPENSATION_KINDS = [kind for _, kind in COMPENSATION_WARNINGS]
FOLLOW_UP_KINDS = [Kind.BEFORE, Kind.DUE, Kind.OVERDUE]
# Rows a planner may still cancel: nobody has started sending them.
CANCELLABLE = [Status.PENDING, Status.CLAIMED]
# Delivery errors worth retrying: the mail server or network, a text provider.
RETRYABLE = (SMTPException, OSError, SmsError)


# --- planning: which rows should exist ----------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """A reminder that should exist; `key` is its identity (the unique column)."""

    kind: str
    organization_id: int
    send_at: datetime
    recipient_id: int | None
    follow_up_id: int | None = None
    exoneree_id: int | None = None
    day: date | None = None  # the day it is about; the UTC day of send_at by default
    # For a follow-up's reminders, the due time they are about: a follow-up moved to
    # another time (even the same day) is a new reminder, not the one already sent.
    due: datetime | None = None

    @property
    def key(self) -> str:
        subject = f"f{self.follow_up_id}" if self.follow_up_id else f"e{self.exoneree_id}" if self.exoneree_id else "-"
        if self.due is not None:
            about = self.due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        else:
            about = (self.day or self.send_at.astimezone(UTC).date()).isoformat()
        return f"{self.kind}:{subject}:{self.recipient_id or '-'}:{about}"

    def row(self) -> Reminder:
        return Reminder(
            organization_id=self.organization_id,
            kind=self.kind,
            key=self.key,
            recipient_id=self.recipient_id,
            follow_up_id=self.follow_up_id,
            exoneree_id=self.exoneree_id,
            send_at=self.send_at,
        )


def _zone(organization: Organization) -> ZoneInfo:
    return ZoneInfo(organization.timezone)


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def _quiet(moment: datetime, exoneree: Exoneree, zone: ZoneInfo) -> datetime | None:
    """The end of the exoneree's quiet hours if `moment` falls in them, else None."""
    start, end = exoneree.quiet_hours_start, exoneree.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = moment.astimezone(zone)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return None
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def _wants_appointment_reminders(exoneree: Exoneree) -> bool:
    return exoneree.appointment_reminders and exoneree.contact_preference != ContactPreference.DO_NOT_CONTACT


def _follow_up_plans(follow_up: FollowUp, directors: list[int]) -> list[Planned]:
    if follow_up.done_at is not None:
        return []
    exoneree = follow_up.exoneree
    organization = exoneree.organization
    due = follow_up.due_at
    lead = timedelta(hours=settings.REMINDER_LEAD_HOURS)
    common = {"organization_id": organization.pk, "follow_up_id": follow_up.pk, "due": due}
    assignee = follow_up.assigned_to_id
    overdue_at = due + timedelta(hours=settings.REMINDER_OVERDUE_HOURS)
    plans = [
        Planned(Kind.DUE, send_at=due, recipient_id=assignee, **common),
        Planned(Kind.OVERDUE, send_at=overdue_at, recipient_id=assignee, **common),
    ]
    if lead:
        plans.append(Planned(Kind.BEFORE, send_at=due - lead, recipient_id=assignee, **common))
    escalate_at = due + timedelta(days=organization.escalation_days)
    plans += [Planned(Kind.ESCALATION, send_at=escalate_at, recipient_id=user_id, **common) for user_id in directors]
    if follow_up.shared_with_exoneree and _wants_appointment_reminders(exoneree):
        send_at = due - (lead or timedelta(hours=24))
        send_at = _quiet(send_at, exoneree, _zone(organization)) or send_at
        if send_at < due:
            to_them = {"recipient_id": None, "exoneree_id": exoneree.pk}
            plans.append(Planned(Kind.EXONEREE_APPOINTMENT, send_at=send_at, **to_them, **common))
    return plans


def _compensation_plans(exoneree: Exoneree, recipients: Iterable[int]) -> list[Planned]:
    deadline = exoneree.compensation_deadline
    if deadline is None or exoneree.compensation_status != CompensationStatus.NOT_YET_FILED:
        return []
    organization = exoneree.organization
    zone = _zone(organization)
    return [
        Planned(
            kind,
            organization_id=organization.pk,
            send_at=_local(deadline - timedelta(days=days), organization.digest_hour, zone),
            recipient_id=user_id,
            exoneree_id=exoneree.pk,
        )
        for days, kind in COMPENSATION_WARNINGS
        for user_id in sorted(set(recipients))
    ]


def _directors(organization_ids: Iterable[int]) -> dict[int, list[int]]:
    directors: dict[int, list[int]] = defaultdict(list)
    rows = StaffMember.objects.filter(
        organization_id__in=set(organization_ids), role=Role.DIRECTOR, user__is_active=True
    ).values_list("organization_id", "user_id")
    for organization_id, user_id in rows.order_by("user_id"):
        directors[organization_id].append(user_id)
    return directors


def _reconcile(desired: list[Planned], existing: Iterable[Reminder], *, now: datetime) -> None:
    """Make the rows match the plan: cancel what is no longer wanted, move or revive what
    changed, add what is missing. Rows already sent (or being sent) are history: kept."""
    wanted = {plan.key: plan for plan in desired}
    have = {row.key: row for row in existing}
    stale = [row.pk for key, row in have.items() if key not in wanted and row.status in CANCELLABLE]
    if stale:
        Reminder.objects.filter(pk__in=stale, status__in=CANCELLABLE).update(
            status=Status.CANCELLED, reason="No longer needed (done, moved or reassigned).", claim_token=None
        )
    for key, plan in wanted.items():
        row = have.get(key)
        if row is None:
            continue
        # The same reminder at another time (quiet hours, a new lead time): move it, even if
        # a sweep has claimed it; its queued task then finds the row no longer claimed.
        if row.status in CANCELLABLE and row.send_at != plan.send_at:
            Reminder.objects.filter(pk=row.pk, status__in=CANCELLABLE).update(
                status=Status.PENDING, send_at=plan.send_at, claim_token=None
            )
        elif row.status == Status.CANCELLED and plan.send_at > now:
            Reminder.objects.filter(pk=row.pk, status=Status.CANCELLED).update(
                status=Status.PENDING, send_at=plan.send_at, reason="", attempts=0
            )
    # A reminder whose time has already passed when it is planned is not sent late; an
    # existing one that came due (and the sweep has not reached yet) is kept above.
    new = [plan.row() for key, plan in wanted.items() if key not in have and plan.send_at > now]
    # ignore_conflicts: a concurrent planner that inserted the same key first wins.
    Reminder.objects.bulk_create(new, ignore_conflicts=True)


def reminders_plan_for_follow_ups(follow_ups: QuerySet[FollowUp], *, now: datetime | None = None) -> None:
    """Plan (or cancel, or move) the reminders of these follow-ups, in a fixed number of queries.

    Called by every action that creates, edits, completes, reopens or reassigns a
    follow-up, inside its transaction. Rows are read back from the database, so a change
    made with `update()` is seen.
    """
    now = now or timezone.now()
    rows = list(follow_ups.select_related("exoneree__organization"))
    if not rows:
        return
    directors = _directors(row.exoneree.organization_id for row in rows)
    desired = [plan for row in rows for plan in _follow_up_plans(row, directors[row.exoneree.organization_id])]
    existing = Reminder.objects.filter(follow_up_id__in=[row.pk for row in rows])
    _reconcile(desired, existing, now=now)


def reminders_plan_for_follow_up(follow_up: FollowUp, *, now: datetime | None = None) -> None:
    reminders_plan_for_follow_ups(FollowUp.objects.filter(pk=follow_up.pk), now=now)


def reminders_plan_for_exoneree(exoneree: Exoneree, *, now: datetime | None = None) -> None:
    """The compensation-deadline warnings (to their caseworkers and the directors) and the
    reminders of their open follow-ups: a change of caseworkers, deadline or contact
    preferences changes them all."""
    now = now or timezone.now()
    exoneree = Exoneree.objects.select_related("organization").get(pk=exoneree.pk)
    caseworkers = exoneree.caseworkers.filter(is_active=True).values_list("pk", flat=True)
    directors = _directors([exoneree.organization_id])[exoneree.organization_id]
    existing = Reminder.objects.filter(exoneree=exoneree, kind__in=COMPENSATION_KINDS)
    _reconcile(_compensation_plans(exoneree, [*caseworkers, *directors]), existing, now=now)
    reminders_plan_for_follow_ups(FollowUp.objects.filter(exoneree=exoneree, done_at__isnull=True), now=now)


def reminders_plan_digests(*, now: datetime) -> None:
    """One morning digest per caseworker per local day, at the organization's digest hour.

    Today's (if its hour is still ahead) and tomorrow's are planned, so a digest exists well
    before it is due and an outage at that hour only delays it. Three queries however many
    caseworkers; the unique key makes planning the same day again a no-op.
    """
    organizations = {org.pk: org for org in Organization.objects.all()}
    caseworkers = StaffMember.objects.filter(role=Role.CASEWORKER, user__is_active=True).values_list(
        "organization_id", "user_id"
    )
    plans = []
    for organization_id, user_id in caseworkers:
        organization = organizations[organization_id]
        zone = _zone(organization)
        today = now.astimezone(zone).date()
        for day in (today, today + timedelta(days=1)):
            send_at = _local(day, organization.digest_hour, zone)
            plans.append(Planned(Kind.DIGEST, organization_id, send_at, recipient_id=user_id, day=day))
    Reminder.objects.bulk_create([plan.row() for plan in plans if plan.send_at > now], ignore_conflicts=True)


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


# --- sending one reminder -----------------------------------------------------------------------


@dataclass
class Outgoing:
    """What to send for one reminder: an email and/or a text, and the in-app notification."""

    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    sms_to: str = ""
    sms_text: str = ""
    notification: str = ""
    url: str = ""
    language: str = ""  # the recipient's, for an exoneree; empty: the site's


@dataclass
class Skip:
    reason: str
    failed: bool = False  # shown as failed (someone should act), not merely cancelled


@dataclass
class Postpone:
    until: datetime
    reason: str


def _when(moment: datetime, zone: ZoneInfo) -> str:
    """ "Mar 4, 3:00 PM" in the organization's zone."""
    local = moment.astimezone(zone)
    return f"{local:%b} {local.day}, {local.hour % 12 or 12}:{local:%M %p}"


def _compose(reminder: Reminder, now: datetime) -> Outgoing | Skip | Postpone:
    """Decide, at sending time, whether the reminder still stands and what it says.

    Emails and texts say what is due and link to it, nothing more: no name, no case
    detail, not even the follow-up's title (mailboxes and phones are not ours). The in-app
    notification is behind the login and may name the person and the follow-up.
    """
    organization = reminder.organization
    zone = _zone(organization)
    recipient = reminder.recipient
    if recipient is not None and not recipient.is_active:
        return Skip("The recipient's account is switched off.")
    if reminder.kind in referral_reminders.KINDS:  # the referral loop's rows say their own words
        composed = referral_reminders.compose(reminder, now)
        if isinstance(composed, referral_reminders.Stop):
            return Skip(composed.reason, failed=composed.failed)
        return Outgoing(**vars(composed))
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
    if reminder.kind in COMPENSATION_KINDS:
        person = reminder.exoneree
        if person.compensation_deadline is None or person.compensation_status != CompensationStatus.NOT_YET_FILED:
            return Skip("The claim was filed or the deadline removed.")
        days = (person.compensation_deadline - now.astimezone(zone).date()).days
        if days < 0:
            return Skip("Too late: the deadline has passed.")
        url = person.get_absolute_url()
        on = person.compensation_deadline
        deadline = f"{on:%b} {on.day}, {on.year}"
        context = {"days": days, "deadline": person.compensation_deadline, "link": site + url}
        when = "is today" if days <= 0 else f"is in {days} days"
        text = f"Compensation claim filing deadline {when} ({deadline}): {person.display_name}"
        return Outgoing("reminder_compensation", context, recipient.email, notification=text, url=url)
    if reminder.kind == Kind.DIGEST:
        local_today = now.astimezone(zone).date()
        if reminder.send_at.astimezone(zone).date() != local_today:
            return Skip("Too late: that day's digest is out of date.")
        end_of_day = datetime.combine(local_today + timedelta(days=1), time(0), tzinfo=zone)
        open_follow_ups = FollowUp.objects.filter(assigned_to=recipient, done_at__isnull=True)
        overdue = open_follow_ups.filter(due_at__lt=now).count()
        due_today = open_follow_ups.filter(due_at__gte=now, due_at__lt=end_of_day).count()
        if not overdue and not due_today:
            return Skip("Nothing due or overdue.")
        url = reverse("dashboard")
        context = {"due_today": due_today, "overdue": overdue, "link": site + url}
        text = f"Today: {due_today} follow-up{'s' if due_today != 1 else ''} due, {overdue} overdue."
        return Outgoing("reminder_digest", context, recipient.email, notification=text, url=url)
    if reminder.kind == Kind.EXONEREE_APPOINTMENT:
        person = reminder.exoneree
        if person.contact_preference == ContactPreference.DO_NOT_CONTACT:
            return Skip("They asked not to be contacted.")
        if not person.appointment_reminders:
            return Skip("They no longer want appointment reminders.")
        if not follow_up.shared_with_exoneree:
            return Skip("The appointment is no longer on their plan.")
        if later := _quiet(now, person, zone):
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
                # A format a translation may reorder ("Mar 4, 3:00 PM" in English, as _when writes it).
                when = date_format(local, _("M j, g:i A"))
                text = _("Reminder: you have an appointment on %(when)s. See: %(link)s") % {"when": when, "link": link}
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
            "organization", "recipient", "exoneree", "follow_up__exoneree", "follow_up__assigned_to"
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
    # Outside the transaction: no lock is held while a mail server takes its time.
    try:
        with timezone.override(_zone(reminder.organization)):  # times in the organization's zone
            if outgoing.email and outgoing.template:
                send_templated_email(
                    to=outgoing.email,
                    template=outgoing.template,
                    context=outgoing.context,
                    language=outgoing.language,
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
    if not _finish(reminder_id, token):
        # Someone else holds the row now (a sweep took over a claim it thought abandoned):
        # the reminder may go out twice. Say so, by id only.
        logger.warning("reminder %s delivered after its claim was taken over: possible duplicate", reminder_id)
    return "sent"


def _finish(reminder_id: int, token: uuid.UUID) -> int:
    """Record the delivery; a database hiccup here would mean a second email, so try again."""
    for attempt in range(3):
        try:
            return _move(reminder_id, token, Status.SENT, sent_at=timezone.now(), reason="")
        except DatabaseError:
            if attempt == 2:
                raise
            close_old_connections()
    return 0


class ReminderSendError(Exception):
    """A delivery failed in a way worth retrying; carries only the error's type name."""


def reminder_fail(reminder_id: int, *, reason: str) -> None:
    """After the last retry: shown as failed on the notifications page."""
    Reminder.objects.filter(pk=reminder_id, status=Status.CLAIMED).update(
        status=Status.FAILED, reason=f"Gave up: {reason}"[:200]
    )
