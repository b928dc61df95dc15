"""What a person's consents cover, and what a referral would share beyond them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from services.choices import (
    CATEGORY_FOR_DOMAIN,
    ConsentCategory,
    ReferralStatus,
)
from services.lib.sql import joined_per_row
from services.models.consent import JOINED_CATEGORIES, Consent, ConsentCategoryRow
from services.models.directory import Provider
from services.models.needs import Need
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralCategory

# Consent: what a referral hands over, and whether a current consent covers it.


def categories_for_need(need: Need) -> list[str]:
    """The default of a new referral: contact details, and what its need's domain is about."""
    extra = CATEGORY_FOR_DOMAIN.get(need.domain, ConsentCategory.CONTACT)
    return ConsentCategory.in_order({ConsentCategory.CONTACT, extra})


def referral_categories(referral: Referral) -> list[str]:
    """What the referral carries, in the fixed order; contact details always."""
    carried = referral.category_rows.values_list("category", flat=True)
    return ConsentCategory.in_order({ConsentCategory.CONTACT, *carried})


def current_consents(exoneree: Exoneree, *, today: date | None = None) -> QuerySet[Consent]:
    """Signed, started, not past their end, not revoked."""
    today = today or timezone.localdate()
    return Consent.objects.filter(exoneree=exoneree, revoked_at__isnull=True, starts_on__lte=today, ends_on__gte=today)


def consent_missing(
    referral: Referral, *, today: date | None = None, lock: bool = False, carried: list[str] | None = None
) -> list[str]:
    """The categories the referral carries that no current consent for its provider names.

    A category is covered only by a consent that names it: there is no "everything" shortcut,
    so substance use (42 CFR Part 2) is never shared under a consent that does not say so.

    `lock` (a send, inside its transaction): the covering consents are locked, so a
    revocation either commits first (and this sees the consent revoked) or waits until the
    send has committed (and then flags the sent referral). `carried`: the referral's
    categories when the caller has already read them.
    """
    carried = referral_categories(referral) if carried is None else carried
    consents = current_consents(referral.need.exoneree, today=today).filter(provider_id=referral.resource.provider_id)
    return _not_covered(consents, carried, lock=lock)


def transfer_consent_missing(
    exoneree: Exoneree, organization: Organization, carried: list[str], *, lock: bool = False
) -> list[str]:
    """The categories a transfer to `organization` carries (the record; staff notes when they
    go too) that no current consent of the person's, with the provider that is that member
    organization, names. The same gate as a referral's (`consent_missing`)."""
    consents = current_consents(exoneree).filter(provider__member_organization=organization)
    return _not_covered(consents, carried, lock=lock)


def _not_covered(consents: QuerySet[Consent], carried: list[str], *, lock: bool) -> list[str]:
    if lock:
        locked = consents.select_for_update(no_key=True).values_list("pk", flat=True)
        consents = Consent.objects.filter(pk__in=list(locked))
    covered = set(ConsentCategoryRow.objects.filter(consent__in=consents).values_list("category", flat=True))
    return [category for category in carried if category not in covered]


def waiting_for_consent(*, today: date | None = None) -> Case:
    """An annotation for referrals: a draft that no current consent covers yet (the rule of
    `consent_missing`: contact details always, and every kind the referral carries, each named
    by a current consent of the same person for the same provider). No query of its own, so a
    list of referrals tags its drafts at no cost."""
    today = today or timezone.localdate()
    current_rows = ConsentCategoryRow.objects.filter(
        consent__revoked_at__isnull=True, consent__starts_on__lte=today, consent__ends_on__gte=today
    )
    contact_covered = current_rows.filter(
        category=ConsentCategory.CONTACT,
        consent__exoneree_id=OuterRef("need__exoneree_id"),
        consent__provider_id=OuterRef("resource__provider_id"),
    )
    uncovered = ReferralCategory.objects.filter(referral=OuterRef("pk")).exclude(
        Exists(
            current_rows.filter(
                category=OuterRef("category"),
                consent__exoneree_id=OuterRef(OuterRef("need__exoneree_id")),
                consent__provider_id=OuterRef(OuterRef("resource__provider_id")),
            )
        )
    )
    return Case(
        When(Q(status=ReferralStatus.DRAFT) & (~Exists(contact_covered) | Exists(uncovered)), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def consent_prefill(referral: Referral, *, today: date | None = None) -> dict[str, Any]:
    """A new consent's form for a referral that cannot be sent: its provider, the kinds it
    lacks, from today until a year ahead, signed today."""
    today = today or timezone.localdate()
    try:
        a_year_on = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        a_year_on = today.replace(year=today.year + 1, day=28)
    return {
        "provider": referral.resource.provider_id,
        "categories": consent_missing(referral, today=today),
        "purpose": _("So that %(name)s can help with %(domain)s.")
        % {"name": referral.resource.provider.name, "domain": referral.need.get_domain_display().lower()},
        "starts_on": today,
        "ends_on": a_year_on,
        "signed_on": today,
    }


def consent_missing_message(referral: Referral, missing: list[str], *, link_follows: bool = False) -> str:
    """What consent the referral waits for. With `link_follows`, the page puts "Record a consent"
    right after it (the form opens for this referral), so the words do not send the reader to
    the person's page for what the link does on the spot."""
    if link_follows:
        return _("No current consent for %(name)s covering: %(labels)s.") % {
            "name": referral.resource.provider.name,
            "labels": _labels(missing),
        }
    return _missing_message(referral.resource.provider.name, referral.need.exoneree, missing)


def transfer_consent_missing_message(
    exoneree: Exoneree, organization: Organization, missing: list[str], *, to_director: bool = False
) -> str:
    """Why the transfer waits; when no provider of the directory stands for that organization,
    no consent can name it yet. Linking one is for the people who run the site (/admin/), not
    the director, who may be the one reading: each is told their own next step."""
    linked = Provider.objects.filter(organization_id=exoneree.organization_id, member_organization=organization)
    if linked.exists():
        return _missing_message(organization.name, exoneree, missing)
    names = {"name": organization.name, "first_name": exoneree.first_name}
    if to_director:
        return (
            _(
                "No provider in your directory is linked to %(name)s yet, so no consent can name it. Ask the "
                "people who run this Reentry site to link one (add a provider named %(name)s under Resources "
                "first if there is none), then record %(first_name)s's consent with it."
            )
            % names
        )
    return (
        _(
            "No provider in your directory is linked to %(name)s yet, so no consent can name it. Ask your "
            "director to have one linked, then record %(first_name)s's consent with it."
        )
        % names
    )


def _labels(missing: list[str]) -> str:
    return ", ".join(ConsentCategory(value).label.lower() for value in missing)


def _missing_message(name: str, person: Exoneree, missing: list[str]) -> str:
    return _("No current consent for %(name)s covering: %(labels)s. Record one on %(first_name)s's page.") % {
        "name": name,
        "labels": _labels(missing),
        "first_name": person.first_name,
    }


def joined_categories() -> Any:
    """For an annotation of consents (named JOINED_CATEGORIES): their categories, which
    `Consent.categories` then reads without a query of its own."""
    return joined_per_row(ConsentCategoryRow.objects.all(), "consent", "category", ",")


def consents_for(exoneree: Exoneree) -> list[Consent]:
    return list(
        exoneree.consents.select_related("provider", "revoked_by").annotate(**{JOINED_CATEGORIES: joined_categories()})
    )
