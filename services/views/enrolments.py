"""A person's case: closing it with its exit and reopening it (the person's caseworkers);
restricting who sees it (the directors)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from services import access
from services.access import caseworker_required, director_required
from services.actions import enrolment
from services.actions import restriction as restriction_actions
from services.forms.enrolments import CloseCaseForm, ReopenCaseForm, RestrictionForm
from services.models.people import Exoneree
from services.selectors import records
from services.selectors.legal import claims_due
from services.views.common import action_refused, back_to, form_page, posted


@require_http_methods(["GET", "POST"])
@caseworker_required
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    if not exoneree.case_is_open:
        return action_refused(request, _("This case is already closed."), back=exoneree, status=409)
    open_needs, met_by_referral = records.needs_to_close(exoneree)
    form = CloseCaseForm(posted(request), open_needs=open_needs, met_by_referral=met_by_referral)
    return form_page(
        request,
        form,
        lambda: enrolment.close_case(
            request.user,
            exoneree,
            closed_on=form.cleaned_data["closed_on"],
            reason=form.cleaned_data["exit_reason"],
            destination=form.cleaned_data["destination"],
            housing_at_exit=form.cleaned_data["housing_at_exit"],
            note=form.cleaned_data["note"],
            needs_met=form.cleaned_data.get("needs_met", set()),
        ),
        success=_("The case is closed. Its open needs and referrals were closed and its reminders stopped."),
        then=exoneree,
        title=_("Close the case of %(display_name)s") % {"display_name": exoneree.display_name},
        **back_to(exoneree),
        intro=_(
            "Closing the case stops every reminder about this person and closes their open needs "
            "(met, or no longer wanted: tick those that were met) and referrals. The record stays, and the case "
            "can be reopened."
        ),
        warnings=_deadlines_left_alone(exoneree),
        submit=_("Close the case"),
    )


def _deadlines_left_alone(exoneree: Exoneree) -> list[str]:
    """The statutory deadlines still ahead whose reminders closing the case stops: a
    compensation claim not filed yet can be lost for good."""
    return [
        _(
            "Their %(where)s compensation claim is not filed, and its deadline is %(day)s (%(days)s days "
            "left). Closing the case stops its reminders: make sure someone will file it in time."
        )
        % {
            "where": claim.jurisdiction_name or _("compensation"),
            "day": date_format(claim.filing_deadline, "M j, Y"),
            "days": claim.days_left,
        }
        for claim in claims_due(exoneree)
        if claim.days_left >= 0
    ]


@require_POST
@caseworker_required
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    exoneree = access.get_exoneree(request.user, pk, change=True)
    form = ReopenCaseForm(request.POST)
    if not form.is_valid():
        return action_refused(request, _("Give the day the case is reopened."), back=exoneree, status=400)
    try:
        enrolment.reopen_case(request.user, exoneree, opened_on=form.cleaned_data["opened_on"])
    except ValidationError as error:
        return action_refused(request, " ".join(error.messages), back=exoneree, status=400)
    messages.success(request, _("The case is open again."))
    return redirect(exoneree)


@require_http_methods(["GET", "POST"])
@director_required
def restriction(request: HttpRequest, pk: int) -> HttpResponse:
    """Restrict who sees the person's record, or lift the restriction (the record's state says which)."""
    exoneree = access.get_exoneree(request.user, pk)
    restricting = not exoneree.restricted
    form = RestrictionForm(posted(request))
    if restricting:
        title = _("Restrict who sees %(display_name)s") % {"display_name": exoneree.display_name}
        intro = _(
            "Only their assigned caseworkers and the directors will see this record. It disappears from "
            "everyone else's lists and searches, emergency access included, and the directors are told "
            "each time someone opens it."
        )
        done, submit = _("The record is restricted."), _("Restrict the record")
    else:
        title = _("Lift the restriction on %(display_name)s") % {"display_name": exoneree.display_name}
        intro = _("Restricted because: %(reason)s") % {"reason": exoneree.restricted_reason}
        done, submit = _("The restriction is lifted."), _("Lift the restriction")
    return form_page(
        request,
        form,
        lambda: restriction_actions.restriction_set(
            by=request.user, exoneree=exoneree, restricted=restricting, reason=form.cleaned_data["reason"]
        ),
        success=done,
        then=exoneree,
        title=title,
        **back_to(exoneree),
        intro=intro,
        submit=submit,
    )
