"""Reminders, planned: which rows should exist for each follow-up, compensation claim's
deadline, cleared record's re-check and morning digest (services.reminders claims and sends
them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from services.choices import ClearanceStatus, ContactPreference, ReminderKind, ReminderStatus, Role
from services.legal_rules import Window, WindowKind
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, RecordClearance
from services.models.notifications import Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.selectors.users import directors_by_organization

Kind, Status = ReminderKind, ReminderStatus


COMPENSATION_WARNINGS = (
    (90, Kind.COMPENSATION_90),
    (30, Kind.COMPENSATION_30),
    (7, Kind.COMPENSATION_7),
    (0, Kind.COMPENSATION_0),
)

COMPENSATION_KINDS = [kind for _, kind in COMPENSATION_WARNINGS]

# A background check can bring a cleared record back: look again this long after "confirmed clear".
RECHECK_AFTER_MONTHS = 6

FOLLOW_UP_KINDS = [Kind.BEFORE, Kind.DUE, Kind.OVERDUE]

# Rows a planner may still cancel: nobody has started sending them.
CANCELLABLE = [Status.PENDING, Status.CLAIMED]


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
    claim_id: int | None = None
    clearance_id: int | None = None
    day: date | None = None  # the day it is about; the UTC day of send_at by default
    # For a follow-up's reminders, the due time they are about: a follow-up moved to
    # another time (even the same day) is a new reminder, not the one already sent.
    due: datetime | None = None

    @property
    def key(self) -> str:
        subject = (
            f"f{self.follow_up_id}"
            if self.follow_up_id
            else f"c{self.claim_id}"
            if self.claim_id
            else f"r{self.clearance_id}"
            if self.clearance_id
            else f"e{self.exoneree_id}"
            if self.exoneree_id
            else "-"
        )
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
            compensation_claim_id=self.claim_id,
            record_clearance_id=self.clearance_id,
            send_at=self.send_at,
        )


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone)


def quiet_until(moment: datetime, exoneree: Exoneree, zone: ZoneInfo) -> datetime | None:
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
    if follow_up.done_at is not None or not follow_up.exoneree.case_is_open:
        return []  # a closed case reminds nobody (planning again cancels what was planned)
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
        send_at = quiet_until(send_at, exoneree, organization.zone()) or send_at
        if send_at < due:
            to_them = {"recipient_id": None, "exoneree_id": exoneree.pk}
            plans.append(Planned(Kind.EXONEREE_APPOINTMENT, send_at=send_at, **to_them, **common))
    return plans


def _compensation_plans(
    exoneree: Exoneree, claims: Iterable[CompensationClaim], recipients: Iterable[int]
) -> list[Planned]:
    """The 90/30/7/0-day warnings of each claim not filed yet, from its computed (or the
    lawyer's) deadline. A claim filed or closed has none, nor a closed case: planning again
    cancels them."""
    if not exoneree.case_is_open:
        return []
    organization = exoneree.organization
    zone = organization.zone()
    return [
        Planned(
            kind,
            organization_id=organization.pk,
            send_at=_local(claim.filing_deadline - timedelta(days=days), organization.digest_hour, zone),
            recipient_id=user_id,
            exoneree_id=exoneree.pk,
            claim_id=claim.pk,
        )
        for claim in claims
        if claim.filing_deadline is not None and claim.is_open_to_filing
        for days, kind in COMPENSATION_WARNINGS
        for user_id in sorted(set(recipients))
    ]


def recheck_day(confirmed_on: date) -> date:
    """RECHECK_AFTER_MONTHS after `confirmed_on` (the month's last day if it lacks that day)."""
    return Window(WindowKind.LENGTH, RECHECK_AFTER_MONTHS, "m").after(confirmed_on)


def _recheck_plans(
    exoneree: Exoneree, clearances: Iterable[RecordClearance], caseworkers: Iterable[int]
) -> list[Planned]:
    """Six months after a record holder was confirmed clear, its caseworkers look again
    (while the case is open)."""
    if not exoneree.case_is_open:
        return []
    organization = exoneree.organization
    zone = organization.zone()
    return [
        Planned(
            Kind.RECORD_RECHECK,
            organization_id=organization.pk,
            send_at=_local(recheck_day(clearance.confirmed_on), organization.digest_hour, zone),
            recipient_id=user_id,
            exoneree_id=exoneree.pk,
            clearance_id=clearance.pk,
        )
        for clearance in clearances
        if clearance.status == ClearanceStatus.CONFIRMED_CLEAR and clearance.confirmed_on is not None
        for user_id in sorted(set(caseworkers))
    ]


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
    directors = directors_by_organization(row.exoneree.organization_id for row in rows)
    desired = [plan for row in rows for plan in _follow_up_plans(row, directors[row.exoneree.organization_id])]
    existing = Reminder.objects.filter(follow_up_id__in=[row.pk for row in rows])
    _reconcile(desired, existing, now=now)


def reminders_plan_for_follow_up(follow_up: FollowUp, *, now: datetime | None = None) -> None:
    reminders_plan_for_follow_ups(FollowUp.objects.filter(pk=follow_up.pk), now=now)


def reminders_plan_for_exoneree(exoneree: Exoneree, *, now: datetime | None = None) -> None:
    """The compensation-deadline warnings of their claims (to their caseworkers and the
    directors), the re-checks of their cleared records (to their caseworkers) and the
    reminders of their open follow-ups: a change of caseworkers, claim, record or contact
    preferences changes them all."""
    now = now or timezone.now()
    exoneree = Exoneree.objects.select_related("organization").get(pk=exoneree.pk)
    caseworkers = list(exoneree.caseworkers.filter(is_active=True).values_list("pk", flat=True))
    directors = directors_by_organization([exoneree.organization_id])[exoneree.organization_id]
    claims = CompensationClaim.objects.filter(exoneree=exoneree).only("stage", "filing_deadline", "filed_on")
    existing = Reminder.objects.filter(exoneree=exoneree, kind__in=COMPENSATION_KINDS)
    _reconcile(_compensation_plans(exoneree, claims, [*caseworkers, *directors]), existing, now=now)
    clearances = RecordClearance.objects.filter(exoneree=exoneree).only("status", "confirmed_on")
    existing = Reminder.objects.filter(exoneree=exoneree, kind=Kind.RECORD_RECHECK)
    _reconcile(_recheck_plans(exoneree, clearances, caseworkers), existing, now=now)
    reminders_plan_for_follow_ups(FollowUp.objects.filter(exoneree=exoneree, done_at__isnull=True), now=now)


def reminders_move_digests(organization: Organization) -> int:
    """After the organization's digest hour changed: each planned digest not yet taken by the
    sweep moves to the new hour of its day (one whose new hour has passed goes at the next
    sweep). The other reminders at the digest hour (deadline warnings, re-checks, IDs) keep
    their time: they are about their day, not its hour. How many moved."""
    zone = organization.zone()
    moved = 0
    for pk, send_at in Reminder.objects.filter(
        organization=organization, kind=Kind.DIGEST, status=Status.PENDING
    ).values_list("pk", "send_at"):
        new = _local(send_at.astimezone(zone).date(), organization.digest_hour, zone)
        # Pending still: a row the sweep claimed meanwhile goes as planned.
        moved += Reminder.objects.filter(pk=pk, status=Status.PENDING).update(send_at=new)
    return moved


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
        zone = organization.zone()
        today = now.astimezone(zone).date()
        for day in (today, today + timedelta(days=1)):
            send_at = _local(day, organization.digest_hour, zone)
            plans.append(Planned(Kind.DIGEST, organization_id, send_at, recipient_id=user_id, day=day))
    Reminder.objects.bulk_create([plan.row() for plan in plans if plan.send_at > now], ignore_conflicts=True)
