"""Follow-ups: done on time, late, missed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.follow_ups import FollowUp
from services.models.outcomes import OutcomeCount
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_times, records_url

# Follow-ups, per person they are assigned to.


def _due_in_scope(scope: Scope) -> QuerySet[FollowUp]:
    """The follow-ups due in the period, of the people counted, assigned to the caseworker chosen."""
    follow_ups = FollowUp.objects.filter(between_times("due_at", scope), exoneree__in=scope.people)
    if scope.filters.caseworker is not None:
        follow_ups = follow_ups.filter(assigned_to=scope.filters.caseworker)
    return follow_ups


def follow_ups_in_scope(scope: Scope) -> QuerySet[FollowUp]:
    follow_ups = _due_in_scope(scope)
    if scope.filters.domain:
        d = scope.filters.domain
        follow_ups = follow_ups.filter(Q(need__domain=d) | Q(referral__need__domain=d))
    return follow_ups


FOLLOW_UP_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "due": (_("Due"), lambda s: Q()),
    "on_time": (_("Done on time"), lambda s: Q(done_at__lte=F("due_at"))),
    "late": (_("Done late"), lambda s: Q(done_at__gt=F("due_at"))),
    "overdue": (_("Overdue, not done"), lambda s: Q(done_at__isnull=True, due_at__lt=s.now)),
    "upcoming": (_("Not due yet"), lambda s: Q(done_at__isnull=True, due_at__gte=s.now)),
}

FOLLOW_UPS = Spec(
    name="follow_ups",
    title=_("Follow-ups"),
    kind="follow_up",
    base=follow_ups_in_scope,
    by_domain=True,
    measures={key: label for key, (label, _) in FOLLOW_UP_MEASURES.items()},
    cell=lambda scope, group, measure: Q(assigned_to_id=int(group)) & FOLLOW_UP_MEASURES[measure][1](scope),
)


def _days_and_months(start: date, end: date, today: date) -> Q:
    """The rows that add up to the days start…end, each day once: a month's total for every
    whole month in between (except today's month, which is split at today), the days of the rest."""
    months: list[date] = []
    days: list[Q] = []
    month = start.replace(day=1)
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        if start <= month and following - timedelta(days=1) <= end and not month <= today < following:
            months.append(month)
        else:
            days.append(Q(day__gte=max(month, start), day__lt=min(following, end + timedelta(days=1))))
        month = following
    wanted = Q(month=True, day__in=months)
    for span in days:
        wanted |= Q(span, month=False)
    return wanted


def _follow_up_counts(scope: Scope) -> tuple[dict[int, dict[str, int]], dict[int, tuple[str, str, str]]]:
    """Per assignee, the follow-ups due in the period (due, on time, late, overdue, not due
    yet), and the assignees' names.

    The kept counts know the day a follow-up is due, not the hour: an open one due before
    today is overdue, one due after today is not due yet, and today's open ones that are
    already overdue are looked up (a few rows, by the due-time index) in a second query.
    """
    today = scope.today
    counts: dict[int, dict[str, int]] = {}
    names: dict[int, tuple[str, str, str]] = {}
    person = ("caseworker__first_name", "caseworker__last_name", "caseworker__username")
    f = scope.filters
    rows = OutcomeCount.objects.filter(
        _days_and_months(f.start, f.end, today), organization=scope.organization, figure="follow_ups", domain=f.domain
    )
    if f.caseworker is not None:
        rows = rows.filter(caseworker=f.caseworker)  # the assignee
    for row in (
        rows.order_by()
        .values("caseworker", *person, "key")
        .annotate(
            before=Sum("count", filter=Q(day__lt=today)),
            on_the_day=Sum("count", filter=Q(day=today)),
            after=Sum("count", filter=Q(day__gt=today)),
        )
    ):
        names[row["caseworker"]] = tuple(row[field] for field in person)
        cells = counts.setdefault(row["caseworker"], dict.fromkeys(FOLLOW_UP_MEASURES, 0))
        before, on_the_day, after = (row[k] or 0 for k in ("before", "on_the_day", "after"))
        cells["due"] += before + on_the_day + after
        if row["key"] == "open":
            cells["overdue"] += before
            cells["upcoming"] += on_the_day + after
        else:
            cells[row["key"]] += before + on_the_day + after
    if scope.filters.start <= today <= scope.filters.end:
        starts = timezone.make_aware(datetime.combine(today, time.min))
        overdue_today = (
            follow_ups_in_scope(scope)
            .filter(due_at__gte=starts, due_at__lt=scope.now, done_at__isnull=True)
            .order_by()
            .values("assigned_to")
            .annotate(n=Count("due_at"))
        )
        for row in overdue_today:
            if cells := counts.get(row["assigned_to"]):
                cells["overdue"] += row["n"]
                cells["upcoming"] -= row["n"]
    return {assignee: cells for assignee, cells in counts.items() if cells["due"]}, names


def follow_up_figure(scope: Scope) -> Figure:
    counts, names = _follow_up_counts(scope)
    rows = []
    for pk in sorted(counts, key=lambda pk: (*names[pk][:2], pk)):
        row, group = counts[pk], str(pk)
        first_name, last_name, username = names[pk]
        cells = [Cell(row[key], records_url(scope, FOLLOW_UPS, group, key)) for key in FOLLOW_UP_MEASURES]
        rows.append(Row(f"{first_name} {last_name}".strip() or username, cells, key=group))
    return Figure(
        name="follow_ups",
        title=_("Follow-ups on time, per caseworker"),
        how=(
            _(
                "Follow-ups due in the period, by the person they are assigned to. On time = marked done no later "
                "than due; late = done after; overdue = not done and past due now."
            )
        ),
        columns=["Caseworker", *FOLLOW_UPS.measures.values()],
        rows=rows,
        chart_cells=[(1, "c-good"), (2, "c-warn"), (3, "c-bad")],
    )


# The check-ins after release (services.actions.release_checks), by the days after release.

CHECK_IN_LABELS = {
    7: _("A week after release"),
    30: _("30 days after release"),
    90: _("90 days after release"),
    180: _("Six months after release"),
    365: _("A year after release"),
}


def check_ins_in_scope(scope: Scope) -> QuerySet[FollowUp]:
    """The check-ins after release due in the period. The need-domain filter does not apply
    (a check-in is about the whole person, not one need); the caseworker filter does."""
    return _due_in_scope(scope).filter(release_check__isnull=False)


CHECK_INS = Spec(
    name="release_checks",
    title=_("Check-ins after release"),
    kind="follow_up",
    base=check_ins_in_scope,
    measures=FOLLOW_UPS.measures,
    cell=lambda scope, group, measure: Q(release_check=int(group)) & FOLLOW_UP_MEASURES[measure][1](scope),
    groups=lambda scope: [(str(days), label) for days, label in CHECK_IN_LABELS.items()],
)


def check_in_figure(scope: Scope) -> Figure:
    """One query: the check-ins due in the period, counted by their days after release."""
    measures = {key: Count("pk", filter=condition(scope)) for key, (_label, condition) in FOLLOW_UP_MEASURES.items()}
    counted = {
        row["release_check"]: row
        for row in check_ins_in_scope(scope).order_by().values("release_check").annotate(**measures)
    }
    rows = [
        Row(
            label,
            [Cell(counted[days][key], records_url(scope, CHECK_INS, str(days), key)) for key in FOLLOW_UP_MEASURES],
            key=str(days),
        )
        for days, label in CHECK_IN_LABELS.items()
        if days in counted
    ]
    return Figure(
        name="release_checks",
        title=_("Check-ins after release"),
        how=_(
            "The check-ins intake plans after a release date (California SB 1050 asks for contact within a week "
            "of release and again within 30 days), due in the period, by the days after release. On time = "
            "marked done no later than due; late = done after; overdue = not done and past due now. The "
            "need-domain filter does not apply here."
        ),
        columns=["Check-in", *CHECK_INS.measures.values()],
        rows=rows,
        chart_cells=[(1, "c-good"), (2, "c-warn"), (3, "c-bad")],
    )
