"""Two-factor sign-in: enrolment, the code page after the password, backup codes, the account page.

These pages are reachable by a session that has passed the password but not yet the second
factor (everything else is closed to it by the gates in services.access), so each one
checks for itself what such a session may do here: enrol only while no device is confirmed
(otherwise a stolen password could enrol a new authenticator), verify only with a device.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import (
    INTERNAL_RESET_SESSION_TOKEN,
    LogoutView,
    PasswordResetConfirmView,
    PasswordResetView,
)
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from services import access, second_factor, signin
from services.actions import accounts
from services.forms.accounts import OneTimeCodeForm, PasswordConfirmForm, PasswordResetRequestForm, PlainSetPasswordForm
from services.lib.links import of_this_site
from services.middleware import LAST_ACTIVITY
from services.selectors import users

AUTHENTICATOR = "Authenticator app"


def _next_url(request: HttpRequest) -> str:
    return of_this_site(request, request.POST.get("next") or request.GET.get("next") or "", "/")


def _verified(request: HttpRequest) -> bool:
    return request.user.is_verified()


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): a page, not a bare 403.

    429 like axes' default; it names neither the account nor whether the password was right.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


@require_http_methods(["GET", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The page after the password: a code from the authenticator app, or a backup code."""
    if _verified(request):
        return redirect(_next_url(request))
    if not second_factor.has_second_factor(request.user):
        return redirect("two_factor_setup")
    if request.method == "POST" and not AxesProxyHandler.is_allowed(request, {"username": request.user.get_username()}):
        # Locked out by wrong codes (or passwords): the half-open session ends here, so the
        # codes cannot be tried on through it.
        logout(request)
        return locked_out(request, None, None)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Every confirmed device tries the code; a backup code is deleted as it is used, and
        # the authenticator refuses a code already used. After a wrong code django-otp makes
        # the devices wait (1, 2, 4 … seconds): a code typed in that wait is looked at by none,
        # so it is no wrong code, and does not count toward the lockout.
        check = accounts.sign_in_code_check(user=request.user, code=form.cleaned_data["code"])
        if check.device is not None:
            # A new session key; earlier wrong passwords and codes are forgiven only now.
            signin.second_step_passed(request, check.device)
            return redirect(_next_url(request))
        if check.wait_seconds:
            form.add_error("code", _code_wait_message(check.wait_seconds))
        elif accounts.sign_in_code_just_used(user=request.user, code=form.cleaned_data["code"]):
            form.add_error("code", _("This code was just used. Wait for the next one (a few seconds), then type it."))
        else:
            accounts.sign_in_code_refused(request=request, user=request.user)
            if getattr(request, "axes_locked_out", False):  # that was the last try: AxesMiddleware answers
                logout(request)
                return locked_out(request, None, None)
            form.add_error("code", _("That code did not work. Check the app and try again, or use a backup code."))
    context = {"form": form, "next": _next_url(request)}
    return render(request, "registration/two_factor_verify.html", context, status=400 if form.errors else 200)


def _code_wait_message(seconds: int) -> str:
    return ngettext(
        "Wait %(seconds)d second, then type the code again.",
        "Wait %(seconds)d seconds, then type the code again.",
        seconds,
    ) % {"seconds": seconds}


def _pending_totp(user: object) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def _qr_svg(data: str) -> str:
    """The QR code as inline SVG, drawn here: the secret never goes to another service."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@require_http_methods(["GET", "POST"])
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan (or type) the secret, confirm with a code, get backup codes."""
    if second_factor.has_second_factor(request.user):
        return redirect("account" if _verified(request) else "two_factor_verify")
    device = _pending_totp(request.user)
    form = OneTimeCodeForm(request.POST or None)
    # No backup codes yet: they come once this code is confirmed.
    form.fields["code"].help_text = _("The 6-digit code your authenticator app shows now.")
    if request.method == "POST" and form.is_valid():
        if wait := accounts.code_wait_seconds(device):  # after a wrong code: the right one too would be refused
            form.add_error("code", _code_wait_message(wait))
        elif codes := accounts.two_factor_enrol_confirm(
            user=request.user, device=device, code=form.cleaned_data["code"]
        ):
            signin.second_step_passed(request, device)
            return render(
                request, "registration/backup_codes.html", {"codes": codes, "next": _next_url(request), "first": True}
            )
        else:
            form.add_error(
                "code", _("That code did not work. Make sure the app shows Reentry, and type the newest code.")
            )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - SVG made here from our own URL
        # The same, as a link an authenticator app on this phone opens (a phone cannot scan itself).
        "app_link": device.config_url,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": _next_url(request),
        "required": access.staff_of(request.user) is not None,
    }
    return render(request, "registration/two_factor_setup.html", context, status=400 if form.errors else 200)


