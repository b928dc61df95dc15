"""Phone numbers, states and postal codes typed into a form: a slip is a message beside the
field (services/forms/contact.py), whatever the form."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from services.forms.contact import phone_or_error, postal_code_or_error, state_or_error
from services.models.directory import Resource
from services.models.people import Exoneree
from tests.test_cases import error_beside

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("(312) 555-0199", "(312) 555-0199"),
        ("  312.555.0199  ", "312.555.0199"),
        ("+1 312 555 0199", "+1 312 555 0199"),
        ("312-555-0199 ext. 24", "312-555-0199 ext. 24"),
        ("312-555-0199 x24", "312-555-0199 x24"),
        ("1-800-273-TALK", "1-800-273-TALK"),
        ("988", "988"),
        ("211", "211"),
        ("", ""),
    ],
)
def test_a_phone_number_as_people_write_it_is_kept(typed, kept):
    assert phone_or_error(typed) == kept


@pytest.mark.parametrize("typed", ["call me", "555-01", "12", "312-555-0199-555-0199-12", "<b>312</b>", "ext 12"])
def test_what_is_not_a_phone_number_is_refused(typed):
    with pytest.raises(forms.ValidationError, match="7 to 15 digits"):
        phone_or_error(typed)


@pytest.mark.parametrize(
    ("typed", "state", "kept"),
    [("60601", "IL", "60601"), ("60601-1234", "IL", "60601-1234"), ("m5v 2t6", "", "M5V 2T6"), ("", "TX", "")],
)
def test_a_postal_code_is_kept(typed, state, kept):
    assert postal_code_or_error(typed, state=state) == kept


WRONG_POSTAL_CODES = [("6060", "IL"), ("606011", "IL"), ("ABCDE", "IL"), ("ABC", ""), ("#1", "")]


@pytest.mark.parametrize(("typed", "state"), WRONG_POSTAL_CODES)
def test_a_postal_code_that_cannot_be_is_refused(typed, state):
    with pytest.raises(forms.ValidationError):
        postal_code_or_error(typed, state=state)


def test_a_state_is_its_two_letter_code():
    assert state_or_error(" il ") == "IL"
    assert state_or_error("pr") == "PR"
    for wrong in ("Illinois", "ZZ", "US"):  # "US" is no address's state
        with pytest.raises(forms.ValidationError, match="two-letter state code"):
            state_or_error(wrong)


def test_the_resource_form_says_which_field_is_wrong_and_saves_nothing(login, world):
    resource = world.marcus.resource
    data = {
        "provider": resource.provider_id,
        "name": "Renamed on the way",
        "domains": ["housing"],
        "state": "IL",
        "postal_code": "6060",
        "phone": "call me",
        "status": "active",
    }

    response = login("director1").post(reverse("resource_edit", args=[resource.pk]), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"postal_code", "phone"}
    assert Resource.objects.get(pk=resource.pk).name == resource.name
    fixed = {**data, "postal_code": "60601", "phone": "(312) 555-0100"}
    assert login("director1").post(reverse("resource_edit", args=[resource.pk]), fixed).status_code == 302


def test_the_persons_phone_is_checked_too(login, world):
    marcus = world.marcus.exoneree
    form = login("caseworker1").get(reverse("exoneree_edit", args=[marcus.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "ssn"}
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    response = login("caseworker1").post(reverse("exoneree_edit", args=[marcus.pk]), {**data, "phone": "no phone"})

    assert response.status_code == 400
    assert "7 to 15 digits" in str(response.context["form"].errors["phone"])
    assert Exoneree.objects.get(pk=marcus.pk).phone == marcus.phone


def test_what_an_import_stored_does_not_stop_an_edit_of_another_field(login, world):
    resource = world.marcus.resource
    Resource.objects.filter(pk=resource.pk).update(state="ON", postal_code="M5V 2T6", phone="Text HOME to 741741")
    data = {
        "provider": resource.provider_id,
        "name": resource.name,
        "domains": ["housing"],
        "state": "ON",
        "postal_code": "M5V 2T6",
        "phone": "Text HOME to 741741",
        "status": "inactive",
    }

    response = login("director1").post(reverse("resource_edit", args=[resource.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    assert Resource.objects.get(pk=resource.pk).status == "inactive"
    retyped = login("director1").post(reverse("resource_edit", args=[resource.pk]), {**data, "phone": "Text HOME"})
    assert "phone" in retyped.context["form"].errors  # once typed again, it is checked


def test_a_persons_phone_stored_in_words_does_not_stop_an_edit_of_another_field(login, world):
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(phone="sister's: 555-0123")
    client = login("caseworker1")
    form = client.get(reverse("exoneree_edit", args=[marcus.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "ssn"}
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    response = client.post(reverse("exoneree_edit", args=[marcus.pk]), {**data, "pronouns": "he/him"})

    assert response.status_code == 302, response.context["form"].errors
    assert Exoneree.objects.get(pk=marcus.pk).pronouns == "he/him"


def test_a_county_typed_with_its_word_county_is_kept_without_it(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    form = client.get(reverse("exoneree_edit", args=[marcus.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "ssn"}
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}

    client.post(reverse("exoneree_edit", args=[marcus.pk]), {**data, "conviction_county": " Will  County "})

    assert Exoneree.objects.get(pk=marcus.pk).conviction_county == "Will"
    assert "Will County County" not in client.get(marcus.get_absolute_url()).content.decode()


# --- a way of contact needs what it uses (walk: "Phone call" was the default with no phone) ------


def test_intake_offers_no_way_of_contact_before_there_is_a_number(login, world):
    form = login("caseworker1").get(reverse("exoneree_create")).context["form"]

    assert form["contact_preference"].value() == ""
    assert form.fields["contact_preference"].choices[0] == ("", "Choose how they want to be reached")


@pytest.mark.parametrize(
    ("way", "message"),
    [
        ("phone", "No phone number yet: add one, or choose another way."),
        ("text", "No phone number yet: add one, or choose another way."),
        ("email", "No email address yet: add one, or choose another way."),
        ("mail", "No mailing address yet: add one, or choose another way."),
    ],
)
def test_intake_refuses_a_way_of_contact_with_nothing_to_use_and_picks_none(login, world, way, message):
    data = {"legal_name": "Nadia Newcomer", "preferred_language": "en", "reminder_channel": "email"}

    response = login("caseworker1").post(reverse("exoneree_create"), {**data, "contact_preference": way})

    assert response.status_code == 400
    assert message in error_beside(response, "contact_preference")
    assert response.context["form"]["contact_preference"].value() == ""  # sent back, no way picked
    assert "selected>Choose how they want to be reached</option>" in response.content.decode()
    assert not Exoneree.objects.filter(legal_name="Nadia Newcomer").exists()


def test_intake_takes_a_way_of_contact_once_it_has_what_it_needs(login, world):
    data = {"legal_name": "Nadia Newcomer", "preferred_language": "en", "reminder_channel": "email"}

    response = login("caseworker1").post(
        reverse("exoneree_create"), {**data, "contact_preference": "text", "phone": "(312) 555-0142"}
    )

    assert response.status_code == 302
    assert Exoneree.objects.get(legal_name="Nadia Newcomer").contact_preference == "text"


@pytest.mark.parametrize(
    ("typed", "taken"),
    [({}, "in_person"), ({"email": "nadia@example.org"}, "email"), ({"phone": "(312) 555-0142"}, "phone")],
)
def test_intake_left_to_choose_takes_the_first_way_the_record_has(login, world, typed, taken):
    data = {"legal_name": "Nadia Newcomer", "preferred_language": "en", "reminder_channel": "email"}

    response = login("caseworker1").post(reverse("exoneree_create"), {**data, **typed})

    assert response.status_code == 302
    assert Exoneree.objects.get(legal_name="Nadia Newcomer").contact_preference == taken


def edit_data(client, marcus: Exoneree) -> dict[str, str]:
    """The edit form as it comes, ready to send back (the SSN box empty keeps the number)."""
    form = client.get(reverse("exoneree_edit", args=[marcus.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and name != "ssn"}
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


@pytest.mark.parametrize(
    ("stored_phone", "change", "refused"),
    [
        ("(312) 555-0199", {"phone": ""}, True),  # the edit takes away what the way needs
        ("", {"pronouns": "he/him"}, False),  # stored so before the rule: other edits still save
    ],
)
def test_an_edit_is_checked_when_it_touches_the_way_or_its_number(login, world, stored_phone, change, refused):
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(phone=stored_phone, contact_preference="phone")
    client = login("caseworker1")

    response = client.post(reverse("exoneree_edit", args=[marcus.pk]), {**edit_data(client, marcus), **change})

    saved = Exoneree.objects.get(pk=marcus.pk)
    if refused:
        assert response.status_code == 400
        assert "No phone number yet: add one, or choose another way." in error_beside(response, "contact_preference")
        assert saved.phone == stored_phone
    else:
        assert response.status_code == 302, response.context["form"].errors
        assert saved.pronouns == "he/him"
