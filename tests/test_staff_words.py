"""Staff's forms speak one language about lengths and missing fields: a text too long is told in
characters, the word of the counter below a staff's box, with what to do (the person's own
forms say letters and spaces, as their counter does: tests/test_text_limits.py); a field left
empty says what to give, not Django's bare "This field is required."."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from services.choices import ConsentCategory, Role
from services.forms.widgets import name_blanks
from services.models.api import ApiToken
from services.models.casework import Assessment
from services.models.consent import Consent, EmergencyAccess
from services.models.directory import Resource
from services.models.follow_ups import FollowUp
from services.models.legal import ClaimPayment, InnocenceCertificate
from services.models.messages import MESSAGE_MAX_LENGTH, Message
from services.models.needs import Need
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World
from tests.factories import ExonereeFactory, consent_for
from tests.test_cases import error_beside
from tests.test_legal import illinois_claim

User = get_user_model()

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

NEW_STAFF = {
    "first_name": "Nia",
    "last_name": "Newhire",
    "email": "nia@example.org",
    "username": "nnewhire",
    "role": Role.CASEWORKER,
}


def test_a_staff_message_too_long_is_told_in_characters_as_the_counter_below_it_says(login, world: World) -> None:
    """The caseworker's side of the thread shared the person's form, and said "letters and
    spaces" beside a box whose counter said "Characters left"."""
    address = reverse("exoneree_messages", args=[world.marcus.exoneree.pk])

    response = login("caseworker1").post(address, {"text": "x" * (MESSAGE_MAX_LENGTH + 1)})

    assert response.status_code == 400
    beside = error_beside(response, "text")
    assert f"Please keep this to {MESSAGE_MAX_LENGTH} characters or fewer. You wrote {MESSAGE_MAX_LENGTH + 1}." in (
        beside
    )
    page = response.content.decode()
    assert 'data-left="Characters left: {left} of {most}."' in page and "letters and spaces" not in page
    assert not Message.objects.exists()


def test_the_persons_own_message_too_long_is_still_told_in_letters_and_spaces(login, world: World) -> None:
    response = login("exoneree1").post(reverse("my_messages"), {"text": "x" * (MESSAGE_MAX_LENGTH + 1)})

    assert response.status_code == 400
    assert f"at most {MESSAGE_MAX_LENGTH} letters and spaces" in error_beside(response, "text")
    assert 'data-left="Letters and spaces left: {left} of {most}."' in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_staff_members_name_too_long_says_what_to_do_not_djangos_words(login, world: World, field: str) -> None:
    """It said "Ensure this value has at most 150 characters (it has 162).\""""
    response = login("director1").post(reverse("staff_create"), {**NEW_STAFF, field: "x" * 162})

    assert response.status_code == 400
    assert "Please keep this to 150 characters or fewer. You wrote 162." in error_beside(response, field)
    assert "Ensure this value" not in response.content.decode()
    assert not StaffMember.objects.filter(user__username__startswith="nnewhire@").exists()


USERNAME_FORMS = {
    "staff": ("director1", lambda w: reverse("staff_create"), NEW_STAFF, lambda: StaffMember.objects.count()),
    "invitation": (
        "caseworker1",
        lambda w: invite_newcomer(w),
        {"email": "nadia@example.org"},
        lambda: User.objects.filter(email="nadia@example.org").count(),
    ),
}


@pytest.mark.parametrize("form", list(USERNAME_FORMS))
def test_a_username_too_long_says_one_thing_beside_it(login, world: World, form: str) -> None:
    """200 characters broke the length and the pattern, and both were said, one under the other."""
    persona, address, data, kept = USERNAME_FORMS[form]
    where = address(world)
    before = kept()

    response = login(persona).post(where, {**data, "username": "n" * 200})

    assert response.status_code == 400
    beside = error_beside(response, "username")
    assert beside.count("<li>") == 1, beside
    assert "Please keep this to 40 characters or fewer. You wrote 200." in beside
    assert kept() == before


@pytest.mark.parametrize("username", ["Nia Newhire", "nn"])
def test_a_username_of_the_wrong_shape_still_says_what_it_may_hold(login, world: World, username: str) -> None:
    response = login("director1").post(reverse("staff_create"), {**NEW_STAFF, "username": username})

    assert response.status_code == 400
    beside = error_beside(response, "username")
    assert beside.count("<li>") == 1 and "Use 3–40 letters, digits, dots, dashes or underscores." in beside, beside


# --- a field left empty says what to give ----------------------------------------------------


def person(name: str, *, director: bool = False):
    """A page of Marcus's record, opened by his caseworker (or the director)."""
    return ("director1" if director else "caseworker1", lambda w: reverse(name, args=[w.marcus.exoneree.pk]))


