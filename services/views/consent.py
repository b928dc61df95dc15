"""Consent (release of information) and break-the-glass emergency access."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from services import access
from services.access import caseworker_required, director_required, exoneree_required, staff_required
from services.actions import consent as consent_actions
from services.actions import emergency
from services.choices import ConsentRevokedHow
from services.forms.consent import ConsentForm, ConsentNarrowForm, EmergencyAccessForm, EmergencyReviewForm
from services.lib.days import plain_day
from services.lib.said_here import said_at
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors import audit_trail, coverage
from services.views.common import action_refused, apply_errors, back_to, form_page, posted, render_form

NO_MATCH = gettext_lazy("No single record in your organization matches. Check the details, or ask your director.")

# Consent, staff side: recorded and revoked by the person's caseworker; a director reads.


@require_http_methods(["GET", "POST"])
@caseworker_required
def consent_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a signed consent. From a referral that cannot be sent (`?referral=<pk>`, one of
    this person's), the form opens with its provider, the kinds it is missing ticked and the
    usual dates, and saving goes back to the referral, which can then be marked as sent."""
    exoneree = access.get_exoneree(request.user, pk, change=True)
    referral = _referral_of(request, exoneree)
    initial = coverage.consent_prefill(referral) if referral is not None else {}
    form = ConsentForm(posted(request), providers=access.providers_visible_to(request.user), initial=initial)
    return form_page(
        request,
        form,
        lambda: consent_actions.consent_create(
            by=request.user, exoneree=exoneree, consent=form.instance, categories=form.cleaned_data["categories"]
        ),
        success=_("Consent recorded.") + (" " + _("The referral can be sent now.") if referral else ""),
        then=referral.get_absolute_url() if referral else f"{exoneree.get_absolute_url()}#consents",
        title=_("Record a consent of %(display_name)s") % {"display_name": exoneree.display_name},
        **(
            {"back": referral.get_absolute_url(), "back_label": _("Referral")}
            if referral is not None
            else back_to(exoneree)
        ),
        intro=_(
            "Record what they signed: what may be shared, with whom, why and until when. "
            "Their services never depend on signing."
        ),
    )


