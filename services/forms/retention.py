"""The director's retention review (issue 23)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from services.actions.retention import HOLD_REASON_MISSING, LIFT_REASON_MISSING
from services.forms.widgets import StaffLengths
from services.models.retention import LegalHold


class RetentionConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I confirm this record may be removed as the organization's retention says, once it is due."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class LegalHoldForm(StaffLengths, forms.Form):
    reason = forms.CharField(
        label=_("Why it must be kept (a lawsuit, a claim, a request from a court…)"),
        max_length=LegalHold._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": HOLD_REASON_MISSING},
    )


class LegalHoldLiftForm(StaffLengths, forms.Form):
    """Lifting lets the record be purged: its reason is required, as placing's is (the action
    refuses blanks and zero-width characters alone, for both)."""

    reason = forms.CharField(
        label=_("Why it no longer needs to be kept (the suit settled, the claim paid…)"),
        max_length=LegalHold._meta.get_field("lift_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": LIFT_REASON_MISSING},
    )
