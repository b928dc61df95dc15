"""Staff pages for a referral: making one, its page (what it shares, its status, what went to
the provider and the provider's questions, with the caseworker's answers), editing it and
moving it along its lifecycle."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import caseworker_required, staff_required
from services.actions import referrals
from services.choices import ConsentCategory, ReferralStatus
from services.forms.provider import ProviderQuestionAnswerForm
from services.forms.referrals import ReferralEditForm, ReferralForm, ReferralTransitionForm
from services.lifecycle import TransitionNotAllowed
from services.models.referrals import Referral
from services.selectors import coverage, provider_links
from services.selectors import resources as resources_selectors
from services.views.common import apply_errors, back_to, form_page, posted


@require_http_methods(["GET", "POST"])
@caseworker_required
def referral_create(request: HttpRequest, pk: int) -> HttpResponse:
    need = access.get_need(request.user, pk, change=True)
    form = ReferralForm(
        posted(request),
        resources=resources_selectors.resources_for_need(request.user, need),
        # From a directory entry's "Refer someone here": that resource chosen (the form still
        # accepts only resources this user may refer to).
        initial={"categories": coverage.categories_for_need(need), "resource": request.GET.get("resource")},
    )
    return form_page(
        request,
        form,
        lambda: referrals.referral_create(by=request.user, need=need, **form.cleaned_data),
        success=_("Referral saved as a draft. Send it when it is ready."),
        then=lambda referral: referral,
        title=_("Refer: %(domain)s") % {"domain": need.get_domain_display()},
        **back_to(need.exoneree),
        intro=need.description,
    )


@require_GET
@staff_required
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral(request.user, pk)
    return referral_page(request, referral, can_change=access.can_change_exoneree(request.user, referral.need.exoneree))


def referral_page(
    request: HttpRequest,
    referral: Referral,
    *,
    can_change: bool,
    form: ReferralTransitionForm | None = None,
    answers: dict[int, ProviderQuestionAnswerForm] | None = None,
    status: int = 200,
    refused: str = "",
) -> HttpResponse:
    """The referral's page. `form`: the update sent back with its errors (else a fresh one, for
    a user who may change the referral while it is open); `answers`: an answer to one of the
    provider's questions sent back with its errors, by question; `refused`: why an update of a
    referral closed meanwhile changed nothing."""
    if not referral.is_open:
        form = None  # no status follows a closed one: the page says so, and what can still be done
    elif form is None and can_change:
        form = ReferralTransitionForm(referral=referral)
    context = _referral_context(referral, can_change, form, answers or {})
    return render(request, "services/referral_detail.html", {**context, "refused": refused}, status=status)


def _referral_context(
    referral: Referral,
    can_change: bool,
    form: ReferralTransitionForm | None,
    answers: dict[int, ProviderQuestionAnswerForm],
) -> dict[str, Any]:
    """What the referral page shows, including what it shares and what consent is missing."""
    carried = coverage.referral_categories(referral)
    missing = coverage.consent_missing(referral, carried=carried) if referral.status == ReferralStatus.DRAFT else []
    delivery = provider_links.delivery_for(referral, carried=carried)
    # A question is answered where the provider reads it: on their page, which works only while
    # the referral is with them. A director reads the questions and answers, and answers none.
    answering = can_change and delivery["with_provider"]
    for question in delivery["questions"]:
        if question.pk in answers:
            question.answer_form = answers[question.pk]
        elif answering and question.answered_at is None:
            question.answer_form = ProviderQuestionAnswerForm(question_pk=question.pk)
        else:
            question.answer_form = None
    events = list(referral.events.select_related("by", "by_provider"))
    return {
        "referral": referral,
        "exoneree": referral.need.exoneree,
        "events": events,
        # Completed on the provider's page, its feedback is the provider's own note, not what
        # the person said about the service (the caseworker's "What did they say about it?").
        "feedback_by_provider": any(e.to_status == ReferralStatus.COMPLETED and e.by_provider_id for e in events),
        **delivery,
        "can_change": can_change,
        "form": form,
        "categories": [ConsentCategory(value).label for value in carried],
        # The banner's "Record a consent" link is there only for who may record one.
        "consent_missing": coverage.consent_missing_message(referral, missing, link_follows=can_change)
        if missing
        else "",
    }


@require_http_methods(["GET", "POST"])
@caseworker_required
def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral(request.user, pk, change=True)
    resources = resources_selectors.resources_for_need(request.user, referral.need, keep=referral.resource_id)
    form = ReferralEditForm(posted(request), instance=referral, resources=resources)
    return form_page(
        request,
        form,
        lambda: referrals.referral_update(
            by=request.user, referral=form.instance, categories=form.cleaned_data["categories"]
        ),
        success=_("Referral saved."),
        then=referral,
        title=_("Edit referral"),
        back=referral.get_absolute_url(),
        back_label=_("Referral"),
    )


@require_POST
@caseworker_required
def referral_transition(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral(request.user, pk, change=True)
    if request.POST.get("status") == referral.status:
        # Pressed twice (a second tab, the back button): what the first press did stands.
        messages.info(request, _("It is %(status)s already.") % {"status": referral.get_status_display().lower()})
        return redirect(referral)
    if not referral.is_open:  # closed in another tab, say: there is no status left to choose
        refused = _("Nothing was changed: the referral is %(status)s.") % {
            "status": referral.get_status_display().lower()
        }
        return referral_page(request, referral, can_change=True, status=409, refused=refused)
    form = ReferralTransitionForm(request.POST, referral=referral)
    status = 400
    if form.is_valid():
        try:
            referral = referrals.referral_transition(by=request.user, referral=referral, **form.move())
        except TransitionNotAllowed as error:
            form.add_error("status", str(error))
            status = 409
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, _("Referral is now %(status)s.") % {"status": referral.get_status_display().lower()}
            )
            return redirect(referral)
    return referral_page(request, referral, can_change=True, form=form, status=status)
