"""Signing a bench account in, in this process, as a person does: the sign-in form, then a
code from their authenticator (staff pages open only after the second step).

bench/pages.py does the same over HTTP against gunicorn (`Session.sign_in`); this is its
in-process twin, for the scripts that use Django's test client (outcomes.py, crypto.py).
Import it after `django.setup()`.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def signed_in(user: Any, **client_options: Any) -> Client:
    """A test client signed in as `user` (given a fresh password, and a fresh authenticator
    if they are staff): the sign-in page, then the code page. Raises SystemExit if either
    refuses, as pages.py does."""
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save(update_fields=["password"])
    client = Client(REMOTE_ADDR="203.0.113.9", **client_options)
    response = client.post(reverse("login"), {"username": user.get_username(), "password": password})
    if response.status_code != 302:
        raise SystemExit(f"signing in as {user.get_username()} answered {response.status_code}")
    if not hasattr(user, "staff"):
        return client
    # A new authenticator each run: a device refuses a code it has already accepted, and a
    # second run within the same 30 seconds would get the same code.
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"
    response = client.post(reverse("two_factor_verify"), {"code": code})
    if response.status_code != 302 or response["Location"].startswith("/accounts/"):
        raise SystemExit(f"the code page answered {response.status_code} for {user.get_username()}")
    return client
