"""Needs and referrals."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import (
    REFERRAL_CATEGORIES,
    NeedDomain,
    ReferralStatus,
)
from services.forms.dates import refuse_unlikely_start, refuse_years_ago
from services.forms.widgets import (
    YES_NO,
    DateInput,
    StaffLengths,
    VisibleTextField,
    name_blanks,
    one_line_break,
)
from services.lib.text import visible_length
from services.lifecycle import REFERRAL_TRANSITIONS
from services.models.directory import Resource
from services.models.needs import Need
from services.models.referrals import Referral


class NeedForm(StaffLengths, forms.ModelForm):
    class Meta:
        model = Need
        fields = ["domain", "description", "own_words", "priority", "opened_on"]
        field_classes = {"description": VisibleTextField}
        labels = {"domain": _("Kind of need"), "opened_on": _("Recorded on")}
        help_texts = {"description": _("This shows on the person's own plan: write it to them, in plain words.")}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "own_words": forms.Textarea(attrs={"rows": 3}),
            "opened_on": DateInput(),
        }
        error_messages = {
            "domain": {"required": _("Choose the kind of need, like Housing.")},
            "description": {"required": _("Describe the need, in plain words: they read it on their plan.")},
            "opened_on": {"required": _("Give the day the need was recorded.")},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "Choose one"), *NeedDomain.choices]
        name_blanks(self, priority=_("Choose how urgent it is"))

    def clean_opened_on(self) -> date:
        """Only when the day is set or changed, so an old need can still be edited."""
        opened_on = self.cleaned_data["opened_on"]
        if not (self.instance.pk and opened_on == self.instance.opened_on):
            refuse_years_ago(opened_on)
        return opened_on


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Need._meta.get_field("status").choices)


def referral_categories_field() -> forms.MultipleChoiceField:
    """What information a referral shares with its provider (the create and edit forms)."""
    return forms.MultipleChoiceField(
        label=_("Information this referral shares"),
        choices=REFERRAL_CATEGORIES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Contact details are always shared. Sending needs a current consent that names each one."),
    )


def resource_label(resource: Resource) -> str:
    """What the picker shows of a resource: where, when, and whether consent is on file."""
    parts = [f"{resource.name} — {resource.provider.name}", resource.city, resource.hours]
    if getattr(resource, "consented", False):
        parts.append(str(_("consent on file")))
    return " · ".join(part for part in parts if part)


def picker(field: forms.ModelChoiceField, resources: QuerySet[Resource]) -> None:
    """The resource list, searchable in the browser (services/static/services/picker.js)."""
    field.queryset = resources.select_related("provider")
    field.label_from_instance = resource_label
    field.widget.attrs["data-searchable"] = _("Search by name, provider or city")
    field.help_text = _("Marked “consent on file”: the person has agreed to share with that provider.")


def provider_note_field() -> forms.CharField:
    """The note the provider reads with the referral, in its email and on its page: as long
    when the draft is edited as when it was written."""
    return forms.CharField(
        label=_("Note to the provider"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReferralForm(StaffLengths, forms.Form):
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.none(),
        label=_("Refer to"),
        error_messages={"required": _("Choose a resource.")},
    )
    note = provider_note_field()
    categories = referral_categories_field()

    def __init__(self, *args: Any, resources: QuerySet[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker(self.fields["resource"], resources)
        self.fields["resource"].empty_label = _("Choose a resource (those for this kind of need come first)")


class ReferralEditForm(StaffLengths, forms.ModelForm):
    """The provider, what it shares and the note to the provider can change only while the
    referral is a draft: once sent, they are what the provider got."""

    note = provider_note_field()
    categories = referral_categories_field()

    class Meta:
        model = Referral
        fields = ["resource", "note"]
        labels = {"resource": _("Refer to")}

    def __init__(self, *args: Any, resources: QuerySet[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker(self.fields["resource"], resources)
        name_blanks(self, resource=_("Choose a resource"))
        self.fields["categories"].initial = [row.category for row in self.instance.category_rows.all()]
        if self.instance.status != ReferralStatus.DRAFT:
            self.fields["categories"].disabled = True
            self.fields["categories"].help_text = _("A referral that was sent keeps what it shared.")
            self.fields["resource"].disabled = True
            self.fields[
                "resource"
            ].help_text = "A referral that was sent keeps its provider; cancel it and refer again."
            # Read-only, not disabled: a disabled field drops what is posted without a word, and
            # a changed note must be refused beside the field (services.actions.referrals).
            self.fields["note"].widget.attrs["readonly"] = True
            self.fields["note"].help_text = _(
                "A referral that was sent keeps the note the provider got; add a case note instead."
            )

    def clean_note(self) -> str:
        """A sent referral's note posted back unchanged (the read-only box) is kept as stored,
        whatever the browser did to its line breaks and edges; a changed one is left for
        referral_update to refuse."""
        note = self.cleaned_data["note"]
        stored = self.instance.note
        if self.instance.status != ReferralStatus.DRAFT and note == one_line_break(stored).strip():
            return stored
        return note


class ReferralTransitionForm(StaffLengths, forms.Form):
    status = forms.ChoiceField(choices=ReferralStatus.choices, label=_("New status"))
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    decline_reason = forms.CharField(
        label=_("Why was it declined?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    # What a provider that accepted by phone or email said, as its own page would have taken it:
    # the person's plan names the contact and the day (Referral.contact_on_plan, start_on_plan).
    provider_contact = VisibleTextField(
        label=_("Their contact at the provider"),
        required=False,
        max_length=200,
        help_text=_("If the provider told you: it shows on the person's plan."),
    )
    expected_on = forms.DateField(label=_("When do they expect to start?"), required=False, widget=DateInput())
    got_service = forms.ChoiceField(label=_("Did they get the service?"), choices=YES_NO, required=False)
    helped = forms.ChoiceField(label=_("Did it help?"), choices=YES_NO, required=False)
    feedback = forms.CharField(
        label=_("What did they say about it?"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = REFERRAL_TRANSITIONS[referral.status]
        self.fields["status"].choices = [("", "Choose…")] + [
            (v, label) for v, label in ReferralStatus.choices if v in allowed
        ]
        name_blanks(self, status=_("Choose the new status"))
        if referral.status == ReferralStatus.DRAFT:
            # A draft is sent with its own button ("Send to the provider", shown disabled with the reason
            # while consent is missing), not picked from this list; the form still accepts it.
            self.fields["status"].widget.choices = [c for c in self.fields["status"].choices if c[0] != "sent"]
        # Only the questions that can apply from here are asked.
        if ReferralStatus.DECLINED not in allowed:
            del self.fields["decline_reason"]
        if ReferralStatus.ACCEPTED not in allowed:
            del self.fields["provider_contact"], self.fields["expected_on"]
        if ReferralStatus.COMPLETED not in allowed:
            del self.fields["got_service"], self.fields["helped"]
        if not allowed & {ReferralStatus.COMPLETED, ReferralStatus.UNRESOLVED}:
            del self.fields["feedback"]

    def clean_expected_on(self) -> date | None:
        return refuse_unlikely_start(self.cleaned_data.get("expected_on"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        status = data.get("status")
        # A reason refused as too long is not in `data` but was written: not asked for again.
        written = visible_length(data.get("decline_reason", "")) or "decline_reason" in self.errors
        if status == ReferralStatus.DECLINED and not written:
            self.add_error("decline_reason", _("Say why the provider declined."))
        if status == ReferralStatus.COMPLETED and not data.get("got_service"):
            self.add_error("got_service", _("Say whether the person got the service."))
        return data

    def move(self) -> dict[str, Any]:
        """The valid form as the arguments of services.actions.referrals.referral_transition
        (the referral page and the API both ask it this way)."""
        data = self.cleaned_data
        return {
            "status": data["status"],
            "note": data["note"],
            "decline_reason": data.get("decline_reason", ""),
            "got_service": self.as_bool(data.get("got_service", "")),
            "helped": self.as_bool(data.get("helped", "")),
            "feedback": data.get("feedback", ""),
            # Kept only by an acceptance (services.actions.referrals), whatever else was typed.
            "provider_contact": data.get("provider_contact", ""),
            "expected_on": data.get("expected_on"),
        }

    @staticmethod
    def as_bool(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value)
