"""The director's retention page (issue 23): closed cases due now or within 30 days, each
with its date; confirm one may be removed, or place or lift a legal hold. And legal holds
wherever the record is: placed or lifted from the person's page, open case or closed (a lawsuit
or a compensation claim starts while the case is open), and every hold standing, listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access, retention
from services.access import director_required
from services.actions import retention as actions
from services.choices import RetentionMode
from services.forms.retention import LegalHoldForm, LegalHoldLiftForm, RetentionConfirmForm
from services.lib.said_here import said_at
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.views.common import apply_errors, came_from, posted, restore_kept

HOLDS_PAGE_SIZE = 50


def _page(request: HttpRequest, *, status: int = 200, **forms: Any) -> HttpResponse:
    organization = access.organization_of(request.user)
    context = {
        "organization": organization,
        "people": retention.review_list(organization),
        "notice_days": retention.NOTICE_DAYS,
        "confirm_form": RetentionConfirmForm(),
        "hold_form": LegalHoldForm(),
        "lift_form": LegalHoldLiftForm(),
        **forms,
    }
    return render(request, "services/retention_review.html", context, status=status)


def _refused(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """Refused for the case's state, not for what was typed (already on hold, a hold to lift
    first: a second director's or an old tab's doing): said at the top of the page, since the
    case's forms may no longer be shown."""
    messages.error(request, " ".join(error.messages))
    return _page(request, status=409)


def _changed(form: Form, change: Callable[..., object], *, by: Any, exoneree: Exoneree) -> bool:
    """Place or lift a hold with the form's reason: True once done; False with the errors beside
    the field. A refusal for the hold's state (no field to blame) is raised for the page to say."""
    if not form.is_valid():
        return False
    try:
        change(by=by, exoneree=exoneree, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        apply_errors(form, error)
        return False
    return True


def _back(request: HttpRequest, pk: int, said: str) -> HttpResponse:
    """Back to the person's card on the retention page, what was done said on it."""
    return redirect(reverse("retention_review") + said_at(request, f"person-{pk}", said))


@require_GET
@director_required
def retention_review(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _confirmed(exoneree: Exoneree, organization: Organization) -> str:
    """What happens now: a case due already goes at the next run of the purge (`manage.py
    purge_due`, scheduled by the operator); one not due yet, on its day."""
    due = retention.purge_date(exoneree, organization)
    removed = organization.retention_mode == RetentionMode.PURGE
    if due is None or due <= timezone.localdate():
        if removed:
            return _("Confirmed. The record is due: it is removed at the next run of the retention purge.")
        return _("Confirmed. The record is due: it is de-identified at the next run of the retention purge.")
    day = date_format(due, "F j, Y")
    if removed:
        return _("Confirmed. The record will be removed when it is due, on %(day)s.") % {"day": day}
    return _("Confirmed. The record will be de-identified when it is due, on %(day)s.") % {"day": day}


@require_POST
@director_required
def retention_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_closed_case(request.user, pk)
    form = RetentionConfirmForm(request.POST)
    if form.is_valid():
        try:
            actions.retention_confirm(by=request.user, exoneree=exoneree)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _refused(request, error)
            apply_errors(form, error)
        else:
            return _back(request, pk, _confirmed(exoneree, access.organization_of(request.user)))
    return _page(request, status=400, confirm_form=form, form_for=pk)


@require_POST
@director_required
def legal_hold_place(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_closed_case(request.user, pk)
    form = LegalHoldForm(request.POST)
    try:
        if _changed(form, actions.legal_hold_place, by=request.user, exoneree=exoneree):
            return _back(request, pk, _("Legal hold placed. The record is kept until the hold is lifted."))
    except ValidationError as error:
        return _refused(request, error)
    return _page(request, status=400, hold_form=form, form_for=pk)


@require_POST
@director_required
def legal_hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_closed_case(request.user, pk)
    form = LegalHoldLiftForm(request.POST)
    try:
        if _changed(form, actions.legal_hold_lift, by=request.user, exoneree=exoneree):
            return _back(request, pk, _("Legal hold lifted."))
    except ValidationError as error:
        return _refused(request, error)
    return _page(request, status=400, lift_form=form, form_for=pk)


# --- a person's legal hold, open case or closed, and every hold standing ---------------------------


@require_GET
@director_required
def legal_hold_list(request: HttpRequest) -> HttpResponse:
    """Every legal hold standing in the organization, on the people the director may see."""
    holds = retention.active_holds(access.exonerees_visible_to(request.user))
    page = Paginator(holds, HOLDS_PAGE_SIZE).get_page(request.GET.get("page"))
    # The way back: to the overview or the retention page, whichever linked here (Retention when
    # neither did, as from the person's hold page).
    ways_back = {reverse("director_dashboard"): _("Overview"), reverse("retention_review"): _("Retention")}
    back = came_from(request, *ways_back) or reverse("retention_review")
    context = {"page": page, "back": back, "back_label": ways_back[urlsplit(back).path]}
    return render(request, "services/legal_hold_list.html", context)


def _back_to_holds(request: HttpRequest) -> str:
    """The list of holds (its page, its own way back) when the hold page was opened from it, or ''."""
    return came_from(request, reverse("legal_hold_list"))


def _hold_page(
    request: HttpRequest,
    exoneree: Exoneree,
    form: LegalHoldForm | None = None,
    *,
    lift_form: LegalHoldLiftForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The person's hold as it stands now: who placed it, when and why, with the form to lift
    it (and say why); or, with none, the form to place one."""
    context = {
        "exoneree": exoneree,
        "hold": retention.active_hold(exoneree),
        "lifted": retention.lifted_holds(exoneree),
        "form": form or LegalHoldForm(),
        "lift_form": lift_form or LegalHoldLiftForm(),
        "holds_list": _back_to_holds(request),  # opened from the list: back there, and lifted, too
    }
    return render(request, "services/legal_hold.html", context, status=status)


def _hold_refused(request: HttpRequest, exoneree: Exoneree, error: ValidationError) -> HttpResponse:
    """Refused for the hold's state (placed or lifted a moment ago: a second director's or an
    old tab's doing): said at the top of the page, which shows the hold as it now is."""
    messages.error(request, " ".join(error.messages))
    return _hold_page(request, exoneree, status=409)


@require_http_methods(["GET", "POST"])
@director_required
def exoneree_legal_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Place a legal hold on the person's record, with its reason (a POST), or see the one standing."""
    exoneree = access.get_exoneree(request.user, pk)
    form = LegalHoldForm(posted(request))
    restore_kept(request, form)  # typed before an idle sign-out
    try:
        if _changed(form, actions.legal_hold_place, by=request.user, exoneree=exoneree):
            messages.success(request, _("Legal hold placed. The record is kept until the hold is lifted."))
            return redirect(_back_to_holds(request) or exoneree)
    except ValidationError as error:
        return _hold_refused(request, exoneree, error)
    return _hold_page(request, exoneree, form, status=400 if form.is_bound else 200)


@require_POST
@director_required
def exoneree_legal_hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk)
    form = LegalHoldLiftForm(request.POST)
    try:
        if _changed(form, actions.legal_hold_lift, by=request.user, exoneree=exoneree):
            messages.success(request, _("Legal hold lifted."))
            return redirect(_back_to_holds(request) or exoneree)
    except ValidationError as error:
        return _hold_refused(request, exoneree, error)
    return _hold_page(request, exoneree, lift_form=form, status=400)