def _referral_of(request: HttpRequest, exoneree: Exoneree) -> Referral | None:
    """The referral named by `?referral=`, through the access gate; not this person's: 404."""
    value = request.GET.get("referral", "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    referral = access.get_referral(request.user, int(value))
    if referral.need.exoneree_id != exoneree.pk:
        raise Http404
    return referral


@require_http_methods(["GET", "POST"])
@caseworker_required
def consent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Narrow a consent on the person's word (fewer kinds, an earlier end); never widen it."""
    consent = access.get_consent(request.user, pk, change=True)
    exoneree = consent.exoneree
    if consent.revoked_at is not None:
        return action_refused(
            request, _("This consent was revoked: it cannot be changed. Record a new one."), back=exoneree, status=409
        )
    form = ConsentNarrowForm(posted(request), consent=consent)

    def save() -> object:
        return consent_actions.consent_narrow(by=request.user, consent=consent, **form.cleaned_data)

    return form_page(
        request,
        form,
        save,
        success=_("Consent narrowed. Open referrals it no longer covers are flagged."),
        then=f"{exoneree.get_absolute_url()}#consents",
        title=_("Narrow the consent for %(name)s") % {"name": consent.provider.name},
        **back_to(exoneree),
        intro=_(
            "On %(name)s's word: share fewer kinds of information, or stop sooner. "
            "To share more or for longer, record a new signed consent."
        )
        % {"name": exoneree.display_name},
    )


@require_http_methods(["GET", "POST"])
@caseworker_required
def consent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke on the person's word; a GET asks to confirm, the POST does it."""
    consent = access.get_consent(request.user, pk, change=True)
    exoneree = consent.exoneree
    if request.method == "POST":
        flagged = consent_actions.consent_revoke(by=request.user, consent=consent, how=ConsentRevokedHow.STAFF)
        said = _("Consent for %(name)s revoked. New referrals will not be sent there.") % {
            "name": consent.provider.name
        } + (f" {flagged} open referral(s) are flagged: tell the provider." if flagged else "")
        return redirect(exoneree.get_absolute_url() + said_at(request, "consents", said))
    context = {
        "title": _("Revoke the consent for %(name)s?") % {"name": consent.provider.name},
        "message": _(
            "%(person)s will no longer share anything with %(provider)s. "
            "Open referrals that relied on it are flagged and their caseworkers told."
        )
        % {"person": exoneree.display_name, "provider": consent.provider.name},
        "button": _("Revoke the consent"),
        "back": f"{exoneree.get_absolute_url()}#consents",
        "back_label": exoneree.display_name,
    }
    return render(request, "services/confirm.html", context)


# Consent, the person's side: in plain words, on their plan.


@require_http_methods(["GET", "POST"])
@exoneree_required
def my_consent_stop(request: HttpRequest, pk: int) -> HttpResponse:
    consent = access.get_own_consent(request.user, pk)
    if consent.revoked_at is not None:  # stopped already (the back button, an old tab): not asked again
        day = plain_day(consent.revoked_at)  # the year only when not this year's, as the plan says days
        messages.info(
            request,
            _("You stopped sharing with %(name)s on %(day)s. Nothing more is shared with them.")
            % {"name": consent.provider.name, "day": day},
        )
        return redirect("my_plan")
    if request.method == "POST":
        consent_actions.consent_revoke(by=request.user, consent=consent, how=ConsentRevokedHow.SELF)
        messages.success(
            request, _("Done. We will not share anything more with %(name)s.") % {"name": consent.provider.name}
        )
        return redirect("my_plan")
    context = {
        "title": _("Stop sharing with %(name)s?") % {"name": consent.provider.name},
        "message": _(
            "If you say yes, we stop sharing your information with %(name)s today. "
            "Your caseworker will be told. You can still get help from us."
        )
        % {"name": consent.provider.name},
        "button": _("Yes, stop sharing"),
        "back": "my_plan",
        "back_label": _("My plan"),
    }
    return render(request, "services/confirm.html", context)


# Break-the-glass.


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("ssn", "date_of_birth", "legal_name")
@caseworker_required
def emergency_access_request(request: HttpRequest) -> HttpResponse:
    """Find a record outside the caseload and, once the reason is given and confirmed, open it.

    The search is the intake's blind-index duplicate check, and it runs only with the reason
    given and the opening confirmed (services.actions.emergency.emergency_access_request): it
    never names a record the caseworker cannot see, and never says whether one matches.
    """
    form = EmergencyAccessForm(posted(request))
    if form.is_valid():
        data = form.cleaned_data
        candidate = Exoneree(legal_name=data["legal_name"], date_of_birth=data["date_of_birth"], ssn=data["ssn"])
        try:
            grant = emergency.emergency_access_request(by=request.user, candidate=candidate, reason=data["reason"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.warning(
                request,
                _("Emergency access, read-only, until %(time)s; your director was told.")
                % {"time": date_format(timezone.localtime(grant.expires_at), "M j, Y g:i a")},
            )
            return redirect(grant.exoneree)
    return render_form(
        request,
        form,
        title=_("Request emergency access"),
        back="dashboard",
        back_label=_("My dashboard"),
        intro=_(
            "Only for an emergency about someone who is not on your caseload. The record opens read-only "
            "for a few hours; the access is logged and your director reviews it."
        ),
        submit=_("Find and open"),
    )


@require_POST
@staff_required
def emergency_access_end(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder (or a director) closes an emergency access before it runs out."""
    grant = access.get_emergency_grant_to_end(request.user, pk)
    then = "emergency_reviews" if access.is_director(request.user) else "dashboard"
    try:
        emergency.emergency_access_end(by=request.user, grant=grant)
    except ValidationError as error:
        return action_refused(request, " ".join(error.messages), back=then, status=409)
    messages.success(
        request,
        _("Emergency access ended: the record is closed to %(name)s.")
        % {"name": grant.user.get_full_name() or grant.user.get_username()},
    )
    return redirect(then)


@require_GET
@director_required
def emergency_reviews(request: HttpRequest) -> HttpResponse:
    grants = access.emergency_grants_visible_to(request.user)
    context = {**audit_trail.pending_emergency_reviews(grants), "form": EmergencyReviewForm()}
    return render(request, "services/emergency_reviews.html", context)


@require_POST
@director_required
def emergency_review(request: HttpRequest, pk: int) -> HttpResponse:
    grant = access.get_emergency_grant(request.user, pk)
    form = EmergencyReviewForm(request.POST)
    if form.is_valid():
        try:
            emergency.emergency_access_review(by=request.user, grant=grant, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Review saved."))
            return redirect("emergency_reviews")
    grants = access.emergency_grants_visible_to(request.user)
    context = {**audit_trail.pending_emergency_reviews(grants), "form": form, "form_for": grant.pk}
    return render(request, "services/emergency_reviews.html", context, status=400)
