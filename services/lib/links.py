"""Links that go out in emails (absolute, and carrying nothing about the person), where a
request may send the browser back to (this site only), and the form that plans a next follow-up."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode


def invitation_link(user: AbstractBaseUser) -> str:
    """A set-password link: it expires (PASSWORD_RESET_TIMEOUT) and dies once a password is set."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("invitation_accept", args=[uid, token])


def of_this_site(request: HttpRequest, url: str, default: str) -> str:
    """`url` when it leads to a page of this site (its host, and https when the request came so),
    else `default`: a `next`, a Referer, never a way to send the browser elsewhere."""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def plan_next_follow_up(exoneree_id: int, need_id: int | None, referral_id: int | None) -> str:
    """The new follow-up form, about the same need and referral as the one just done: marking a
    call done is most often followed by planning the next one."""
    query = urlencode({name: pk for name, pk in {"need": need_id, "referral": referral_id}.items() if pk})
    url = reverse("follow_up_create", args=[exoneree_id])
    return f"{url}?{query}" if query else url
