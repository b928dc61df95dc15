"""The Network's figures: the kept counts (services/outcome_counts.py) of the organizations that
share them, summed, with small cells hidden (services.lib.suppression).

Only the counts filed for everyone and every need are read: no caseworker's, no need domain's
(self-sufficiency is by assessment domain, as on the director's page), no list of records behind
a number. One query whatever the number of organizations; nothing is shown while fewer than
MIN_ORGANIZATIONS share, so no organization's own counts can be read off the page. A period's
days are each organization's own, as its director's page counts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from services.choices import AssessmentDomain
from services.lib.suppression import Hidden, suppressed
from services.models.organizations import Organization
from services.models.outcomes import OutcomeCount
from services.outcome_counts import CHECKPOINTS, REFERRAL_GROUPS
from services.outcomes.referrals import REFERRAL_LABELS
from services.outcomes.scope import mean_days

# Fewer sharing organizations than this, and the sums would be one or two organizations' own.
MIN_ORGANIZATIONS = 3


@dataclass(frozen=True)
class Number:
    """One cell as the page and the CSV show it. A hidden count has no value: it never leaves here."""

    text: str
    value: int | float | None = None


@dataclass
class Table:
    name: str
    title: str
    how: str
    columns: list[str]  # the first names the row labels
    rows: list[tuple[str, list[Number]]] = field(default_factory=list)

    @property
    def labelled(self) -> list[tuple[str, list[tuple[str, Number]]]]:
        """Each row with its cells' column names (on a phone each row is a block of labelled lines)."""
        return [(label, list(zip(self.columns[1:], cells, strict=True))) for label, cells in self.rows]

    def csv_rows(self) -> list[list[Any]]:
        """The table as the page shows it: a hidden count as its words, never its value."""
        rows = [[label, *(n.text if n.value is None else n.value for n in cells)] for label, cells in self.rows]
        return [self.columns, *rows]


@dataclass(frozen=True)
class NetworkFigures:
    organizations: int  # how many share (counted, when there are enough)
    tables: list[Table]  # none while fewer than MIN_ORGANIZATIONS share

    @property
    def enough(self) -> bool:
        return self.organizations >= MIN_ORGANIZATIONS


def network_figures(
    organizations: QuerySet[Organization], start: date, end: date, *, today: date, minimum: int
) -> NetworkFigures:
    """The Network's figures for the days start…end, from the kept counts of `organizations`
    (services.access.network_organizations), each count from 1 to `minimum - 1` hidden."""
    shared = organizations.count()
    if shared < MIN_ORGANIZATIONS:
        return NetworkFigures(shared, [])
    kept = _kept(organizations, start, end, today)
    show = _Shower(minimum)
    tables = [
        _referrals(kept, show),
        _follow_ups(kept, show),
        _housing(kept, show),
        _scores(kept, show),
    ]
    return NetworkFigures(shared, tables)


def _kept(organizations: QuerySet[Organization], start: date, end: date, today: date) -> dict[tuple, dict]:
    """(figure, domain, key) → n, total, ahead (filed after today), before (filed before today):
    one query over the sharing organizations' counts for everyone and every need."""
    everyone = Q(caseworker__isnull=True)
    which = (
        Q(everyone, figure="referrals", domain="")
        | Q(everyone, figure="housing")
        | Q(everyone, Q(until__isnull=True) | Q(until__gt=end), figure="scores")
        # A follow-up is filed once per assignee, for every need under "": each counted once.
        | Q(figure="follow_ups", domain="", month=False)
    )
    rows = (
        OutcomeCount.objects.filter(which, organization__in=organizations, day__gte=start, day__lte=end)
        .order_by()
        .values("figure", "domain", "key")
        .annotate(
            n=Sum("count"),
            total=Sum("total"),
            ahead=Sum("count", filter=Q(day__gt=today)),
            before=Sum("count", filter=Q(day__lt=today)),
        )
    )
    kept: dict[tuple, dict] = defaultdict(lambda: {"n": 0, "total": 0, "ahead": 0, "before": 0})
    for row in rows:
        kept[(row["figure"], row["domain"], row["key"])] = {k: row[k] or 0 for k in ("n", "total", "ahead", "before")}
    return kept


