"""The Network's figures: counts summed over the organizations that share them, for its analysts."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from services import access
from services.access import analyst_required
from services.actions.network import network_figures_viewed
from services.forms.reports import NetworkPeriodForm
from services.lib.spreadsheet import csv_download
from services.outcomes import network


@require_GET
@analyst_required
def network_figures(request: HttpRequest) -> HttpResponse:
    """The period's figures (the last 12 months unless chosen); one of its tables as CSV with
    `format=csv&table=<name>`. A period the form refuses is a 400 with the message beside it."""
    today = timezone.localdate()
    form = NetworkPeriodForm({name: request.GET.get(name, "") for name in ("from", "to")}, today=today)
    if not form.is_valid():
        return render(request, "services/network.html", {"form": form}, status=400)
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    figures = network.network_figures(
        access.network_organizations(request.user), start, end, today=today, minimum=settings.NETWORK_MIN_CELL
    )
    if request.GET.get("format") == "csv":
        table = next((t for t in figures.tables if t.name == request.GET.get("table")), None)
        if table is None:
            raise Http404
        network_figures_viewed(
            by=request.user, start=start, end=end, organizations=figures.organizations, export=table.title
        )
        return csv_download(table.csv_rows(), f"network_{table.name}_{start:%Y-%m-%d}_{end:%Y-%m-%d}.csv")
    network_figures_viewed(by=request.user, start=start, end=end, organizations=figures.organizations)
    context = {
        "form": form,
        "figures": figures,
        "start": start,
        "end": end,
        "minimum": settings.NETWORK_MIN_CELL,
        "largest_hidden": settings.NETWORK_MIN_CELL - 1,
        "needed": network.MIN_ORGANIZATIONS,
        "query": f"from={start:%Y-%m-%d}&to={end:%Y-%m-%d}",
    }
    return render(request, "services/network.html", context)
