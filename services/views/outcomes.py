"""The director's outcomes page: figures for a period, their CSV, and the records behind each number."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from services import access, actions, outcomes
from services.access import director_required
from services.choices import NeedDomain, Role
from services.forms import OutcomeFilterForm
from services.lib.spreadsheet import safe_cell

PAGE_SIZE = 50


def _filters(request: HttpRequest) -> tuple[OutcomeFilterForm, outcomes.OutcomeFilters | None]:
    """The filter form, bound to the query string; filters only when it is valid."""
    organization = access.organization_of(request.user)
    caseworkers = (
        get_user_model()
        .objects.filter(staff__organization=organization, staff__role=Role.CASEWORKER)
        .order_by("first_name", "last_name", "pk")
    )
    data = {name: request.GET.get(name, "") for name in ("from", "to", "caseworker", "domain")}
    form = OutcomeFilterForm(data, caseworkers=caseworkers, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    d = form.cleaned_data
    return form, outcomes.OutcomeFilters(start=d["from"], end=d["to"], caseworker=d["caseworker"], domain=d["domain"])


@require_GET
@director_required
def outcome_dashboard(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    organization = access.organization_of(request.user)
    context: dict[str, Any] = {"form": form, "organization": organization}
    if filters is None:
        return render(request, "services/outcomes.html", context, status=400)
    people = access.exonerees_visible_to(request.user)
    if request.GET.get("format") == "csv":
        name = request.GET.get("figure", "")
        if name not in outcomes.FIGURES:
            raise Http404
        actions.outcomes_export(by=request.user, figure=name, filters=filters.params())
        return _csv(outcomes.outcomes(organization, people, filters, only=name)[0], filters)
    context |= {
        "filters": filters,
        "figures": outcomes.outcomes(organization, people, filters),
        "query": urlencode(filters.params()),
        "domain_label": NeedDomain(filters.domain).label if filters.domain else "",
    }
    return render(request, "services/outcomes.html", context)


def _csv(figure: outcomes.Figure, filters: outcomes.OutcomeFilters) -> HttpResponse:
    filename = f"{figure.name}_{filters.start:%Y-%m-%d}_{filters.end:%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in figure.csv_rows():
        writer.writerow([safe_cell(value) for value in row])
    return response


@require_GET
@director_required
def outcome_records(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return render(request, "services/outcomes.html", {"form": form}, status=400)
    try:
        kind, records = outcomes.outcome_records(
            access.exonerees_visible_to(request.user),
            filters,
            figure=request.GET.get("figure", ""),
            group=request.GET.get("group", ""),
            measure=request.GET.get("measure", ""),
        )
    except outcomes.UnknownCell:
        raise Http404 from None
    figure = outcomes.SPECS[request.GET["figure"]]
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "kind": kind,
        "page": page,
        "filters": filters,
        "query": urlencode(filters.params()),
        "title": outcomes.cell_title(figure, request.GET["group"], request.GET["measure"], filters),
    }
    return render(request, "services/outcome_records.html", context)
