"""Directors' filters of the access log and the outcomes; the period of the Network's figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import NeedDomain
from services.forms.widgets import DateInput, NameSearchField, StaffChoiceField, StaffLengths, with_values
from services.models.audit import AuditEvent
from services.models.validators import EARLIEST_YEAR, LATEST_YEAR, validate_sensible_date

User = get_user_model()


class AuditLogFilterForm(StaffLengths, forms.Form):
    """The director's search of the access log; every box optional. Its dates are "from" and
    "to" in the address, as on the outcomes page."""

    staff = StaffChoiceField(
        label=_("Staff member"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    person = NameSearchField(label=_("Person (name)"))
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *AuditEvent.Action.choices]
    )

    def __init__(self, data: Any = None, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(_dates_by_their_old_names(data), *args, **kwargs)
        # "from" cannot be a class attribute.
        self.fields |= {
            "from": forms.DateField(label=_("From"), required=False, widget=DateInput()),
            "to": forms.DateField(label=_("To"), required=False, widget=DateInput()),
        }
        self.fields["staff"].queryset = User.objects.filter(staff__organization=organization).order_by(
            "first_name", "last_name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("from", "to"):
            if data.get(name):
                try:
                    validate_sensible_date(data[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            self.add_error("to", _("The end of the period cannot be before its start."))
        return data

    def log_filters(self) -> dict[str, Any]:
        """The valid filters as `audit_trail.audit_log` takes them (its `start` and `end`)."""
        data = self.cleaned_data
        return {
            "staff": data.get("staff"),
            "person": data.get("person", ""),
            "action": data.get("action", ""),
            "start": data.get("from"),
            "end": data.get("to"),
        }


# The dates' names in the address before they were "from" and "to": links saved then still work.
OLD_DATE_NAMES = {"start": "from", "end": "to"}


def _dates_by_their_old_names(data: Any) -> Any:
    """The query with "start" and "end" read as "from" and "to" (when those are not given too)."""
    renamed = {old: new for old, new in OLD_DATE_NAMES.items() if data and old in data and new not in data}
    if not renamed:
        return data
    given = {new: data.getlist(old) if hasattr(data, "getlist") else [data[old]] for old, new in renamed.items()}
    return with_values(data, given, without=tuple(renamed))


class OutcomeFilterForm(forms.Form):
    """The outcomes page's filters. Blank dates mean the last 12 months up to today."""

    caseworker = StaffChoiceField(
        label=_("Caseworker"), required=False, queryset=User.objects.none(), empty_label=_("All")
    )
    domain = forms.ChoiceField(label=_("Need"), required=False, choices=[("", "All needs"), *NeedDomain.choices])

    def __init__(self, *args: Any, caseworkers: QuerySet[Any], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" and "to" are the query-string names; "from" cannot be a class attribute.
        self.fields = {
            "from": forms.DateField(label=_("From"), required=False, widget=DateInput()),
            "to": forms.DateField(label=_("To"), required=False, widget=DateInput()),
            **self.fields,
        }
        self.fields["caseworker"].queryset = caseworkers
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("from", "to"):
            value = data.get(name)
            if value and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
                self.add_error(
                    name,
                    _("Enter a date between %(EARLIEST_YEAR)s and %(LATEST_YEAR)s.")
                    % {"EARLIEST_YEAR": EARLIEST_YEAR, "LATEST_YEAR": LATEST_YEAR},
                )
        if self.errors:
            return data
        if data.get("from") and not data.get("to") and data["from"] > self.today:
            # "To" left empty means today: the start is what to change (or "To" to fill in), so
            # the message goes beside "From", saying why, not beside a box the user never touched.
            self.add_error(
                "from",
                _(
                    "This is after today, and with “To” left empty the period ends today. "
                    "Choose a start on or before today, or fill in “To”."
                ),
            )
            return data
        if data.get("from") and data["from"] > self.today:
            # Nothing has happened in it yet, yet the figures about people now ("stalled now",
            # "people served") would look real: a mistyped year (2206 for 2026) reads as data.
            self.add_error("from", _("This period has not started yet: check the year."))
            return data
        end = data["to"] = data.get("to") or self.today
        # Left empty, "from" is 12 months before "to", but never before the first day a date
        # may have: each figure's link carries it, and a date before then is refused.
        earliest = date(EARLIEST_YEAR, 1, 1)
        start = data["from"] = data.get("from") or max(_year_before(end) + timedelta(days=1), earliest)
        if start > self.today:
            # "From" left empty and "To" a year or more ahead: the same slip of the year.
            self.add_error("to", _("This period has not started yet: check the year."))
        elif start > end:
            self.add_error("to", _("The end of the period cannot be before its start."))
        return data


class NetworkPeriodForm(OutcomeFilterForm):
    """The Network's page: the outcomes page's period and its rules, and nothing that narrows the
    counts to a few people (no caseworker, no need)."""

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, caseworkers=User.objects.none(), today=today, **kwargs)
        del self.fields["caseworker"], self.fields["domain"]


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # February 29
        return day.replace(year=day.year - 1, day=28)
