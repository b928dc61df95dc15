"""Staff's forms speak one language about lengths and missing fields: a text too long is told in
characters, the word of the counter below a staff's box, with what to do (the person's own
forms say letters and spaces, as their counter does: tests/test_text_limits.py); a field left
empty says what to give, not Django's bare "This field is required."."""

from __future__ import annotations

import pytest
from django.urls import reverse

from services.choices import Role
from services.models.messages import MESSAGE_MAX_LENGTH, Message
from services.models.organizations import StaffMember
from tests.conftest import World
from tests.test_cases import error_beside

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
