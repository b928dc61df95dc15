"""Consent and emergency access."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from services.actions.emergency import EMERGENCY_REASON_MIN
from services.choices import (
    ConsentCategory,
    EmergencyReview,
)
from services.forms.people import ssn_digits
from services.forms.widgets import DateInput, StaffLengths, name_blanks
from services.lib.text import MinVisibleLengthValidator
from services.models.consent import Consent
from services.models.directory import Provider


class ConsentForm(StaffLengths, forms.ModelForm):
    """A release of information, as the person signed it."""

    categories = forms.MultipleChoiceField(
        label=_("What may be shared"),
        choices=ConsentCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Substance use is shared only if it is ticked here, by name."),
        error_messages={"required": _("Tick what they agreed to share.")},
    )

    class Meta:
        model = Consent
        fields = ["provider", "purpose", "starts_on", "ends_on", "signed_how", "signed_on", "witness"]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "signed_on": DateInput(),
        }
        # As the signed release says it: each is one of the release's required elements.
        error_messages = {
            "purpose": {"required": _("Say what the information is shared for, as the signed release says.")},
            "starts_on": {"required": _("Give the first day the release covers.")},
            "ends_on": {"required": _("Give the day the release ends, as they signed it.")},
            "signed_on": {"required": _("Give the day they signed.")},
        }

    def __init__(self, *args: Any, providers: QuerySet[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.order_fields(["provider", "categories"])
        name_blanks(self, provider=_("Choose the provider"), signed_how=_("Choose how they signed"))


class ConsentNarrowForm(forms.Form):
    """Narrow a consent on the person's word: fewer kinds of information, an earlier end.

    Only the kinds it names are offered; sharing more, or for longer, needs a new signed
    consent (services.actions.consent.consent_narrow checks the same again).
    """

    categories = forms.MultipleChoiceField(
        label=_("What may still be shared"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("This consent does not name that: to share more, record a new signed consent.")
        },
    )
    ends_on = forms.DateField(
        label=_("Until"),
        widget=DateInput(),
        error_messages={"required": _("Give the last day it may be shared: the end they signed, or earlier.")},
    )

    def __init__(self, *args: Any, consent: Consent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(value, ConsentCategory(value).label) for value in consent.categories]
        self.fields["ends_on"].help_text = _("No later than %(ends_on)s, the end they signed.") % {
            "ends_on": date_format(consent.ends_on, "M j, Y")
        }
        self.initial = {"categories": consent.categories, "ends_on": consent.ends_on}


class EmergencyAccessForm(StaffLengths, forms.Form):
    """Find a record outside one's caseload by exact legal name and birth date, or SSN."""

    legal_name = forms.CharField(label=_("Legal name (exactly as on file)"), max_length=200, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    # Never echoed back into the page: type it again at the confirmation step.
    ssn = forms.CharField(
        label=_("Social Security number"),
        max_length=11,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why you need this record now"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        validators=[MinVisibleLengthValidator(EMERGENCY_REASON_MIN)],
        help_text=_("At least 20 characters. Your director reads this."),
        error_messages={"required": _("Say why you need this record now: your director reads it.")},
    )
    # Required before any search: the search and the opening are one act, so the page never
    # says whether a record matches without opening it.
    confirm = forms.BooleanField(
        label=_("I confirm this is an emergency. Open the record; my director will review it."),
        error_messages={"required": _("Tick the box to confirm: a matching record opens at once.")},
    )

    def clean_ssn(self) -> str:
        raw = self.cleaned_data["ssn"].strip()
        return ssn_digits(raw) if raw else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        by_name = data.get("legal_name", "").strip() and data.get("date_of_birth")
        if not (by_name or data.get("ssn")):
            raise forms.ValidationError(_("Give the legal name and date of birth, or the Social Security number."))
        return data


class EmergencyReviewForm(StaffLengths, forms.Form):
    # No choice made for the director: one click on "Save review" approved the access.
    decision = forms.ChoiceField(
        label=_("Your review"),
        choices=[
            ("", _("Choose one")),
            (EmergencyReview.ACKNOWLEDGED, _("Acknowledge: it was justified")),
            (EmergencyReview.FLAGGED, _("Flag it")),
        ],
        error_messages={"required": _("Choose whether to acknowledge it or flag it.")},
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
