"""Times of day that a time zone's clocks skip or show twice (daylight saving), in plain words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

TIME_SHOWN = "g:i a"  # as the pages show a follow-up's time ("2:30 a.m.")


def clock_change_message(naive: datetime, zone: tzinfo) -> str:
    """Why this wall-clock time cannot be taken in `zone`, and what to choose instead. Only for a
    time Django refused as "ambiguous or non-existent" (it names the zone's key and the raw
    value, which tell a caseworker nothing)."""
    before = naive.replace(tzinfo=zone, fold=0)
    after = naive.replace(tzinfo=zone, fold=1)
    shift = abs((before.utcoffset() or timedelta()) - (after.utcoffset() or timedelta()))
    hours = _shift_words(shift)
    # Read with the offset before the change, a skipped time comes back as the later time the
    # clocks show at that moment (02:30 → 03:30); a time shown twice comes back as itself.
    later = before.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if later != naive:
        return _(
            "That time does not exist on that day: clocks go forward %(shift)s, so %(time)s is skipped "
            "(the clocks say %(later)s at that moment). Choose another time."
        ) % {"shift": hours, "time": format_date(naive, TIME_SHOWN), "later": format_date(later, TIME_SHOWN)}
    return _(
        "That time happens twice on that day: clocks go back %(shift)s, so %(time)s comes round again. "
        "Choose an earlier or a later time."
    ) % {"shift": hours, "time": format_date(naive, TIME_SHOWN)}


def _shift_words(shift: timedelta) -> str:
    minutes = int(shift.total_seconds() // 60)
    if minutes == 60:
        return _("an hour")
    return ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
