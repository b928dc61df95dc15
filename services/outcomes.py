"""Reads for the director's outcomes page: every figure is one or two aggregate queries.

Each figure is a small table of cells. A cell is defined once, as a condition (`Q`) on the
rows the figure counts, and that one definition serves three purposes: the database counts
it (`Count(filter=...)`), the CSV exports it, and the drill-down list shows the rows behind
it. So a number on the page and the list behind it can never disagree.
The exception, for speed: referrals, follow-ups, housing and self-sufficiency are summed from
counts kept in advance (`OutcomeCount`, see services/outcome_counts.py, which files each
record under the day and cell these definitions put it in), while their drill-downs still
query the rows; the tests follow every such number to its list to keep the two equal.

Only plain columns are used (statuses, domains, dates, foreign keys, scores): the free-text
fields are encrypted and the database cannot read them.

The period is [start, end] in the organization's timezone (the middleware activates it);
a date-time column is compared with the aware instants that begin `start` and follow `end`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from services.choices import AssessmentDomain, AssessmentKind, CompensationStatus, NeedDomain, NeedStatus
from services.choices import ReferralStatus as RS
from services.models import (
    Assessment,
    AssessmentScore,
    Exoneree,
    FollowUp,
    Need,
    Organization,
    OutcomeCount,
    ReferralEvent,
)
from services.outcome_counts import CHECKPOINTS, REFERRAL_GROUPS, STABLY_HOUSED

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

BENEFIT_DOMAINS = (NeedDomain.INCOME, NeedDomain.HEALTH_COVERAGE, NeedDomain.IDENTIFICATION)
FILED = (CompensationStatus.FILED, CompensationStatus.AWARDED, CompensationStatus.DENIED)


@dataclass(frozen=True)
class OutcomeFilters:
    """What the director chose: the period (inclusive dates), and optionally one caseworker and one need domain."""

    start: date
    end: date
    caseworker: AbstractUser | None = None
    domain: str = ""

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def ends_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def params(self) -> dict[str, str]:
        """The filters as query-string parameters, for links to the records and to the CSV."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.caseworker is not None:
            params["caseworker"] = str(self.caseworker.pk)
        if self.domain:
            params["domain"] = self.domain
        return params


