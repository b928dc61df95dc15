"""What a form held when it was posted after its session had timed out: kept for a few
minutes, encrypted, for the same person to find in the same form once signed in again.

Kept server-side only (the shared cache, under a hash of the person and the page), never in a
URL or a cookie, and taken once. Passwords, codes, the CSRF token and a Social Security
number are never kept (its box never shows a number again, so keeping it would only hold it).

(The language switch keeps what was typed in the browser instead: services/static/services/
language_switch.js, with the same fields never kept.)
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

from django.core.cache import caches
from django.http import HttpRequest

from services.lib.crypto import DecryptionError, decrypt, encrypt

KEPT_SECONDS = 10 * 60
NEVER_KEPT = re.compile(r"^(csrfmiddlewaretoken|otp_token|token|code|ssn|.*password.*)$")


def _key(user_id: int, path: str) -> str:
    return "kept-form:" + hashlib.sha256(f"{user_id}:{path}".encode()).hexdigest()


def _context(user_id: int, path: str) -> str:
    return f"kept form of user {user_id} on {path}"


def posted_from_itself(request: HttpRequest) -> bool:
    """The form was on the page it was posted to (the Referer, same origin, says so): that
    address is a page a browser opens, not one that only takes forms."""
    try:
        referer = urlsplit(request.headers.get("Referer", ""))
    except ValueError:  # "http://[oops/": no browser sends it, and it is no page of ours
        return False
    return referer.netloc == request.get_host() and referer.path == request.path


def form_keep(request: HttpRequest) -> bool:
    """Keep the POST of `request` (its user still known) for its page; False if nothing to keep."""
    data = {name: values for name, values in request.POST.lists() if not NEVER_KEPT.match(name)}
    if not any(value.strip() for values in data.values() for value in values):
        return False
    user_id, path = request.user.pk, request.path
    sealed = encrypt(json.dumps(data), context=_context(user_id, path))
    caches["shared"].set(_key(user_id, path), sealed, KEPT_SECONDS)
    return True


def form_take(request: HttpRequest) -> dict[str, list[str]] | None:
    """What was kept for this person on this page, once; None when nothing (or unreadable)."""
    if not request.user.is_authenticated:
        return None
    key = _key(request.user.pk, request.path)
    sealed = caches["shared"].get(key)
    if sealed is None:
        return None
    caches["shared"].delete(key)
    try:
        return json.loads(decrypt(sealed, context=_context(request.user.pk, request.path)))
    except (DecryptionError, ValueError):  # a key since retired: the text is gone, as if expired
        return None
