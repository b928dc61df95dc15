"""Director pages: the organization at a glance, staff and caseloads."""

from __future__ import annotations

import copy
import csv
import itertools
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access, retention
from services.access import director_required
from services.actions import exports, organizations, people, staff
from services.auth import HAS_DEVICE, has_device
from services.forms.organization import OrganizationSettingsForm
from services.forms.reports import AuditLogFilterForm
from services.forms.staff import CaseloadForm, CaseloadMoveForm, StaffCreateForm, StaffUpdateForm
from services.lib.paging import LookAheadPaginator
from services.lib.spreadsheet import safe_cell
from services.models.audit import AuditEvent
from services.models.organizations import Organization, StaffMember
from services.selectors import audit_chain, audit_display, audit_trail, dashboards, users
from services.views.common import action_refused, back_to, form_page, posted

AUDIT_PAGE_SIZE = 50
AUDIT_CSV_BATCH = 2000  # entries read, and their records named, at a time


@require_GET
@director_required
def director_dashboard(request: HttpRequest) -> HttpResponse:
    organization = access.organization_of(request.user)
    context = {"organization": organization, **dashboards.director_dashboard(organization)}
    return render(request, "services/director_dashboard.html", context)


@require_http_methods(["GET", "POST"])
@director_required
def organization_settings(request: HttpRequest) -> HttpResponse:
    organization = access.organization_of(request.user)
    # A copy: a form's checks write what was typed into its instance, valid or not.
    form = OrganizationSettingsForm(posted(request), instance=copy.copy(organization))
    return form_page(
        request,
        form,
        lambda: organizations.organization_settings_update(
            by=request.user, organization=organization, **form.cleaned_data
        ),
        success=_settings_saved,
        then="organization_settings",
        title=_("Settings of %(organization)s") % {"organization": organization.name},
        back="director_dashboard",
        back_label=_("Overview"),
    )


def _settings_saved(organization: Organization) -> str:
    """Saved; and, as fewer years may have made closed cases due at once, how many are due."""
    due = retention.due_by(organization, timezone.localdate()).count()
    if not due:
        return _("The settings are saved.")
    return ngettext(
        "The settings are saved. %(count)s closed case has reached the end of its retention: "
        "confirm or hold it on the retention page.",
        "The settings are saved. %(count)s closed cases have reached the end of their retention: "
        "confirm or hold each on the retention page.",
        due,
    ) % {"count": due}


@require_GET
@director_required
def staff_list(request: HttpRequest) -> HttpResponse:
    members = list(
        access.staff_visible_to(request.user)
        .annotate(
            has_device=has_device("user"),
            carries=Count("user__caseload", filter=Q(user__caseload__merged_into__isnull=True), distinct=True),
        )
        .order_by("role", "user__first_name", "user__last_name")
    )
    locked = users.locked_out_usernames([member.user.username for member in members])
    for member in members:
        member.locked_out = member.user.username in locked
        setattr(member.user, HAS_DEVICE, member.has_device)
        member.invitation_waiting = member.user.is_active and not staff.has_chosen_a_password(member.user)
    return render(request, "services/staff_list.html", {"members": members})