@dataclass(frozen=True)
class Scope:
    """Everything a figure needs to know: whose records, which period, and what "now" is."""

    people: QuerySet[Exoneree]  # from services.access: the director's organization, nothing else
    filters: OutcomeFilters
    now: datetime
    # Counts shared by two figures (needs, open needs), made once per page.
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    organization: Organization | None = None  # whose kept counts (OutcomeCount) are read

    def kept(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The kept counts of the figures about people (referrals, housing, self-sufficiency)
        on the days of the period, for the chosen caseworker (or everyone): one query, shared.

        (figure, domain, key) → n (how many), total (the summed measure), ahead (how many
        filed under a day after today).
        """
        if "kept" not in self.cache:
            f = self.filters
            which = (
                Q(figure="referrals", domain=f.domain)
                | Q(figure="housing")
                | Q(figure="scores") & (Q(until__isnull=True) | Q(until__gt=f.end))
            )
            rows = (
                OutcomeCount.objects.filter(
                    which,
                    # Implied by `which`, and said so the planner reads one range of the
                    # (organization, figure, caseworker, domain, day) index per figure rather
                    # than every kept count of the organization (39 → 6 ms at bench scale).
                    figure__in=["referrals", "housing", "scores"],
                    organization=self.organization,
                    caseworker=f.caseworker,
                    day__gte=f.start,
                    day__lte=f.end,
                )
                .order_by()
                .values("figure", "domain", "key")
                .annotate(n=Sum("count"), total=Sum("total"), ahead=Sum("count", filter=Q(day__gt=self.today)))
            )
            self.cache["kept"] = {(row["figure"], row["domain"], row["key"]): row for row in rows}
        return self.cache["kept"]

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def as_of(self) -> date:
        """The day "open for more than N days" is counted on: the period's end, or today if that is earlier."""
        return min(self.filters.end, self.today)

    @property
    def caseload(self) -> QuerySet[Exoneree]:
        """The people in view: with a caseworker chosen, those currently on that caseworker's caseload."""
        if self.filters.caseworker is None:
            return self.people
        return self.people.filter(caseworkers=self.filters.caseworker)


@dataclass
class Cell:
    value: int | float | None
    href: str = ""
    display: str = ""

    def __str__(self) -> str:
        if self.display:
            return self.display
        return "—" if self.value is None else str(self.value)


@dataclass
class Row:
    label: str
    cells: list[Cell]
    key: str = ""
    in_chart: bool = True


@dataclass
class Segment:
    value: float
    css: str
    label: str


@dataclass
class Figure:
    name: str
    title: str
    how: str
    columns: list[str]  # the first names the row labels
    rows: list[Row]
    summary: str = ""
    # Which cells the chart draws, and how: (column index, CSS class) per stacked segment.
    chart_cells: list[tuple[int, str]] = field(default_factory=list)
    # Stacked only when the charted columns are parts of one whole. Columns that overlap
    # (met needs are among the recorded ones; over 90 days is also over 30) get a bar each.
    stacked: bool = True

    @property
    def chart(self) -> list[tuple[str, list[Segment], float]]:
        """Bars for the chart: (label, segments, total), widths proportional to the largest total."""
        bars = []
        for row in self.rows:
            if not row.in_chart:
                continue
            segments = [
                Segment(float(row.cells[i].value or 0), css, self.columns[i + 1]) for i, css in self.chart_cells
            ]
            if self.stacked:
                bars.append((row.label, segments, sum(s.value for s in segments)))
            else:
                bars += [(f"{row.label}: {s.label.lower()}", [s], s.value) for s in segments]
        return bars

    @property
    def legend(self) -> list[tuple[str, str]]:
        return [(self.columns[i + 1], css) for i, css in self.chart_cells]

    def csv_rows(self) -> list[list[Any]]:
        return [self.columns, *[[row.label, *(c.value for c in row.cells)] for row in self.rows]]


# --- How each figure counts: the rows it counts, and a condition per cell ------------------------


@dataclass(frozen=True)
class Spec:
    """One figure's definition. `cell(scope, group, measure)` is the condition behind one cell."""

    name: str
    title: str
    kind: str  # what the drill-down lists: need, referral, follow_up, person, score
    base: Callable[[Scope], QuerySet[Any]]
    measures: dict[str, str]  # measure key → column label, in column order
    cell: Callable[[Scope, str, str], Q]
    groups: Callable[[Scope], list[tuple[str, str]]] | None = None  # (key, label), for drill-down validation

    def records(self, scope: Scope, group: str, measure: str) -> QuerySet[Any]:
        return self.base(scope).filter(self.cell(scope, group, measure))


def _between_dates(name: str, scope: Scope) -> Q:
    return Q(**{f"{name}__gte": scope.filters.start, f"{name}__lte": scope.filters.end})


def _between_times(name: str, scope: Scope) -> Q:
    return Q(**{f"{name}__gte": scope.filters.starts_at, f"{name}__lt": scope.filters.ends_before})


def _days(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


# Referrals: counted once each, by the day they were sent. A referral is sent exactly once
# (draft → sent is the only way in, and nothing goes back to draft), so its SENT event is
# one row per sent referral, and a referral cancelled as a draft has none.


def _sent_events(scope: Scope) -> QuerySet[ReferralEvent]:
    events = ReferralEvent.objects.filter(
        _between_times("at", scope), to_status=RS.SENT, referral__need__exoneree__in=scope.caseload
    )
    if scope.filters.domain:
        events = events.filter(referral__need__domain=scope.filters.domain)
    return events


REFERRAL_LABELS = {
    "completed": _("Completed"),
    "under_way": _("Still under way"),
    "declined": _("Declined"),
    "unresolved": _("Unresolved"),
    "cancelled": _("Cancelled after sending"),
}
REFERRAL_OUTCOMES = {
    "sent": (_("Sent"), Q()),
    **{key: (label, Q(referral__status__in=REFERRAL_GROUPS[key])) for key, label in REFERRAL_LABELS.items()},
}
REFERRALS = Spec(
    name="referrals",
    title=_("Referrals sent"),
    kind="referral",
    base=_sent_events,
    measures={"count": "Referrals"},
    cell=lambda scope, group, measure: REFERRAL_OUTCOMES[group][1],
    groups=lambda scope: [(key, label) for key, (label, _) in REFERRAL_OUTCOMES.items()],
)


def _mean_days(count: int, microseconds: int) -> float | None:
    return _days(timedelta(microseconds=microseconds / count)) if count else None


def referral_figure(scope: Scope) -> Figure:
    sums = {key: (row["n"], row["total"]) for (figure, _, key), row in scope.kept().items() if figure == "referrals"}
    counts = {key: sums.get(key, (0, 0))[0] for key in REFERRAL_OUTCOMES}
    sent = counts["sent"]
    rate = round(100 * counts["completed"] / sent) if sent else None
    rows = [
        Row(label, [Cell(counts[key], records_url(scope, REFERRALS, key, "count"))], key=key)
        for key, (label, _) in REFERRAL_OUTCOMES.items()
    ]
    need_days = _mean_days(*sums.get("to_referral", (0, 0)))  # each need's first referral sent
    service_days = _mean_days(*sums.get("to_service", (0, 0)))  # completed ones
    rows += [
        Row(_("Average days from need recorded to first referral sent"), [Cell(need_days)], "days_to_referral", False),
        Row(_("Average days from referral sent to completed"), [Cell(service_days)], "days_to_service", False),
    ]
    summary = f"{rate}% of referrals sent were completed." if rate is not None else "No referral was sent."
    return Figure(
        name="referrals",
        title=_("Referrals completed"),
        how=(
            _(
                "Referrals sent in the period (drafts never sent are left out), by where each stands now. "
                "Completion rate = completed ÷ sent. Times are averages (means) in days: from the day the need "
                "was recorded to the day its first referral was sent, and from sending to completion."
            )
        ),
        columns=["", "Referrals"],
        rows=rows,
        summary=summary,
        chart_cells=[(0, "c-total")],
    )


# Needs, by domain.


def _needs_in_view(scope: Scope) -> QuerySet[Need]:
    """The needs of the people in view. With no caseworker chosen that is the whole
    organization (a director sees all its people: services.access), read by the needs' own
    organization column (one index, no join with 20,000 people at bench scale)."""
    if scope.filters.caseworker is None and scope.organization is not None:
        return Need.objects.filter(organization=scope.organization)
    return Need.objects.filter(exoneree__in=scope.caseload)


def _needs(scope: Scope) -> QuerySet[Need]:
    needs = _needs_in_view(scope)
    if scope.filters.domain:
        needs = needs.filter(domain=scope.filters.domain)
    return needs


def _open_on(day: date) -> Q:
    """Open on that day: recorded by then, and not closed by then (a reopened need has no closed_on)."""
    return Q(opened_on__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day))


NEED_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "opened": (_("Recorded"), lambda s: _between_dates("opened_on", s)),
    "met": (_("Met"), lambda s: Q(status=NeedStatus.MET) & _between_dates("closed_on", s)),
}
OPEN_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "open": (_("Open"), lambda s: _open_on(s.as_of)),
    "over_30": (_("Open over 30 days"), lambda s: _open_on(s.as_of) & Q(opened_on__lt=s.as_of - timedelta(days=30))),
    "over_90": (_("Open over 90 days"), lambda s: _open_on(s.as_of) & Q(opened_on__lt=s.as_of - timedelta(days=90))),
}


