"""Personal access tokens for the API: make one (its key shown once), see yours, revoke; a
director sees and revokes every token of the organization."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import director_required, staff_required
from services.actions import api_tokens
from services.forms.api_tokens import ApiTokenForm
from services.views.common import apply_errors, posted, restore_kept


@require_http_methods(["GET", "POST"])
@staff_required
def api_token_list(request: HttpRequest) -> HttpResponse:
    """Your tokens, and a new one: its key is on the answer to the POST and nowhere else."""
    form = ApiTokenForm(posted(request))
    restore_kept(request, form)  # typed before an idle sign-out
    made = key = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                made, key = api_tokens.token_create(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                form = ApiTokenForm()
        status = 400 if form.is_bound and form.errors else 200
    tokens = access.api_tokens_visible_to(request.user).filter(user=request.user)
    context = {"form": form, "tokens": tokens, "made": made, "key": key, "everyone": False}
    return render(request, "services/api_tokens.html", context, status=status)


@require_GET
@director_required
def api_tokens_of_organization(request: HttpRequest) -> HttpResponse:
    tokens = access.api_tokens_visible_to(request.user)
    return render(request, "services/api_tokens.html", {"tokens": tokens, "everyone": True})


@require_POST
@staff_required
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = access.get_api_token(request.user, pk)
    api_tokens.token_revoke(by=request.user, token=token)
    messages.success(request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": token.name})
    mine = token.user_id == request.user.pk
    return redirect("api_token_list" if mine else "api_tokens_of_organization")
