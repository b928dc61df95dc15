"""A person's record: intake, edit, search, invitation."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from services.actions.release_checks import has_release_checks
from services.choices import ContactPreference, ReminderChannel
from services.forms.contact import (
    choose_again,
    contact_with_nowhere_to_go,
    first_way,
    is_state,
    phone_or_error,
    reminders_not_to_be_sent,
    reminders_with_nowhere_to_go,
    when_typed,
)
from services.forms.widgets import (
    DASHES,
    DateInput,
    HandleField,
    NameSearchField,
    StaffChoiceField,
    StaffLengths,
    TimeInput,
    name_blanks,
)
from services.models.organizations import Organization
from services.models.people import EXONEREE_PROFILE_FIELDS, Exoneree
from services.models.validators import validate_ssn_issued

User = get_user_model()


def ssn_digits(raw: str) -> str:
    """The 9 digits of a typed SSN, with or without dashes or spaces, or a message why not."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"[0-9]{9}", digits):
        raise forms.ValidationError(_("Enter the 9 digits of the Social Security number, like 900-12-3456."))
    return digits


# Reminders staff turn on with nothing to send them to (as the person's own form refuses them).
NOWHERE_TO_REMIND = {
    ReminderChannel.SMS: _("Text reminders need a phone number: add it, or send the reminders by email."),
    ReminderChannel.EMAIL: _("Email reminders need an email address: add it, or send the reminders by text."),
}
# A way of contact the record has nothing for (services.forms.contact.contact_with_nowhere_to_go).
NO_PHONE_TO_REACH = _("No phone number yet: add one, or choose another way.")
NO_WAY_TO_REACH = {
    ContactPreference.PHONE: NO_PHONE_TO_REACH,
    ContactPreference.TEXT: NO_PHONE_TO_REACH,
    ContactPreference.EMAIL: _("No email address yet: add one, or choose another way."),
    ContactPreference.MAIL: _("No mailing address yet: add one, or choose another way."),
}
# As the person's own form refuses it (services/forms/reach.py), in staff's words.
NO_CONTACT_NO_REMINDERS = _(
    "They chose “Do not contact”, so no reminders can be sent to them. "
    "Choose another way to reach them, or untick “Remind them of their appointments”."
)
NOT_A_STATE = _("Use the two-letter state code, like TX (US for a federal conviction).")