def _domain_groups(scope: Scope) -> list[tuple[str, str]]:
    return [(d, label) for d, label in NeedDomain.choices if not scope.filters.domain or d == scope.filters.domain]


def _by_domain(measures: dict[str, tuple[str, Callable[[Scope], Q]]]) -> Callable[[Scope, str, str], Q]:
    return lambda scope, group, measure: Q(domain=group) & measures[measure][1](scope)


NEEDS = Spec(
    name="needs",
    title=_("Needs"),
    kind="need",
    base=_needs,
    measures={key: label for key, (label, _) in NEED_MEASURES.items()},
    cell=_by_domain(NEED_MEASURES),
    groups=_domain_groups,
)
OPEN_NEEDS = Spec(
    name="open_needs",
    title=_("Needs still open"),
    kind="need",
    base=_needs,
    measures={key: label for key, (label, _) in OPEN_MEASURES.items()},
    cell=_by_domain(OPEN_MEASURES),
    groups=_domain_groups,
)


def _need_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """Both need figures' cells, per domain, in one pass over the needs (they share their rows)."""
    if "needs" not in scope.cache:
        measures = {**NEED_MEASURES, **OPEN_MEASURES}
        scope.cache["needs"] = {
            row["domain"]: row
            for row in _needs(scope)
            .order_by()
            .values("domain")
            .annotate(**{key: Count("opened_on", filter=q(scope)) for key, (_, q) in measures.items()})
        }
    return scope.cache["needs"]


