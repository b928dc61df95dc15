"""Where each person lands after signing in, and the invitation link."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from services import access
from services.choices import Role
from services.forms.accounts import PlainSetPasswordForm

# The session key under which the invitation's page hands the username to the next page.
INVITED_USERNAME = "invited_username"

HOMES = {
    Role.CASEWORKER: "dashboard",
    Role.DIRECTOR: "director_dashboard",
    "exoneree": "my_plan",
    access.ANALYST: "network_figures",
}


@require_GET
@access.signed_in_required
def home(request: HttpRequest) -> HttpResponse:
    role = access.role_of(request.user)
    if role in HOMES:
        return redirect(HOMES[role])
    if request.user.is_superuser:
        return redirect("admin:index")
    return redirect("no_role")


@require_GET
@access.signed_in_required
def no_role(request: HttpRequest) -> HttpResponse:
    if access.role_of(request.user) in HOMES:
        return redirect("home")
    return render(request, "services/no_role.html", status=403)


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """Choose a password from an invitation link; Django's reset token makes it single-use."""

    template_name = "registration/invitation_accept.html"
    form_class = PlainSetPasswordForm
    success_url = reverse_lazy("invitation_done")
    reset_url_token = "choose-password"  # noqa: S105 - a URL segment, not a secret
    title = _("Choose your password")  # a new account's, not a reset's (Django's words)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not context.get("validlink"):
            context["title"] = _("This invitation link no longer works")
        return context

    def form_valid(self, form: Form) -> HttpResponse:
        # The username was said on the page before, and a person new to phones has to type it
        # from now on: the next page says it again, to this browser only (its session).
        self.request.session[INVITED_USERNAME] = self.user.get_username()
        return super().form_valid(form)


class InvitationDoneView(auth_views.PasswordResetCompleteView):
    template_name = "registration/invitation_done.html"
    title = _("Your password is saved")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["username"] = self.request.session.get(INVITED_USERNAME, "")
        return context
