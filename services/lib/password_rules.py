"""Django's password rules in plain words, for a person who has been out of the world for years.

The checks are Django's own; only what they say changes. Django's Spanish for the likeness
rule read "demasiado similar a la de nombre" (its "the first name" put into a sentence that
does not fit it), and its rules spoke of "characters" and "a commonly used password". Each
help text is one short sentence: the password forms join them into one paragraph
(services.forms.accounts.PlainPasswordWords).
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

# Lazy, and counted by the "count" key: formatted in the language of the page that says them.
TOO_SHORT = ngettext_lazy(
    "Too short: use at least %(count)d letter, number or sign.",
    "Too short: use at least %(count)d letters, numbers or signs.",
    "count",
)
AT_LEAST = ngettext_lazy(
    "At least %(count)d letter, number or sign.",
    "At least %(count)d letters, numbers or signs.",
    "count",
)


class MinimumLength(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return TOO_SHORT % {"count": self.min_length}

    def get_help_text(self) -> str:
        return AT_LEAST % {"count": self.min_length}


class NotLikeThePerson(password_validation.UserAttributeSimilarityValidator):
    # One sentence for every attribute: Django's named the field ("the first name"), which a
    # person does not call it, and which Spanish cannot put into its sentence.
    def get_error_message(self) -> str:
        return _("The new password is too much like your name, username or email. Choose other words.")

    def get_help_text(self) -> str:
        return _("Not your name, username or email.")


class NotCommon(password_validation.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return _("Many people use this password, so it is easy to guess. Choose another one.")

    def get_help_text(self) -> str:
        return _("Not a password many people use.")


class NotOnlyNumbers(password_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return _("Use letters too, not only numbers.")

    def get_help_text(self) -> str:
        return _("Not only numbers.")