def _per_domain(scope: Scope, spec: Spec, measures: dict[str, tuple[str, Callable[[Scope], Q]]]) -> list[Row]:
    counts = _need_counts(scope)
    rows = []
    for domain, label in NeedDomain.choices:
        row = counts.get(domain)
        if row and any(row[key] for key in measures):
            cells = [Cell(row[key], records_url(scope, spec, domain, key)) for key in measures]
            rows.append(Row(label, cells, key=domain))
    return rows


def need_figure(scope: Scope) -> Figure:
    return Figure(
        name="needs",
        title=_("Needs recorded and met, by domain"),
        how=_("Recorded = needs recorded in the period. Met = needs marked met in the period (whenever recorded)."),
        columns=["Domain", *NEEDS.measures.values()],
        rows=_per_domain(scope, NEEDS, NEED_MEASURES),
        chart_cells=[(0, "c-total"), (1, "c-good")],
        stacked=False,
    )


def open_need_figure(scope: Scope) -> Figure:
    return Figure(
        name="open_needs",
        title=_("Needs waiting a long time"),
        how=(
            _(
                "Needs still open on %(date)s (the end of the period, or today if sooner), "
                "and of those, the ones recorded more than 30 and more than 90 days before."
            )
            % {"date": date_format(scope.as_of, "F j, Y")}
        ),
        columns=["Domain", *OPEN_NEEDS.measures.values()],
        rows=_per_domain(scope, OPEN_NEEDS, OPEN_MEASURES),
        chart_cells=[(1, "c-warn"), (2, "c-bad")],
        stacked=False,
    )


# Follow-ups, per person they are assigned to.


def _follow_ups(scope: Scope) -> QuerySet[FollowUp]:
    follow_ups = FollowUp.objects.filter(_between_times("due_at", scope), exoneree__in=scope.people)
    if scope.filters.caseworker is not None:
        follow_ups = follow_ups.filter(assigned_to=scope.filters.caseworker)
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
    base=_follow_ups,
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
            _follow_ups(scope)
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


# Housing at 30/90/180/365 days after release, from the assessments' housing score.


def _housing_on_day(days: int) -> Subquery:
    """The person's latest housing score from an assessment taken on or before release + `days`."""
    checkpoint = ExpressionWrapper(OuterRef("release_date") + timedelta(days=days), output_field=DateField())
    return Subquery(
        AssessmentScore.objects.filter(
            assessment__exoneree=OuterRef("pk"),
            domain=AssessmentDomain.HOUSING,
            assessment__taken_on__lte=checkpoint,
        )
        .order_by("-assessment__taken_on", "-assessment_id")
        .values("score")[:1]
    )


def _cohort(scope: Scope, days: int, field: str = "release_date") -> Q:
    """The people whose day `days` after release fell in the period."""
    start, end = scope.filters.start, scope.filters.end
    return Q(**{f"{field}__gte": start - timedelta(days=days), f"{field}__lte": end - timedelta(days=days)})


