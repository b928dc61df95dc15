"""A form sent twice saves once: each form that creates something carries a key of its own,
new each time the form is shown (`{% form_once %}`), and the first sending of that form with
that content claims it in the cache every process of the deployment shares.

A double click, a phone that sends again on a bad connection, the browser's "resubmit": the
same body arrives twice, often at once, in two processes. Django's own file cache checks and
then writes; the shared cache's `add` holds across processes (Redis, or services.lib.file_cache).

The claim's name is a hash of the person, the key and what the form held (never the key or the
text as sent: the shared cache is outside the encrypted database), so the same page sent again
with other words (the Back button, a change, Send) is another sending, and saves.

Each claim stays in the shared cache up to an hour, so the claims one sender may make are
capped (`within_cap`): random keys sent by the thousand would otherwise fill that cache and push
out everyone's entries (the file cache makes room by deleting; Redis by its memory).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from services.lib.throttle import throttle_count

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=Callable[..., Any])

SHARED = "shared"  # settings.CACHES: Redis when REDIS_URL is set, else files in var/
FIELD = "once"
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16); anything else is ignored
NOT_HASHED = {FIELD, "csrfmiddlewaretoken"}
PENDING = "pending"
# Claimed, not yet answered: longer than any request may run (gunicorn stops a worker after
# 30 s), short enough that a process that died mid-request does not hold the form for long.
PENDING_SECONDS = 5 * 60
# Answered: where the first sending went, for a sending again within the hour.
DONE_SECONDS = 60 * 60
# How long a sending again waits for the first to be answered, and how often it looks.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.1


BY_ADDRESS = "form_once_by_address"
SAME_PAGE = "="  # kept instead of a page's own address (never a path: those begin with "/")


def by_address(view: V) -> V:
    """A page of no account whose address is its secret (the provider's link): its forms are
    claimed by the address. Any other signed-out sending (a session ended) is never claimed:
    it is kept and sent again once the person has signed in (services.lib.kept_forms)."""
    setattr(view, BY_ADDRESS, True)
    return view


def kept_as(went_to: str | None, request: HttpRequest) -> str | None:
    """What the claim keeps of where the first sending went. On a page whose address is its
    secret, never that address: a mark for "this page" and what followed it (`#question`)."""
    if went_to is None or not getattr(request, BY_ADDRESS, False):
        return went_to
    return SAME_PAGE + (went_to[len(request.path) :] if went_to.startswith(request.path) else "")


def address_of(kept: str, request: HttpRequest) -> str:
    """Where a sending again goes: where the first went (`kept_as` read back)."""
    return request.path + kept[len(SAME_PAGE) :] if kept.startswith(SAME_PAGE) else kept


def not_saved(response: HttpResponse) -> HttpResponse:
    """Mark a redirect that saved nothing (a refusal said on the page it goes back to): the
    claim is freed, so the same sending again is refused again, not told "already saved"."""
    response.once_not_saved = True
    return response


def new_token() -> str:
    return secrets.token_urlsafe(16)


def claim_name(request: HttpRequest) -> str | None:
    """The claim of this POST, or None when it carries no proper key."""
    token = request.POST.get(FIELD, "")
    if not TOKEN.fullmatch(token):
        return None
    # Whose sending: the signed-in person's, or, on a page of no account (the provider's), its
    # address, which holds the link's token (hashed here with the rest; never kept: kept_as).
    who = request.user.pk if request.user.is_authenticated else request.path
    sent = hashlib.sha256(f"{who}\0{token}".encode())
    for name in sorted(set(request.POST) - NOT_HASHED):
        for value in request.POST.getlist(name):
            sent.update(f"\0{name}\0{len(value)}\0{value}".encode())
    for name, upload in sorted(request.FILES.items()):
        # A file sent again is the same file: its name and size say so, without reading it.
        sent.update(f"\0{name}\0{upload.name}\0{upload.size}".encode())
    return "once:" + sent.hexdigest()


def within_cap(request: HttpRequest) -> bool:
    """Count this claim against its sender's: False past FORM_RATE_PER_SENDER claims in one
    FORM_RATE_WINDOW_SECONDS (no person types that many forms). The sender is the account, or,
    on a page of no account, its address (hashed by the throttle's key: never the link's token
    as sent). One count per sender and window, whatever keys are sent. If the cache cannot be
    reached the form goes on, as with `take`."""
    limit = settings.FORM_RATE_PER_SENDER
    if request.user.is_authenticated:
        sender = f"account\0{request.user.pk}"
    else:
        sender = f"address\0{request.path}"
    count = throttle_count("form-claims", sender, period_seconds=settings.FORM_RATE_WINDOW_SECONDS)
    if count is None or count <= limit:
        return True
    if count == limit + 1:  # said once a window, not once for each of a flood
        if request.user.is_authenticated:
            logger.warning("forms refused past the cap (%s claims a window): account %s", limit, request.user.pk)
        else:
            logger.warning("forms refused past the cap (%s claims a window): a page of no account", limit)
    return False


def take(name: str) -> str | None:
    """None: this request holds the claim now, and goes on. Else what the first sending
    became: the address it went to, or PENDING when still unanswered after WAIT_SECONDS.

    If the cache cannot be reached the request goes on: the form must not fail with it."""
    cache = caches[SHARED]
    deadline = time.monotonic() + WAIT_SECONDS
    try:
        while not cache.add(name, PENDING, timeout=PENDING_SECONDS):
            went_to = cache.get(name)
            if went_to not in (None, PENDING):
                return went_to
            if time.monotonic() >= deadline:
                return PENDING
            # Gone meanwhile (the first was refused): the next `add` claims it for this one.
            time.sleep(POLL_SECONDS)
    except Exception as exc:  # any cache failure at all: sent as without the claim, and said (by type only)
        logger.warning("form not claimed: %s", type(exc).__name__)
    return None


def settle(name: str, went_to: str | None) -> None:
    """The claimed sending was answered: saved (it went to `went_to`), kept for a sending again;
    refused (the form with its errors), freed, so the corrected form, or the same, can be sent."""
    cache = caches[SHARED]
    try:
        if went_to:
            cache.set(name, went_to, timeout=DONE_SECONDS)
        else:
            cache.delete(name)
    except Exception as exc:  # a claim left pending ends with PENDING_SECONDS
        logger.warning("form claim not settled: %s", type(exc).__name__)
