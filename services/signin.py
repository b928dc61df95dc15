"""The sign-in lockout around the two steps: when earlier failures are forgiven, what a
passed second step changes in the session, and when the access log says "Signed in" and the
account's `last_login` is set (once the whole sign-in has passed, never at a password that
still owes its one-time code).

django-axes counts wrong passwords, and wrong one-time codes
(services.actions.sign_in_code_refused), toward one lockout per username and address. Axes
itself would forgive them whenever the password is right (AXES_RESET_ON_SUCCESS, off): then
typing the password again wiped the count of wrong codes, and codes could be guessed for
ever, five at a time. Here failures are forgiven only once the whole sign-in has passed: the
second step, or the password of an account that has no second step.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device, ThrottlingMixin

from services import audit, second_factor
from services.audit import client_ip
from services.auth import typed_username
from services.lib.throttle import throttle_hit
from services.models.audit import AuditEvent

logger = logging.getLogger(__name__)
HOUR = 3600


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str:
    """The username django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE): as the
    backend reads it (services.auth.typed_username), so "Caseworker1" and "caseworker1" are one
    account with one count, not two counts of five tries each."""
    if credentials is not None:
        return typed_username(credentials.get("username"))
    return typed_username(getattr(request, "POST", {}).get("username"))


def lockout_forgive(request: HttpRequest, user: Any) -> None:
    """Forget the failed sign-ins of this username from this address (never every address's)."""
    if (address := client_ip(request)) is not None:
        axes_reset(ip=address, username=typed_username(user.get_username()))


def second_step_passed(request: HttpRequest, device: Device) -> None:
    """The session has passed the one-time code (or confirmed a new authenticator): the sign-in
    is complete, and the access log says so now, not at the password.

    The session key and the CSRF token change, as after the password (django.contrib.auth.login):
    a key seen while the session was only half signed in (a shared computer, a fixation
    attempt) must not open the fully signed-in session.
    """
    otp_login(request, device)
    request.session.cycle_key()
    rotate_token(request)
    lockout_forgive(request, request.user)
    # Every wrong code made every device wait (services.actions.accounts.sign_in_code_check);
    # the one that took the code stopped waiting, the others are let off too, or a backup code
    # would be kept waiting by the authenticator's old failures next time.
    second_factor_throttle_reset(request.user)
    _signed_in(request.user, client_ip(request))


def last_login_at_the_whole_sign_in() -> None:
    """Stop django.contrib.auth setting `last_login` at the password (its update_last_login
    receiver of user_logged_in): here it is set by _signed_in, once the whole sign-in has passed.
    Otherwise a stolen password stopped at the code would read as a sign-in to whatever reads
    `last_login` (services.actions.staff.has_chosen_a_password, the admin's user list).
    Called from ServicesConfig.ready, after django.contrib.auth's ready connected it."""
    user_logged_in.disconnect(dispatch_uid="update_last_login")


def _signed_in(user: Any, address: str | None) -> None:
    """The whole sign-in has passed: the account's last sign-in, and the access log's entry."""
    update_last_login(sender=__name__, user=user)
    audit.record(AuditEvent.Action.SIGNED_IN, actor=user, ip_address=address)


def password_refused(request: HttpRequest, user: Any, *, step: str) -> None:
    """A wrong password typed again inside a signed-in session (to confirm a change): a failed
    sign-in like any other, so django-axes counts it toward the lockout and the access log
    records it with its step. A stolen session cannot guess the password through it for ever."""
    credentials = {"username": user.get_username(), "step": step}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


@receiver(user_logged_in)
def _password_passed(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The password was right. An account without a second step has signed in completely with
    it; one that owes a one-time code has not yet (second_step_passed completes it), and the
    access log says only that its password passed: a director must tell a stolen password
    stopped at the code from a sign-in. The same user signing in again on a session that has
    already passed its code keeps it (django.contrib.auth.login keeps the session's data):
    that sign-in is complete at the password too."""
    owes_code = second_factor.needs_second_factor(user)
    if request is not None and not owes_code:
        lockout_forgive(request, user)
    code_kept = request is not None and DEVICE_ID_SESSION_KEY in request.session
    address = client_ip(request) if request is not None else None
    if owes_code and not code_kept:
        audit.record(AuditEvent.Action.PASSWORD_ACCEPTED, actor=user, ip_address=address)
    else:
        _signed_in(user, address)


def sign_in_unlock(*, username: str, user: Any | None) -> int:
    """Lift the sign-in lockout of a username (django-axes, from every address, counted as the
    sign-in counts it) and the wait django-otp puts on the devices of its account, if it has
    one (`user`). Both, or the person is let in only to wait for every code again. The
    director's unlock (services.actions.staff) and the operator's `manage.py unlock_sign_in`.
    Returns how many lockout records were removed."""
    removed = axes_reset(username=typed_username(username))
    if user is not None:
        second_factor_throttle_reset(user)
    return removed


def second_factor_throttle_reset(user: Any) -> None:
    """Lift django-otp's own throttle (a doubling wait after each wrong code) on every device
    of the user: after an unlock they type a code now, not in an hour."""
    for device in devices_for_user(user, confirmed=None):
        if isinstance(device, ThrottlingMixin) and device.throttling_failure_count:
            device.throttle_reset()


def password_reset_allowed(request: HttpRequest, email: str) -> bool:
    """Whether to send this reset request: a few an hour per client address, and per email
    address (ten emails to one mailbox in half a second was possible). The client address is
    counted first: a client past its own limit no longer uses up an address's allowance."""
    client = client_ip(request) or "unknown"
    if not throttle_hit("reset-client", client, limit=settings.PASSWORD_RESET_PER_HOUR_PER_CLIENT, period_seconds=HOUR):
        logger.warning("password reset not sent: too many requests from one client address this hour")
        return False
    per_address = settings.PASSWORD_RESET_PER_HOUR_PER_ADDRESS
    if not throttle_hit("reset-email", email.strip().lower(), limit=per_address, period_seconds=HOUR):
        logger.warning("password reset not sent: too many requests for one email address this hour")
        return False
    return True