def _released_around(scope: Scope) -> QuerySet[Exoneree]:
    start, end = scope.filters.start, scope.filters.end
    # The score is looked up only for a checkpoint's own cohort (CASE is evaluated lazily).
    return (
        scope.caseload.filter(release_date__gte=start - timedelta(days=max(CHECKPOINTS)), release_date__lte=end)
        .annotate(
            **{f"housing_{days}": Case(When(_cohort(scope, days), then=_housing_on_day(days))) for days in CHECKPOINTS}
        )
        .order_by()
    )


def _housing_cell(scope: Scope, group: str, measure: str) -> Q:
    days = int(group)
    cohort = _cohort(scope, days)
    reached = Q(release_date__lte=scope.today - timedelta(days=days))
    score = f"housing_{days}"
    return (
        cohort
        & {
            "housed": reached & Q(**{f"{score}__gte": STABLY_HOUSED}),
            "not_housed": reached & Q(**{f"{score}__lt": STABLY_HOUSED}),
            "unknown": reached & Q(**{f"{score}__isnull": True}),
            "not_yet": ~reached,
            "reached": reached,  # counted, not shown: housed + not housed + not assessed
        }[measure]
    )


HOUSING = Spec(
    name="housing",
    title=_("Housing after release"),
    kind="person",
    base=_released_around,
    measures={
        "housed": _("Stably housed"),
        "not_housed": _("Not stably housed"),
        "unknown": _("Not assessed"),
        "not_yet": _("Day not reached yet"),
    },
    cell=_housing_cell,
    groups=lambda scope: [(str(days), _("Day %(days)s") % {"days": days}) for days in CHECKPOINTS],
)


def _housing_counts(scope: Scope) -> dict[str, int]:
    """The housing cells from the kept counts: each person is filed under the day of each
    checkpoint (release + N) with the latest housing score by then; a day after today is
    "not reached yet", whatever the score."""
    counts = {f"{days}_{measure}": 0 for days in CHECKPOINTS for measure in HOUSING.measures}
    for (figure, _domain, key), row in scope.kept().items():
        if figure == "housing":
            ahead = row["ahead"] or 0
            counts[key] += row["n"] - ahead
            counts[f"{key.split('_', 1)[0]}_not_yet"] += ahead
    return counts


def housing_figure(scope: Scope) -> Figure:
    counts = _housing_counts(scope)
    rows = [
        Row(
            _("Day %(days)s after release") % {"days": days},
            [Cell(counts[f"{days}_{m}"], records_url(scope, HOUSING, str(days), m)) for m in HOUSING.measures],
            key=str(days),
        )
        for days in CHECKPOINTS
    ]
    return Figure(
        name="housing",
        title=_("Housing after release"),
        how=(
            _(
                "For each checkpoint, the people whose 30th, 90th, 180th or 365th day after release fell in the "
                "period. Stably housed = the latest housing score of an assessment taken by that day is 3 (safe) "
                "or better; not assessed = no housing score by that day."
            )
        ),
        columns=["Checkpoint", *HOUSING.measures.values()],
        rows=rows,
        chart_cells=[(0, "c-good"), (1, "c-bad"), (2, "c-none")],
    )


# Benefits, health coverage and ID documents obtained.


def _benefit_needs(scope: Scope) -> QuerySet[Need]:
    return _needs_in_view(scope).filter(
        _between_dates("closed_on", scope),
        domain__in=BENEFIT_DOMAINS,
        status=NeedStatus.MET,
    )


BENEFITS = Spec(
    name="benefits",
    title=_("Benefits, coverage and IDs obtained"),
    kind="need",
    base=_benefit_needs,
    measures={"people": _("People"), "needs": _("Needs met")},
    cell=lambda scope, group, measure: Q(domain=group),
    groups=lambda scope: [(d.value, d.label) for d in BENEFIT_DOMAINS],
)


