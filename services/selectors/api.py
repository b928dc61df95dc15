"""What each API list reads: only what the caller may see (services.access), with what its
rows show loaded in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from services.access import exonerees_visible_to, providers_visible_to, resources_visible_to
from services.models.casework import Assessment, CaseNote
from services.models.consent import Consent
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral


def people(user: Any) -> QuerySet[Exoneree]:
    return exonerees_visible_to(user).order_by("pk")


def needs(user: Any) -> QuerySet[Need]:
    return Need.objects.filter(exoneree__in=exonerees_visible_to(user))


def referrals(user: Any) -> QuerySet[Referral]:
    return (
        Referral.objects.filter(need__exoneree__in=exonerees_visible_to(user))
        .select_related("need")
        .prefetch_related("category_rows", "provider_questions")
    )


def follow_ups(user: Any) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(exoneree__in=exonerees_visible_to(user))


def notes(user: Any) -> QuerySet[CaseNote]:
    return CaseNote.objects.filter(exoneree__in=exonerees_visible_to(user))


def assessments(user: Any) -> QuerySet[Assessment]:
    return Assessment.objects.filter(exoneree__in=exonerees_visible_to(user)).prefetch_related("scores")


def consents(user: Any) -> QuerySet[Consent]:
    return Consent.objects.filter(exoneree__in=exonerees_visible_to(user)).prefetch_related("category_rows")


def resources(user: Any) -> QuerySet[Resource]:
    return resources_visible_to(user).prefetch_related("domain_rows").order_by("pk")


def providers(user: Any) -> QuerySet[Provider]:
    return providers_visible_to(user).order_by("pk")
