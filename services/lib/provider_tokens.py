"""The token of a provider's link: made from `secrets`, stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

TOKEN_BYTES = 32  # 256 bits: far beyond the 128 the link needs to be unguessable
# What a token looks like in a path (URL-safe base64 without padding), for logs to blank it.
PROVIDER_PATH = re.compile(r"/p/[^/\s?#\"']+")


def new_token() -> tuple[str, str]:
    """(the token for the email, its hash for the database)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Whatever was typed is hashed (no early refusal by shape), so every lookup costs the same."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def provider_link(token: str) -> str:
    return settings.SITE_URL + reverse("provider_referral", args=[token])


def redact(text: str) -> str:
    """A line with every provider path's token blanked (logs, error reports)."""
    return PROVIDER_PATH.sub("/p/…", text)


def private_page(response: HttpResponse) -> HttpResponse:
    """A page whose address holds a provider's token (and so a person's details behind it):
    never kept by a browser or a proxy, never sent on as a Referer, never indexed."""
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