def benefit_figure(scope: Scope) -> Figure:
    counts = {
        row["domain"]: row
        for row in _benefit_needs(scope)
        .order_by()
        .values("domain")
        .annotate(people=Count("exoneree", distinct=True), needs=Count("pk"))
    }
    rows = []
    for domain in BENEFIT_DOMAINS:
        row = counts.get(domain, {"people": 0, "needs": 0})
        cells = [Cell(row[key], records_url(scope, BENEFITS, domain, key)) for key in BENEFITS.measures]
        rows.append(Row(domain.label, cells, key=domain))
    return Figure(
        name="benefits",
        title=_("Benefits, health coverage and ID documents obtained"),
        how=(
            _(
                "Needs in these three domains marked met in the period, and how many people they were for. "
                "The need-domain filter does not apply here."
            )
        ),
        columns=["Domain", *BENEFITS.measures.values()],
        rows=rows,
        chart_cells=[(0, "c-good")],
    )


# Compensation claims whose filing deadline falls in the period.


def _with_deadline(scope: Scope) -> QuerySet[Exoneree]:
    return (
        scope.caseload.filter(_between_dates("compensation_deadline", scope))
        .exclude(compensation_status=CompensationStatus.NOT_ELIGIBLE)
        .order_by()
    )


COMPENSATION_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "filed": (_("Filed"), lambda s: Q(compensation_status__in=FILED)),
    "missed": (
        _("Deadline passed, not filed"),
        lambda s: Q(compensation_status=CompensationStatus.NOT_YET_FILED, compensation_deadline__lt=s.today),
    ),
    "pending": (
        _("Not filed yet, still time"),
        lambda s: Q(compensation_status=CompensationStatus.NOT_YET_FILED, compensation_deadline__gte=s.today),
    ),
}
COMPENSATION = Spec(
    name="compensation",
    title=_("Compensation deadlines"),
    kind="person",
    base=_with_deadline,
    measures={"count": "People"},
    cell=lambda scope, group, measure: COMPENSATION_MEASURES[group][1](scope),
    groups=lambda scope: [(key, label) for key, (label, _) in COMPENSATION_MEASURES.items()],
)


def compensation_figure(scope: Scope) -> Figure:
    pending = COMPENSATION_MEASURES["pending"][1](scope)
    counts = _with_deadline(scope).aggregate(
        **{key: Count("pk", filter=q(scope)) for key, (_, q) in COMPENSATION_MEASURES.items()},
        nearest=Min("compensation_deadline", filter=pending),
    )
    rows = [
        Row(label, [Cell(counts[key], records_url(scope, COMPENSATION, key, "count"))], key=key)
        for key, (label, _) in COMPENSATION_MEASURES.items()
    ]
    nearest = counts["nearest"]
    summary = (
        _("The nearest open deadline is in %(days)s days.") % {"days": (nearest - scope.today).days} if nearest else ""
    )
    return Figure(
        name="compensation",
        title=_("Compensation claims and their deadlines"),
        how=(
            _(
                "People whose compensation filing deadline falls in the period (those not eligible are left out). "
                "Filed = filed, awarded or denied; the app records no filing date, so a filed claim counts as "
                "filed before its deadline."
            )
        ),
        columns=["", "People"],
        rows=rows,
        summary=summary,
        chart_cells=[(0, "c-total")],
    )


# Change in self-sufficiency scores from intake.


def _reassessed_scores(scope: Scope) -> QuerySet[AssessmentScore]:
    """The scores of each person's latest assessment up to the period's end, when taken in the period.

    Each carries the same domain's score at the person's first intake (`intake_score`).
    """
    # Not the latest if the same person has a later assessment by the period's end (an
    # anti-join, which the database plans far better than "id = (latest id)" per row).
    later = Assessment.objects.filter(
        exoneree=OuterRef("assessment__exoneree"), taken_on__lte=scope.filters.end
    ).filter(
        Q(taken_on__gt=OuterRef("assessment__taken_on"))
        | Q(taken_on=OuterRef("assessment__taken_on"), pk__gt=OuterRef("assessment_id"))
    )
    # The intake score is joined, not looked up per score: the person's intakes, their score in
    # the same domain, and no earlier intake score in that domain (the first intake's, as before).
    intakes = "assessment__exoneree__assessments"
    earlier_intake = AssessmentScore.objects.filter(
        assessment__exoneree=OuterRef("assessment__exoneree"),
        assessment__kind=AssessmentKind.INTAKE,
        domain=OuterRef("domain"),
    ).filter(
        Q(assessment__taken_on__lt=OuterRef("intake_taken_on"))
        | Q(assessment__taken_on=OuterRef("intake_taken_on"), assessment_id__lt=OuterRef("intake_id"))
    )
    return (
        AssessmentScore.objects.filter(
            _between_dates("assessment__taken_on", scope),
            ~Exists(later),
            assessment__exoneree__in=scope.caseload,
        )
        .exclude(assessment__kind=AssessmentKind.INTAKE)
        .annotate(
            intakes=FilteredRelation(intakes, condition=Q(**{f"{intakes}__kind": AssessmentKind.INTAKE})),
            intake_scores=FilteredRelation("intakes__scores", condition=Q(intakes__scores__domain=F("domain"))),
        )
        .annotate(
            intake_score=F("intake_scores__score"),
            intake_taken_on=F("intakes__taken_on"),
            intake_id=F("intakes__id"),
        )
        .filter(intake_score__isnull=False)
        .filter(~Exists(earlier_intake))
        .order_by()
    )


