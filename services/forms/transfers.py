"""A transfer to another organization: proposed with its parts, then accepted or declined."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import TransferPart
from services.forms.widgets import StaffLengths, name_blanks
from services.models.organizations import Organization

ACCEPT, DECLINE = "accept", "decline"


class TransferForm(forms.Form):
    to_organization = forms.ModelChoiceField(
        label=_("Transfer to"), queryset=Organization.objects.none(), empty_label=_("Choose an organization")
    )
    parts = forms.MultipleChoiceField(
        label=_("What goes with the record"),
        choices=TransferPart.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Their name, contact details and dates always go. Staff case notes go only if they agreed to it."),
    )

    def __init__(self, *args: Any, sender: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organization"].queryset = Organization.objects.exclude(pk=sender.pk).order_by("name")
        name_blanks(self, to_organization=_("Choose an organization"))


class TransferAnswerForm(StaffLengths, forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[(ACCEPT, _("Accept: a record is made here")), (DECLINE, _("Decline: nothing is copied"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Why you decline (the sender sees it)"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, decision=_("Choose to accept or decline"))
