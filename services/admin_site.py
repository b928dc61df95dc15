"""/admin/ behind the same two-step sign-in as the app.

django-otp's OTPAdminSite lets in only a session that has passed a one-time code. Its own
sign-in form is not used: an anonymous visitor goes to the app's sign-in page (where
django-axes counts failures and the access log records them), and a session that has only
passed the password goes to the code page, or to enrolment for an operator with no
authenticator yet. A password alone never opens the admin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite

from services import second_factor


class SecondFactorAdminSite(OTPAdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        then = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(then, allowed_hosts={request.get_host()}):
            then = reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(then)
        if not request.user.is_verified():
            name = "two_factor_verify" if second_factor.has_second_factor(request.user) else "two_factor_setup"
            return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': then})}")
        # Signed in with both steps but not an operator: the admin's own "not authorized" page.
        return super().login(request, extra_context)
