"""The check-ins after release: follow-ups for the caseworker a week, 30, 90, 180 and 365 days
after the person was released (DOMAIN.md, "Follow-up cadence": California SB 1050 asks for
contact within a week of release and again within 30 days; the later ones are common practice).

Intake plans them when the caseworker leaves its box ticked, and so does an edit that adds the
release date to a record without them; only the ones still ahead are planned (a person taken on
two months after release gets the 90-, 180- and 365-day ones). They are ordinary follow-ups from
then on, reminded, edited and done as any other, and marked with the days they stand for
(`FollowUp.release_check`), so none is planned twice and a corrected release date moves them.
A note of the contact that was one closes it (`release_checks_done_by_note`): the new-note form
offers those due by a week from now, and a note's edit those due by a week from when it was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.actions import casework, follow_ups
from services.models.casework import CaseNote
from services.models.follow_ups import FollowUp
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.outcome_counts import CHECKPOINTS
from services.reminder_plans import reminders_plan_for_follow_ups

RELEASE_CHECK_DAYS = (7, 30, 90, 180, 365)
# In the organization's time zone: a working morning, after the digest has listed the day.
CHECK_TIME = time(10, 0)

TITLES = {
    7: "Check in: one week since release",
    30: "Check in: 30 days since release",
    90: "Check in: 90 days since release",
    180: "Check in: six months since release",
    365: "Check in: one year since release",
}
FIRST_MONTH = "California SB 1050 asks for contact within a week of release and again within 30 days."
LATER = "How are housing, food, health, work and money going? Update their needs and wishes."
# A note may say it was a check-in that is due within this (a call a few days early is that check-in).
NOTE_REACH = timedelta(days=7)
# The outcomes' housing after release reads the latest assessment taken by each of these days.
ASSESSED = " An assessment taken by this day counts for the outcomes' housing at {days} days after release."


def release_check_details(days: int) -> str:
    return (FIRST_MONTH if days <= 30 else LATER) + (ASSESSED.format(days=days) if days in CHECKPOINTS else "")


def release_check_due(organization: Organization, released: date, days: int) -> datetime:
    return datetime.combine(released + timedelta(days=days), CHECK_TIME, tzinfo=organization.zone())


def _assignee(by: AbstractUser, exoneree: Exoneree) -> int | None:
    """Whoever plans them, when they are one of the person's caseworkers (intake puts its
    caseworker on the caseload); otherwise the first of them who can sign in."""
    caseworkers = list(exoneree.caseworkers.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    if by.pk in caseworkers:
        return by.pk
    return caseworkers[0] if caseworkers else None


@transaction.atomic
def release_checks_plan(*, by: AbstractUser, exoneree: Exoneree, now: datetime | None = None) -> list[FollowUp]:
    """The check-ins still ahead that the person does not have yet, assigned to `by` (or their
    first caseworker), with their reminders planned and each in the access log as any new
    follow-up. Nothing without a release date, or without a caseworker to do them."""
    if exoneree.release_date is None:
        return []
    assignee = _assignee(by, exoneree)
    if assignee is None:
        return []
    now = now or timezone.now()
    have = set(exoneree.follow_ups.filter(release_check__isnull=False).values_list("release_check", flat=True))
    planned = []
    for days in RELEASE_CHECK_DAYS:
        due_at = release_check_due(exoneree.organization, exoneree.release_date, days)
        if days in have or due_at <= now:
            continue
        planned.append(
            FollowUp(
                exoneree=exoneree,
                title=TITLES[days],
                details=release_check_details(days),
                due_at=due_at,
                assigned_to_id=assignee,
                created_by=by,
                release_check=days,
            )
        )
    if not planned:
        return []
    FollowUp.objects.bulk_create(planned)
    reminders_plan_for_follow_ups(FollowUp.objects.filter(pk__in=[follow_up.pk for follow_up in planned]), now=now)
    for follow_up in planned:
        audit.record_change(by, follow_up, {}, exoneree=exoneree)
    return planned


@transaction.atomic
def release_checks_move(
    *, by: AbstractUser, exoneree: Exoneree, released_before: date | None, now: datetime | None = None
) -> list[FollowUp]:
    """After the release date was corrected: each open check-in still at the time the old date
    gave moves to the new date's, when that is still ahead. One a caseworker moved by hand keeps
    their time; one whose new day has passed stays where it is, still worth doing."""
    if released_before is None or exoneree.release_date is None or released_before == exoneree.release_date:
        return []
    now = now or timezone.now()
    organization = exoneree.organization
    moved = []
    for follow_up in exoneree.follow_ups.filter(release_check__isnull=False, done_at__isnull=True):
        days = follow_up.release_check
        new = release_check_due(organization, exoneree.release_date, days)
        if follow_up.due_at != release_check_due(organization, released_before, days) or new <= now:
            continue
        before = audit.stored(follow_up)
        follow_up.due_at = new
        follow_up.save(update_fields=["due_at"])
        audit.record_change(by, follow_up, before, exoneree=exoneree, fields=["due_at"])
        moved.append(follow_up)
    if moved:
        reminders_plan_for_follow_ups(FollowUp.objects.filter(pk__in=[follow_up.pk for follow_up in moved]), now=now)
    return moved


def open_release_checks(exoneree: Exoneree) -> list[FollowUp]:
    """Their check-ins not done yet, the next first (five at most)."""
    return list(exoneree.follow_ups.filter(release_check__isnull=False, done_at__isnull=True).order_by("due_at", "pk"))


def has_release_checks(exoneree: Exoneree) -> bool:
    return exoneree.pk is not None and exoneree.follow_ups.filter(release_check__isnull=False).exists()


def release_checks_in_reach(exoneree: Exoneree, *, now: datetime | None = None) -> QuerySet[FollowUp]:
    """Their check-ins due by a week from now (overdue, today's, or in the coming days), done or
    not, the earliest first: those a new note may say it was. The open ones are offered; a done
    one stays in reach so that the same note posted twice marks nothing again and fails nothing."""
    now = now or timezone.now()
    return exoneree.follow_ups.filter(release_check__isnull=False, due_at__lte=now + NOTE_REACH).order_by(
        "due_at", "pk"
    )


@transaction.atomic
def release_checks_done_by_note(
    *, by: AbstractUser, exoneree: Exoneree, note: CaseNote, check_ins: Iterable[FollowUp]
) -> list[FollowUp]:
    """A note of a contact that was one of their check-ins: the note saved, and each check-in
    marked done through the follow-ups' own action (reminders cancelled, the access log, the
    figures), together or not at all. Returns those this marked done: one already done (a second
    post of the same form) keeps its first time and outcome."""
    check_ins = list(check_ins)
    if any(check_in.exoneree_id != exoneree.pk or check_in.release_check is None for check_in in check_ins):
        raise ValidationError({"check_ins": _("Choose one of this person's check-ins after release.")})
    casework.note_save(by=by, exoneree=exoneree, note=note)
    done = []
    for check_in in check_ins:
        if check_in.is_done:
            continue
        # The note holds what was said; the outcome only points to it, rather than copying it.
        follow_ups.follow_up_complete(by=by, follow_up=check_in, outcome=_("See the case note written with it."))
        if check_in.is_done:  # refreshed only when this call marked it (not a post at the same time)
            done.append(check_in)
    return done
