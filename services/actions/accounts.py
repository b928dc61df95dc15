"""The signed-in user's own account: one-time codes and backup codes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from services import audit
from services.models.audit import AuditEvent


@dataclass(frozen=True)
class CodeCheck:
    """What the user's devices made of a sign-in code: the device that took it, or how many
    seconds to wait before any code is checked (0 when the code was checked and refused)."""

    device: Device | None = None
    wait_seconds: int = 0


@transaction.atomic
def sign_in_code_check(*, user: AbstractUser, code: str) -> CodeCheck:
    """Try a code on every confirmed device of the user (authenticator, backup codes), unless
    one of them is still in django-otp's wait after wrong codes (1, 2, 4, 8 … seconds).

    In that wait a throttled device refuses every code, the right one too, without looking at
    it; so the code is checked by none, and the caller says to wait instead of counting a wrong
    code. Every wrong code makes every device wait (each one checks it), so they wait together;
    a passed sign-in lifts the wait on all of them (services.signin.second_step_passed).
    The devices are locked for update as django_otp.match_token locks them: two requests at
    once cannot both use a backup code or slip past the wait.
    """
    devices = list(devices_for_user(user, for_verify=True))
    wait = max((code_wait_seconds(device) for device in devices), default=0)
    if wait:
        return CodeCheck(wait_seconds=wait)
    for device in devices:
        if device.verify_token(code):
            return CodeCheck(device=device)
    return CodeCheck()


def code_wait_seconds(device: Device) -> int:
    """Seconds before django-otp lets this device check a code again (0: now). In that wait it
    refuses every code, the right one too, without looking at it."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    # django-otp says until when (VerifyNotAllowed.N_FAILED_ATTEMPTS); a refusal that does not
    # say is a wait of a second.
    now = timezone.now()
    until = (data or {}).get("locked_until", now)
    return max(1, math.ceil((until - now).total_seconds()))


def sign_in_code_refused(*, request: HttpRequest, user: AbstractUser) -> None:
    """A wrong one-time code after a right password: a failed sign-in like a wrong password.

    Sent as Django's failed-sign-in signal, so django-axes counts it toward the lockout of the
    username from this address, and the access log records it (services.audit), with the step
    but never the code.
    """
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username(), "step": "one-time code"}, request=request
    )


def sign_in_code_just_used(*, user: AbstractUser, code: str) -> bool:
    """Whether a refused code is the one the user's authenticator gave for the last code
    accepted: typed again (a double submit, or the second device of someone showing the app
    to a colleague). It is not a guess, so it does not count toward the lockout; the page says
    to wait for the next code instead of "did not work"."""
    if not code.isdigit():
        return False
    for device in TOTPDevice.objects.filter(user=user, confirmed=True, last_t__gte=0):
        if hotp(device.bin_key, device.last_t, digits=device.digits) == int(code):
            return True
    return False


# Two-step sign-in (django-otp). Each change is in the access log, as a change of the account.

BACKUP_CODES = 10

BACKUP_DEVICE_NAME = "Backup codes"


def backup_codes_replace(*, user: AbstractUser) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODES new ones and return them (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_backup_codes_renew(*, user: AbstractUser) -> list[str]:
    codes = backup_codes_replace(user=user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=user,
        target=f"Sign-in of {user.get_username()}",
        changes={"backup_codes": "renewed"},
    )
    return codes


@transaction.atomic
def two_factor_enrol_confirm(*, user: AbstractUser, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm an authenticator with a code it shows; then the backup codes. None: wrong code."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_replace(user=user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=user,
        target=f"Sign-in of {user.get_username()}",
        changes={"two_step_sign_in": [False, True]},
    )
    return codes
