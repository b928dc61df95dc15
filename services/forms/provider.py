"""The provider's answers through its link, and the person's own word on their plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from services.actions.provider_answers import ANSWER_MAX_LENGTH, OTHER_NEEDS_WORDS, REASON_FIELDS
from services.choices import UNRESOLVED_REASONS, AppointmentAnswer, DeclineReason, PersonAnswer
from services.forms.dates import refuse_unlikely_start
from services.forms.widgets import (
    DateInput,
    OwnWordsField,
    PlainLengths,
    StaffLengths,
    VisibleTextField,
)

MOVES = [
    ("accept", _("Accept")),
    ("decline", _("Decline")),
    ("start", _("Mark in progress")),
    ("complete", _("Mark completed")),
    ("unresolved", _("It could not be done")),
    ("question", _("Ask the caseworker a question")),
]
# Each move's free text: a note, or the words beside a reason.
WORDS_FIELDS = {"start": "start_note", "complete": "completion_note"} | {
    move: words for move, (_code, words) in REASON_FIELDS.items()
}
GOT_SERVICE = [("", _("Choose…")), ("yes", _("Yes")), ("no", _("No"))]


def reason_words() -> VisibleTextField:
    """The words beside a reason from a short list (needed for "Another reason")."""
    return VisibleTextField(
        label=_("Anything to add"),
        help_text=_("Needed if you chose “Another reason”: say what it is."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProviderAnswerForm(StaffLengths, forms.Form):
    """Every button of the provider's page posts this form with its `move`; each move asks
    only its own questions (field names differ per move, so one page holds them all). The
    provider has no account and may be anyone at the program: a text too long is told in
    characters, a word a program's staff know, as on our staff's forms."""

    move = forms.ChoiceField(choices=MOVES, widget=forms.HiddenInput)
    # Every free text is a VisibleTextField: one made only of zero-width spaces counts as
    # empty, so an invisible question is refused like an empty box, not sent.
    contact_person = VisibleTextField(
        label=_("Who will be the person's contact with you?"), required=False, max_length=200
    )
    expected_on = forms.DateField(label=_("When do you expect to start?"), required=False, widget=DateInput())
    decline_code = forms.ChoiceField(
        label=_("Why can you not take this referral?"),
        choices=[("", _("Choose…")), *DeclineReason.choices],
        required=False,
    )
    decline_text = reason_words()
    unresolved_code = forms.ChoiceField(
        label=_("Why could it not be done?"),
        choices=[("", _("Choose…")), *[(code, DeclineReason(code).label) for code in UNRESOLVED_REASONS]],
        required=False,
    )
    unresolved_text = reason_words()
    start_note = VisibleTextField(
        label=_("A note for the caseworker"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    got_service = forms.ChoiceField(label=_("Did the person get the service?"), choices=GOT_SERVICE, required=False)
    completion_note = VisibleTextField(
        label=_("A note for the caseworker"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    question = VisibleTextField(
        label=_("Your question"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_expected_on(self) -> date | None:
        return refuse_unlikely_start(self.cleaned_data.get("expected_on"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors.pop("move", None):
            # The move is the hidden value of the button pressed, never a box to correct: one
            # the page does not offer (made up, or none) is said at the top, what was typed kept.
            self.add_error(None, _("That answer is not one this page offers. Use one of the buttons below."))
            return data
        move = data.get("move")
        if move in REASON_FIELDS:
            code, words = REASON_FIELDS[move]
            if not data.get(code):
                self.add_error(code, _("Choose a reason."))
            elif data[code] == DeclineReason.OTHER and not self.written(words):
                self.add_error(words, OTHER_NEEDS_WORDS)
        if move == "complete" and not data.get("got_service"):
            self.add_error("got_service", _("Say whether the person got the service."))
        if move == "question" and not self.written("question"):
            self.add_error("question", _("Write your question."))
        return data

    def written(self, name: str) -> bool:
        """Whether the box has words in it. A text refused as too long is not in cleaned_data
        but was written: "Write your question." beside "Please keep this to 2000 characters"
        told the provider to write what they had just written."""
        return bool(self.cleaned_data.get(name)) or name in self.errors

    def text(self) -> str:
        """The free text that goes with the move."""
        return self.cleaned_data.get(WORDS_FIELDS.get(self.cleaned_data["move"], ""), "") or ""

    def reason_code(self) -> str:
        """The reason chosen from the move's short list (declined, or could not be done)."""
        move = self.cleaned_data["move"]
        return self.cleaned_data.get(REASON_FIELDS[move][0], "") if move in REASON_FIELDS else ""

    def got_service_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("got_service", ""))


class ProviderQuestionAnswerForm(StaffLengths, forms.Form):
    """On the referral's page, under each of the provider's questions not yet answered: the
    caseworker's answer, which the provider reads on their page."""

    answer = VisibleTextField(
        label=_("Your answer to the provider"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write your answer.")},
    )

    def __init__(self, *args: Any, question_pk: int, **kwargs: Any) -> None:
        # Each question's form has its own ids: the page holds one form per question.
        super().__init__(*args, auto_id=f"id_q{question_pk}_%s", **kwargs)


class PersonAnswerForm(PlainLengths, forms.Form):
    """On the person's plan: did you get help from <provider>?"""

    answer = forms.ChoiceField(
        label=_("Did you get help?"),
        choices=PersonAnswer.choices,
        error_messages={"required": _("Choose one answer.")},
    )
    words = OwnWordsField(
        label=_("Tell us more, in your own words (you can leave this empty)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AppointmentAnswerForm(PlainLengths, forms.Form):
    """On the person's plan: will you be there? (issue 19)"""

    answer = forms.ChoiceField(
        label=_("Will you be there?"),
        choices=AppointmentAnswer.choices,
        error_messages={"required": _("Choose one answer.")},
    )
    words = OwnWordsField(
        label=_("Tell us more, in your own words (you can leave this empty)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
