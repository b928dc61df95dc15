"""Forms: parse and validate input. Choices offered are limited to what the user may pick;
the actions check the same rules again, so a forged POST fails as cleanly as a bad one."""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from services.choices import (
    SCORE_LABELS,
    AssessmentDomain,
    ConsentCategory,
    EmergencyReview,
    NeedDomain,
    ReferralStatus,
    ResourceStatus,
    Role,
)
from services.lifecycle import REFERRAL_TRANSITIONS
from services.models import (
    EARLIEST_YEAR,
    EXONEREE_PROFILE_FIELDS,
    LATEST_YEAR,
    Assessment,
    AuditEvent,
    CaseNote,
    Consent,
    Exoneree,
    FollowUp,
    Need,
    Provider,
    Referral,
    Resource,
    validate_sensible_date,
)

User = get_user_model()

MAX_SEARCH = 100


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def ssn_digits(raw: str) -> str:
    """The 9 digits of a typed SSN, with or without dashes or spaces, or a message why not."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"[0-9]{9}", digits):
        raise forms.ValidationError(_("Enter the 9 digits of the Social Security number, like 900-12-3456."))
    return digits


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


# The largest id any of our databases stores (a 64-bit signed integer).
MAX_ID = 2**63 - 1


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()

    def _check_values(self, value: Any) -> QuerySet[Any]:
        # Django's `pk__in` passes a huge number to SQLite as is, which overflows (a 500); no
        # id is that big, so it is simply not one of the choices.
        for pk in value if isinstance(value, list | tuple) else ():
            if isinstance(pk, str) and pk.strip().lstrip("-").isdigit() and not 0 < int(pk) <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class ExonereeForm(forms.ModelForm):
    # The SSN is never put back into the page: editing shows the last four digits and an
    # empty box, and an empty box keeps the stored number.
    ssn = forms.CharField(
        label=_("Social Security number"),
        required=False,
        max_length=11,
        help_text=_("9 digits, with or without dashes."),
        # A password box: the browser hides it, and a form shown again with errors never
        # writes the typed number back into the page.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    class Meta:
        model = Exoneree
        fields = EXONEREE_PROFILE_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "date_of_birth": DateInput(),
            "conviction_date": DateInput(),
            "release_date": DateInput(),
            "exoneration_date": DateInput(),
            "compensation_deadline": DateInput(),
            "quiet_hours_start": TimeInput(),
            "quiet_hours_end": TimeInput(),
        }
        labels = {
            "conviction_state": _("State of conviction (2 letters)"),
            "conviction_county": _("County of conviction"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored_ssn = self.instance.ssn if self.instance.pk else ""
        self.initial["ssn"] = ""
        if self.stored_ssn:
            self.fields["ssn"].help_text = _(
                "On file: %(ssn_masked)s. Leave empty to keep it; type 9 digits to replace it."
            ) % {"ssn_masked": self.instance.ssn_masked}

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        # The typed number is not shown back (see the widget), so when the form comes back
        # for any mistake, even one an action found after validation, say so beside the box
        # rather than let it be saved empty.
        if field != "ssn" and "ssn" not in self._errors and self.data.get("ssn", "").strip():
            super().add_error("ssn", _("For safety the number is not shown again: please type it again."))

    def clean_ssn(self) -> str:
        raw = self.cleaned_data["ssn"].strip()
        if not raw:
            return self.stored_ssn
        return ssn_digits(raw)

    def clean_conviction_state(self) -> str:
        state = self.cleaned_data["conviction_state"].strip().upper()
        if state and not re.fullmatch(r"[A-Z]{2}", state):
            raise forms.ValidationError(_("Use the two-letter state code, like TX."))
        return state


class IntakeForm(ExonereeForm):
    """The new-person form, with the duplicate check's "this is someone else" box.

    The box appears only after a warning (`warn_possible_duplicate`), and stays while it is
    being answered; ticking it is the caseworker's word that the match is another person.
    """

    confirm_new = forms.BooleanField(
        label=_("I checked: this is a different person. Create a new record."), required=False
    )
    confirm_offered = forms.CharField(widget=forms.HiddenInput, required=False)
    # Set when the warning came back for a form with an SSN typed: the box must be filled
    # again (it is never echoed), or the record would be saved without the number.
    ssn_typed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.data.get("confirm_offered"):
            del self.fields["confirm_new"], self.fields["confirm_offered"], self.fields["ssn_typed"]

    def clean_ssn(self) -> str:
        ssn = super().clean_ssn()
        if not ssn and self.data.get("ssn_typed"):
            raise forms.ValidationError(
                _("Type the Social Security number again: for safety it is not kept on the page.")
            )
        return ssn

    @property
    def confirmed_new(self) -> bool:
        return bool(self.cleaned_data.get("confirm_new"))

    def warn_possible_duplicate(self, message: str) -> None:
        self.fields["confirm_new"] = copy.deepcopy(self.base_fields["confirm_new"])
        self.fields["confirm_offered"] = copy.deepcopy(self.base_fields["confirm_offered"])
        self.fields["ssn_typed"] = copy.deepcopy(self.base_fields["ssn_typed"])
        self.data = self.data.copy()
        self.data["confirm_offered"] = "1"  # the box stays on the page until answered
        if self.data.get("ssn", "").strip() or self.data.get("ssn_typed"):
            self.data["ssn_typed"] = "1"
        self.add_error("confirm_new", message)


class ExonereeSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name"), required=False, max_length=MAX_SEARCH)


class NeedForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ["domain", "description", "own_words", "priority", "opened_on"]
        labels = {"domain": _("Kind of need"), "opened_on": _("Recorded on")}
        help_texts = {"description": _("This shows on the person's own plan: write it to them, in plain words.")}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "own_words": forms.Textarea(attrs={"rows": 3}),
            "opened_on": DateInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "Choose one"), *NeedDomain.choices]


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Need._meta.get_field("status").choices)


def referral_categories_field() -> forms.MultipleChoiceField:
    """What information a referral shares with its provider (the create and edit forms)."""
    return forms.MultipleChoiceField(
        label=_("Information this referral shares"),
        choices=ConsentCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Contact details are always shared. Sending needs a current consent that names each one."),
    )


class ReferralForm(forms.Form):
    resource = forms.ModelChoiceField(queryset=Resource.objects.none(), label=_("Refer to"))
    note = forms.CharField(
        label=_("Note to the provider"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    categories = referral_categories_field()

    def __init__(self, *args: Any, resources: QuerySet[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources.select_related("provider")
        self.fields["resource"].empty_label = _("Choose a resource (those for this kind of need come first)")


class ReferralEditForm(forms.ModelForm):
    """The provider and what it shares can change only while the referral is a draft; the
    note any time."""

    categories = referral_categories_field()

    class Meta:
        model = Referral
        fields = ["resource", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        labels = {"resource": _("Refer to")}

    def __init__(self, *args: Any, resources: QuerySet[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources.select_related("provider")
        self.fields["categories"].initial = [row.category for row in self.instance.category_rows.all()]
        if self.instance.status != ReferralStatus.DRAFT:
            self.fields["categories"].disabled = True
            self.fields["categories"].help_text = _("A referral that was sent keeps what it shared.")
            self.fields["resource"].disabled = True
            self.fields[
                "resource"
            ].help_text = "A referral that was sent keeps its provider; cancel it and refer again."


YES_NO = [("", "—"), ("yes", "Yes"), ("no", "No")]


class ReferralTransitionForm(forms.Form):
    status = forms.ChoiceField(choices=ReferralStatus.choices, label=_("New status"))
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    decline_reason = forms.CharField(
        label=_("Why was it declined?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
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
        # Only the questions that can apply from here are asked.
        if ReferralStatus.DECLINED not in allowed:
            del self.fields["decline_reason"]
        if ReferralStatus.COMPLETED not in allowed:
            del self.fields["got_service"], self.fields["helped"]
        if not allowed & {ReferralStatus.COMPLETED, ReferralStatus.UNRESOLVED}:
            del self.fields["feedback"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        status = data.get("status")
        if status == ReferralStatus.DECLINED and not data.get("decline_reason", "").strip():
            self.add_error("decline_reason", _("Say why the provider declined."))
        if status == ReferralStatus.COMPLETED and not data.get("got_service"):
            self.add_error("got_service", _("Say whether the person got the service."))
        return data

    @staticmethod
    def as_bool(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value)


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


class ResourceForm(forms.ModelForm):
    new_provider_name = forms.CharField(
        label=_("…or a new provider"), required=False, max_length=200, help_text=_("Type a name to add a new provider.")
    )
    domains = forms.MultipleChoiceField(
        label=_("Needs it serves"), choices=NeedDomain.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Resource
        fields = [
            "provider",
            "name",
            "description",
            "eligibility",
            "fees",
            "application_process",
            "languages",
            "address",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "hours",
            "status",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "eligibility": forms.Textarea(attrs={"rows": 2}),
            "application_process": forms.Textarea(attrs={"rows": 2}),
        }

    field_order = ["provider", "new_provider_name", "name", "domains"]

    def __init__(self, *args: Any, providers: QuerySet[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["provider"].required = False
        if self.instance.pk:
            self.initial["domains"] = [row.domain for row in self.instance.domain_rows.all()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("provider") and not data.get("new_provider_name", "").strip():
            self.add_error("provider", _("Choose a provider or type the name of a new one."))
        return data


class ResourceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_SEARCH)
    domain = forms.ChoiceField(label=_("Need"), required=False, choices=[("", "All needs"), *NeedDomain.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", "Active services"), ("all", "Any status"), *ResourceStatus.choices],
    )


class AuditLogFilterForm(forms.Form):
    """The director's search of the access log; every box optional."""

    staff = StaffChoiceField(
        label=_("Staff member"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    person = forms.CharField(label=_("Person (name)"), required=False, max_length=MAX_SEARCH)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", "Any action"), *AuditEvent.Action.choices]
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = User.objects.filter(staff__organization=organization).order_by(
            "first_name", "last_name"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("start", "end"):
            if data.get(name):
                try:
                    validate_sensible_date(data[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


class StaffCreateForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(help_text=_("The invitation to choose a password goes here."))
    username = forms.RegexField(
        regex=r"^[a-z0-9_.-]{3,40}$",
        max_length=40,
        error_messages={"invalid": _("Use 3–40 lowercase letters, digits, dots, dashes or underscores.")},
    )
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(max_length=100, required=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("That username is taken; choose another."))
        return username


class StaffUpdateForm(forms.Form):
    # A plain form: the action compares the new role with the stored one.
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(max_length=100, required=False)
    is_active = forms.BooleanField(label=_("Can sign in"), required=False)


class CaseloadForm(forms.Form):
    caseworkers = StaffMultipleChoiceField(
        queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple, label=_("Caseworkers")
    )

    def __init__(self, *args: Any, caseworkers: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caseworkers"].queryset = caseworkers


class InviteForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[a-z0-9_.-]{3,40}$",
        max_length=40,
        help_text=_("What they type to sign in."),
        error_messages={"invalid": _("Use 3–40 lowercase letters, digits, dots, dashes or underscores.")},
    )
    email = forms.EmailField(help_text=_("The link to choose a password goes here."))

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("That username is taken; choose another."))
        return username


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
        end = data["to"] = data.get("to") or self.today
        start = data["from"] = data.get("from") or _year_before(end) + timedelta(days=1)
        if start > end:
            self.add_error("to", _("The end of the period cannot be before its start."))
        return data


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # February 29
        return day.replace(year=day.year - 1, day=28)


class ConsentForm(forms.ModelForm):
    """A release of information, as the person signed it."""

    categories = forms.MultipleChoiceField(
        label=_("What may be shared"),
        choices=ConsentCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Substance use is shared only if it is ticked here, by name."),
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

    def __init__(self, *args: Any, providers: QuerySet[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.order_fields(["provider", "categories"])


class ConsentNarrowForm(forms.Form):
    """Narrow a consent on the person's word: fewer kinds of information, an earlier end.

    Only the kinds it names are offered; sharing more, or for longer, needs a new signed
    consent (services.actions.consent_narrow checks the same again).
    """

    categories = forms.MultipleChoiceField(
        label=_("What may still be shared"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("This consent does not name that: to share more, record a new signed consent.")
        },
    )
    ends_on = forms.DateField(label=_("Until"), widget=DateInput())

    def __init__(self, *args: Any, consent: Consent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(value, ConsentCategory(value).label) for value in consent.categories]
        self.fields["ends_on"].help_text = _("No later than %(ends_on)s, the end they signed.") % {
            "ends_on": date_format(consent.ends_on, "M j, Y")
        }
        self.initial = {"categories": consent.categories, "ends_on": consent.ends_on}


class EmergencyAccessForm(forms.Form):
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
        min_length=20,
        max_length=2000,
        help_text=_("At least 20 characters. Your director reads this."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm this is an emergency. Open the record; my director will review it."), required=False
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


class EmergencyReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your review"),
        choices=[(EmergencyReview.ACKNOWLEDGED, "Acknowledge: it was justified"), (EmergencyReview.FLAGGED, "Flag it")],
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OneTimeCodeForm(forms.Form):
    """A six-digit code from the authenticator app, or one of the backup codes."""

    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows now, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )

    def clean_code(self) -> str:
        # People type codes with spaces ("123 456") and backup codes in capitals.
        return "".join(self.cleaned_data["code"].split()).lower()


class PasswordConfirmForm(forms.Form):
    """The account's password again, before a change a stolen session must not be able to make."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password. Type it again."))
        return password


class PasswordResetSendForm(PasswordResetForm):
    """Django's reset form as the worker runs it: each account's email in its own language."""

    def send_mail(
        self, subject_template_name: str, email_template_name: str, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> None:
        from services.selectors import language_of

        with translation.override(language_of(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordResetRequestForm(PasswordResetForm):
    """Asks for a reset link without revealing whether the address has an account.

    Django's own form looks the address up and sends the email while the visitor waits, so a
    known address answers measurably later than an unknown one. Here every request only
    queues a task (services.tasks.send_password_reset) after the commit; the page is the same.
    """

    def save(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        from services.tasks import send_password_reset

        email = self.cleaned_data["email"]

        def queue() -> None:  # named: a robust on_commit logs the callback's name
            send_password_reset.delay(email)

        transaction.on_commit(queue, robust=True)