@require_POST
@access.signed_in_required
def two_factor_backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes (the old ones stop working), for a session that passed the second
    factor and types the password again: new codes are a way into the account for good, so a
    session left open on a shared computer must not be enough to get them."""
    if not second_factor.has_second_factor(request.user):
        return redirect("two_factor_setup")
    if not AxesProxyHandler.is_allowed(request, {"username": request.user.get_username()}):
        logout(request)  # locked out: the session ends, as on the code page
        return locked_out(request, None, None)
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid():
        signin.password_refused(request, request.user, step="password for new backup codes")
        if getattr(request, "axes_locked_out", False):
            logout(request)
            return locked_out(request, None, None)
        return render(request, "registration/account.html", _account_context(request, form), status=400)
    codes = accounts.two_factor_backup_codes_renew(user=request.user)
    return render(request, "registration/backup_codes.html", {"codes": codes, "next": "/", "first": False})


def _account_context(request: HttpRequest, password_form: PasswordConfirmForm | None = None) -> dict[str, object]:
    backups = StaticToken.objects.filter(device__user=request.user, device__confirmed=True).count()
    return {
        "enrolled": second_factor.has_second_factor(request.user),
        "required": access.staff_of(request.user) is not None,
        "backup_codes_left": backups,
        "password_form": password_form or PasswordConfirmForm(user=request.user),
    }


@require_http_methods(["GET"])
@access.signed_in_required
def account(request: HttpRequest) -> HttpResponse:
    """The account page: two-factor status, and the way to enrol for whoever has not."""
    return render(request, "registration/account.html", _account_context(request))


class PasswordResetRequestView(PasswordResetView):
    """Django's reset page, throttled. A request over the limit gets the same answer as any
    other ("check your email"), so the limit tells nobody whether the address has an account
    or how often it was asked for; it is only not sent."""

    form_class = PasswordResetRequestForm

    def form_valid(self, form: Form) -> HttpResponse:
        if signin.password_reset_allowed(self.request, form.cleaned_data["email"]):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmInTheirLanguage(PasswordResetConfirmView):
    """The page a reset link opens, in the language the email was written in (an exoneree's
    own, services.tasks.send_password_reset), not the browser's: a phone set to English
    opened a Spanish email's link in English."""

    form_class = PlainSetPasswordForm

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponse:
        user = self.get_user(kwargs["uidb64"])
        token = kwargs["token"]
        if token == self.reset_url_token:  # the link's token, kept in the session after its first opening
            token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN, "")
        if user is None or not self.token_generator.check_token(user, token):
            # Only a working link speaks the person's language: a guessed address would
            # otherwise tell whether an account exists and which language its person reads.
            return super().dispatch(*args, **kwargs)
        with translation.override(users.language_of(user)):
            response = super().dispatch(*args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # inside the language: a template response renders later
            return response


class SignOutView(LogoutView):
    """Django's sign-out, which then says so on the sign-in page: the person landed on "Sign in"
    with no word that the sign-out had worked (on a shared computer, the one thing to know)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        was_signed_in = request.user.is_authenticated
        # The language of the sign-in page it lands on: a person's record's (the cookie the
        # middleware keeps for them), else the cookie's or the browser's (staff read English pages).
        exoneree = access.own_exoneree_or_none(request.user) if was_signed_in else None
        language = exoneree.preferred_language if exoneree else translation.get_language_from_request(request)
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            with translation.override(language):
                messages.info(request, _("You are signed out."))
        return response


@require_POST
@access.signed_in_required
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in" on the banner shown before the idle sign-out: the idle clock starts
    again. From the page's script, 204; without a script, back to the page."""
    request.session[LAST_ACTIVITY] = time.time()
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    return HttpResponseRedirect(_next_url(request))
