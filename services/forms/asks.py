"""The person's ask for help, in plain words, and the caseworker's answer to it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import PLAIN_DOMAINS, NeedDomain, Priority
from services.forms.widgets import LineBreaksAsOne, PlainLengths, VisibleTextField

ASK_WORDS_MAX = 2000

# The areas a person may pick, in their words rather than staff's (services.choices.PLAIN_DOMAINS),
# with an icon each, drawn by the template: the value is the need's domain.
ASK_AREA_ICONS = {
    NeedDomain.BASIC: "🍞",
    NeedDomain.HOUSING: "🏠",
    NeedDomain.TRANSPORTATION: "🚌",
    NeedDomain.IDENTIFICATION: "🪪",
    NeedDomain.INCOME: "💵",
    NeedDomain.HEALTH_COVERAGE: "📋",
    NeedDomain.MEDICAL: "🩺",
    NeedDomain.MENTAL_HEALTH: "💬",
    NeedDomain.SUBSTANCE_USE: "🤝",
    NeedDomain.LEGAL: "⚖️",
    NeedDomain.EMPLOYMENT: "🧰",
    NeedDomain.EDUCATION: "📚",
    NeedDomain.FAMILY: "👪",
    NeedDomain.COMMUNITY: "🌱",
}

# How urgent it feels, in the person's terms; the value is the need's priority.
ASK_URGENCY = [
    (Priority.URGENT, _("Right away")),
    (Priority.HIGH, _("This week")),
    (Priority.MEDIUM, _("This month")),
    (Priority.LOW, _("No hurry")),
]


class AskForm(PlainLengths, forms.Form):
    icons = ASK_AREA_ICONS  # the template draws each area's icon beside its label

    words = VisibleTextField(
        label=_("I need help with…"),
        max_length=ASK_WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Tell us what you need help with.")},
    )
    domain = forms.ChoiceField(
        label=_("What is it about? (you can skip this)"),
        choices=list(PLAIN_DOMAINS.items()),
        required=False,
        widget=forms.RadioSelect,
    )
    priority = forms.ChoiceField(
        label=_("How soon do you need help?"),
        choices=ASK_URGENCY,
        initial=Priority.MEDIUM,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how soon you need help.")},
    )


class AskAnswerForm(LineBreaksAsOne, forms.Form):
    answer = VisibleTextField(
        label=_("Your answer to them"),
        max_length=ASK_WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("They read it on their plan and in their messages, as you write it. Plain words."),
    )