def claims_payment(w: World) -> str:
    return reverse("payment_create", args=[illinois_claim(w).pk])


def invite_newcomer(w: World) -> str:
    """The invitation of someone with no login yet."""
    nadia = ExonereeFactory(organization=w.org1, legal_name="Nadia Newcomer", caseworkers=[w.caseworker1])
    return reverse("exoneree_invite", args=[nadia.pk])


def marcus_consent(w: World) -> str:
    return reverse("consent_edit", args=[consent_for(w.marcus.exoneree, w.marcus.resource.provider).pk])


# (who, where, what is posted, the field, what it must say beside it, what must stay as it was)
MISSING = [
    (
        *person("restriction", director=True),
        {},
        "reason",
        "Say why: the reason goes in the access log.",
        lambda w: Exoneree.objects.filter(restricted=True).count(),
    ),
    (
        "caseworker1",
        lambda w: reverse("emergency_access_request"),
        {"legal_name": "Anita Ramirez", "date_of_birth": "1970-01-01", "confirm": "on"},
        "reason",
        "Say why you need this record now: your director reads it.",
        lambda w: EmergencyAccess.objects.count(),
    ),
    (
        *person("consent_create"),
        {},
        "purpose",
        "Say what the information is shared for, as the signed release says.",
        lambda w: Consent.objects.count(),
    ),
    (
        *person("consent_create"),
        {},
        "starts_on",
        "Give the first day the release covers.",
        lambda w: Consent.objects.count(),
    ),
    (
        *person("consent_create"),
        {},
        "ends_on",
        "Give the day the release ends, as they signed it.",
        lambda w: Consent.objects.count(),
    ),
    (*person("consent_create"), {}, "signed_on", "Give the day they signed.", lambda w: Consent.objects.count()),
    (
        "caseworker1",
        marcus_consent,
        {"categories": ConsentCategory.CONTACT},
        "ends_on",
        "Give the last day it may be shared: the end they signed, or earlier.",
        lambda w: list(Consent.objects.values_list("ends_on", flat=True)),
    ),
    (
        *person("case_close"),
        {"closed_on": ""},
        "closed_on",
        "Give the exit date: the day the case ended.",
        lambda w: Exoneree.objects.get(pk=w.marcus.exoneree.pk).case_is_open,
    ),
    (
        "caseworker1",
        claims_payment,
        {},
        "received_on",
        "Give the day the payment came.",
        lambda w: ClaimPayment.objects.count(),
    ),
    (
        "caseworker1",
        claims_payment,
        {},
        "amount",
        "Give the amount received, in US dollars.",
        lambda w: ClaimPayment.objects.count(),
    ),
    (
        *person("certificate_create"),
        {},
        "court",
        "Name the court asked for the certificate.",
        lambda w: InnocenceCertificate.objects.count(),
    ),
    (
        *person("need_create"),
        {"opened_on": ""},
        "opened_on",
        "Give the day the need was recorded.",
        lambda w: Need.objects.count(),
    ),
    (
        *person("need_create"),
        {"description": ""},
        "description",
        "Describe the need, in plain words: they read it on their plan.",
        lambda w: Need.objects.count(),
    ),
    # A list left on its "Choose …" line says those words.
    (*person("consent_create"), {}, "provider", "Choose the provider.", lambda w: Consent.objects.count()),
    (*person("consent_create"), {}, "signed_how", "Choose how they signed.", lambda w: Consent.objects.count()),
    (*person("consent_create"), {}, "categories", "Tick what they agreed to share.", lambda w: Consent.objects.count()),
    (*person("assessment_create"), {}, "kind", "Choose the kind of assessment.", lambda w: Assessment.objects.count()),
    (
        "caseworker1",
        lambda w: reverse("referral_create", args=[w.marcus.need.pk]),
        {},
        "resource",
        "Choose a resource.",
        lambda w: Referral.objects.count(),
    ),
    (
        *person("follow_up_create"),
        {"due_at": ""},
        "due_at",
        "Give the day and time it is due.",
        lambda w: FollowUp.objects.count(),
    ),
    (
        *person("follow_up_record_done"),
        {"due_at": ""},
        "title",
        "Say what was done, in a few words.",
        lambda w: FollowUp.objects.count(),
    ),
    (
        *person("follow_up_record_done"),
        {"due_at": ""},
        "due_at",
        "Give the day and time it was done.",
        lambda w: FollowUp.objects.count(),
    ),
    (
        *person("assessment_create"),
        {"taken_on": ""},
        "taken_on",
        "Give the day the assessment was taken.",
        lambda w: Assessment.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("resource_create"),
        {},
        "name",
        "Name the service, as the provider calls it.",
        lambda w: Resource.objects.count(),
    ),
    (
        "caseworker1",
        lambda w: reverse("api_token_list"),
        {"scope": "read", "days": "30"},
        "name",
        "Say what it is for, so it can be told apart from the others later.",
        lambda w: ApiToken.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_create"),
        {},
        "first_name",
        "Give their first name.",
        lambda w: StaffMember.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_create"),
        {},
        "last_name",
        "Give their last name.",
        lambda w: StaffMember.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_create"),
        {},
        "email",
        "Give their email address: the invitation goes there.",
        lambda w: StaffMember.objects.count(),
    ),
    (
        "caseworker1",
        invite_newcomer,
        {"username": "nnewcomer"},
        "email",
        "Give their email address: the link to choose a password goes there.",
        lambda w: User.objects.filter(username__startswith="nnewcomer").count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_create"),
        {},
        "username",
        "Choose the username they will sign in with.",
        lambda w: StaffMember.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_edit", args=[w.caseworker2.staff.pk]),
        {"last_name": "Two", "role": Role.CASEWORKER},
        "first_name",
        "Give their first name.",
        lambda w: User.objects.get(pk=w.caseworker2.pk).first_name,
    ),
    # A list with no empty choice, sent empty by a forged request, says what to choose there.
    (
        "director1",
        lambda w: reverse("staff_create"),
        {key: value for key, value in NEW_STAFF.items() if key != "role"},
        "role",
        "Choose their role: caseworker or director.",
        lambda w: StaffMember.objects.count(),
    ),
    (
        "director1",
        lambda w: reverse("staff_edit", args=[w.caseworker2.staff.pk]),
        {"first_name": "Case", "last_name": "Two"},
        "role",
        "Choose their role: caseworker or director.",
        lambda w: StaffMember.objects.get(user=w.caseworker2).role,
    ),
    (
        *person("note_create"),
        {"text": "Called about the lease."},
        "visibility",
        "Choose who may read it: staff only, or shared with the person.",
        lambda w: w.marcus.exoneree.notes.count(),
    ),
    (*person("need_create"), {}, "priority", "Choose how urgent it is.", lambda w: Need.objects.count()),
    (
        *person("certificate_create"),
        {"court": "Cook County"},
        "status",
        "Choose where it stands.",
        lambda w: InnocenceCertificate.objects.count(),
    ),
    (
        "caseworker1",
        lambda w: reverse("api_token_list"),
        {"name": "The county's dashboard", "days": "30"},
        "scope",
        "Choose what it may do: read, or read and write.",
        lambda w: ApiToken.objects.count(),
    ),
]


