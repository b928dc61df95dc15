"""An account's `last_login` is its last whole sign-in: set when the one-time code passes (or
at the password of an account that owes no code), never at a password still owing its code.
A stolen password stopped at the code must not read as a sign-in (services/signin.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import World
from tests.test_signin import (  # fast_hasher: autouse here too (real sign-ins, a quick hasher)
    SETUP_URL,
    T0,
    VERIFY_URL,
    authenticator,
    current_code,
    fast_hasher,  # noqa: F401
    sign_in,
    with_password,
)

User = get_user_model()

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def last_login_of(user: Any) -> Any:
    return User.objects.get(pk=user.pk).last_login


def test_the_last_sign_in_is_set_at_the_code_not_at_the_password(world: World):
    """A stolen password stopped at the code (a wrong one here) leaves `last_login` as it was."""
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, "caseworker1")
        client.post(VERIFY_URL, {"code": "654321x"})
        stopped_at_the_code = last_login_of(world.caseworker1)
        traveller.shift(timedelta(seconds=3))  # a failure throttles the next try

        client.post(VERIFY_URL, {"code": current_code(device)})

    assert stopped_at_the_code is None
    assert last_login_of(world.caseworker1) == T0 + timedelta(seconds=3)


def test_a_first_sign_in_sets_it_once_the_new_authenticator_is_confirmed(client, world: World):
    with_password(world.director1)
    with time_machine.travel(T0, tick=False):
        sign_in(client, "director1")
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.director1, confirmed=False)
        before_the_code = last_login_of(world.director1)

        client.post(SETUP_URL, {"code": current_code(device)})

    assert before_the_code is None
    assert last_login_of(world.director1) == T0


def test_the_password_sets_it_for_an_account_without_a_second_step(world: World):
    with_password(world.exoneree1)

    with time_machine.travel(T0, tick=False):
        sign_in(Client(), "exoneree1")

    assert last_login_of(world.exoneree1) == T0
