"""The provider's side of a referral: its link, whether it still works, and what it shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from services.choices import CATEGORY_FOR_DOMAIN, ConsentCategory, ContactPreference, ReminderKind
from services.lib.provider_tokens import token_hash
from services.lifecycle import WITH_PROVIDER
from services.models.notifications import Reminder
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from services.selectors import coverage


def provider_link_for(token: str) -> ProviderLink:
    """The link this token opens, with everything its page shows, in one query; 404 for a
    wrong or tampered token.

    The lookup is by the token's hash, never by comparing the token with a stored one: the
    database compares 64-character digests of which an attacker controls nothing, so how
    long a wrong token takes says nothing about a right one.
    """
    link = (
        ProviderLink.objects.select_related(
            "referral__organization",
            "referral__resource__provider",
            "referral__need__exoneree",
            "referral__created_by__staff",
        )
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None:
        raise Http404("No such link.")
    return link


class LinkState(StrEnum):
    """Whether a provider's link opens its page, and if not, why (the first reason that holds)."""

    STOPPED = "stopped"  # by staff, or replaced by a newer link (its revoked_reason says which)
    EXPIRED = "expired"
    CLOSED = "closed"  # the referral is no longer with the provider
    NO_CONSENT = "no_consent"  # no current consent covers everything the referral shares
    WORKS = "works"


def link_state(
    link: ProviderLink, *, now: datetime, with_provider: bool, consent_missing: Callable[[], list[str]]
) -> LinkState:
    """The one rule of whether a link works: what its page obeys (link_gone) and what the
    referral's page says of it (delivery_for). `consent_missing` is asked last, only of a link
    that nothing else stopped: it costs a query, which a page of links pays once."""
    if link.revoked_at is not None:
        return LinkState.STOPPED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    if not with_provider:
        return LinkState.CLOSED
    if consent_missing():
        return LinkState.NO_CONSENT
    return LinkState.WORKS


def link_state_now(link: ProviderLink, *, now: datetime | None = None, carried: list[str] | None = None) -> LinkState:
    """Whether the link works now, and if not, why (link_state, for its page)."""
    referral = link.referral
    return link_state(
        link,
        now=now or timezone.now(),
        with_provider=referral.status in WITH_PROVIDER,
        consent_missing=lambda: coverage.consent_missing(referral, carried=carried),
    )


def link_gone(link: ProviderLink, *, now: datetime | None = None, carried: list[str] | None = None) -> bool:
    """The link stops working at once when it was revoked or replaced, expired, its referral
    is no longer with the provider (cancelled, declined, closed), or no current consent
    covers everything the referral shares (revoked, narrowed, ended)."""
    return link_state_now(link, now=now, carried=carried) != LinkState.WORKS


def _domains_of(category: str) -> list[str]:
    return [domain for domain, carried in CATEGORY_FOR_DOMAIN.items() if carried == category]


def provider_view(referral: Referral, carried: list[str]) -> dict[str, Any]:
    """Exactly what the referral's categories cover, and nothing else: the person's contact
    details (always carried) with how they want to be reached, and for each other category
    carried, the person's needs in the domains it covers (their description and own words).
    Never the SSN, the date of birth, contact notes, a case note or anything of a category not
    carried. `carried`: the referral's categories (coverage.referral_categories)."""
    person = referral.need.exoneree
    wanted = [domain for category in carried for domain in _domains_of(category)]
    needs = list(person.needs.filter(domain__in=wanted).order_by("domain", "-opened_on", "pk")) if wanted else []
    sections = []
    for category in carried:
        if category == ConsentCategory.CONTACT:
            continue
        domains = _domains_of(category)
        sections.append(
            {
                "category": category,
                "label": ConsentCategory(category).label,
                "needs": [need for need in needs if need.domain in domains],
            }
        )
    return {
        "contact": {
            "name": person.display_name,
            "legal_name": person.legal_name,
            "phone": person.phone,
            "email": person.email,
            "address": person.address,
            # How they want to be reached, beside the numbers: a provider may otherwise leave a
            # voicemail on a shared line. Never their contact notes (free text, maybe sensitive).
            "preference": person.get_contact_preference_display(),
            "do_not_contact": person.contact_preference == ContactPreference.DO_NOT_CONTACT,
            "ok_to_leave_message": person.ok_to_leave_message,
        },
        "sections": sections,
        "categories": [ConsentCategory(value).label for value in carried],
    }


def question_of(referral: Referral, pk: int) -> ProviderQuestion:
    """One of the provider's questions on this referral (the referral reached through its
    access helper first: a question of another referral is a 404 here)."""
    return get_object_or_404(referral.provider_questions, pk=pk)


def provider_questions(referral: Referral) -> list[ProviderQuestion]:
    """For the provider's page: the questions its provider sent on this referral, oldest
    first, each with the caseworker's answer when there is one."""
    return list(referral.provider_questions.filter(provider_id=referral.resource.provider_id))


def delivery_for(referral: Referral, *, carried: list[str]) -> dict[str, Any]:
    """For the referral's page: its notices, nudges and words of an answer to the provider
    (queued, sent, failed), its links (each with its `state`, by the rule of the provider's
    page) and the provider's questions (with who answered them). `carried`: the referral's
    categories (coverage.referral_categories)."""
    now = timezone.now()
    links = list(referral.provider_links.select_related("revoked_by").order_by("-created_at", "-pk")[:10])
    with_provider = referral.status in WITH_PROVIDER
    # Consent is the same for every link of the referral: checked once, and only when a link
    # is otherwise working.
    missing = cache(lambda: coverage.consent_missing(referral, carried=carried))
    for link in links:
        link.state = link_state(link, now=now, with_provider=with_provider, consent_missing=missing)
    states = {link.state for link in links}
    return {
        "notices": list(
            Reminder.objects.filter(
                referral=referral,
                kind__in=[ReminderKind.REFERRAL_NOTICE, ReminderKind.PROVIDER_NUDGE, ReminderKind.PROVIDER_REPLY],
            ).order_by("-created_at", "-pk")[:10]
        ),
        "links": links,
        # A link stopped for want of consent works again under a new consent: staff may still
        # stop it for good.
        "links_to_stop": bool(states & {LinkState.WORKS, LinkState.NO_CONSENT}),
        "consent_not_covering": _labels(missing()) if LinkState.NO_CONSENT in states else "",
        "questions": list(referral.provider_questions.select_related("provider", "answered_by")),
        "with_provider": with_provider,
    }


def _labels(categories: list[str]) -> str:
    return ", ".join(ConsentCategory(value).label.lower() for value in categories)
