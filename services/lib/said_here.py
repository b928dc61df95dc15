"""A confirmation said where the person lands.

A form low on a long page sends the person back to its own place (`/my-plan/#referral-12`). Its
"Thank you" at the top of the page was then above the fold while the page scrolled to the place:
on a 375 px phone the person never saw it (a walk of the person's pages). A message that names
its place is shown at that place instead (`{% said_here "referral-12" %}`), and at the top only
when the page has no such place any more (the need closed meanwhile, say): never lost.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest

PLACE_TAG = "said-at-"


def said_at(request: HttpRequest, place: str, text: str, *, level: int = messages.SUCCESS) -> str:
    """Queue `text` for the element whose id is `place` (no place: the page's top); the
    redirect's `#place` to go with it."""
    messages.add_message(request, level, text, extra_tags=f"{PLACE_TAG}{place}" if place else "")
    return f"#{place}" if place else ""


def place_of(message: object) -> str:
    """The id of the element a message is said at, or '' for a message of the page's top."""
    for tag in (getattr(message, "extra_tags", "") or "").split():
        if tag.startswith(PLACE_TAG):
            return tag.removeprefix(PLACE_TAG)
    return ""
