"""Signing in: the one-time code, password resets, and the words of every password form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from services.tasks import send_password_reset


class PlainAuthenticationForm(AuthenticationForm):
    """Django's sign-in form in the app's words: its "both fields may be case-sensitive" is not
    true of the username here (services.auth.typed_username)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The username or the password is not right. Check both and try again: capital letters count in "
            "the password, not in the username."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not "This field is required.": the first page a person new to phones ever sees.
        self.fields["username"].error_messages["required"] = _("Type your username.")
        self.fields["password"].error_messages["required"] = _("Type your password.")


class OneTimeCodeForm(forms.Form):
    """A six-digit code from the authenticator app, or one of the backup codes."""

    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code your authenticator app shows now, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        error_messages={"required": _("Type the code your app shows now.")},
    )

    def clean_code(self) -> str:
        # People type codes with spaces ("123 456") and backup codes in capitals.
        return "".join(self.cleaned_data["code"].split()).lower()


class PasswordConfirmForm(forms.Form):
    """The account's password again, before a change a stolen session must not be able to make."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password. Type it again."))
        return password


class PasswordResetRequestForm(PasswordResetForm):
    """Asks for a reset link without revealing whether the address has an account.

    Django's own form looks the address up and sends the email while the visitor waits, so a
    known address answers measurably later than an unknown one. Here every request only
    queues a task (services.tasks.send_password_reset) after the commit; the page is the same.
    """

    def save(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        email = self.cleaned_data["email"]

        def queue() -> None:  # named: a robust on_commit logs the callback's name
            send_password_reset.delay(email)

        transaction.on_commit(queue, robust=True)


class PlainPasswordWords:
    """The new password's two boxes in plain words: the rules as one short paragraph (Django's
    are a list inside the help's paragraph), "again" for the second box, and what to do when
    the two differ. For the invitation, the reset link and the change."""

    error_messages = {
        "password_mismatch": _("The two new passwords are not the same. Type the new password in both boxes again."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        first, second = self.fields["new_password1"], self.fields["new_password2"]  # type: ignore[attr-defined]
        first.label = _("New password")
        first.help_text = " ".join(str(rule) for rule in password_validation.password_validators_help_texts())
        second.label = _("New password again")
        second.help_text = _("Type it once more, to be sure it is the one you meant.")
        first.error_messages["required"] = _("Choose a new password and type it here.")
        second.error_messages["required"] = _("Type the new password here again.")

    def validate_password_for_user(self, user: Any, _field_django_chose: str = "") -> None:
        # Django checks the rules on the second box and says "too common" beneath it: the person
        # retyped the same password there, and the first box, whose password must change, was
        # not marked. The rules are about the new password, so they are said beside it.
        super().validate_password_for_user(user, "new_password1")  # type: ignore[misc]


class PlainSetPasswordForm(PlainPasswordWords, SetPasswordForm):
    pass


class PlainPasswordChangeForm(PlainPasswordWords, PasswordChangeForm):
    error_messages = {
        **PlainPasswordWords.error_messages,
        "password_incorrect": _("That is not your current password. Type it again."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Your current password")
        self.fields["old_password"].error_messages["required"] = _("Type your current password.")
