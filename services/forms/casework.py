"""Follow-ups, case notes and assessments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from services.choices import (
    SCORE_LABELS,
    AssessmentDomain,
)
from services.forms.widgets import DateInput, DateTimeInput, StaffChoiceField, name_blanks
from services.models.casework import Assessment, CaseNote
from services.models.follow_ups import FollowUp
from services.models.people import Exoneree
from services.models.referrals import Referral

User = get_user_model()


class FollowUpForm(forms.ModelForm):
    assigned_to = StaffChoiceField(queryset=User.objects.none(), label=_("Assigned to"))

    class Meta:
        model = FollowUp
        fields = ["title", "due_at", "assigned_to", "need", "referral", "details", "shared_with_exoneree"]
        widgets = {"due_at": DateTimeInput(), "details": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "title": _(
                "Short, like “Housing visit”: it shows in lists and reminders. Put anything private in Details."
            ),
            "details": _("Kept encrypted; shown only on this person's pages."),
        }

    def __init__(self, *args: Any, exoneree: Exoneree, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The person's caseworkers (and whoever holds it now, so an edit need not reassign).
        self.fields["assigned_to"].queryset = (
            User.objects.filter(Q(caseload=exoneree) | Q(pk=self.instance.assigned_to_id if self.instance.pk else None))
            .distinct()
            .order_by("first_name", "last_name")
        )
        self.fields["need"].queryset = exoneree.needs.all()
        self.fields["referral"].queryset = Referral.objects.filter(need__exoneree=exoneree).select_related("resource")
        self.fields["need"].required = False
        self.fields["referral"].required = False
        name_blanks(self, need=_("Not about one need"), referral=_("Not about a referral"))


class FollowUpDoneForm(forms.Form):
    outcome = forms.CharField(
        label=_("What happened?"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseNoteForm(forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["text", "visibility"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"visibility": _("Shared notes appear on the person's own plan.")}


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ["kind", "taken_on"]
        widgets = {"taken_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        existing = {s.domain: s.score for s in self.instance.scores.all()} if self.instance.pk else {}
        choices = [("", "—")] + [(str(n), f"{n} – {label}") for n, label in SCORE_LABELS.items()]
        for domain in AssessmentDomain:
            self.fields[f"score_{domain.value}"] = forms.TypedChoiceField(
                label=domain.label, choices=choices, coerce=int, required=False, empty_value=None
            )
            if domain.value in existing:
                self.initial[f"score_{domain.value}"] = str(existing[domain.value])
        name_blanks(self, kind=_("Choose the kind of assessment"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.scores():
            raise forms.ValidationError(_("Score at least one domain."))
        return data

    def scores(self) -> dict[str, int]:
        return {
            domain.value: self.cleaned_data[f"score_{domain.value}"]
            for domain in AssessmentDomain
            if self.cleaned_data.get(f"score_{domain.value}") is not None
        }

    def score_fields(self) -> list[forms.BoundField]:
        return [self[f"score_{domain.value}"] for domain in AssessmentDomain]
