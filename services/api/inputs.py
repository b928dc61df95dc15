"""What each write takes, as the schema tells a client: the fields of the page's own form (which
validates them, services.api.base.valid), which of them must be sent (a field the page fills in
by itself, such as a need's priority, may be left out) and the choices each allows. Declarations
only: no rule lives here."""

from __future__ import annotations

from django.db.models import TextChoices
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from services.choices import ConsentCategory, NeedDomain, NeedStatus, NoteVisibility, Priority, ReferralStatus
from services.lifecycle import NEED_TRANSITIONS, REFERRAL_TRANSITIONS


def _text(help_text: str = "", *, required: bool = False) -> serializers.CharField:
    """A JSON string (services.api.base.form_data refuses any other value); one that may be
    left empty may be null too."""
    return serializers.CharField(
        required=required, allow_blank=not required, allow_null=not required, help_text=help_text
    )


def _need_fields(*, new: bool) -> dict[str, serializers.Field]:
    return {
        "domain": serializers.ChoiceField(NeedDomain.choices, required=new, help_text="The kind of need."),
        "description": _text("What is needed, in plain words: they read it on their plan.", required=new),
        "own_words": _text("What they said, in their own words."),
        "priority": serializers.ChoiceField(Priority.choices, required=False, help_text="Medium if left out."),
        "opened_on": serializers.DateField(required=False, help_text="The day it was recorded: today if left out."),
    }


NEED_INPUT = inline_serializer("NeedInput", _need_fields(new=True))
NEED_CHANGE = inline_serializer("NeedChange", _need_fields(new=False))


def _moves(transitions: dict[str, frozenset[str]], statuses: list[str]) -> str:
    """The lifecycle's moves (services.lifecycle), as the schema tells them."""
    return "; ".join(
        f"{current} → {', '.join(s for s in statuses if s in transitions[current]) or 'none'}" for current in statuses
    )


def _status(statuses: type[TextChoices], transitions: dict[str, frozenset[str]]) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        statuses.choices,
        help_text="The new status: one the lifecycle allows from the current one "
        f"({_moves(transitions, statuses.values)}); another is a 409 naming those it allows.",
    )


NEED_STATUS = inline_serializer("NeedStatus", {"status": _status(NeedStatus, NEED_TRANSITIONS)})
REFERRAL_INPUT = inline_serializer(
    "ReferralInput",
    {
        "resource": serializers.IntegerField(help_text="A resource of the directory."),
        "note": _text("A note to the provider."),
        "categories": serializers.ListField(
            child=serializers.ChoiceField(ConsentCategory.choices),
            required=False,
            help_text="What the referral will share (sending needs the person's consent to each).",
        ),
    },
)
REFERRAL_TRANSITION = inline_serializer(
    "ReferralTransition",
    {
        "status": _status(ReferralStatus, REFERRAL_TRANSITIONS),
        "note": _text(),
        "decline_reason": _text("Why it was declined (when declined)."),
        "got_service": serializers.ChoiceField(["yes", "no"], required=False, allow_blank=True),
        "helped": serializers.ChoiceField(["yes", "no"], required=False, allow_blank=True),
        "feedback": _text(),
        "provider_contact": _text("Kept when accepted: the contact the provider gave."),
        "expected_on": serializers.DateField(
            required=False, help_text="Kept when accepted: the day the provider expects to start."
        ),
    },
)
FOLLOW_UP_INPUT = inline_serializer(
    "FollowUpInput",
    {
        "title": _text("A short title (“Housing visit”): reminders and lists show it.", required=True),
        "due_at": serializers.DateTimeField(help_text="When it is due: more than 30 days past is a 400."),
        "assigned_to": serializers.IntegerField(help_text="A caseworker of the organization."),
        "need": serializers.IntegerField(required=False, help_text="One of the person's needs."),
        "referral": serializers.IntegerField(required=False, help_text="One of the person's referrals."),
        "details": _text("Anything else (kept encrypted)."),
        "shared_with_exoneree": serializers.BooleanField(required=False, help_text="Show it on their plan."),
    },
)
FOLLOW_UP_DONE = inline_serializer("FollowUpDone", {"outcome": _text("What happened.")})
NOTE_INPUT = inline_serializer(
    "NoteInput",
    {
        "text": _text("The note.", required=True),
        "visibility": serializers.ChoiceField(
            NoteVisibility.choices, required=False, help_text="Staff only if left out; shared notes are on their plan."
        ),
    },
)
