"""The person's ask for help, in plain words, and the caseworker's answer to it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import PLAIN_DOMAINS, NeedDomain, Priority
from services.forms.widgets import PlainLengths, StaffLengths, VisibleTextField

ASK_WORDS_MAX = 2000

# The areas a person may pick, in their words rather than staff's (services.choices.PLAIN_DOMAINS),
# with an icon each, drawn by the template as an inline SVG path (24 x 24, lines in the text's
# colour): the value is the need's domain. Not emoji: a phone or browser without an emoji font
# (Debian's chromium) showed each as an empty box.
ASK_AREA_ICONS = {
    NeedDomain.BASIC: "M5 11a4 4 0 0 1 2-7.5h10a4 4 0 0 1 2 7.5v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1z",  # bread
    NeedDomain.HOUSING: "M3 11l9-8 9 8M5 9.5V21h14V9.5M10 21v-6h4v6",  # a house
    NeedDomain.TRANSPORTATION: (  # a bus
        "M6 3h12a2 2 0 0 1 2 2v12H4V5a2 2 0 0 1 2-2zM4 11h16M7 17v3M17 17v3M8 14h.01M16 14h.01"
    ),
    NeedDomain.IDENTIFICATION: (  # a card with a face
        "M3 5h18v14H3zM7 10a2 2 0 1 0 4 0a2 2 0 1 0-4 0M6 16c.5-1.5 1.5-2 3-2s2.5.5 3 2M14 9h4M14 13h4"
    ),
    NeedDomain.INCOME: "M2 6h20v12H2zM9 12a3 3 0 1 0 6 0a3 3 0 1 0-6 0M6 9h.01M18 15h.01",  # a banknote
    NeedDomain.HEALTH_COVERAGE: "M8 4H5v17h14V4h-3M9 2h6v4H9zM9 11h6M9 15h6",  # a form on a clipboard
    NeedDomain.MEDICAL: "M9 3h6v6h6v6h-6v6H9v-6H3V9h6z",  # a cross
    NeedDomain.MENTAL_HEALTH: "M21 12a8 8 0 0 1-11.5 7.2L4 21l1.8-5.5A8 8 0 1 1 21 12z",  # a speech bubble
    NeedDomain.SUBSTANCE_USE: "M12 20s-7-4.5-9-9a4.5 4.5 0 0 1 9-3a4.5 4.5 0 0 1 9 3c-2 4.5-9 9-9 9z",  # a heart
    NeedDomain.LEGAL: "M12 3v18M8 21h8M5 7h14M5 7l-3 7a3 3 0 0 0 6 0zM19 7l-3 7a3 3 0 0 0 6 0z",  # scales
    NeedDomain.EMPLOYMENT: "M3 8h18v12H3zM9 8V5h6v3M3 13h18",  # a work bag
    NeedDomain.EDUCATION: "M2 5c3-1 7-1 10 1c3-2 7-2 10-1v14c-3-1-7-1-10 1c-3-2-7-2-10-1zM12 6v14",  # a book
    NeedDomain.FAMILY: (  # two people
        "M6 7a3 3 0 1 0 6 0a3 3 0 1 0-6 0M3 20c0-3.5 2.5-6 6-6s6 2.5 6 6"
        "M14.5 9a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0-5 0M17 14c2.5 0 4 2 4 5"
    ),
    NeedDomain.COMMUNITY: "M12 21v-9M12 12C12 8 9 5 4 5c0 4 3 7 8 7zM12 14c0-3 2.5-6 7-6c0 3.5-2.5 6-7 6z",  # a sprout
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


class AskAnswerForm(StaffLengths, forms.Form):
    answer = VisibleTextField(
        label=_("Your answer to them"),
        max_length=ASK_WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("They read it on their plan and in their messages, as you write it. Plain words."),
    )