@require_POST
@director_required
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Let a locked-out colleague sign in again now, instead of after the cool-off."""
    member = access.get_staff_member(request.user, pk)
    staff.staff_sign_in_unlock(by=request.user, member=member)
    messages.success(request, f"{member.user.get_full_name() or member.user.username} can sign in again.")
    return redirect("staff_list")


@require_POST
@director_required
def staff_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """The invitation again, for a colleague who has not taken it up."""
    member = access.get_staff_member(request.user, pk)
    try:
        staff.staff_invitation_resend(by=request.user, member=member)
    except ValidationError as error:
        return action_refused(request, " ".join(error.messages), back="staff_list", status=409)
    messages.success(request, _("The invitation went again, to %(email)s.") % {"email": member.user.email})
    return redirect("staff_list")


@require_http_methods(["GET", "POST"])
@director_required
def staff_create(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(posted(request), organization=access.organization_of(request.user))
    return form_page(
        request,
        form,
        lambda: staff.staff_create(by=request.user, **form.cleaned_data),
        success=lambda member: (
            _("%(name)s was emailed an invitation to sign in as %(username)s.")
            % {"name": member.user.get_full_name(), "username": member.user.get_username()}
        ),
        then="staff_list",
        title=_("Add a staff member"),
        back="staff_list",
        submit=_("Add and send invitation"),
    )


@require_http_methods(["GET", "POST"])
@director_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = access.get_staff_member(request.user, pk)
    user = member.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": member.role,
        "title": member.title,
        "phone": member.phone,
        "is_active": user.is_active,
    }
    form = StaffUpdateForm(posted(request), initial=initial, invitation_taken_up=staff.has_chosen_a_password(user))

    def save() -> StaffMember:
        updated = staff.staff_update(by=request.user, member=member, **form.cleaned_data)
        # Switched off with people or follow-ups still theirs: to be moved next.
        updated.still_carries = not updated.user.is_active and users.carries_anything(updated.user)
        return updated

    def saved(member: StaffMember) -> str:
        if member.user.email.lower() != initial["email"].lower() and member.user.is_active:
            return _("Saved. The invitation went again, to %(email)s.") % {"email": member.user.email}
        if member.still_carries:
            return _(
                "Saved: %(name)s can no longer sign in. Their reminders have stopped: move the people "
                "and open follow-ups they carry now."
            ) % {"name": member.user.get_full_name() or member.user.get_username()}
        return _("Saved.")

    return form_page(
        request,
        form,
        save,
        success=saved,
        then=lambda member: reverse("caseload_move", args=[member.user_id]) if member.still_carries else "staff_list",
        title=_("Edit %(username)s") % {"username": member.user.get_full_name() or member.user.username},
        back="staff_list",
    )


@require_http_methods(["GET", "POST"])
@director_required
def caseload_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk)
    form = CaseloadForm(
        posted(request),
        caseworkers=users.caseworkers_with_caseloads(exoneree.organization),
        initial={"caseworkers": list(exoneree.caseworkers.values_list("pk", flat=True))},
    )

    def updated(moved: int) -> str:
        _warn_not_signed_in(request, form.cleaned_data["caseworkers"])
        note = f" {moved} open follow-up{'s' if moved != 1 else ''} moved with them." if moved else ""
        return f"{exoneree.display_name}'s caseworkers were updated.{note}"

    return form_page(
        request,
        form,
        lambda: people.caseload_assign(by=request.user, exoneree=exoneree, **form.cleaned_data),
        success=updated,
        then=exoneree,
        title=_("Who works with %(display_name)s") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
        intro=_("Caseworkers you uncheck lose access to this person's record at once."),
    )


@require_http_methods(["GET", "POST"])
@director_required
def caseload_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move some or all of one caseworker's people to another (someone leaving, a rebalance)."""
    caseworker = access.get_caseworker(request.user, pk)
    name = caseworker.get_full_name() or caseworker.get_username()
    people_carried = users.caseload_of(request.user, caseworker)
    form = CaseloadMoveForm(
        posted(request),
        people=people_carried,
        receivers=users.caseworkers_with_caseloads(access.organization_of(request.user)).exclude(pk=caseworker.pk),
    )
    carried = len(form.fields["people"].choices)
    form.fields["everyone"].label = _("All of %(name)s's people (%(count)d)") % {"name": name, "count": carried}
    return form_page(
        request,
        form,
        lambda: people.caseloads_move(
            by=request.user,
            people=form.cleaned_data["people"],
            from_caseworker=caseworker,
            to_caseworker=form.cleaned_data["to_caseworker"],
        ),
        success=lambda moved: _moved(request, moved, form.cleaned_data["to_caseworker"]),
        then="staff_list",
        title=_("Move people from %(name)s") % {"name": name},
        back="staff_list",
        intro=_("The caseworker you choose gets each person's record and open follow-ups at once."),
        submit=_("Move"),
    )


def _moved(request: HttpRequest, moved: int, receiver: Any) -> str:
    """Who was told what: the receiving caseworker, by a notice in the app; nobody else."""
    _warn_not_signed_in(request, [receiver])
    name = receiver.get_full_name() or receiver.get_username()
    return ngettext(
        "%(count)d person moved to %(name)s. %(name)s has a notice in the app saying you moved them; "
        "the person and the caseworker they came from were not told.",
        "%(count)d people moved to %(name)s. %(name)s has a notice in the app saying you moved them; "
        "the people and the caseworker they came from were not told.",
        moved,
    ) % {"count": moved, "name": name}


