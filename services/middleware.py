"""Request-wide concerns: the organization's timezone, when a session ends, what a browser may
keep, a page (not a blank one) for an address opened that only takes a form, and a form sent
twice that saves once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from services import access, second_factor
from services.lib import kept_forms, once
from services.lib.links import of_this_site
from services.lib.provider_tokens import private_page
from services.selectors import users


class PersonLanguageMiddleware:
    """Pages in the signed-in person's language: an exoneree's choice on their record, English
    for staff (their pages are translation-ready, not translated). Anonymous pages keep what
    LocaleMiddleware chose from the language cookie or the browser, and so do the pages of a
    sign-in not yet complete (the code page, enrolment, the first backup codes; staff, and an
    exoneree who set up a code): they follow the sign-in page rather than flip to the record's
    language after the password, and a password alone learns nothing of the record.

    No extra query: the staff role and the exoneree record are cached on the user for the
    request, and the other middleware here read them anyway.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        exoneree = None
        if _signed_in_completely(request):
            exoneree = access.own_exoneree_or_none(request.user)
            translation.activate(users.language_of(request.user))
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if exoneree is not None and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != exoneree.preferred_language:
            # Their record's language, not only a switch they pressed, keeps the sign-in page
            # in it after they sign out (a record made in Spanish by their caseworker).
            remember_language(response, exoneree.preferred_language)
        return response


def _signed_in_completely(request: HttpRequest) -> bool:
    """Past the second step, or owing none: every staff account owes one, an exoneree one only
    when they set it up (services.access). Whether one does costs no query: the user is loaded
    with it (services.auth.UserBackend)."""
    user = request.user
    if not user.is_authenticated:
        return False
    return getattr(user, "is_verified", lambda: False)() or not second_factor.needs_second_factor(user)


def remember_language(response: HttpResponse, language: str) -> None:
    """The language cookie, for the pages of someone signed out (the sign-in page)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class NoStoreWhenSignedInMiddleware:
    """Every response to a signed-in request is `Cache-Control: no-store, private`.

    Nearly every signed-in page shows someone's personal data, and exonerees use library and
    shared computers: nothing of theirs may stay in a browser's cache or a proxy's after they
    sign out. One rule here instead of a decorator per view, so a new page cannot forget it.
    Static files never get here (WhiteNoise answers them first) and stay cacheable.
    Placed right after authentication, so it sees the answers of every middleware below it
    (the lockout page, a session that timed out).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Asked before and after: a timed-out session is signed out on the way in, and the
        # answer to a sign-in (or sign-out) may already carry the new session's page.
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            # patch_cache_control drops a conflicting "public" and keeps what a view added
            # (never_cache's no-cache, must-revalidate).
            patch_cache_control(response, no_store=True, private=True)
        return response


class FormOnlyAddressMiddleware:
    """A page that says what happened when a browser opens an address that only takes a form
    (Django answers 405 with an empty body: a blank page). It happens: the page shown again
    with an error keeps the form's address in the address bar, and a person opens it later
    from their history or a new tab. Still 405, with the Allow header, and nothing done; the
    API's answers carry their own reason and are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or request.method != "GET" or response.content:
            return response
        if request.path_info.startswith("/api/"):
            return response
        # Its own links (the language switch, "Stay signed in") lead home, not back here.
        page = render(request, "405.html", {"form_only_address": True}, status=405)
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        page._has_been_logged = getattr(response, "_has_been_logged", False)  # Django logged the 405
        return page


class OrganizationTimezoneMiddleware:
    """Show times in the organization's own timezone; everything is stored in UTC. The provider
    page, which has no signed-in user, switches to its referral's organization itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        organization = None
        if staff := access.staff_of(request.user):
            organization = staff.organization
        elif exoneree := access.own_exoneree_or_none(request.user):
            organization = exoneree.organization
        if organization is not None:
            timezone.activate(organization.zone())
        else:
            timezone.deactivate()
        return self.get_response(request)


# Session keys of SessionTimeoutMiddleware: when this session signed in, and when it last
# made a request (seconds since the epoch; the session serializer is JSON).
SIGNED_IN_AT = "signed_in_at"
LAST_ACTIVITY = "last_activity"
ACTIVITY_RESOLUTION_SECONDS = 60


