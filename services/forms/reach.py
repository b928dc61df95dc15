"""How the person wants to be reached and reminded, set by the person (issue 19)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import ContactPreference, ReminderChannel
from services.forms.contact import (
    choose_again,
    contact_with_nowhere_to_go,
    reminders_not_to_be_sent,
    reminders_with_nowhere_to_go,
)
from services.forms.widgets import TimeInput, name_blanks
from services.models.people import CONTACT_WISH_FIELDS, Exoneree

# The same choices staff see, said the way the person would say them.
PLAIN_CONTACT = {
    ContactPreference.PHONE: _("Call me on the phone"),
    ContactPreference.TEXT: _("Send me a text message"),
    ContactPreference.EMAIL: _("Send me an email"),
    ContactPreference.MAIL: _("Send me a letter"),
    ContactPreference.IN_PERSON: _("Only in person"),
    ContactPreference.DO_NOT_CONTACT: _("Do not contact me"),
}
PLAIN_CHANNEL = {ReminderChannel.EMAIL: _("Email"), ReminderChannel.SMS: _("Text message")}

NO_PHONE = _("We have no phone number for you. Ask your caseworker to add it.")
NO_EMAIL = _("We have no email address for you. Ask your caseworker to add it.")
# A way of contact we have nothing for: the person cannot add a number here, their caseworker can.
NO_PHONE_TO_REACH = _("We have no phone number for you yet. Ask your caseworker to add it, or choose another way.")
NO_WAY_TO_REACH = {
    ContactPreference.PHONE: NO_PHONE_TO_REACH,
    ContactPreference.TEXT: NO_PHONE_TO_REACH,
    ContactPreference.EMAIL: _(
        "We have no email address for you yet. Ask your caseworker to add it, or choose another way."
    ),
    ContactPreference.MAIL: _(
        "We have no mailing address for you yet. Ask your caseworker to add it, or choose another way."
    ),
}
NO_CONTACT_NO_REMINDERS = _(
    "You chose “Do not contact me”, so we cannot send you reminders. "
    "Choose another way to reach you, or leave this box empty."
)


class ContactWishesForm(forms.ModelForm):
    class Meta:
        model = Exoneree
        fields = CONTACT_WISH_FIELDS
        labels = {
            "contact_preference": _("How should we reach you?"),
            "ok_to_leave_message": _("You may leave me a voice message"),
            "appointment_reminders": _("Remind me before my appointments"),
            "reminder_channel": _("Send my reminders by"),
            "quiet_hours_start": _("Do not send reminders after…"),
            "quiet_hours_end": _("…until"),
        }
        help_texts = {
            "ok_to_leave_message": _("Leave this empty if someone else may hear your messages."),
            "appointment_reminders": _("We send one reminder, the day before."),
            # As a phone's time box shows it (12 hours, "--:-- --", on a phone set to US English),
            # and as 24 hours, which it shows elsewhere.
            "quiet_hours_start": _("For example 9:00 p.m. (21:00). Leave both empty for no quiet time."),
            "quiet_hours_end": _("For example 8:00 a.m. (08:00)."),
        }
        widgets = {
            "contact_preference": forms.RadioSelect,
            "reminder_channel": forms.RadioSelect,
            "quiet_hours_start": TimeInput(),
            "quiet_hours_end": TimeInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_preference"].choices = [(value, PLAIN_CONTACT[value]) for value in ContactPreference]
        self.fields["reminder_channel"].choices = [(value, PLAIN_CHANNEL[value]) for value in ReminderChannel]
        name_blanks(
            self,
            contact_preference=_("Choose how we should reach you"),
            reminder_channel=_("Choose how to get your reminders"),
        )
        for name in ("quiet_hours_start", "quiet_hours_end"):
            self.fields[name].error_messages["invalid"] = _("Write a time like 21:00.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The planner never reminds someone who chose "do not contact": say so, not "saved".
        if reminders_not_to_be_sent(data):
            self.add_error("appointment_reminders", NO_CONTACT_NO_REMINDERS)
        # A reminder needs somewhere to go: say so now, not by a reminder that never comes.
        elif missing := reminders_with_nowhere_to_go(
            data, has_phone=bool(self.instance.phone), has_email=bool(self.instance.email)
        ):
            self.add_error("reminder_channel", NO_PHONE if missing == ReminderChannel.SMS else NO_EMAIL)
        # A way chosen here needs what the record has; a choice kept from before is not refused,
        # so that changing the reminders alone still saves.
        if "contact_preference" in self.changed_data and (
            way := contact_with_nowhere_to_go(
                data,
                has_phone=bool(self.instance.phone),
                has_email=bool(self.instance.email),
                has_address=bool(self.instance.address),
            )
        ):
            self.add_error("contact_preference", NO_WAY_TO_REACH[way])
            choose_again(self, "contact_preference")
        return data
