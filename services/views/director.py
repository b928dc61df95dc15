"""Director pages: the organization at a glance, staff and caseloads."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from services import access, actions, selectors
from services.access import director_required
from services.forms import CaseloadForm, StaffCreateForm, StaffUpdateForm
from services.views.common import back_to, form_page, posted


@require_GET
@director_required
def director_dashboard(request: HttpRequest) -> HttpResponse:
    organization = access.organization_of(request.user)
    context = {"organization": organization, **selectors.director_dashboard(organization)}
    return render(request, "services/director_dashboard.html", context)


@require_GET
@director_required
def staff_list(request: HttpRequest) -> HttpResponse:
    members = access.staff_visible_to(request.user).order_by("role", "user__first_name", "user__last_name")
    return render(request, "services/staff_list.html", {"members": members})


@require_http_methods(["GET", "POST"])
@director_required
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(posted(request))
    return form_page(
        request,
        form,
        lambda: actions.staff_create(by=request.user, **form.cleaned_data),
        success=lambda member: f"{member.user.get_full_name()} was emailed an invitation to sign in.",
        then="staff_list",
        title="Add a staff member",
        back="staff_list",
        submit="Add and send invitation",
    )


@require_http_methods(["GET", "POST"])
@director_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = access.get_staff_member(request.user, pk)
    initial = {"role": member.role, "title": member.title, "is_active": member.user.is_active}
    form = StaffUpdateForm(posted(request), initial=initial)
    return form_page(
        request,
        form,
        lambda: actions.staff_update(by=request.user, member=member, **form.cleaned_data),
        success="Saved.",
        then="staff_list",
        title=f"Edit {member.user.get_full_name() or member.user.username}",
        back="staff_list",
    )


@require_http_methods(["GET", "POST"])
@director_required
def caseload_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk)
    form = CaseloadForm(
        posted(request),
        caseworkers=access.caseworker_users(exoneree.organization),
        initial={"caseworkers": list(exoneree.caseworkers.values_list("pk", flat=True))},
    )

    def updated(moved: int) -> str:
        note = f" {moved} open follow-up{'s' if moved != 1 else ''} moved with them." if moved else ""
        return f"{exoneree.display_name}'s caseworkers were updated.{note}"

    return form_page(
        request,
        form,
        lambda: actions.caseload_assign(by=request.user, exoneree=exoneree, **form.cleaned_data),
        success=updated,
        then=exoneree,
        title=f"Who works with {exoneree.display_name}",
        **back_to(exoneree),
        intro="Caseworkers you uncheck lose access to this person's record at once.",
    )
