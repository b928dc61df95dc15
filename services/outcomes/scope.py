"""What every figure is built from: the filters, the scope they select, cells, rows and specs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

from django.db.models import (
    Q,
    QuerySet,
    Sum,
)
from django.urls import reverse
from django.utils import timezone

from services.choices import NeedDomain
from services.models.organizations import Organization
from services.models.outcomes import OutcomeCount
from services.models.people import Exoneree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


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

    @property
    def domain_label(self) -> str:
        return str(NeedDomain(self.domain).label) if self.domain in NeedDomain.values else self.domain

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
    value: int | float | date | None  # a date in a list (a deadline), written in the CSV as YYYY-MM-DD
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

    def __post_init__(self) -> None:
        # Its words in the language of the moment, once: a label is drawn in the chart and
        # the table, a column's in every bar, and a lazy text is translated again each time.
        self.title, self.how, self.summary = str(self.title), str(self.how), str(self.summary)
        self.columns = [str(column) for column in self.columns]
        for row in self.rows:
            row.label = str(row.label)

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
    # Whether the need-domain filter narrows its rows (its base reads it): a list of records
    # names the filter only then, never claiming one it does not apply.
    by_domain: bool = False
    # A group's old key → its key now: a list bookmarked or linked under the old key is sent
    # on to the same records (services.views.outcomes.outcome_records), not answered 404.
    renamed_groups: Mapping[str, str] = field(default_factory=dict)

    def records(self, scope: Scope, group: str, measure: str) -> QuerySet[Any]:
        return self.base(scope).filter(self.cell(scope, group, measure))


def between_dates(name: str, scope: Scope) -> Q:
    return Q(**{f"{name}__gte": scope.filters.start, f"{name}__lte": scope.filters.end})


def between_times(name: str, scope: Scope) -> Q:
    return Q(**{f"{name}__gte": scope.filters.starts_at, f"{name}__lt": scope.filters.ends_before})


def _days(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


def mean_days(count: int, microseconds: int) -> float | None:
    return _days(timedelta(microseconds=microseconds / count)) if count else None


def share_cell(part: int, whole: int) -> Cell:
    """`part` as a whole percentage of `whole`; a dash when there is no whole to share."""
    return Cell(round(100 * part / whole) if whole else None, display=f"{round(100 * part / whole)}%" if whole else "—")


def records_url(scope: Scope, spec: Spec, group: str, measure: str) -> str:
    # Hundreds of cells link to the records under the same filters: the path and the filters'
    # part of the query string are made once per page; each cell adds its own three, each
    # quoted once per page too (the same figures, rows and columns recur), as urlencode would.
    if "records_link" not in scope.cache:
        scope.cache["records_link"] = f"{reverse('outcome_records')}?{urlencode(scope.filters.params())}"
        scope.cache["quoted"] = {}
    figure, row, column = (_quoted(scope.cache["quoted"], str(value)) for value in (spec.name, group, measure))
    return f"{scope.cache['records_link']}&figure={figure}&group={row}&measure={column}"


def _quoted(quoted: dict[str, str], text: str) -> str:
    if text not in quoted:
        quoted[text] = quote_plus(text)
    return quoted[text]
