"""Show times in the organization's own timezone; everything is stored in UTC."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from services import access


class OrganizationTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        organization = None
        if staff := access.staff_of(request.user):
            organization = staff.organization
        elif exoneree := access.own_exoneree_or_none(request.user):
            organization = exoneree.organization
        if organization is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(organization.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
