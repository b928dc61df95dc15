"""The organization's directory as HSDS 3.0 JSON, read-only, for its own staff: the
specification's OpenAPI (services/data/hsds/openapi.json) paths for services and
organizations, paginated as HSDS pages are (`page`, `per_page`; `total_items`, `contents`…).

A record of another organization is a 404, as everywhere; the ids are HSDS ids. Called as the
REST API is (services/api): with a personal access token, or the browser's session past the
second step; without either, a 401.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view

from services import access
from services.forms.widgets import MAX_SEARCH
from services.selectors.hsds import (
    domain_of_term,
    organization_json,
    providers_for_hsds,
    resources_for_hsds,
    service_json,
)

PER_PAGE, MAX_PER_PAGE = 50, 500


def hsds_endpoint(view: Any) -> Any:
    """GET only; staff of the organization, by token or session (the API's rule, services.api.auth);
    never kept by a cache; described by HSDS's own OpenAPI, not in ours."""
    return never_cache(extend_schema(exclude=True)(api_view(["GET"])(view)))


class BadQuery(Exception):
    pass


@hsds_endpoint
def hsds_services(request: HttpRequest) -> HttpResponse:
    """HSDS's filters: `search` (in the name), `organization_id`, `taxonomy_term_id` (one of
    our need domains' terms), `modified_after`; `full=true` for fully nested services."""
    resources = resources_for_hsds(request.user)
    if search := request.GET.get("search", "")[:MAX_SEARCH].strip():
        resources = resources.filter(name__icontains=search)
    if organization_id := request.GET.get("organization_id", "").strip():
        resources = resources.filter(provider__hsds_id=organization_id)
    if term := request.GET.get("taxonomy_term_id", "").strip():
        resources = resources.filter(domain_rows__domain=domain_of_term(term))
    if after := request.GET.get("modified_after", "").strip():
        moment = _moment(after)
        if moment is None:
            return JsonResponse({"detail": "modified_after must be a date or a date and time (ISO 8601)."}, status=400)
        resources = resources.filter(updated_at__gte=moment)
    full = request.GET.get("full", "").strip().lower() in ("true", "1")
    return _page(request, resources, lambda resource: service_json(resource, full=full))


@hsds_endpoint
def hsds_service(request: HttpRequest, hsds_id: str) -> HttpResponse:
    return JsonResponse(service_json(access.get_resource_by_hsds_id(request.user, hsds_id)))


@hsds_endpoint
def hsds_organizations(request: HttpRequest) -> HttpResponse:
    providers = providers_for_hsds(request.user)
    if search := request.GET.get("search", "")[:MAX_SEARCH].strip():
        providers = providers.filter(name__icontains=search)
    return _page(request, providers, organization_json)


@hsds_endpoint
def hsds_organization(request: HttpRequest, hsds_id: str) -> HttpResponse:
    provider = access.get_provider_by_hsds_id(request.user, hsds_id)
    services = list(resources_for_hsds(request.user).filter(provider=provider))
    return JsonResponse(organization_json(provider, services))


def _page(request: HttpRequest, queryset: QuerySet, as_json: Any) -> HttpResponse:
    """An HSDS page: the count, then the rows of the page asked for (a page past the last is
    empty, as HSDS has it, not an error)."""
    try:
        number = _positive(request, "page", 1)
        per_page = min(_positive(request, "per_page", PER_PAGE), MAX_PER_PAGE)
    except BadQuery as error:
        return JsonResponse({"detail": str(error)}, status=400)
    paginator = Paginator(queryset, per_page)
    total = paginator.count
    start = (number - 1) * per_page
    contents = [as_json(row) for row in queryset[start : start + per_page]] if start < total else []
    return JsonResponse(
        {
            "total_items": total,
            "total_pages": paginator.num_pages if total else 0,
            "page_number": number,
            "size": len(contents),
            "first_page": number == 1,
            "last_page": start + per_page >= total,
            "empty": not contents,
            "contents": contents,
        }
    )


def _moment(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = datetime.combine(day, time.min)
    except ValueError:  # well formed but impossible: 2025-02-30
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _positive(request: HttpRequest, name: str, default: int) -> int:
    text = request.GET.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise BadQuery(f"{name} must be a whole number from 1 to 1000000.")
    return int(text)
