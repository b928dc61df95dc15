"""Two-factor sign-in. A password alone opens nothing for staff or the Network's analysts: their
session must also have passed a one-time code (django-otp's OTPMiddleware sets
`request.user.is_verified()`). An exoneree who chose to enrol is held to it the same way; one
who did not, is not. Every gate of services.access asks `second_factor_redirect` first."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_otp import devices_for_user

from services.auth import HAS_DEVICE, preloaded, reads_others

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def has_second_factor(user: AnyUser) -> bool:
    if not user.is_authenticated:
        return False
    loaded, answer = preloaded(user, HAS_DEVICE)
    return answer if loaded else any(True for _ in devices_for_user(user, confirmed=True))


def needs_second_factor(user: AnyUser) -> bool:
    """Whether this signed-in user must pass a one-time code before seeing anything: staff and
    analysts always (they read other people's records or figures), anyone else once enrolled."""
    return reads_others(user) or has_second_factor(user)


def second_factor_redirect(request: HttpRequest) -> HttpResponse | None:
    """Where a signed-in session that still owes its second factor must go, or None.

    To enrolment when the user has no device yet (first staff sign-in), else to the code page;
    either way back to this page afterwards. An htmx request gets a full-page redirect, so a
    partial never swaps the sign-in form into a page.
    """
    user = request.user
    if getattr(user, "is_verified", lambda: False)() or not needs_second_factor(user):
        return None
    name = "two_factor_verify" if has_second_factor(user) else "two_factor_setup"
    url = f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
