"""The signed-in user's own account: one-time codes and backup codes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from services import audit
from services.models.audit import AuditEvent


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