@pytest.mark.parametrize(("persona", "address", "data", "field", "words", "kept"), MISSING)
def test_a_staff_field_left_empty_says_what_to_give_beside_it(
    login, world: World, persona, address, data, field, words, kept
) -> None:
    """Each said Django's bare "This field is required.", whatever the field was for."""
    where = address(world)
    before = kept(world)

    response = login(persona).post(where, data)

    assert response.status_code == 400
    beside = error_beside(response, field)
    assert words in beside and "This field is required." not in beside
    assert kept(world) == before


class Lists(forms.Form):
    """Lists as the forms have them: with no empty choice, with one, grouped, and several at once."""

    status = forms.ChoiceField(choices=[("open", "Open"), ("met", "Met")])
    answer = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect)
    grouped = forms.ChoiceField(choices=[("", "---------"), ("Housing", [("shelter", "Shelter")])])
    several = forms.MultipleChoiceField(choices=[("a", "A")])
    named = forms.ChoiceField(choices=[("a", "A")])


def test_a_list_with_no_empty_choice_says_what_to_do_when_a_request_sends_nothing() -> None:
    """A list the page never sends empty said Django's "This field is required." to a forged
    request; named, it says its own words, unnamed the general ones (services.forms.widgets)."""
    form = Lists({})
    name_blanks(form, named=_("Choose a letter"))

    assert not form.is_valid()
    assert form.errors["status"] == ["Choose one from the list."]
    assert form.errors["answer"] == ["Choose one of the answers."]
    assert form.errors["named"] == ["Choose a letter."]
    # A list with its own empty line keeps the "Choose…" it shows, and its message for a form to name.
    assert form.fields["grouped"].choices[0] == ("", "Choose…")
    assert form.errors["grouped"] == ["This field is required."]
    assert form.errors["several"] == ["This field is required."]


def test_the_persons_ways_to_be_reached_say_what_to_choose_when_a_request_sends_nothing(login, world: World) -> None:
    response = login("exoneree1").post(reverse("my_contact_wishes"), {})

    assert response.status_code == 400
    assert "Choose how we should reach you." in error_beside(response, "contact_preference")
    assert "Choose how to get your reminders." in error_beside(response, "reminder_channel")
