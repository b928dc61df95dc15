"""The director's outcomes page: figures for a period, their CSV, and the records behind each number."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from services import access, figures
from services.access import director_required
from services.actions import exports
from services.choices import NeedDomain, Role
from services.forms.reports import OutcomeFilterForm
from services.lib.spreadsheet import csv_download
from services.models.organizations import Organization
from services.models.validators import EARLIEST_YEAR
from services.outcomes import report
from services.outcomes.report import FIGURES, SPECS, UnknownCell, cell_title
from services.outcomes.scope import Figure, OutcomeFilters

PAGE_SIZE = 50
FILTERS = ("from", "to", "caseworker", "domain")  # the query-string parameters of the filter form


def _filters(request: HttpRequest) -> tuple[OutcomeFilterForm, OutcomeFilters | None]:
    """The filter form, bound to the query string; filters only when it is valid."""
    return _filters_of(request.user, request.GET)


def _filters_of(user: Any, params: Mapping[str, str]) -> tuple[OutcomeFilterForm, OutcomeFilters | None]:
    organization = access.organization_of(user)
    caseworkers = (
        get_user_model()
        .objects.filter(staff__organization=organization, staff__role=Role.CASEWORKER)
        .order_by("first_name", "last_name", "pk")
    )
    data = {name: params.get(name, "") for name in FILTERS}
    form = OutcomeFilterForm(data, caseworkers=caseworkers, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    return form, OutcomeFilters(start=d["from"], end=d["to"], caseworker=d["caseworker"], domain=d["domain"])


@require_GET
@director_required
def outcome_dashboard(request: HttpRequest) -> HttpResponse:
    organization = access.organization_of(request.user)
    if request.GET.get("format") == "csv":
        return _csv_export(request, organization)
    page = outcomes_page(request.user, organization, request.GET, now=timezone.now())
    return render(request, "services/outcomes.html", {"organization": organization, **page}, status=page["status"])


def outcomes_page(
    user: Any, organization: Organization, params: Mapping[str, str], *, now: datetime, refresh: bool = False
) -> dict[str, Any]:
    """The page's body and status for exactly these filters as typed, from the figures' cache
    while nothing it counts has changed (services.figures.cached), else computed and cached
    (`refresh`: computed whatever the cache holds, as the background recompute does). The
    people counted are the director's whole organization (access.exonerees_visible_to), so
    the organization in the key says whose they are; a hit reads no figure and builds no form.
    The default page (no filter) is the one the background recompute keeps: past its minute it
    is served `refreshing` while that counts it again."""
    asked = [(name, params.get(name, "")) for name in FILTERS]

    def compute() -> dict[str, Any]:
        page = _page(user, organization, params, now)
        return {"body": page["body"], "status": page["status"]}

    default = not any(value for _, value in asked)
    served = figures.cached("outcomes", organization, urlencode(asked), compute, refresh=refresh, background=default)
    return {**served.value, "refreshing": served.refreshing}


def _page(user: Any, organization: Organization, params: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The filter form and, when the filters are valid, every figure, rendered as the page's body."""
    form, filters = _filters_of(user, params)
    context: dict[str, Any] = {
        "form": form,
        "status": 400 if filters is None else 200,
        "periods": _periods(timezone.localdate(now), filters),
    }
    if filters is not None:
        people = access.exonerees_visible_to(user)
        context |= {
            "filters": filters,
            "figures": report.outcomes(organization, people, filters, now=now),
            "purged": report.purged_since(organization, filters),
            "query": urlencode(filters.params()),
            "domain_label": NeedDomain(filters.domain).label if filters.domain else "",
            "as_of": now,
        }
    return {**context, "body": render_to_string("services/_outcomes_body.html", context)}


def _periods(today: date, filters: OutcomeFilters | None) -> list[tuple[str, str]]:
    """Links to the periods a director reports on, with the caseworker and need kept: last
    month, this month so far (the dates are otherwise typed in two boxes)."""
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    kept = {k: v for k, v in filters.params().items() if k not in ("from", "to")} if filters else {}
    periods = [
        (_("Last month (%(month)s)") % {"month": date_format(last, "F Y")}, last.replace(day=1), last),
        (_("This month so far"), first, today),
    ]
    return [(label, "?" + urlencode({"from": f"{start}", "to": f"{end}", **kept})) for label, start, end in periods]


