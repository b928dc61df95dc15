"""The second step of signing in, between wrong codes and a lockout: the wait django-otp puts on
the devices after a wrong code (a code typed in it is no wrong code), the operator's unlock,
the lockout page's words, and the language of the pages between the password and the code."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from services.models.audit import AuditEvent
from tests.conftest import World
from tests.test_cases import error_beside
from tests.test_i18n import ENGLISH_WORDS, _visible_text
from tests.test_signin import (
    LOGIN_URL,
    SETUP_URL,
    T0,
    VERIFY_URL,
    authenticator,
    current_code,
    fail,
    fast_hasher,  # noqa: F401 - the fixture, used by every test here
    sign_in,
    with_password,
    wrong_codes,
)

ADDRESS = {"REMOTE_ADDR": "203.0.113.7"}

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def failures(username: str) -> int:
    """The wrong sign-ins django-axes counts, and those the access log shows the director."""
    counted = sum(attempt.failures_since_start for attempt in AccessAttempt.objects.filter(username=username))
    logged = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED, username=username).count()
    assert counted == logged
    return counted


def at_the_code(user: Any, client: Client | None = None) -> tuple[Client, TOTPDevice]:
    with_password(user)
    device = TOTPDevice.objects.filter(user=user).first() or authenticator(user)
    client = client or Client()
    sign_in(client, user.get_username())
    return client, device


# --- a code typed in django-otp's wait --------------------------------------------------------


def test_the_right_code_in_the_wait_after_a_wrong_one_says_to_wait_and_counts_nothing(world: World):
    """The walkthrough: a right code a moment after a wrong one was "did not work", and counted."""
    with time_machine.travel(T0, tick=False) as traveller:
        client, device = at_the_code(world.caseworker1)
        wrong = client.post(VERIFY_URL, {"code": "000000"}, **ADDRESS)
        traveller.shift(timedelta(milliseconds=300))
        waiting = client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"}, **ADDRESS)
        counted = failures("caseworker1")
        traveller.shift(timedelta(seconds=1))
        again = client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"}, **ADDRESS)

    assert "did not work" in error_beside(wrong, "code")
    assert waiting.status_code == 400
    assert "Wait 1 second, then type the code again." in error_beside(waiting, "code")
    assert counted == 1  # the wrong code only
    assert again.url == "/dashboard/"


def test_the_wait_doubles_with_each_wrong_code_and_the_page_says_how_long(world: World):
    with time_machine.travel(T0, tick=False) as traveller:
        client, device = at_the_code(world.caseworker1)
        wrong_codes(client, 3, traveller)  # the last one at 3 seconds: the wait is 4 from there
        waiting = client.post(VERIFY_URL, {"code": current_code(device)}, **ADDRESS)
        traveller.shift(timedelta(seconds=2.5))
        still = client.post(VERIFY_URL, {"code": current_code(device)}, **ADDRESS)

    assert "Wait 4 seconds, then type the code again." in error_beside(waiting, "code")
    assert "Wait 2 seconds, then type the code again." in error_beside(still, "code")
    assert failures("caseworker1") == 3


def test_codes_typed_quickly_count_once_and_are_not_checked(world: World):
    """Guessing fast gains nothing: a code in the wait is checked by no device, so it is neither
    a guess that could pass nor a failure that counts."""
    with time_machine.travel(T0, tick=False):
        client, device = at_the_code(world.caseworker1)
        answers = [client.post(VERIFY_URL, {"code": "000000"}, **ADDRESS).status_code for _ in range(8)]
        right_in_the_wait = client.post(VERIFY_URL, {"code": current_code(device)}, **ADDRESS)

    assert answers == [400] * 8
    assert right_in_the_wait.status_code == 400
    assert failures("caseworker1") == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_a_backup_code_in_the_wait_says_to_wait_and_is_kept(world: World):
    backup = StaticDevice.objects.create(user=world.caseworker1, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")
    with time_machine.travel(T0, tick=False) as traveller:
        client, _device = at_the_code(world.caseworker1)
        client.post(VERIFY_URL, {"code": "zzzz7777"}, **ADDRESS)  # a wrong backup code: every device waits
        waiting = client.post(VERIFY_URL, {"code": "abcd2345"}, **ADDRESS)
        kept = StaticToken.objects.filter(device=backup).exists()
        counted = failures("caseworker1")
        traveller.shift(timedelta(seconds=1))
        used = client.post(VERIFY_URL, {"code": "abcd2345", "next": "/dashboard/"}, **ADDRESS)

    assert "Wait 1 second" in error_beside(waiting, "code")
    assert kept
    assert counted == 1
    assert used.url == "/dashboard/"


def test_a_passed_sign_in_lifts_the_wait_on_every_device(world: World):
    """A backup code that passes leaves the authenticator's failures behind it, or the next
    sign-in's codes would wait for them."""
    backup = StaticDevice.objects.create(user=world.caseworker1, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")
    with time_machine.travel(T0, tick=False) as traveller:
        client, device = at_the_code(world.caseworker1)
        wrong_codes(client, 4, traveller)
        traveller.shift(timedelta(seconds=8))
        assert client.post(VERIFY_URL, {"code": "abcd2345"}, **ADDRESS).status_code == 302

    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_enrolment_says_to_wait_after_a_wrong_code(client, world: World):
    with_password(world.director1)
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, "director1")
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.director1, confirmed=False)
        wrong = client.post(SETUP_URL, {"code": "000000"})
        waiting = client.post(SETUP_URL, {"code": current_code(device)})
        traveller.shift(timedelta(seconds=1))
        confirmed = client.post(SETUP_URL, {"code": current_code(device)})

    assert "did not work" in error_beside(wrong, "code")
    assert "Wait 1 second, then type the code again." in error_beside(waiting, "code")
    assert "Your backup codes" in confirmed.content.decode()


