"""The exoneree's own plan, in plain words, and their choice of language."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from services import access
from services.access import exoneree_required
from services.actions import people
from services.selectors import plans


@require_GET
@exoneree_required
def my_plan(request: HttpRequest) -> HttpResponse:
    exoneree = access.own_exoneree(request.user)
    return render(request, "services/my_plan.html", {"exoneree": exoneree, **plans.plan_for(exoneree)})


@require_POST
@exoneree_required
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the person's pages (and emails) to English or Spanish, and stay on the same page."""
    exoneree = access.own_exoneree(request.user)
    try:
        people.exoneree_set_language(by=request.user, exoneree=exoneree, language=request.POST.get("language", ""))
    except ValidationError:
        return HttpResponseBadRequest(_("Choose English or Spanish."), content_type="text/plain; charset=utf-8")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("my_plan")
    translation.activate(exoneree.preferred_language)
    response = HttpResponseRedirect(next_url)
    # The sign-in page after signing out stays in the same language.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        exoneree.preferred_language,
        max_age=365 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response
