"""Phone numbers, states and postal codes typed into a form: a slip is a message beside the
field (services/forms/contact.py), whatever the form."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from services.forms.contact import phone_or_error, postal_code_or_error, state_or_error
from services.models.directory import Resource
from services.models.people import Exoneree

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
