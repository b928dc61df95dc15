"""Links that go out in emails: absolute, and carrying nothing about the person."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def invitation_link(user: AbstractBaseUser) -> str:
    """A set-password link: it expires (PASSWORD_RESET_TIMEOUT) and dies once a password is set."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("invitation_accept", args=[uid, token])