SCORE_MEASURES = {
    "people": (_("People"), Q()),
    "better": (_("Better"), Q(score__gt=F("intake_score"))),
    "same": (_("Same"), Q(score=F("intake_score"))),
    "worse": (_("Worse"), Q(score__lt=F("intake_score"))),
}
SCORES = Spec(
    name="scores",
    title=_("Self-sufficiency since intake"),
    kind="score",
    base=_reassessed_scores,
    measures={key: label for key, (label, _) in SCORE_MEASURES.items()},
    cell=lambda scope, group, measure: Q(domain=group) & SCORE_MEASURES[measure][1],
    groups=lambda scope: list(AssessmentDomain.choices),
)


def _score_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """Per domain: people, better, same, worse, and the sum of the changes.

    Each kept score counts from the day its assessment was taken until the person's next
    assessment (`until`): it is the latest by the period's end when taken in the period and
    not replaced by then.
    """
    per_domain: dict[str, dict[str, int]] = {}
    for (figure, domain, key), row in scope.kept().items():
        if figure != "scores":
            continue
        cells = per_domain.setdefault(domain, {**dict.fromkeys(SCORE_MEASURES, 0), "change": 0})
        cells[key] += row["n"]
        cells["people"] += row["n"]
        cells["change"] += row["total"]
    return {domain: cells for domain, cells in per_domain.items() if cells["people"]}


def score_figure(scope: Scope) -> Figure:
    per_domain = _score_counts(scope)
    rows = []
    for domain, label in AssessmentDomain.choices:
        if row := per_domain.get(domain):
            change = round(row["change"] / row["people"], 2)
            cells = [Cell(row[key], records_url(scope, SCORES, domain, key)) for key in SCORE_MEASURES]
            rows.append(Row(label, [*cells, Cell(change, display=f"{change:+.2f}")], key=domain))
    return Figure(
        name="scores",
        title=_("Self-sufficiency: change since intake"),
        how=(
            _(
                "People whose latest assessment (up to the end of the period) was taken in the period and is not an "
                "intake. Each domain compares that score (1 in crisis … 5 empowered) with the same domain at their "
                "first intake; the last column is the average change. The need-domain filter does not apply here."
            )
        ),
        columns=["Domain", *SCORES.measures.values(), "Average change"],
        rows=rows,
        chart_cells=[(1, "c-good"), (2, "c-none"), (3, "c-bad")],
    )


SPECS = {
    spec.name: spec for spec in (REFERRALS, NEEDS, OPEN_NEEDS, FOLLOW_UPS, HOUSING, BENEFITS, COMPENSATION, SCORES)
}
FIGURES: dict[str, Callable[[Scope], Figure]] = {
    "referrals": referral_figure,
    "needs": need_figure,
    "open_needs": open_need_figure,
    "follow_ups": follow_up_figure,
    "housing": housing_figure,
    "benefits": benefit_figure,
    "compensation": compensation_figure,
    "scores": score_figure,
}


