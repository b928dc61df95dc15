from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from services import access, second_factor
from services.lib.kept_forms import KEPT_SECONDS
from services.selectors import inbox


def role(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's role, for the navigation; none while the session still owes its
    second step (the code page shows no menu of pages that would only send back to it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None}
    owes_code = not getattr(user, "is_verified", lambda: False)() and second_factor.needs_second_factor(user)
    return {"role": None if owes_code else access.role_of(user)}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread counts for the header: callables, so the one COUNT query runs only on a
    page that shows it (staff pages), and at most once per page."""
    user = getattr(request, "user", None)

    @cache
    def unread() -> int:
        return inbox.unread_notification_count(user) if user is not None and user.is_authenticated else 0

    @cache
    def unread_messages() -> int:
        return inbox.unread_message_count(user) if user is not None and user.is_authenticated else 0

    @cache
    def unread_in_menu() -> int:
        # A phone folds the header's links behind "Menu", which shows the sum of their badges:
        # Messages (a person's, a caseworker's) and Notifications (staff's), as base.html links.
        shown = role(request)["role"]
        messages = unread_messages() if shown in ("exoneree", "caseworker") else 0
        return messages + (unread() if shown in ("caseworker", "director") else 0)

    return {"unread_notifications": unread, "unread_messages": unread_messages, "unread_in_menu": unread_in_menu}


def demo(request: HttpRequest) -> dict[str, Any]:
    """On a development machine (DEBUG) the sign-in pages say how to sign into the demo, and
    where its generated password is kept (seed_demo; a password given to it is not kept)."""
    if not settings.DEBUG:
        return {"demo_hint": False}
    return {"demo_hint": True, "demo_password_file": settings.DEMO_PASSWORD_FILE}


def idle(request: HttpRequest) -> dict[str, Any]:
    """How long a signed-in page may stay idle before the sign-out, for the warning banner
    (services.middleware.SessionTimeoutMiddleware keeps the same clock), and how long a form
    sent after it is kept (services.lib.kept_forms), which the banner promises."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"idle_seconds": None}
    return {"idle_seconds": int(access.idle_minutes(user) * 60), "kept_minutes": KEPT_SECONDS // 60}