class _Shower:
    """Counts and the rates made of them, as shown: hidden by the rule, or the number."""

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def row(self, total: int, parts: list[int]) -> tuple[Number, list[Number], bool]:
        """The total, the parts, and whether any of them is hidden (a rate made of them is then hidden too)."""
        total_hidden, hidden = suppressed(total, parts, self.minimum)
        numbers = [self.count(value, state) for value, state in zip(parts, hidden, strict=True)]
        return self.count(total, total_hidden), numbers, total_hidden is not Hidden.NO or any(hidden)

    def count(self, value: int, state: Hidden) -> Number:
        if state is Hidden.SMALL:
            return Number(_("fewer than %(minimum)s") % {"minimum": self.minimum})
        if state is Hidden.PROTECTS:
            return Number(_("hidden"))
        return Number(str(value), value)

    @staticmethod
    def derived(value: float | None, hidden: bool, text: Callable[[float], str]) -> Number:
        if hidden:
            return Number(_("hidden"))
        return Number("—") if value is None else Number(text(value), value)


def _referrals(kept: dict[tuple, dict], show: _Shower) -> Table:
    sent = kept[("referrals", "", "sent")]["n"]
    groups = list(REFERRAL_GROUPS)
    total, parts, _hidden = show.row(sent, [kept[("referrals", "", key)]["n"] for key in groups])
    completed = kept[("referrals", "", "completed")]["n"]
    rate = round(100 * completed / sent) if sent else None
    to_service = kept[("referrals", "", "to_service")]  # the completed ones, with their days
    days = mean_days(to_service["n"], to_service["total"])
    completed_hidden = parts[groups.index("completed")].value is None
    cells = [
        total,
        *parts,
        show.derived(rate, total.value is None or completed_hidden, lambda value: f"{value:g}%"),
        show.derived(days, completed_hidden, lambda value: f"{value:g}"),
    ]
    return Table(
        name="referrals",
        title=_("Referrals"),
        how=_(
            "Referrals sent in the period, by where each stands now. Completion rate = completed ÷ sent; "
            "the average (mean) days run from sending to completion."
        ),
        columns=[
            "",
            _("Sent"),
            *(str(REFERRAL_LABELS[key]) for key in groups),
            _("Completion rate"),
            _("Average days from sent to completed"),
        ],
        rows=[(_("Referrals sent"), cells)],
    )


def _follow_ups(kept: dict[tuple, dict], show: _Shower) -> Table:
    """Done on time, late, or still open: overdue when due before today, else not due yet."""
    on_time, late = kept[("follow_ups", "", "on_time")]["n"], kept[("follow_ups", "", "late")]["n"]
    open_ = kept[("follow_ups", "", "open")]
    overdue = open_["before"]
    parts = [on_time, late, overdue, open_["n"] - overdue]
    total, numbers, _hidden = show.row(sum(parts), parts)
    return Table(
        name="follow_ups",
        title=_("Follow-ups"),
        how=_(
            "Follow-ups due in the period. On time = marked done no later than due; late = done after; "
            "overdue = not done and due before today."
        ),
        columns=["", _("Due"), _("Done on time"), _("Done late"), _("Overdue, not done"), _("Not due yet")],
        rows=[(_("Follow-ups due"), [total, *numbers])],
    )


def _housing(kept: dict[tuple, dict], show: _Shower) -> Table:
    rows = []
    for days in CHECKPOINTS:
        # A checkpoint filed after today is not reached yet: not counted here.
        parts = [
            kept[("housing", "", f"{days}_{m}")]["n"] - kept[("housing", "", f"{days}_{m}")]["ahead"]
            for m in ("housed", "not_housed", "unknown")
        ]
        total, numbers, _hidden = show.row(sum(parts), parts)
        rows.append((_("Day %(days)s after release") % {"days": days}, [total, *numbers]))
    return Table(
        name="housing",
        title=_("Housing after release"),
        how=_(
            "The people whose 30th, 90th, 180th or 365th day after release fell in the period (and has come). "
            "Stably housed = the latest housing score by that day is 3 (safe) or better."
        ),
        columns=[_("Checkpoint"), _("People"), _("Stably housed"), _("Not stably housed"), _("Not assessed")],
        rows=rows,
    )


def _scores(kept: dict[tuple, dict], show: _Shower) -> Table:
    rows = []
    for domain, label in AssessmentDomain.choices:
        cells = [kept[("scores", domain, key)] for key in ("better", "same", "worse")]
        parts = [cell["n"] for cell in cells]
        people = sum(parts)
        if not people:
            continue
        total, numbers, hidden = show.row(people, parts)
        change = sum(cell["total"] for cell in cells) / people
        rows.append((str(label), [total, *numbers, show.derived(change, hidden, lambda value: f"{value:+.2f}")]))
    return Table(
        name="scores",
        title=_("Self-sufficiency: change since intake"),
        how=_(
            "People whose latest assessment (up to the end of the period) was taken in the period and is not an "
            "intake, each domain compared with their first intake (1 in crisis … 5 empowered)."
        ),
        columns=[_("Domain"), _("People"), _("Better"), _("Same"), _("Worse"), _("Average change")],
        rows=rows,
    )
