"""The provider's page (the link in the referral's email; no account), and the staff's
side of it: the buttons that send the referral again or stop its link, and the answers to
the provider's questions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from services import access, audit
from services.access import caseworker_required
from services.actions import provider_answers
from services.forms.provider import WORDS_FIELDS, ProviderAnswerForm, ProviderQuestionAnswerForm
from services.lib import once
from services.lib.provider_tokens import private_page, token_hash
from services.lib.said_here import said_at
from services.lib.text import visible_length
from services.lib.throttle import throttle_hit
from services.lifecycle import TransitionNotAllowed
from services.middleware import remember_language
from services.models.referrals import ProviderLink, Referral
from services.selectors import coverage, provider_links
from services.selectors.provider_links import LinkState
from services.selectors.users import is_site_language
from services.views.common import action_refused, apply_errors, posted
from services.views.referrals import referral_page


def _limited(request: HttpRequest, hashed: str) -> bool:
    """Per client address and per token: someone trying tokens, or a link passed around.
    Counted in the cache every process shares. An address already refused is not counted
    against the token it tried: trying tokens adds no count to the cache once refused."""
    window = settings.PROVIDER_RATE_WINDOW_SECONDS
    address = audit.client_ip(request) or "unknown"
    if not throttle_hit("provider-address", address, limit=settings.PROVIDER_RATE_PER_ADDRESS, period_seconds=window):
        return True
    return not throttle_hit("provider-token", hashed, limit=settings.PROVIDER_RATE_PER_TOKEN, period_seconds=window)


# No CSRF token: the page is sent with `Referrer-Policy: no-referrer`, under which browsers
# send `Origin: null` with its forms, and Django's origin check refuses that. Nor is one
# needed: the token in the address is the secret a forged cross-site POST would have to
# know, and whoever knows it can open the page anyway (a capability URL, like the reset link).
@once.by_address  # a question sent twice (a double click) is asked once
@csrf_exempt
@require_http_methods(["GET", "POST"])
def provider_referral(request: HttpRequest, token: str) -> HttpResponse:
    """What the person agreed to share with this provider, and the provider's answers.

    A wrong or tampered token is a 404 (nothing exists there); a link that stopped working
    is a 410 with a polite page showing nothing of the person.
    """
    if _limited(request, token_hash(token)):
        return private_page(render(request, "services/provider_limited.html", status=429))
    link = provider_links.provider_link_for(token)
    # Nobody is signed in here, so the middleware left the site's zone: the times on the page
    # (a question asked, its answer, the link's last day) are the referring organization's.
    language = _page_language(request, link)
    with timezone.override(link.referral.organization.zone()), translation.override(language):
        if request.method == "POST" and "language" in request.POST:
            return _language_switched(request)
        response = _provider_page(request, link)
    response["Content-Language"] = language  # LocaleMiddleware's would be its own choice's
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        # What the site says of this page before the view runs (FormSentOnceMiddleware's "This
        # was already saved.", its 429 page) follows the cookie, as LocaleMiddleware does.
        remember_language(response, language)
    return response


def _page_language(request: HttpRequest, link: ProviderLink) -> str:
    """The visitor's own choice (the language switch's cookie: this page's, or the sign-in
    page's), else the provider's language, the one their emails are written in. Not the
    browser's: the link comes in an email in the provider's language, and the page goes on in it."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if is_site_language(chosen) else link.referral.resource.provider.language


def _language_switched(request: HttpRequest) -> HttpResponse:
    """The page's own language switch (templates/services/_provider_language_switch.html): it
    posts to the page itself, which needs no CSRF token (above), where the site's switch would
    be refused. Nothing of the referral changes; the cookie keeps the choice for the next visit."""
    language = request.POST["language"]
    response = private_page(redirect(request.path))
    if is_site_language(language):
        remember_language(response, language)
    else:
        messages.error(request, _("Choose English or Spanish."))
    return response


def _provider_page(request: HttpRequest, link: ProviderLink) -> HttpResponse:
    carried = coverage.referral_categories(link.referral)
    if (state := provider_links.link_state_now(link, carried=carried)) != LinkState.WORKS:
        return _gone(request, link, state)
    form = ProviderAnswerForm(posted(request))
    status = 200
    if request.method == "POST":
        if too_late := _answered_before(request, link):
            return too_late
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["move"] == "question":
                    provider_answers.provider_ask(link=link, text=data["question"])
                    moved = link.referral
                else:
                    moved = provider_answers.provider_answer(
                        link=link,
                        move=data["move"],
                        provider_contact=data["contact_person"],
                        expected_on=data["expected_on"],
                        decline_code=form.reason_code(),
                        text=form.text(),
                        got_service=form.got_service_value(),
                    )
            except provider_answers.LinkGone:  # stopped meanwhile (the same answer from a double tap, say)
                link.refresh_from_db(fields=["revoked_at", "revoked_reason"])
                link.referral.refresh_from_db(fields=["status"])
                return _gone(request, link, provider_links.link_state_now(link, carried=carried))
            except TransitionNotAllowed as error:
                link.referral.refresh_from_db(fields=["status", "provider_contact", "expected_on"])
                if too_late := _answered_before(request, link):  # moved meanwhile, by another hand
                    return too_late
                form.add_error(None, str(error))
                status = 409
            except ValidationError as error:
                apply_errors(form, error)
            else:
                if moved.status not in provider_links.WITH_PROVIDER:  # declined or completed: done
                    return private_page(render(request, "services/provider_done.html", _whom_to_contact(link)))
                messages.success(request, _("Thank you. The caseworker has been told."))
                return private_page(redirect(request.path))
    else:
        provider_answers.provider_link_opened(link)
    referral = link.referral
    context = {
        "referral": referral,
        "link": link,
        "form": form,
        "moves": provider_answers.provider_moves_for(referral.status),
        "caseworker": referral.created_by,
        "organization": referral.organization,
        **provider_links.provider_view(referral, carried),
        "questions": provider_links.provider_questions(referral),
    }
    return private_page(render(request, "services/provider_referral.html", context, status=status))