def _csv_export(request: HttpRequest, organization: Organization) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        body = render_to_string("services/_outcomes_body.html", {"form": form})
        return render(request, "services/outcomes.html", {"form": form, "body": body}, status=400)
    name = request.GET.get("figure", "")
    if name not in FIGURES and name != EVERY_FIGURE:
        raise Http404
    people = access.exonerees_visible_to(request.user)
    described = {"from": filters.start, "to": filters.end, "caseworker": filters.caseworker, "domain": filters.domain}
    if name == EVERY_FIGURE:
        every = report.outcomes(organization, people, filters)
        exports.outcomes_export(by=request.user, figure="Every figure", filters=described)
        return csv_download(_every_figure_rows(organization, every, filters), f"{_csv_name('outcomes', filters)}.csv")
    figure = report.outcomes(organization, people, filters, only=name)[0]
    exports.outcomes_export(by=request.user, figure=str(figure.title), filters=described)
    return _csv(figure, filters)


EVERY_FIGURE = "all"


def _every_figure_rows(organization: Organization, every: list[Figure], filters: OutcomeFilters) -> list[list[Any]]:
    """The month-end report in one file: what it covers, then each figure as the page shows it
    (its title, how it is counted, its table), a blank line between them."""
    caseworker = filters.caseworker
    rows: list[list[Any]] = [
        ["Outcomes", organization.name],
        ["From", f"{filters.start:%Y-%m-%d}"],
        ["To", f"{filters.end:%Y-%m-%d}"],
        ["Caseworker", (caseworker.get_full_name() or caseworker.username) if caseworker else "Everyone"],
        ["Need", NeedDomain(filters.domain).label if filters.domain else "Every need"],
    ]
    for figure in every:
        rows += [[], [str(figure.title)], [str(figure.how)], *figure.csv_rows()]
    return rows


def _csv(figure: Figure, filters: OutcomeFilters) -> HttpResponse:
    return csv_download(figure.csv_rows(), f"{_csv_name(figure.name, filters)}.csv")


def _csv_name(name: str, filters: OutcomeFilters) -> str:
    """The figure, its period and the filters that narrow it, by code and id (never a person's
    name): two different downloads never share a name. The need only where the figure reads it
    (every figure together: some do)."""
    parts = [name, f"{filters.start:%Y-%m-%d}", f"{filters.end:%Y-%m-%d}"]
    spec = SPECS.get(name)
    if filters.domain and (name == "outcomes" or spec is not None and spec.by_domain):
        parts.append(filters.domain)
    if filters.caseworker is not None:
        parts.append(f"caseworker-{filters.caseworker.pk}")
    return "_".join(parts)


@require_GET
@director_required
def outcome_records(request: HttpRequest) -> HttpResponse:
    spec = SPECS.get(request.GET.get("figure", ""))
    renamed = spec.renamed_groups.get(request.GET.get("group", "")) if spec is not None else None
    if renamed is not None:
        query = request.GET.copy()
        query["group"] = renamed
        return HttpResponsePermanentRedirect(f"{request.path}?{query.urlencode()}")
    form, filters = _filters(request)
    if filters is None:
        body = render_to_string("services/_outcomes_body.html", {"form": form})
        return render(request, "services/outcomes.html", {"form": form, "body": body}, status=400)
    organization = access.organization_of(request.user)
    try:
        kind, records = report.outcome_records(
            access.exonerees_visible_to(request.user),
            filters,
            figure=request.GET.get("figure", ""),
            group=request.GET.get("group", ""),
            measure=request.GET.get("measure", ""),
            organization=organization,
        )
    except UnknownCell:
        raise Http404 from None
    figure = SPECS[request.GET["figure"]]
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "kind": kind,
        "page": page,
        "filters": filters,
        # The overview's needs by domain link here over every date (services.selectors.dashboards).
        "from_the_first_day": filters.start == date(EARLIEST_YEAR, 1, 1),
        "query": urlencode(filters.params()),
        "title": cell_title(figure, request.GET["group"], request.GET["measure"], filters),
        "by_domain": figure.by_domain,  # the need chosen is named only where it narrows the list
        # Only a kept count outlives a purge; any other cell lost the person with their records.
        "purged": report.purged_since(organization, filters) if figure.name in report.KEPT_FIGURES else 0,
    }
    return render(request, "services/outcome_records.html", context)
