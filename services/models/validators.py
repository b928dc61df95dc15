"""Validators shared by the models; migrations name the functions by `services.models.<name>`."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known timezone, like America/Chicago.") from None


ssn_validator = RegexValidator(r"^[0-9]{9}$", _("Enter the 9 digits of the Social Security number."))


def validate_ssn_issued(value: str) -> None:
    """Never issued: 000 or 666 first, 00 in the middle, 0000 last (a placeholder such as
    000-00-0000 typed for "unknown" would make every such record a duplicate of the others).
    The 900s are allowed: they are the demo's made-up numbers. For a number typed now (the
    forms), not a model validator: a record that already holds one must stay savable."""
    if len(value) == 9 and (value[:3] in ("000", "666") or value[3:5] == "00" or value[5:] == "0000"):
        raise ValidationError(
            _("No Social Security number is written like this: check it, or leave it empty if it is not known.")
        )


# Dates outside these years are typing mistakes, and near the ends of the calendar a
# timezone conversion would overflow.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def validate_sensible_date(value: date) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date between %(EARLIEST_YEAR)s and %(LATEST_YEAR)s.")
            % {"EARLIEST_YEAR": EARLIEST_YEAR, "LATEST_YEAR": LATEST_YEAR}
        )


def validate_past_date(value: date) -> None:
    """A day something happened (a birth, a payment received, a need recorded) is not after
    today; a day of slack for a reader whose today is already tomorrow somewhere else. Past
    the calendar's last year it says nothing: every field with this check has
    validate_sensible_date too, which says so (one message beside the field, not two)."""
    if value.year <= LATEST_YEAR and value > timezone.localdate() + timedelta(days=1):
        raise ValidationError(_("This date is in the future. Enter the day it happened."))
