"""How a phone number, a state and a postal code are checked wherever a form takes one, and
where reminders may go: a slip is a message beside the field, not a number nobody can call, a
letter that never arrives or a reminder that never comes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services import legal_rules
from services.choices import ContactPreference, ReminderChannel

# Not in the compensation rules table (services/data/compensation_rules.yaml), yet places of conviction.
TERRITORIES = {"PR", "GU", "VI", "AS", "MP"}

# Digits (letters too, as in 1-800-273-TALK) and what people write between them, and an
# extension after "ext" or "x".
_PHONE = re.compile(r"(?P<number>[0-9A-Z+()\-. ]+?)\s*(?:(?:ext\.?|x)\s*(?P<extension>[0-9]{1,6}))?", re.IGNORECASE)
# The three-digit lines a resource may give: 211 (community services), 988 (the crisis line) …
_SHORT_LINES = re.compile(r"[2-9]11|988")
_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")
_POSTAL_CODE = re.compile(r"(?=.*[0-9])[A-Z0-9][A-Z0-9 -]{1,8}[A-Z0-9]")


def when_typed(form: forms.BaseForm, name: str, check: Callable[[str], str], *, also: tuple[str, ...] = ()) -> str:
    """A field's value, checked by `check` when it (or a field in `also`) was typed, and as it
    is stored otherwise: what an import stored (a phone in words, a province) does not stop an
    edit of another field."""
    value = form.cleaned_data[name]
    return check(value) if {name, *also} & set(form.changed_data) else value


def is_state(code: str, *, federal: bool = False) -> bool:
    """A state or DC as the rules table names them, or a territory (`federal`: "US" too)."""
    if code == "US":
        return federal
    return bool(re.fullmatch(r"[A-Z]{2}", code)) and (code in legal_rules.rules() or code in TERRITORIES)


def state_or_error(raw: str) -> str:
    """An address's state: its two-letter code, upper case, or a message why not."""
    state = raw.strip().upper()
    if state and not is_state(state):
        raise forms.ValidationError(_("Use the two-letter state code, like IL."))
    return state


def phone_or_error(raw: str) -> str:
    """A phone number of 7 to 15 keys (an extension after "ext" or "x"), or a three-digit line
    such as 988, its spaces tidied."""
    phone = " ".join(raw.split())
    if not phone:
        return ""
    if _SHORT_LINES.fullmatch(phone):
        return phone
    match = _PHONE.fullmatch(phone)
    keys = re.sub(r"[^0-9A-Z]", "", match["number"].upper()) if match else ""
    if not 7 <= len(keys) <= 15 or sum(key.isdigit() for key in keys) < 4:
        raise forms.ValidationError(
            _("Enter a phone number of 7 to 15 digits, like (312) 555-0199; an extension after “ext”.")
        )
    return phone


def postal_code_or_error(raw: str, *, state: str = "") -> str:
    """A ZIP code (ZIP+4 too) where the state is a US one; elsewhere letters and digits."""
    code = " ".join(raw.split()).upper()
    if not code:
        return ""
    if state and is_state(state):
        if not _ZIP.fullmatch(code):
            raise forms.ValidationError(_("Enter the 5-digit ZIP code, like 60601 (or ZIP+4, like 60601-1234)."))
    elif not _POSTAL_CODE.fullmatch(code):
        raise forms.ValidationError(_("Enter the postal code as the post office writes it, like 60601."))
    return code


def reminders_not_to_be_sent(data: dict[str, Any]) -> bool:
    """Whether a form asks for appointment reminders for someone who chose "do not contact": the
    planner never reminds them (services.reminder_plans), so saving it would promise reminders
    that never come. Each form words its own message, beside the reminders' box."""
    return (
        bool(data.get("appointment_reminders")) and data.get("contact_preference") == ContactPreference.DO_NOT_CONTACT
    )


def reminders_with_nowhere_to_go(data: dict[str, Any], *, has_phone: bool, has_email: bool) -> str | None:
    """The channel of the appointment reminders a form asks for when it has nothing to send them
    to (text with no phone, email with no address), else None. Each form words its own message:
    the person is told to ask their caseworker, staff to fill in the record."""
    channel = data.get("reminder_channel")
    if data.get("appointment_reminders") and (
        (channel == ReminderChannel.SMS and not has_phone) or (channel == ReminderChannel.EMAIL and not has_email)
    ):
        return channel
    return None


def _reachable(*, has_phone: bool, has_email: bool, has_address: bool) -> dict[str, bool]:
    """Each way of contact that needs something, and whether the record has it."""
    return {
        ContactPreference.PHONE: has_phone,
        ContactPreference.TEXT: has_phone,
        ContactPreference.EMAIL: has_email,
        ContactPreference.MAIL: has_address,
    }


def contact_with_nowhere_to_go(data: dict[str, Any], *, has_phone: bool, has_email: bool, has_address: bool) -> str:
    """The way of contact a form chooses when the record has nothing to reach the person by that
    way (a call or a text with no phone, an email with no address, a letter with no mailing
    address), else ''. Each form words its own message: staff are told to add it, the person to
    ask their caseworker; both may choose another way."""
    choice = data.get("contact_preference") or ""
    reachable = _reachable(has_phone=has_phone, has_email=has_email, has_address=has_address)
    return choice if reachable.get(choice, True) is False else ""


def first_way(*, has_phone: bool, has_email: bool, has_address: bool) -> str:
    """The way of contact a new record takes when none was chosen: the first it has, else in person."""
    reachable = _reachable(has_phone=has_phone, has_email=has_email, has_address=has_address)
    ways = (ContactPreference.PHONE, ContactPreference.EMAIL, ContactPreference.MAIL)
    return next((way for way in ways if reachable[way]), ContactPreference.IN_PERSON)


def choose_again(form: forms.BaseForm, name: str) -> None:
    """Sent back with a way of contact that does not exist, the form selects none: the choice is
    made again, with the number added or another way, never kept by default."""
    form.data = form.data.copy()
    form.data[form.add_prefix(name)] = ""
