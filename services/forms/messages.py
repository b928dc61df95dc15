"""A message to the person's conversation, and staff's "needs action" flag."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.forms.widgets import TOO_LONG_IN_CHARACTERS, PlainLengths, VisibleTextField
from services.models.messages import MESSAGE_MAX_LENGTH


class MessageForm(PlainLengths, forms.Form):
    text = VisibleTextField(
        label=_("Your message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write your message.")},
    )
    about = forms.ChoiceField(label=_("It is about (you can skip this)"), required=False)

    def __init__(self, *args: Any, about: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the person's own needs, referrals and follow-ups: anything else is refused.
        self.fields["about"].choices = [("", _("Nothing in particular")), *about]


class StaffMessageForm(MessageForm):
    """The same thread written from the staff's side: a text too long is told in characters, as
    the counter below a staff's box says (the person's own form says letters and spaces)."""

    too_long = TOO_LONG_IN_CHARACTERS


class NeedsActionForm(forms.Form):
    needs_action = forms.TypedChoiceField(
        choices=[("1", "Needs action"), ("0", "Done")], coerce=lambda value: value == "1"
    )
