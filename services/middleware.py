"""Request-wide concerns: the organization's timezone, and when a session ends."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from services import access


class OrganizationTimezoneMiddleware:
    """Show times in the organization's own timezone; everything is stored in UTC."""

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


# Session keys of SessionTimeoutMiddleware: when this session signed in, and when it last
# made a request (seconds since the epoch; the session serializer is JSON).
SIGNED_IN_AT = "signed_in_at"
LAST_ACTIVITY = "last_activity"


class SessionTimeoutMiddleware:
    """Sign a session out after a while idle, and after a fixed lifetime whatever happens.

    Idle: SESSION_IDLE_MINUTES_STAFF for staff (they hold everyone's records),
    SESSION_IDLE_MINUTES_EXONEREE for an exoneree. Lifetime: SESSION_ABSOLUTE_HOURS from the
    first request of the session. An ended session is flushed (the audit log records the
    sign-out) and the person lands on the sign-in page with a message saying why.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            last_activity = request.session.get(LAST_ACTIVITY, now)
            idle_minutes = (
                settings.SESSION_IDLE_MINUTES_STAFF
                if access.staff_of(request.user) is not None
                else settings.SESSION_IDLE_MINUTES_EXONEREE
            )
            if now - signed_in_at > settings.SESSION_ABSOLUTE_HOURS * 3600:
                return self.expired(request, "You have been signed in for a long time. Sign in again.")
            if now - last_activity > idle_minutes * 60:
                return self.expired(request, "You were signed out after some time without activity. Sign in again.")
            request.session[LAST_ACTIVITY] = now
        return self.get_response(request)

    def expired(self, request: HttpRequest, message: str) -> HttpResponse:
        next_url = request.get_full_path() if request.method == "GET" else ""
        logout(request)
        messages.info(request, message)
        url = reverse(settings.LOGIN_URL)
        if next_url:
            url += "?" + urlencode({"next": next_url})
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
