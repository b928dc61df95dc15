"""The exoneree's own plan, in plain words, and their choice of language."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import exoneree_required
from services.actions import follow_ups, people, provider_answers
from services.choices import PersonAnswer
from services.forms.asks import AskForm
from services.forms.provider import AppointmentAnswerForm, PersonAnswerForm
from services.forms.reach import ContactWishesForm
from services.lib import once
from services.lib.links import of_this_site
from services.lib.said_here import said_at
from services.middleware import remember_language
from services.models.people import Exoneree
from services.selectors import plans
from services.selectors.audit_trail import visits_page
from services.selectors.users import is_site_language
from services.views.common import CHOSEN_BEFORE, apply_errors, restore_kept

PLAIN_TEXT = "text/plain; charset=utf-8"  # a refusal that is a sentence, not a page

# The plan's lower sections, folded on a phone: a link to one (an email's "?open=documents#documents",
# the visits page's way back) names it in `?open=`, which opens it (a fragment cannot, without a script).
PLAN_FOLDS = frozenset({"sharing", "documents", "legal", "notes", "visits", "copy"})


def plan_page(request: HttpRequest, exoneree: Exoneree, *, status: int = 200, **extra: Any) -> HttpResponse:
    """My plan, with its forms (blank unless a refused one is handed in with its errors).

    Also the answer to a refused form posted to an address that takes only forms (an ask, an
    answer): `page_url` names My plan as the page shown, for the frame's own forms (the
    language switch) to come back to."""
    context = {
        "exoneree": exoneree,
        "ask_form": AskForm(),
        "person_answers": PersonAnswer.choices,  # "Did you get help from …?", a radio each
        "page_url": reverse("my_plan"),
        **plans.plan_for(exoneree),
        **extra,
    }
    return render(request, "services/my_plan.html", context, status=status)


@require_GET
@exoneree_required
def my_plan(request: HttpRequest) -> HttpResponse:
    opened = request.GET.get("open", "")
    return plan_page(request, access.own_exoneree(request.user), opened=opened if opened in PLAN_FOLDS else "")


@require_GET
@exoneree_required
def my_asks(request: HttpRequest) -> HttpResponse:
    """Everything the person asked for, newest first (the plan shows the newest few)."""
    asks = plans.every_ask(access.own_exoneree(request.user))
    return render(request, "services/my_asks.html", {"asks": asks})


@require_GET
@exoneree_required
def my_visits(request: HttpRequest) -> HttpResponse:
    """Every visit to their file, newest first, a page at a time (the plan has the newest):
    `?before=` an opening's id, as the page's own "Earlier visits" link gives it."""
    before = request.GET.get("before", "")
    if before and not (before.isascii() and before.isdigit() and len(before) <= 18):
        return HttpResponseBadRequest(_("That page of visits does not exist."), content_type=PLAIN_TEXT)
    page = visits_page(access.own_exoneree(request.user), before=int(before) if before else None)
    return render(request, "services/my_visits.html", {**page, "first_page": not before})


@require_POST
@exoneree_required
def my_referral_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's own word on a referral of their plan: did they get help?"""
    referral = access.get_own_referral(request.user, pk)
    form = PersonAnswerForm(request.POST)
    if form.is_valid():
        try:
            provider_answers.referral_person_answer(
                by=request.user, referral=referral, answer=form.cleaned_data["answer"], words=form.cleaned_data["words"]
            )
        except ValidationError as error:
            if error.code == "no_help_to_confirm":  # declined since the page was opened: the form is gone
                place = said_at(request, f"referral-{referral.pk}", " ".join(error.messages), level=messages.INFO)
                return once.not_saved(HttpResponseRedirect(reverse("my_plan") + place))
            form.add_error(None, error)
        else:
            place = said_at(request, f"referral-{referral.pk}", _("Thank you. Your caseworker will see your answer."))
            return HttpResponseRedirect(reverse("my_plan") + place)
    return plan_page(
        request, referral.need.exoneree, status=400, refused_answers={referral.pk: form}, refused_at=f"referral-{pk}"
    )


@require_POST
@exoneree_required
def my_appointment_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's word on an appointment of their plan: "I'll be there" or "I need another time"."""
    follow_up = access.get_own_appointment(request.user, pk)
    form = AppointmentAnswerForm(request.POST)
    if form.is_valid():
        follow_ups.follow_up_person_answer(
            by=request.user, follow_up=follow_up, answer=form.cleaned_data["answer"], words=form.cleaned_data["words"]
        )
        place = said_at(request, f"appointment-{follow_up.pk}", _("Thank you. Your caseworker will see your answer."))
        return HttpResponseRedirect(reverse("my_plan") + place)
    return plan_page(
        request,
        follow_up.exoneree,
        status=400,
        refused_appointments={follow_up.pk: form},
        refused_at=f"appointment-{pk}",
    )


@require_http_methods(["GET", "POST"])
@exoneree_required
def my_contact_wishes(request: HttpRequest) -> HttpResponse:
    """How the person wants to be reached and reminded, set by them; obeyed by the next reminder."""
    exoneree = access.own_exoneree(request.user)
    form = ContactWishesForm(request.POST if request.method == "POST" else None, instance=exoneree)
    restore_kept(request, form, said=CHOSEN_BEFORE)
    if form.is_valid():
        try:
            people.exoneree_set_contact_wishes(by=request.user, exoneree=form.instance)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved. We will reach you the way you chose."))
            return HttpResponseRedirect(reverse("my_contact_wishes"))
    status = 400 if form.is_bound else 200
    return render(request, "services/my_contact_wishes.html", {"exoneree": exoneree, "form": form}, status=status)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the pages to English or Spanish, and stay on the same page. Anyone signed out may
    (a person who reads Spanish, on a phone set to English, at the sign-in and password pages):
    the language cookie is all it changes. Signed in, only an exoneree (staff pages stay
    English). CSRF-protected like every POST: a page elsewhere cannot switch it."""
    if request.user.is_authenticated:
        return set_own_language(request)
    language = request.POST.get("language", "")
    if not is_site_language(language):
        return HttpResponseBadRequest(_("Choose English or Spanish."), content_type=PLAIN_TEXT)
    return language_set(request, language, default=reverse("login"))


@exoneree_required
def set_own_language(request: HttpRequest) -> HttpResponse:
    """An exoneree's pages and emails, by their record."""
    exoneree = access.own_exoneree(request.user)
    try:
        people.exoneree_set_language(by=request.user, exoneree=exoneree, language=request.POST.get("language", ""))
    except ValidationError:
        return HttpResponseBadRequest(_("Choose English or Spanish."), content_type=PLAIN_TEXT)
    return language_set(request, exoneree.preferred_language, default=reverse("my_plan"))


def language_set(request: HttpRequest, language: str, *, default: str) -> HttpResponse:
    """Back to the page the switch was on: only ever a page of this site."""
    translation.activate(language)
    response = HttpResponseRedirect(of_this_site(request, request.POST.get("next", ""), default))
    remember_language(response, language)  # the sign-in page after signing out too
    return response