def records_url(scope: Scope, spec: Spec, group: str, measure: str) -> str:
    params = {**scope.filters.params(), "figure": spec.name, "group": group, "measure": measure}
    if "records_path" not in scope.cache:  # hundreds of cells link to it: reversed once per page
        scope.cache["records_path"] = reverse("outcome_records")
    return f"{scope.cache['records_path']}?{urlencode(params)}"


def outcomes(
    organization: Organization,
    people: QuerySet[Exoneree],
    filters: OutcomeFilters,
    *,
    now: datetime | None = None,
    only: str = "",
) -> list[Figure]:
    """Every figure (or just `only`), each one aggregate query or two, however many rows there are.

    `people` are the organization's people the director may see (services.access).
    """
    scope = Scope(people=people, filters=filters, now=now or timezone.now(), organization=organization)
    names = [only] if only else list(FIGURES)
    return [FIGURES[name](scope) for name in names]


class UnknownCell(LookupError):
    """The drill-down asked for a figure, row or column that does not exist."""


def outcome_records(
    people: QuerySet[Exoneree],
    filters: OutcomeFilters,
    *,
    figure: str,
    group: str,
    measure: str,
    now: datetime | None = None,
) -> tuple[str, QuerySet[Any]]:
    """The records behind one cell of a figure: (kind, queryset), ready to paginate."""
    spec = SPECS.get(figure)
    if spec is None or measure not in spec.measures:
        raise UnknownCell(figure)
    scope = Scope(people=people, filters=filters, now=now or timezone.now())
    if spec.groups is not None:
        valid = group in {key for key, _ in spec.groups(scope)}
    else:
        # A follow-up row is one assignee with follow-ups due in the period: asked of that one
        # assignee (the model's default ordering made DISTINCT list every follow-up instead).
        valid = group.isdigit() and group == str(int(group))
        valid = valid and _follow_ups(scope).filter(assigned_to_id=int(group)).exists()
    if not valid:
        raise UnknownCell(group)
    return spec.kind, _for_list(spec.kind, spec.records(scope, group, measure))


# What each drill-down list shows; encrypted fields are left unloaded (never decrypted).
_PERSON = ("legal_name", "preferred_name")


def _for_list(kind: str, records: QuerySet[Any]) -> QuerySet[Any]:
    if kind == "referral":
        return (
            records.select_related("referral__resource", "referral__need__exoneree")
            .only(
                "at",
                "referral__status",
                "referral__status_changed_at",
                "referral__resource__name",
                "referral__need__domain",
                "referral__need__opened_on",
                *(f"referral__need__exoneree__{f}" for f in _PERSON),
            )
            .order_by("at", "pk")
        )
    if kind == "need":
        return (
            records.select_related("exoneree")
            .only("domain", "status", "opened_on", "closed_on", *(f"exoneree__{f}" for f in _PERSON))
            .order_by("opened_on", "pk")
        )
    if kind == "follow_up":
        return (
            records.select_related("exoneree", "assigned_to")
            .only(
                "title",
                "due_at",
                "done_at",
                "assigned_to__first_name",
                "assigned_to__last_name",
                "assigned_to__username",
                *(f"exoneree__{f}" for f in _PERSON),
            )
            .order_by("due_at", "pk")
        )
    if kind == "score":
        return (
            records.select_related("assessment__exoneree")
            .only(
                "domain",
                "score",
                "assessment__taken_on",
                "assessment__kind",
                *(f"assessment__exoneree__{f}" for f in _PERSON),
            )
            .order_by("assessment__exoneree__legal_name", "pk")
        )
    return records.only(*_PERSON, "release_date", "compensation_status", "compensation_deadline").order_by(
        "legal_name", "pk"
    )


def cell_title(spec: Spec, group: str, measure: str, filters: OutcomeFilters) -> str:
    """What a drill-down list shows, in words: "Needs · Housing · Met"."""
    groups = dict(spec.groups(Scope(Exoneree.objects.none(), filters, timezone.now()))) if spec.groups else {}
    parts = [spec.title, groups.get(group, ""), spec.measures[measure] if len(spec.measures) > 1 else ""]
    return " · ".join(str(part) for part in parts if part)