# --- unlocking ---------------------------------------------------------------------------------


def test_the_operators_unlock_lifts_the_lockout_and_the_wait_and_is_logged(world: World):
    with time_machine.travel(T0, tick=False) as traveller:
        client, device = at_the_code(world.caseworker1)
        assert wrong_codes(client, 5, traveller)[-1] == 429
        for _ in range(5):  # the wait is 16 seconds after five wrong codes, then 32 …
            device.throttle_increment()
        out = StringIO()

        call_command("unlock_sign_in", " Caseworker1", stdout=out)
        client, device = at_the_code(world.caseworker1)
        passed = client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"}, **ADDRESS)

    assert "caseworker1 can sign in again" in out.getvalue()
    assert passed.url == "/dashboard/"
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED).latest("pk")
    assert (entry.actor, entry.target) == (None, "Sign-in of caseworker1")
    assert entry.changes == {"sign_in_lockout": ["locked", "unlocked"], "by": "manage.py unlock_sign_in"}


def test_the_operators_unlock_of_a_username_without_an_account(world: World):
    fail(Client(), "nobody-here", settings.AXES_FAILURE_LIMIT)
    out = StringIO()

    call_command("unlock_sign_in", "nobody-here", stdout=out)

    assert "no account has this username" in out.getvalue()
    assert not AccessAttempt.objects.filter(username="nobody-here").exists()


# --- the lockout page --------------------------------------------------------------------------


def test_the_lockout_page_names_wrong_codes_too(world: World):
    with time_machine.travel(T0, tick=False) as traveller:
        client, _device = at_the_code(world.caseworker1)
        wrong_codes(client, 4, traveller)
        traveller.shift(timedelta(seconds=8))
        locked = client.post(VERIFY_URL, {"code": "000000"}, **ADDRESS)

    assert locked.status_code == 429
    assert "too many wrong passwords or sign-in codes" in locked.content.decode()


# --- the language between the password and the code ------------------------------------------


def in_spanish(client: Client) -> Client:
    """The language switch pressed on the sign-in page, on a phone set to English."""
    client.post(reverse("set_language"), {"language": "es", "next": LOGIN_URL})
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_code_page_speaks_the_language_chosen_on_the_sign_in_page(world: World):
    client, device = at_the_code(world.caseworker1, in_spanish(Client()))

    page = client.get(VERIFY_URL)
    refused = client.post(VERIFY_URL, {"code": "000000"}, **ADDRESS)
    waiting = client.post(VERIFY_URL, {"code": current_code(device)}, **ADDRESS)

    html = page.content.decode()
    assert '<html lang="es">' in html and "Su código para entrar" in html
    assert not ENGLISH_WORDS.findall(_visible_text(html).replace("Reentry", ""))
    assert "no sirvió" in error_beside(refused, "code")
    assert "Espere 1 segundo y vuelva a escribir el código." in error_beside(waiting, "code")


def test_the_enrolment_and_the_first_backup_codes_speak_it_too(world: World):
    with_password(world.director1)
    client = in_spanish(Client())
    sign_in(client, "director1")

    setup = client.get(SETUP_URL).content.decode()
    device = TOTPDevice.objects.get(user=world.director1, confirmed=False)
    codes = client.post(SETUP_URL, {"code": current_code(device)}).content.decode()
    dashboard = client.get("/dashboard/").content.decode()

    assert '<html lang="es">' in setup and "Configure su código para entrar" in setup
    assert '<html lang="es">' in codes and "Sus códigos de respaldo" in codes
    assert '<html lang="en">' in dashboard  # once signed in, staff pages are in English


@pytest.mark.parametrize(
    ("chosen", "on_record", "heading"), [("es", "en", "Su código para entrar"), ("en", "es", "Your sign-in code")]
)
def test_an_exonerees_code_page_speaks_the_sign_in_pages_language_not_the_records(
    world: World, chosen: str, on_record: str, heading: str
):
    """An exoneree who set up their own code: their record's language only once they are in."""
    exoneree = world.marcus.exoneree
    exoneree.preferred_language = on_record
    exoneree.save(update_fields=["preferred_language"])
    client = Client(HTTP_ACCEPT_LANGUAGE=on_record)
    client.post(reverse("set_language"), {"language": chosen, "next": LOGIN_URL})
    client, device = at_the_code(world.exoneree1, client)

    page = client.get(VERIFY_URL)
    passed = client.post(VERIFY_URL, {"code": current_code(device)}, **ADDRESS)
    plan = client.get(reverse("my_plan"))

    assert f'<html lang="{chosen}">' in page.content.decode() and heading in page.content.decode()
    # Nothing of the record before the code: the sign-in page's language stays remembered.
    assert settings.LANGUAGE_COOKIE_NAME not in page.cookies
    assert passed.status_code == 302
    assert f'<html lang="{on_record}">' in plan.content.decode()
    assert plan.cookies[settings.LANGUAGE_COOKIE_NAME].value == on_record
