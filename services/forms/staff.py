"""Directors' forms for staff and caseloads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import Role
from services.forms.contact import phone_or_error, when_typed
from services.forms.widgets import (
    CaseworkerChoiceField,
    CaseworkerMultipleChoiceField,
    HandleField,
    ModelsChoiceField,
    StaffLengths,
    name_blanks,
)
from services.models.organizations import Organization
from services.models.people import Exoneree

User = get_user_model()


# A staff member's name: what colleagues see them as, and what the invitation greets.
FIRST_NAME_MISSING = {"required": _("Give their first name.")}
LAST_NAME_MISSING = {"required": _("Give their last name.")}
ROLE = _("Choose their role: caseworker or director")
# The one number their people see under "Who to call" on their plan, and a provider beside a referral.
PHONE_HELP = _("Shown to the people they carry, under “Who to call” on their plan, and to the providers they refer to.")


def phone_field() -> forms.CharField:
    return forms.CharField(label=_("Work phone"), max_length=30, required=False, help_text=PHONE_HELP)


class StaffCreateForm(StaffLengths, forms.Form):
    first_name = forms.CharField(max_length=150, error_messages=FIRST_NAME_MISSING)
    last_name = forms.CharField(max_length=150, error_messages=LAST_NAME_MISSING)
    email = forms.EmailField(
        help_text=_("The invitation to choose a password goes here."),
        error_messages={"required": _("Give their email address: the invitation goes there.")},
    )
    username = HandleField()
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(max_length=100, required=False)
    phone = phone_field()

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whether a username is free is the action's answer, inside this organization only
        # (services.actions.staff.account_username_check).
        self.fields["username"].for_organization(organization.code)
        name_blanks(self, role=ROLE)

    def clean_phone(self) -> str:
        return phone_or_error(self.cleaned_data["phone"])


class StaffUpdateForm(StaffLengths, forms.Form):
    # A plain form: the action compares the new role with the stored one.
    first_name = forms.CharField(max_length=150, error_messages=FIRST_NAME_MISSING)
    last_name = forms.CharField(max_length=150, error_messages=LAST_NAME_MISSING)
    email = forms.EmailField(max_length=254, help_text=_("Changed, the invitation goes again to the new address."))
    role = forms.ChoiceField(choices=Role.choices)
    title = forms.CharField(max_length=100, required=False)
    phone = phone_field()
    is_active = forms.BooleanField(label=_("Can sign in"), required=False)

    def __init__(self, *args: Any, invitation_taken_up: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_blanks(self, role=ROLE)
        if invitation_taken_up:  # theirs from then on (services.actions.staff.staff_update)
            self.fields["email"].disabled = True
            self.fields["email"].required = False  # an address kept blank since an admin made the account
            self.fields["email"].help_text = _("They have chosen a password, so only they can change their address.")

    def clean_phone(self) -> str:
        return when_typed(self, "phone", phone_or_error)  # one an operator stored by hand stays


class CaseloadForm(forms.Form):
    caseworkers = CaseworkerMultipleChoiceField(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Caseworkers"),
        error_messages={"required": _("Tick at least one caseworker.")},
    )

    def __init__(self, *args: Any, caseworkers: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caseworkers"].queryset = caseworkers


class CaseloadMoveForm(forms.Form):
    """Move some or all of one caseworker's people to another caseworker."""

    people = ModelsChoiceField(
        queryset=Exoneree.objects.none(), widget=forms.CheckboxSelectMultiple, required=False, label=_("People")
    )
    everyone = forms.BooleanField(required=False)
    to_caseworker = CaseworkerChoiceField(
        queryset=User.objects.none(),
        label=_("Move them to"),
        error_messages={"required": _("Choose the caseworker to move them to.")},
    )

    def __init__(self, *args: Any, people: QuerySet[Any], receivers: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = people
        self.fields["people"].label_from_instance = lambda person: person.display_name
        self.fields["to_caseworker"].queryset = receivers
        name_blanks(self, to_caseworker=_("Choose a caseworker"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("everyone"):
            data["people"] = list(self.fields["people"].queryset)
        if not data.get("people") and "people" not in self.errors:
            self.add_error("people", _("Tick the people to move, or all of them."))
        return data
