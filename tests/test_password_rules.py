"""The new password's rules, in plain words and said where the person typed it: on the change
page and on the page a first sign-in (the invitation link) opens, in English and in Spanish."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from services.lib.links import invitation_link
from services.models.people import Exoneree
from tests.conftest import World
from tests.test_cases import error_beside
from tests.test_signin import PASSWORD

TOO_COMMON = {
    "en": "Many people use this password, so it is easy to guess. Choose another one.",
    "es": "Mucha gente usa esta contraseña, así que es fácil de adivinar. Elija otra.",
}


def has_error_beside(response, field: str) -> bool:
    return re.search(rf'\bid="id_{field}_errors?"', response.content.decode()) is not None


def change(world: World, language: str, new: str, again: str):
    Exoneree.objects.filter(user=world.exoneree1).update(preferred_language=language)
    world.exoneree1.set_password(PASSWORD)
    world.exoneree1.save(update_fields=["password"])
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.exoneree1)
    return client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": again}
    )


def choose_first(world: World, language: str, new: str):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = client.get(invitation_link(world.exoneree2).removeprefix(settings.SITE_URL), follow=True)
    return client.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_broken_rule_is_said_beside_the_new_password_not_beside_again(world: World, language):
    """Django put "This password is too common." under "New password again": a person retyped
    the same password there, and the box with the password to change was not marked."""
    changed = change(world, language, "password123", "password123")
    chosen = choose_first(world, language, "password123")

    for response in (changed, chosen):
        assert response.status_code == 200
        assert TOO_COMMON[language] in error_beside(response, "new_password1")
        assert not has_error_beside(response, "new_password2")


def test_two_different_new_passwords_are_still_said_beside_again(world: World):
    response = change(world, "en", "a long new passphrase", "a long new passphrase!")

    assert "Type the new password in both boxes again." in error_beside(response, "new_password2")
    assert not has_error_beside(response, "new_password1")


SAID = {
    "whitfield1": {
        "en": "The new password is too much like your name, username or email. Choose other words.",
        "es": "La contraseña nueva se parece demasiado a su nombre, su nombre de usuario o su correo. "
        "Elija otras palabras.",
    },
    "1234567809": {
        "en": "Use letters too, not only numbers.",
        "es": "Use también letras, no solo números.",
    },
    "short": {
        "en": "Too short: use at least 10 letters, numbers or signs.",
        "es": "Es muy corta: use por lo menos 10 letras, números o signos.",
    },
}
HELP = {
    "en": "At least 10 letters, numbers or signs. Not your name, username or email. Not a password many people use. "
    "Not only numbers.",
    "es": "Por lo menos 10 letras, números o signos. Que no sea su nombre, su nombre de usuario ni su correo. "
    "Que no sea una contraseña que usa mucha gente. Que no sea solo números.",
}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("password", list(SAID))
def test_the_rules_are_said_in_plain_words(world: World, language, password):
    """Django's Spanish said "La contraseña es demasiado similar a la de nombre." (its "the
    first name" put into a sentence that does not fit it), and its rules spoke of "characters"
    and "a commonly used password"."""
    response = change(world, language, password, password)

    assert SAID[password][language] in error_beside(response, "new_password1")
    assert HELP[language] in response.content.decode()


@pytest.mark.parametrize(
    ("language", "rule"), [("en", "10 letters, numbers or signs"), ("es", "10 letras, números o signos")]
)
def test_the_first_password_page_says_the_length_once(world: World, language, rule):
    """Its welcome said "Use at least 10 letters, numbers or signs." above the rules that say it:
    twice, and the welcome's "10" was typed in, not the rule's own number."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = client.get(invitation_link(world.exoneree2).removeprefix(settings.SITE_URL), follow=True)

    assert page.content.decode().count(rule) == 1
