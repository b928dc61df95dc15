"""Legal remedies: a compensation claim and its payments, a certificate of innocence, a record
holder's clearance, another legal item."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from services.actions.legal import CLAIM_FIELDS
from services.choices import ClaimStage
from services.forms.widgets import DateInput, StaffLengths, name_blanks
from services.legal_rules import DeadlineBasis, jurisdiction_choices
from services.lifecycle import CLAIM_TRANSITIONS, TransitionNotAllowed, check_claim_transition
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance

NOTES = forms.Textarea(attrs={"rows": 3})
# A deadline gone because something is not filled in, not because the law has none.
NOT_KNOWN = frozenset({DeadlineBasis.NO_JURISDICTION, DeadlineBasis.TRIGGER_NOT_IN_RULE, DeadlineBasis.NO_TRIGGER_DATE})

# A certificate's, a clearance's or a legal matter's status, when a request sends none.
WHERE_IT_STANDS = _("Choose where it stands")


class ClaimForm(StaffLengths, forms.ModelForm):
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
        name_blanks(self, trigger_event=_("Not known yet"), stage=_("Choose where the claim stands"))

    def clean_stage(self) -> str:
        stage = self.cleaned_data["stage"]
        if self.stored_stage:
            try:
                check_claim_transition(self.stored_stage, stage)
            except TransitionNotAllowed as error:
                raise ValidationError(str(error)) from error
        return stage

    def clean(self) -> dict[str, Any]:
        """A claim still to be filed keeps its filing deadline: emptying the jurisdiction, the
        event or its date (or the lawyer's date with nothing behind it) would take the deadline
        and its warnings away without a word. A change the law answers (a jurisdiction with no
        statute or no window) still saves; a claim that will not be filed changes its stage."""
        cleaned = super().clean()
        kept = self.instance.filing_deadline if self.instance.pk else None
        # The claim as sent, asked by the model's own rules (is_open_to_filing, compute_deadline).
        sent = CompensationClaim(
            stage=cleaned.get("stage"),
            filed_on=cleaned.get("filed_on"),
            jurisdiction=cleaned.get("jurisdiction") or "",
            trigger_event=cleaned.get("trigger_event") or "",
            trigger_date=cleaned.get("trigger_date"),
            deadline_override=cleaned.get("deadline_override"),
        )
        if kept is None or not sent.is_open_to_filing or self.errors:
            return cleaned
        deadline = sent.compute_deadline()
        if deadline.on is None and deadline.basis in NOT_KNOWN:
            raise ValidationError(
                _(
                    "This would take away the filing deadline (%(deadline)s) and its warnings. Correct the "
                    "jurisdiction, the event or its date rather than leave them empty; if the claim will not "
                    "be filed, change its stage."
                )
                % {"deadline": date_format(kept, "DATE_FORMAT")}
            )
        return cleaned


class PaymentForm(StaffLengths, forms.ModelForm):
    class Meta:
        model = ClaimPayment
        fields = ["received_on", "amount", "note"]
        widgets = {"received_on": DateInput(), "note": forms.Textarea(attrs={"rows": 2})}
        error_messages = {
            "received_on": {"required": _("Give the day the payment came.")},
            "amount": {"required": _("Give the amount received, in US dollars.")},
        }


class CertificateForm(StaffLengths, forms.ModelForm):
    class Meta:
        model = InnocenceCertificate
        fields = ["status", "court", "applied_on", "decided_on", "notes"]
        widgets = {"applied_on": DateInput(), "decided_on": DateInput(), "notes": NOTES}
        error_messages = {"court": {"required": _("Name the court asked for the certificate.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, status=WHERE_IT_STANDS)


class ClearanceForm(StaffLengths, forms.ModelForm):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, status=WHERE_IT_STANDS)


class LegalItemForm(StaffLengths, forms.ModelForm):
    class Meta:
        model = LegalItem
        fields = ["kind", "status", "started_on", "done_on", "notes"]
        widgets = {"started_on": DateInput(), "done_on": DateInput(), "notes": NOTES}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, kind=_("Choose what it is"), status=WHERE_IT_STANDS)
