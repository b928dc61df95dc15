"""A person's case: closing it with its exit, reopening it, restricting who sees it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from services.actions import enrolment, restriction
from services.choices import ExitDestination, ExitReason, HousingAtExit
from services.forms.widgets import DateInput, StaffLengths
from services.models.needs import Need

D = ExitDestination
# "Merged" is what a merge of two records of one person says, never a caseworker's choice.
CHOSEN_EXIT_REASONS = [(value, label) for value, label in ExitReason.choices if value in enrolment.CHOSEN_EXIT_REASONS]
CHOOSE = ("", _("Choose…"))
# Grouped as the HUD HMIS data standards group their destination field (3.12).
DESTINATION_GROUPS = [
    CHOOSE,
    (_("Permanent housing"), [(d, d.label) for d in (D.PERMANENT_OWN, D.PERMANENT_FAMILY)]),
    (_("Temporary housing"), [(D.TEMPORARY, D.TEMPORARY.label)]),
    (_("Institutional"), [(D.INSTITUTIONAL, D.INSTITUTIONAL.label)]),
    (_("Homeless"), [(D.HOMELESS, D.HOMELESS.label)]),
    (_("Other"), [(d, d.label) for d in (D.OTHER, D.UNKNOWN, D.NOT_COLLECTED)]),
]


class CloseCaseForm(StaffLengths, forms.Form):
    closed_on = forms.DateField(
        label=_("Exit date"),
        widget=DateInput(),
        help_text=_("The day the case ended."),
        error_messages={"required": _("Give the exit date: the day the case ended.")},
    )
    exit_reason = forms.ChoiceField(label=_("Why the case is closing"), choices=[CHOOSE, *CHOSEN_EXIT_REASONS])
    destination = forms.ChoiceField(label=_("Where they are going to live"), choices=DESTINATION_GROUPS)
    housing_at_exit = forms.ChoiceField(label=_("Their housing today"), choices=[CHOOSE, *HousingAtExit.choices])
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept as a staff note on the record."),
    )

    needs_met = forms.TypedMultipleChoiceField(
        label=_("Needs met"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Ticked needs close as met, the others as no longer wanted. Those whose referral a provider "
            "completed with the service given are ticked to start with."
        ),
    )

    def __init__(self, *args: Any, open_needs: list[Need], met_by_referral: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate()
        if open_needs:
            self.fields["needs_met"].choices = [(need.pk, need_label(need)) for need in open_needs]
            self.fields["needs_met"].initial = [need.pk for need in open_needs if need.pk in met_by_referral]
        else:
            del self.fields["needs_met"]

    def clean_needs_met(self) -> set[int]:
        return set(self.cleaned_data["needs_met"])


def need_label(need: Need) -> str:
    return f"{need.get_domain_display()}: {Truncator(need.description).chars(80)}"


class ReopenCaseForm(forms.Form):
    opened_on = forms.DateField(label=_("Reopened on"), widget=DateInput(), required=False)

    def clean_opened_on(self) -> Any:
        return self.cleaned_data["opened_on"] or timezone.localdate()


class RestrictionForm(StaffLengths, forms.Form):
    reason = forms.CharField(
        label=_("Why"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For the access log: a safety concern, press attention… Not the details of the case."),
        error_messages={"required": restriction.REASON_MISSING},
    )
