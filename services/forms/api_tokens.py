"""A personal access token for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.actions.api_tokens import DEFAULT_DAYS, MAX_DAYS
from services.forms.widgets import StaffLengths, name_blanks, whole_number_from
from services.models.api import ApiToken


class ApiTokenForm(StaffLengths, forms.Form):
    name = forms.CharField(
        label=_("What is it for?"),
        max_length=100,
        help_text=_("For example: CRM sync."),
        error_messages={"required": _("Say what it is for, so it can be told apart from the others later.")},
    )
    scope = forms.ChoiceField(
        label=_("It may"),
        choices=ApiToken.SCOPES,
        initial=ApiToken.READ,
        widget=forms.RadioSelect,
        help_text=_("Read is safer: choose “Read and write” only for a tool that records casework."),
    )
    days = forms.IntegerField(
        label=_("Days until it stops working"),
        initial=DEFAULT_DAYS,
        help_text=_("At most a year. Make a new one before it ends."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        whole_number_from(self.fields["days"], 1, MAX_DAYS)
        name_blanks(self, scope=_("Choose what it may do: read, or read and write"))
