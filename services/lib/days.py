"""A day as the person's pages write it, in their language: the year only when it is not this
year's. "December 9" reads as the coming one; a date of another year ("January 26, 2027", "May
21, 2025") says its year, so an old date never passes for a recent one nor a far one for a near
one. The plan wrote "Last news: November 26, 2026" above "You said … on December 5" and beside
"Tuesday, January 26" (of next year)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext


def plain_day(value: date | datetime | None, *, weekday: bool = False, always_year: bool = False) -> str:
    """ "December 9" this year, "December 9, 2027" any other (`always_year`: every one);
    `weekday` puts the day's name first ("Wednesday, December 9"). A moment is read in the site's
    time zone."""
    if weekday:
        return day_as(value, gettext("l, F j"), gettext("l, F j, Y"), always_year=always_year)
    return day_as(value, gettext("F j"), gettext("F j, Y"), always_year=always_year)


def day_as(value: date | datetime | None, this_year: str, other_year: str, *, always_year: bool = False) -> str:
    """The day in the style `this_year` when it is this year's (and not `always_year`), else in
    `other_year`, the style that gives the year; a moment read in the site's time zone."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    same_year = not always_year and value.year == timezone.localdate().year
    return date_format(value, this_year if same_year else other_year)
