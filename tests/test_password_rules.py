"""The new password's rules, said where the person typed it: on the change page and on the
page a first sign-in (the invitation link) opens, in English and in Spanish."""

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

TOO_COMMON = {"en": "This password is too common.", "es": "Esta contraseña es demasiado común."}


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