def _gone(request: HttpRequest, link: ProviderLink, state: LinkState) -> HttpResponse:
    """The polite 410 of a link that stopped working, showing nothing of the person. An answer
    sent to it is said not to be saved (it read as if the link had failed before, the answer in
    doubt), except the answer that closed the referral sent again (a double tap, a phone sending
    again on a bad connection, the browser's resubmit): that one is thanked as the first was.
    Only through a link that held until the referral closed: a stopped, replaced or expired one
    learns nothing of the referral by trying answers."""
    contact = _whom_to_contact(link)
    if request.method != "POST":
        return private_page(render(request, "services/provider_gone.html", contact, status=410))
    if state == LinkState.CLOSED and provider_answers.PROVIDER_MOVES.get(request.POST.get("move", "")) == (
        link.referral.status
    ):
        return private_page(render(request, "services/provider_done.html", {**contact, "again": True}))
    return private_page(render(request, "services/provider_gone.html", {**contact, "not_saved": True}, status=410))


def _whom_to_contact(link: ProviderLink) -> dict[str, object]:
    """The referring caseworker and organization, as the referral's email named them: a link
    that stopped (or an answer that closed the referral) still says whom to reach, and nothing
    of the person. Only a real link gets here (a wrong token is a 404), so it tells a stranger
    nothing the email did not."""
    return {"caseworker": link.referral.created_by, "organization": link.referral.organization}


def _answered_before(request: HttpRequest, link: ProviderLink) -> HttpResponse | None:
    """A move the referral has made already or moved past (pressed twice, a second tab, a page
    left open): nothing is recorded, and the fresh page says so plainly rather than refusing
    fields it no longer shows. None when the move is not one of those."""
    referral, move = link.referral, request.POST.get("move", "")
    if provider_answers.PROVIDER_MOVES.get(move) == referral.status:  # the first answer stands
        if move == "accept" and _new_contact_given(request, referral):
            messages.warning(
                request,
                _(
                    "This referral is already accepted, so the contact or the date you gave was not saved."
                    " To change them, send the caseworker a question below."
                ),
            )
        elif visible_length(request.POST.get(WORDS_FIELDS.get(move, ""), "")):
            # Marked in progress twice, the second time with a note: it is not kept, say so.
            messages.warning(
                request,
                _(
                    "This referral is already %(status)s, so your note was not saved."
                    " To tell the caseworker something, send a question below."
                )
                % {"status": referral.get_status_display().lower()},
            )
        else:
            messages.info(request, _("We have this answer already. Thank you."))
    elif provider_answers.move_overtaken(move, referral.status):
        messages.warning(
            request,
            _("This referral is already %(status)s, so this answer was not saved.")
            % {"status": referral.get_status_display().lower()},
        )
    else:
        return None
    return private_page(redirect(request.path))


def _new_contact_given(request: HttpRequest, referral: Referral) -> bool:
    """A repeated acceptance carrying a contact or a date other than the ones kept."""
    contact, day = request.POST.get("contact_person", ""), request.POST.get("expected_on", "").strip()
    kept_day = referral.expected_on.isoformat() if referral.expected_on else ""
    return bool(visible_length(contact) and contact.split() != referral.provider_contact.split()) or bool(
        day and day != kept_day
    )


@require_POST
@caseworker_required
def referral_resend(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral(request.user, pk, change=True)
    try:
        provider_answers.referral_resend(by=request.user, referral=referral)
    except ValidationError as error:
        return action_refused(request, " ".join(error.messages), back=referral.need.exoneree, status=409)
    messages.success(
        request,
        _("The referral will be sent again within a minute, with a new link: the links sent before stop working then."),
    )
    return redirect(referral)


@require_POST
@caseworker_required
def referral_link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    referral = access.get_referral(request.user, pk, change=True)
    if provider_answers.referral_link_revoke(by=request.user, referral=referral):
        messages.success(request, _("The provider's link no longer works."))
    else:
        messages.info(request, _("There was no working link to stop."))
    return redirect(referral)


@require_POST
@caseworker_required
def provider_question_answer(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    """The caseworker answers one of the provider's questions, on the referral's page."""
    referral = access.get_referral(request.user, pk, change=True)
    question = provider_links.question_of(referral, question_pk)
    form = ProviderQuestionAnswerForm(request.POST, question_pk=question.pk)
    status = 400
    if form.is_valid():
        try:
            provider_answers.provider_question_answer(
                by=request.user, question=question, text=form.cleaned_data["answer"]
            )
        except ValidationError as error:  # answered meanwhile, or the referral left the provider
            apply_errors(form, error)
            status = 409
        else:
            said = _("Answer saved. The provider is emailed that there is an answer on their page.")
            return redirect(referral.get_absolute_url() + said_at(request, f"question-{question.pk}", said))
    return referral_page(request, referral, can_change=True, answers={question.pk: form}, status=status)
