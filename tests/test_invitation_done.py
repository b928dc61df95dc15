"""The page after a first password: the person is told the username they will type from now on,
and one clear button leads to the sign-in page (it was a word inside a sentence)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from services.lib.links import invitation_link
from tests.conftest import World

SAID = {
    "en": "Your username is <strong>exoneree2</strong>. Write it down: you type it each time you sign in.",
    "es": "Su nombre de usuario es <strong>exoneree2</strong>. Anótelo: lo va a escribir cada vez que entre.",
}
SIGN_IN = {"en": "Sign in", "es": "Iniciar sesión"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_after_the_first_password_the_page_says_the_username_and_leads_to_sign_in(world: World, language):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = client.get(invitation_link(world.exoneree2).removeprefix(settings.SITE_URL), follow=True)
    password = "a long first passphrase"
    chosen = client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    done = client.get(chosen.url).content.decode()

    assert chosen.url == reverse("invitation_done")
    assert SAID[language] in done
    button = re.search(r'<a class="button primary" href="([^"]+)">([^<]+)</a>', done)
    assert button and button.groups() == (reverse("login"), SIGN_IN[language])


def test_the_page_names_nobody_in_a_browser_that_chose_no_password(world: World):
    done = Client().get(reverse("invitation_done")).content.decode()

    assert "Your username is" not in done
    assert f'<a class="button primary" href="{reverse("login")}">Sign in</a>' in done
