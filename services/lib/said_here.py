"""A confirmation said where the reader lands.

A form low on a long page sends the reader back to its own place (`/my-plan/#referral-12`, a
person page's `#notes` or `#follow-up-7`). Its "Thank you" or "Note saved." at the top of the
page was then out of view while the browser scrolled to the place: on a 375 px phone the person
never saw it (a walk of the person's pages), and staff at 1280×800 did not either (a walk of the
person page). A message that names its place is shown at that place instead (`{% said_here
"referral" referral.pk %}` in the template, on the server: no script needed), and at the top only
when the page has no such place any more (the need closed meanwhile, say): never lost.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest

from services.lib.message_tags import place_tag


def said_at(request: HttpRequest, place: str, text: str, *, level: int = messages.SUCCESS) -> str:
    """Queue `text` for the element whose id is `place` (no place: the page's top); the
    redirect's `#place` to go with it."""
    messages.add_message(request, level, text, extra_tags=place_tag(place))
    return f"#{place}" if place else ""


def said_where_it_lands(request: HttpRequest, url: str, text: str, *, level: int = messages.SUCCESS) -> str:
    """Queue `text` for the place `url` lands on (its `#fragment`; none: the page's top), and
    give `url` back to redirect to: the place said and the place gone to cannot differ."""
    said_at(request, urlsplit(url).fragment, text, level=level)
    return url
