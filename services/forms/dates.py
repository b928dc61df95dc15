"""Days typed into a form that are slips of the year (1900, or 2006 for 2026): how far from
today a day may be, and the words beside the field that say so.

The model's calendar bounds (services.models.validators: 1900 to 2200) stay for every other
writer. A field with one of these rules says its own words over the whole calendar, before the
model's, so 2099 and 9999 read alike ("more than 10 years ahead: check the year")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How far back a day recorded late may be set (a need's "Recorded on", when something already
# done was done): entered late from the paper file is within a few years of today; further back
# is a slip of the year.
RECORDED_LATE_YEARS = 10


def refuse_years_ago(value: date, years: int = RECORDED_LATE_YEARS) -> None:
    if value < _today_like(value) - timedelta(days=365 * years):
        raise ValidationError(_("This is more than %(years)s years ago: check the year.") % {"years": years})


def refuse_years_ahead(value: date, years: int) -> None:
    if value > _today_like(value) + timedelta(days=366 * years):
        raise ValidationError(_("This is more than %(years)s years ahead: check the year.") % {"years": years})


def _today_like(value: date) -> date:
    """Now for a time, today for a day: what `value` is compared with (a datetime is a date too,
    and comparing one with a plain date raises)."""
    return timezone.now() if isinstance(value, datetime) else timezone.localdate()


def refuse_unlikely_start(value: date | None) -> date | None:
    """A provider's planned start (given on its page, or by a caseworker it phoned): a day
    within a year back (a start already made, told late) and three years ahead."""
    today = timezone.localdate()
    if value is not None and value < today - timedelta(days=365):
        raise ValidationError(_("This is more than a year ago: check the year."))
    if value is not None and value > today + timedelta(days=3 * 365):
        raise ValidationError(_("This is more than three years ahead: check the year."))
    return value
