"""Legal remedies: a compensation claim and its payments, a certificate of innocence, a record
holder's clearance, another legal item."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from services.actions.legal import CLAIM_FIELDS
from services.choices import ClaimStage
from services.forms.widgets import DateInput, LineBreaksAsOne, name_blanks
from services.legal_rules import jurisdiction_choices
from services.lifecycle import CLAIM_TRANSITIONS, TransitionNotAllowed, check_claim_transition
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance

NOTES = forms.Textarea(attrs={"rows": 3})


class ClaimForm(LineBreaksAsOne, forms.ModelForm):
    jurisdiction = forms.ChoiceField(
        label=_("Jurisdiction"),
        required=False,
        help_text=_("Whose statute: the federal one, DC or a state. The deadline is computed from its rule."),
    )

    class Meta:
        model = CompensationClaim
        fields = CLAIM_FIELDS
        widgets = {
            "trigger_date": DateInput(),
            "deadline_override": DateInput(),
            "filed_on": DateInput(),
            "hearing_on": DateInput(),
            "decided_on": DateInput(),
            "appeal_filed_on": DateInput(),
            "override_reason": forms.Textarea(attrs={"rows": 2}),
            "denial_reason": forms.Textarea(attrs={"rows": 2}),
            "payment_schedule": forms.Textarea(attrs={"rows": 2}),
            "notes": NOTES,
        }
        help_texts = {
            "deadline_override": _("Only if the lawyer says the deadline differs from the computed one."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = [("", _("Not known yet")), *jurisdiction_choices()]
        self.stored_stage = self.instance.stage if self.instance.pk else None
        if self.stored_stage:
            # Only the moves the claim may make from where it stands (and staying put).
            allowed = {self.stored_stage, *CLAIM_TRANSITIONS[self.stored_stage]}
            self.fields["stage"].choices = [(v, label) for v, label in ClaimStage.choices if v in allowed]
        name_blanks(self, trigger_event=_("Not known yet"))

    def clean_stage(self) -> str:
        stage = self.cleaned_data["stage"]
        if self.stored_stage:
            try:
                check_claim_transition(self.stored_stage, stage)
            except TransitionNotAllowed as error:
                raise ValidationError(str(error)) from error
        return stage


class PaymentForm(LineBreaksAsOne, forms.ModelForm):
    class Meta:
        model = ClaimPayment
        fields = ["received_on", "amount", "note"]
        widgets = {"received_on": DateInput(), "note": forms.Textarea(attrs={"rows": 2})}


class CertificateForm(LineBreaksAsOne, forms.ModelForm):
    class Meta:
        model = InnocenceCertificate
        fields = ["status", "court", "applied_on", "decided_on", "notes"]
        widgets = {"applied_on": DateInput(), "decided_on": DateInput(), "notes": NOTES}


class ClearanceForm(LineBreaksAsOne, forms.ModelForm):
    class Meta:
        model = RecordClearance
        fields = ["status", "requested_on", "confirmed_on", "last_checked_on", "notes"]
        widgets = {
            "requested_on": DateInput(),
            "confirmed_on": DateInput(),
            "last_checked_on": DateInput(),
            "notes": NOTES,
        }
        help_texts = {"confirmed_on": _("Six months later, the caseworkers are reminded to check again.")}


class LegalItemForm(LineBreaksAsOne, forms.ModelForm):
    class Meta:
        model = LegalItem
        fields = ["kind", "status", "started_on", "done_on", "notes"]
        widgets = {"started_on": DateInput(), "done_on": DateInput(), "notes": NOTES}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, kind=_("Choose what it is"))
