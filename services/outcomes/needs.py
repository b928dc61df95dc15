"""Needs: met, open, and benefits obtained, per domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from services.choices import NeedDomain, NeedStatus
from services.models.needs import Need
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_dates, records_url

BENEFIT_DOMAINS = (NeedDomain.INCOME, NeedDomain.HEALTH_COVERAGE, NeedDomain.IDENTIFICATION)


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
    "opened": (_("Recorded"), lambda s: between_dates("opened_on", s)),
    "met": (_("Met"), lambda s: Q(status=NeedStatus.MET) & between_dates("closed_on", s)),
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
    by_domain=True,
    measures={key: label for key, (label, _) in NEED_MEASURES.items()},
    cell=_by_domain(NEED_MEASURES),
    groups=_domain_groups,
)

OPEN_NEEDS = Spec(
    name="open_needs",
    title=_("Needs still open"),
    kind="need",
    base=_needs,
    by_domain=True,
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


# Benefits, health coverage and ID documents obtained.


def _benefit_needs(scope: Scope) -> QuerySet[Need]:
    return _needs_in_view(scope).filter(
        between_dates("closed_on", scope),
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
