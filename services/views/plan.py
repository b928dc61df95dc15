"""The exoneree's own plan, in plain words."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from services import access, selectors
from services.access import exoneree_required


@require_GET
@exoneree_required
def my_plan(request: HttpRequest) -> HttpResponse:
    exoneree = access.own_exoneree(request.user)
    return render(request, "services/my_plan.html", {"exoneree": exoneree, **selectors.plan_for(exoneree)})