def _warn_not_signed_in(request: HttpRequest, caseworkers: list[Any]) -> None:
    """People given to a caseworker invited who has not chosen a password yet wait for them:
    said at once, with what to do, rather than refused (a newcomer takes over from the first day)."""
    for caseworker in users.not_signed_in_yet(caseworkers):
        name = caseworker.get_full_name() or caseworker.get_username()
        messages.warning(
            request,
            _(
                "%(name)s has not signed in yet: they see these people only once they choose a password "
                "from their invitation. If it was lost, send it again from Staff."
            )
            % {"name": name},
        )


@require_GET
@director_required
def audit_log(request: HttpRequest) -> HttpResponse:
    organization = access.organization_of(request.user)
    form = AuditLogFilterForm(request.GET or None, organization=organization)
    valid = form.is_valid() or not form.is_bound
    filters = form.log_filters() if form.is_bound and valid else {}
    # A filter that could not be read shows nothing, rather than everything.
    entries = audit_trail.audit_log(organization, **filters) if valid else AuditEvent.objects.none()
    if request.GET.get("format") == "csv" and form.is_valid():
        # The export's entry names the filters as the address does ("from", "to").
        return audit_csv(request, entries, form.cleaned_data)
    page, rows = _log_page(request, entries)
    refused = form.is_bound and not form.is_valid()
    context = {"form": form, "page": page, "rows": rows, "csv_query": request.GET.urlencode(), "refused": refused}
    return render(request, "services/audit_log.html", context, status=400 if refused else 200)


def _log_page(request: HttpRequest, entries: QuerySet[AuditEvent]) -> tuple[Page, list[audit_display.LogRow]]:
    """A page of the log counted in rows, as it is shown: a run of openings is one row, on one
    page, whole (never its first part on one page and the rest atop the next)."""
    asked = request.GET.get("page")
    page = LookAheadPaginator(audit_display.run_heads(entries), AUDIT_PAGE_SIZE, asked=asked).get_page(asked)
    return page, audit_display.log_rows(audit_display.rows_from(entries, page.object_list))


@require_GET
@director_required
def audit_check(request: HttpRequest) -> HttpResponse:
    """The chain check, run afresh at each opening. Not itself an entry: like reading and
    searching the log, it shows nothing the log does not (only exports are logged)."""
    organization = access.organization_of(request.user)
    return render(request, "services/audit_check.html", {"report": audit_chain.chain_report(organization)})


@require_GET
@director_required
def exoneree_access_log(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk)
    entries = audit_trail.audit_log(exoneree.organization, exoneree=exoneree)
    page, rows = _log_page(request, entries)
    context = {
        "exoneree": exoneree,
        "page": page,
        "rows": rows,
        "openers": audit_trail.record_openers(exoneree),
    }
    return render(request, "services/exoneree_access_log.html", context)


def audit_csv(request: HttpRequest, entries: QuerySet[AuditEvent], filters: dict[str, Any]) -> StreamingHttpResponse:
    """The filtered log as CSV, saying what the page says: its columns and each entry's values
    as its row shows them (audit_display.csv_cells), one line per entry. The export itself is
    logged first, with the filters used."""
    exports.audit_export(by=request.user, filters=filters)
    writer = csv.writer(Echo())
    # The lines are written after the view returns, when the middleware has put the
    # organization's time zone and the reader's language away: kept here for them.
    zone, language = timezone.get_current_timezone(), translation.get_language()
    header = audit_display.csv_header()

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        read = entries.iterator(chunk_size=AUDIT_CSV_BATCH)
        while batch := list(itertools.islice(read, AUDIT_CSV_BATCH)):
            with timezone.override(zone), translation.override(language):
                rows = audit_display.export_rows(batch)  # one query per kind of record named
                cells = [[safe_cell(cell) for cell in audit_display.csv_cells(row)] for row in rows]
            yield "".join(writer.writerow(line) for line in cells)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_audit_csv_name(filters)}.csv"'
    return response


def _audit_csv_name(filters: dict[str, Any]) -> str:
    """The period the download covers (its first day or "start", its last or today) and the
    other filters by code and id, never a name: two different downloads never share a name."""
    start, end = filters.get("from"), filters.get("to") or timezone.localdate()
    parts = ["access-log", f"{start:%Y-%m-%d}" if start else "start", f"{end:%Y-%m-%d}"]
    if filters.get("action"):
        parts.append(filters["action"])
    if filters.get("staff") is not None:
        parts.append(f"staff-{filters['staff'].pk}")
    if filters.get("person"):
        parts.append("person-search")  # the name typed stays out of the file's name
    return "_".join(parts)


class Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value
