"""The resource directory: staff search it; directors keep it up to date."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from services import access
from services.access import caseworker_required, director_required, staff_required
from services.actions import directory
from services.forms.directory import ResourceForm, ResourceSearchForm
from services.selectors import resources as resources_selectors
from services.views.cases import PAGE_SIZE
from services.views.common import form_page, posted


@require_GET
@staff_required
def resource_list(request: HttpRequest) -> HttpResponse:
    form = ResourceSearchForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    resources = resources_selectors.resource_search(request.user, **filters)
    page = Paginator(resources, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "services/_resource_rows.html" if request.htmx else "services/resource_list.html"
    context = {
        "form": form,
        "page": page,
        "can_manage": access.is_director(request.user),
        "also_searched": resources_selectors.also_searched(filters.get("q", "")),
        # Asked only when nothing is listed: "no resources match" would send a new organization
        # looking for a search to change instead of the way to fill its directory.
        "directory_empty": not page.paginator.count and resources_selectors.directory_is_empty(request.user),
    }
    response = render(request, template, context, status=200 if form.is_valid() else 400)
    patch_vary_headers(response, ["HX-Request"])  # the partial and the page share a URL
    return response


@require_GET
@staff_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resource = access.get_resource(request.user, pk)
    context = {
        "resource": resource,
        "can_manage": access.is_director(request.user),
        "can_refer": not access.is_director(request.user),
    }
    return render(request, "services/resource_detail.html", context)


@require_GET
@caseworker_required
def resource_refer(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Refer someone here": the open needs of the caseworker's people, each a step away from
    a referral to this resource (the referral form opens with it chosen)."""
    resource = access.get_resource(request.user, pk)
    needs = resources_selectors.needs_to_refer(request.user, resource)
    context = {
        "resource": resource,
        "needs": needs,
        "people": resources_selectors.people_to_refer(request.user, needs),
        "domain": resource.domain_rows.values_list("domain", flat=True).order_by("pk").first() or "",
    }
    return render(request, "services/resource_refer.html", context)


@require_http_methods(["GET", "POST"])
@director_required
def resource_create(request: HttpRequest) -> HttpResponse:
    form = ResourceForm(posted(request), providers=access.providers_visible_to(request.user))
    return _save_resource(request, form, title=_("New resource"), back="resource_list")


@require_http_methods(["GET", "POST"])
@director_required
def resource_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resource = access.get_resource(request.user, pk, change=True)
    form = ResourceForm(posted(request), instance=resource, providers=access.providers_visible_to(request.user))
    return _save_resource(
        request,
        form,
        title=_("Edit %(name)s") % {"name": resource.name},
        back=resource.get_absolute_url(),
        back_label=resource.name,
    )


def _save_resource(request: HttpRequest, form: ResourceForm, *, title: str, back: str, **extra: str) -> HttpResponse:
    return form_page(
        request,
        form,
        lambda: directory.resource_save(
            by=request.user,
            resource=form.instance,
            domains=form.cleaned_data["domains"],
            new_provider_name=form.cleaned_data["new_provider_name"],
            provider_language=form.cleaned_data["provider_language"],
        ),
        success=_("Resource saved."),
        then=lambda resource: resource,
        title=title,
        back=back,
        **extra,
    )