@receiver(user_logged_in)
def _start_session_clock(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A sign-in starts both clocks afresh (Django keeps session data when the same user signs in again)."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = request.session[LAST_ACTIVITY] = time.time()


class SessionTimeoutMiddleware:
    """Sign a session out after a while idle, and after a fixed lifetime whatever happens.

    Idle: SESSION_IDLE_MINUTES_STAFF for staff (they hold everyone's records) and the Network's
    analysts, SESSION_IDLE_MINUTES_EXONEREE for an exoneree (access.idle_minutes). Lifetime:
    SESSION_ABSOLUTE_HOURS from the first request of the session. An ended session is flushed
    (the audit log records the sign-out) and the person lands on the sign-in page with a
    message saying why.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            last_activity = request.session.get(LAST_ACTIVITY, now)
            idle_minutes = access.idle_minutes(request.user)
            if now - signed_in_at > settings.SESSION_ABSOLUTE_HOURS * 3600:
                return self.expired(request, _("You have been signed in for a long time. Sign in again."))
            if now - last_activity > idle_minutes * 60:
                return self.expired(request, _("You were signed out after some time without activity. Sign in again."))
            # Written at most once a minute: a session save on every request would cost a
            # database write per page for a precision nobody needs.
            if now - last_activity >= ACTIVITY_RESOLUTION_SECONDS or LAST_ACTIVITY not in request.session:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)

    def expired(self, request: HttpRequest, message: str) -> HttpResponse:
        next_url = request.get_full_path() if request.method == "GET" else ""
        if request.method == "POST" and kept_forms.posted_from_itself(request) and kept_forms.form_keep(request):
            # A form sent back to its own page (services.views.common.form_page): what was typed
            # waits for the same person on that page once they have signed in again.
            next_url = request.path
            message = _("%(why)s What you typed is kept for a few minutes on the page you were on.") % {"why": message}
        logout(request)
        messages.info(request, message)
        url = reverse(settings.LOGIN_URL)
        if next_url:
            url += "?" + urlencode({"next": next_url})
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)


class FormSentOnceMiddleware:
    """A form sent twice saves once (services.lib.once): the first sending of a form that
    carries `{% form_once %}` claims it; the same sending again (a double click, a phone that
    sends again) is not saved a second time but goes where the first went, with a message.

    The claim is taken in process_view, once the CSRF check has passed and the view is known,
    and settled in __call__ with the view's answer: a redirect (or htmx's HX-Redirect) is the
    form saved; any other answer (the form with its errors, a refusal, an error) frees it, so
    the person can correct and send again with nothing lost. Placed after the session's
    timeout: a form posted after a sign-out is kept by it (kept_forms), never claimed.
    A sender past the claims they may make in a while (once.within_cap) is answered 429 with
    nothing saved, before any claim is taken: a flood of keys leaves no claims behind.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if claim := getattr(request, "once_claim", None):
            once.settle(claim, once.kept_as(went_to(response), request))
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        by_address = getattr(view, once.BY_ADDRESS, False)
        if request.method != "POST" or not (request.user.is_authenticated or by_address):
            return None
        setattr(request, once.BY_ADDRESS, by_address)
        claim = once.claim_name(request)
        if claim is None:
            return None
        if not once.within_cap(request):
            return too_many_forms(request)
        first = once.take(claim)
        if first is None:
            request.once_claim = claim
            return None
        if first == once.PENDING:
            # Still being saved after the wait: back to the form's page, never saved twice.
            messages.info(request, _("This was already sent and is still being saved. Look for it in a moment."))
            return client_redirect(request, page_of_the_form(request))
        messages.info(request, _("This was already saved."))
        return client_redirect(request, once.address_of(first, request))


def too_many_forms(request: HttpRequest) -> HttpResponse:
    """Past the forms one sender may send in a while (services.lib.once.within_cap): said
    plainly, nothing saved, a link back to the form's page. A page of no account stays as
    private as the page itself (its address is the provider's secret)."""
    back = page_of_the_form(request)
    by_address = getattr(request, once.BY_ADDRESS, False)
    context = {"back": back, "page_url": back, "by_address": by_address}
    response = render(request, "429.html", context, status=429)
    # The window is fixed and began at the first claim: it ends within this.
    response["Retry-After"] = str(settings.FORM_RATE_WINDOW_SECONDS)
    return private_page(response) if by_address else response


def went_to(response: HttpResponse) -> str | None:
    """Where a form's answer sends the browser when it was saved; None when it was not."""
    if getattr(response, "once_not_saved", False):
        return None
    if 300 <= response.status_code < 400:
        return response.get("Location")
    if response.status_code == 200:
        return response.get("HX-Redirect")  # the upload script's (services/static/services/documents.js)
    return None


def client_redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else HttpResponseRedirect(url)


def page_of_the_form(request: HttpRequest) -> str:
    """The page the form was sent from (the Referer, of this site), else the home page; a page
    of no account, sent with no Referer, is its own address (the provider's)."""
    if getattr(request, once.BY_ADDRESS, False):
        return request.path
    return of_this_site(request, request.headers.get("Referer", ""), reverse("home"))


class QueryCountHeaderMiddleware:
    """X-Query-Count: how many database queries the response took (settings.BENCH only)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        return response