class ExonereeForm(StaffLengths, forms.ModelForm):
    # Not on the record: whether to plan the check-ins after release (services.actions.release_checks).
    # Shown only to a record without them: intake ticks it, an edit when it adds the release date.
    release_checks = forms.BooleanField(
        label=_("Plan check-ins after release"),
        required=False,
        help_text=_(
            "Follow-ups for you a week, 30, 90, 180 and 365 days after the release date (those still "
            "ahead). California SB 1050 asks for contact within a week of release and again within 30 days."
        ),
    )
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
            "quiet_hours_start": TimeInput(),
            "quiet_hours_end": TimeInput(),
        }
        # The quiet hours as the time box shows them (services/forms/reach.py).
        help_texts = {
            "quiet_hours_start": _("No reminders from this time… (for example 9:00 p.m., or 21:00)"),
            "quiet_hours_end": _("…until this time (for example 8:00 a.m., or 08:00)."),
        }
        labels = {
            "conviction_state": _("State of conviction (2 letters)"),
            "conviction_county": _("County of conviction"),
        }
        error_messages = {"legal_name": {"required": _("Give their legal name, as on their papers.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "TEX" is a state code mistyped, not a text to shorten: the code's own words.
        self.fields["conviction_state"].error_messages["max_length"] = NOT_A_STATE
        # An empty choice, so that no way is picked for them: not on intake, where there is no
        # number yet for the model's default ("Phone call"), nor when a way is sent back for
        # lack of what it needs (choose_again).
        contact = self.fields["contact_preference"]
        contact.choices = [("", DASHES), *contact.choices]
        if not self.instance.pk:
            self.initial["contact_preference"] = ""
            contact.required = False  # left to choose, clean() takes a way the record has
            contact.help_text = _(
                "Left to choose, it is the first way they can be reached: a phone call, an email, a letter, "
                "else in person."
            )
        name_blanks(
            self,
            preferred_language=_("Choose the language they read best"),
            contact_preference=_("Choose how they want to be reached"),
            reminder_channel=_("Choose how their reminders go: email or text message"),
        )
        self.stored_ssn = self.instance.ssn if self.instance.pk else ""
        if has_release_checks(self.instance):
            del self.fields["release_checks"]
        else:
            self.initial.setdefault("release_checks", self.instance.release_date is None)
            self.order_fields(_after(list(self.fields), "release_date", "release_checks"))
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
            self.retype_only = {"ssn"}  # marked, but not a mistake to count (templates/services/_form_errors.html)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # A number or address typed wrong has its own message beside it: not this one too.
        has_phone = bool(data.get("phone")) or "phone" in self.errors
        has_email = bool(data.get("email")) or "email" in self.errors
        # The planner never reminds someone who chose "do not contact": say so, not "saved".
        if reminders_not_to_be_sent(data):
            self.add_error("appointment_reminders", NO_CONTACT_NO_REMINDERS)
        elif missing := reminders_with_nowhere_to_go(data, has_phone=has_phone, has_email=has_email):
            self.add_error("reminder_channel", NOWHERE_TO_REMIND[missing])
        # Intake left to choose takes the first way the record has (services.forms.contact.first_way),
        # not the model's "Phone call" whether or not there is a phone.
        has_address = bool(data.get("address"))
        if not data.get("contact_preference") and "contact_preference" not in self.errors:
            data["contact_preference"] = first_way(has_phone=has_phone, has_email=has_email, has_address=has_address)
        # A way chosen with nothing to use it is said beside it. A record saved before this rule
        # keeps its other edits: it is checked when the way or what it needs is typed, and always
        # on intake.
        typed = {"contact_preference", "phone", "email", "address"} & set(self.changed_data)
        if (not self.instance.pk or typed) and (
            missing := contact_with_nowhere_to_go(
                data, has_phone=has_phone, has_email=has_email, has_address=has_address
            )
        ):
            self.add_error("contact_preference", NO_WAY_TO_REACH[missing])
            choose_again(self, "contact_preference")
        # A year typed wrong (1958 for 1985): the years wrongfully incarcerated and the
        # compensation window are counted from these dates. Checked here, where all four are
        # typed, not on the record: records saved before the rule still save their other forms
        # (the person's "how to reach me", a transfer received).
        born = data.get("date_of_birth")
        # A birth date the record refuses (in the future, a year out of the calendar) is said
        # beside its own box once the model's checks run: it is the mistake, and the three other
        # dates are not to be called "before the date of birth" for being before it.
        if born and not _could_be_birth_date(born):
            born = None
        for name in ("conviction_date", "release_date", "exoneration_date"):
            if born and (day := data.get(name)) and day < born and name not in self.errors:
                self.add_error(name, _("This is before the date of birth: check the year."))
        return data

    def clean_ssn(self) -> str:
        raw = self.cleaned_data["ssn"].strip()
        if not raw:
            return self.stored_ssn
        digits = ssn_digits(raw)
        validate_ssn_issued(digits)  # a number typed now; one already stored is kept as it is
        return digits

    def clean_phone(self) -> str:
        return when_typed(self, "phone", phone_or_error)  # a stored "sister's: 555-0123" stays

    def clean_conviction_county(self) -> str:
        """The county's name, as the pages add "County" to it ("Will", not "Will County")."""
        county = " ".join(self.cleaned_data["conviction_county"].split())
        return re.sub(r"\s+county$", "", county, flags=re.IGNORECASE) or county

    def clean_conviction_state(self) -> str:
        """A state, DC or US (a federal conviction) as the rules table names them, or a territory."""
        state = self.cleaned_data["conviction_state"].strip().upper()
        if state and not is_state(state, federal=True):
            raise forms.ValidationError(NOT_A_STATE)
        return state


def _could_be_birth_date(day: date) -> bool:
    """Whether the record's own checks of a date of birth (services.models.validators) pass."""
    try:
        Exoneree._meta.get_field("date_of_birth").run_validators(day)
    except forms.ValidationError:
        return False
    return True


def _after(names: list[str], anchor: str, name: str) -> list[str]:
    names.remove(name)
    names.insert(names.index(anchor) + 1, name)
    return names


class IntakeForm(ExonereeForm):
    """The new-person form, with the duplicate check's "this is someone else" box.

    The box appears only after a warning (`warn_possible_duplicate`), and stays while it is
    being answered; ticking it is the caseworker's word that the match is another person. It
    comes first on the form, under "Please correct…": the question is about the whole record,
    and below the twenty boxes it was out of sight while the focus sat on the number to retype.
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
        if self.data.get("confirm_offered"):
            self.order_fields(["confirm_new"])
        else:
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
        self.order_fields(["confirm_new"])
        self.data = self.data.copy()
        self.data["confirm_offered"] = "1"  # the box stays on the page until answered
        if self.data.get("ssn", "").strip() or self.data.get("ssn_typed"):
            self.data["ssn_typed"] = "1"
        self.add_error("confirm_new", message)


CASE_STATE_CHOICES = [
    ("open", _("Open cases")),
    ("unassigned", _("Open cases nobody is assigned to")),
    ("closed", _("Closed cases")),
    ("all", _("All")),
]


class CaseworkerFilterField(StaffChoiceField):
    """A caseworker of the organization, to narrow People to; one switched off still carries people until they are
    moved (the overview lists them), so they are offered too, and said to be so."""

    def label_from_instance(self, obj: Any) -> str:
        label = super().label_from_instance(obj)
        return label if obj.is_active else f"{label} {_('(switched off)')}"


class ExonereeSearchForm(StaffLengths, forms.Form):
    q = NameSearchField(
        label=_("Search by name or phone"),
        help_text=_("A phone number finds only the whole number, written any way: (312) 555-0150 or 3125550150."),
    )
    case = forms.ChoiceField(label=_("Show"), choices=CASE_STATE_CHOICES, required=False)
    caseworker = CaseworkerFilterField(
        label=_("Caseworker"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )

    def __init__(self, *args: Any, caseworkers: QuerySet[Any] | None = None, **kwargs: Any) -> None:
        """`caseworkers`: the organization's, for a director; None for a caseworker, whose
        people are assigned to them: who carries whom is the director's question."""
        super().__init__(*args, **kwargs)
        if caseworkers is None:
            self.fields["case"].choices = [c for c in CASE_STATE_CHOICES if c[0] != "unassigned"]
            del self.fields["caseworker"]
        else:
            self.fields["caseworker"].queryset = caseworkers

    def clean_case(self) -> str:
        return self.cleaned_data["case"] or "open"  # open cases unless asked


class InviteForm(StaffLengths, forms.Form):
    username = HandleField(help_text=_("What they type to sign in."))
    email = forms.EmailField(
        help_text=_("The link to choose a password goes here."),
        error_messages={"required": _("Give their email address: the link to choose a password goes there.")},
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whether a username is free is the action's answer, inside this organization only
        # (services.actions.staff.account_username_check).
        self.fields["username"].for_organization(organization.code)
