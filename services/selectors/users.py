"""Facts about users: their language, their sign-in lockouts, the caseloads caseworkers carry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from services.access import caseworker_users, exonerees_visible_to, own_exoneree_or_none
from services.models.organizations import Organization
from services.models.people import Exoneree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def locked_out_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames django-axes currently refuses (from at least one address)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def language_of(user: Any) -> str:
    """The language to write to this person in: an exoneree's own choice, else the site's."""
    exoneree = own_exoneree_or_none(user)
    return exoneree.preferred_language if exoneree is not None else settings.LANGUAGE_CODE


def caseworkers_with_caseloads(organization: Organization) -> QuerySet[Any]:
    """The organization's active caseworkers, each with how many people they carry."""
    return caseworker_users(organization).annotate(caseload_size=Count("caseload", distinct=True))


def caseload_of(director: AbstractUser, caseworker: AbstractUser) -> QuerySet[Exoneree]:
    """The people a caseworker carries, as the director may see them, by name."""
    return (
        exonerees_visible_to(director)
        .filter(caseworkers=caseworker)
        .only("legal_name", "preferred_name")
        .order_by("legal_name", "pk")
    )
