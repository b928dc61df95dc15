"""People served in the period, and how their cases closed (services/models/enrolments.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import ExitDestination, ExitReason
from services.models.enrolments import Enrolment
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_dates, records_url


def _enrolments(scope: Scope) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(exoneree__in=scope.caseload)


def _overlapping(scope: Scope) -> Q:
    """An enrolment that was open on at least one day of the period."""
    f = scope.filters
    return Q(opened_on__lte=f.end) & (Q(closed_on__isnull=True) | Q(closed_on__gte=f.start))


SERVED_GROUPS: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "served": (_("People served in the period"), _overlapping),
    "enrolled": (_("People whose case opened in the period"), lambda s: between_dates("opened_on", s)),
    "exited": (_("People whose case closed in the period"), lambda s: between_dates("closed_on", s)),
}


def _served_cell(scope: Scope, group: str, measure: str) -> Q:
    """The people with an enrolment in that row: each listed once, however many they had."""
    return Q(pk__in=_enrolments(scope).filter(SERVED_GROUPS[group][1](scope)).values("exoneree"))


SERVED = Spec(
    name="served",
    title=_("People served"),
    kind="person",
    base=lambda scope: scope.caseload,
    measures={"people": _("People")},
    cell=_served_cell,
    groups=lambda scope: [(key, label) for key, (label, _q) in SERVED_GROUPS.items()],
)


def served_figure(scope: Scope) -> Figure:
    counts = _enrolments(scope).aggregate(
        **{key: Count("exoneree", distinct=True, filter=q(scope)) for key, (_label, q) in SERVED_GROUPS.items()}
    )
    rows = [
        Row(label, [Cell(counts[key], records_url(scope, SERVED, key, "people"))], key=key)
        for key, (label, _q) in SERVED_GROUPS.items()
    ]
    return Figure(
        name="served",
        title=_("People served, cases opened and closed"),
        how=_(
            "People served = people whose case was open on at least one day of the period. Opened and closed = "
            "people whose case began or ended in the period. Each row counts a person once, however often their "
            "case was closed and reopened, as its list names them. The need-domain filter does not apply here."
        ),
        columns=["Who", *SERVED.measures.values()],
        rows=rows,
        chart_cells=[(0, "c-total")],
    )


# Exits in the period, by reason and by destination (HUD HMIS's exit fields).


def _exit_counts(scope: Scope) -> tuple[Counter[str], Counter[str]]:
    """The people whose case closed in the period, by reason and by destination: one query for
    both figures. A person counts once in a row, as the row's list names them (a case closed
    twice for the same reason is one person there; for two reasons, one in each)."""
    if "exits" not in scope.cache:
        exits = set(
            _enrolments(scope)
            .filter(between_dates("closed_on", scope))
            .order_by()
            .values_list("exoneree", "exit_reason", "destination")
        )
        reasons = Counter(reason for _person, reason in {(person, reason) for person, reason, _d in exits})
        destinations = Counter(place for _person, place in {(person, place) for person, _r, place in exits})
        scope.cache["exits"] = (reasons, destinations)
    return scope.cache["exits"]


def _exit_spec(name: str, title: str, field: str, choices: type[ExitReason] | type[ExitDestination]) -> Spec:
    def cell(scope: Scope, group: str, measure: str) -> Q:
        exits = _enrolments(scope).filter(between_dates("closed_on", scope), **{field: group})
        return Q(pk__in=exits.values("exoneree"))

    return Spec(
        name=name,
        title=title,
        kind="person",
        base=lambda scope: scope.caseload,
        measures={"exits": _("People")},
        cell=cell,
        groups=lambda scope: list(choices.choices),
    )


EXIT_REASONS = _exit_spec("exit_reasons", _("Why cases closed"), "exit_reason", ExitReason)
EXIT_DESTINATIONS = _exit_spec("exit_destinations", _("Where people went"), "destination", ExitDestination)


def _exit_figure(
    scope: Scope, spec: Spec, column: str, counts: Counter[str], choices: list[tuple[str, str]], how: str
) -> Figure:
    rows = [
        Row(label, [Cell(counts[value], records_url(scope, spec, value, "exits"))], key=value)
        for value, label in choices
        if counts[value]
    ]
    return Figure(
        name=spec.name,
        title=spec.title,
        how=how,
        columns=[column, *spec.measures.values()],
        rows=rows,
        chart_cells=[(0, "c-total")],
    )


def exit_reason_figure(scope: Scope) -> Figure:
    reasons, _destinations = _exit_counts(scope)
    how = _(
        "People whose case closed in the period, by the reason given when closing (someone whose case closed twice "
        "for two reasons is in both rows). The need-domain filter does not apply."
    )
    return _exit_figure(scope, EXIT_REASONS, "Reason", reasons, ExitReason.choices, how)


def exit_destination_figure(scope: Scope) -> Figure:
    _reasons, destinations = _exit_counts(scope)
    how = _(
        "People whose case closed in the period, by where they went to live, grouped as the HUD HMIS data standards "
        "group destinations. The need-domain filter does not apply."
    )
    return _exit_figure(scope, EXIT_DESTINATIONS, "Destination", destinations, ExitDestination.choices, how)
