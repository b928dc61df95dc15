"""Facts about users: their language, their sign-in lockouts, the caseloads caseworkers carry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from services.access import caseworker_users, exonerees_visible_to, own_exoneree_or_none
from services.auth import invitation_taken_up, typed_username
from services.choices import Role
from services.models.follow_ups import FollowUp
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def locked_out_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames django-axes currently refuses (from at least one address).
    Axes counts a username as sign-in reads it (services.auth.typed_username)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    counted = set(
        AccessAttempt.objects.filter(
            username__in={typed_username(name) for name in usernames},
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )
    return {name for name in usernames if typed_username(name) in counted}


def language_of(user: Any) -> str:
    """The language to write to this person in: an exoneree's own choice, else the site's."""
    exoneree = own_exoneree_or_none(user)
    return exoneree.preferred_language if exoneree is not None else settings.LANGUAGE_CODE


def is_site_language(code: str) -> bool:
    """Whether `code` is one of the site's languages (settings.LANGUAGES): what a language
    switch may choose, or a language cookie may be trusted to say."""
    return code in dict(settings.LANGUAGES)


def caseworkers_with_caseloads(organization: Organization) -> QuerySet[Any]:
    """The organization's active caseworkers, each with how many people they carry and whether
    they have taken up their invitation (`signed_in`): one who has not sees nobody yet."""
    return caseworker_users(organization).annotate(
        caseload_size=Count("caseload", distinct=True), signed_in=invitation_taken_up()
    )


def not_signed_in_yet(caseworkers: Iterable[Any]) -> list[Any]:
    """Those of `caseworkers` (read by `caseworkers_with_caseloads`) invited who have not
    chosen a password yet: people moved to them wait until they do."""
    return [caseworker for caseworker in caseworkers if not caseworker.signed_in]


def told_of(exoneree: Exoneree) -> list[int]:
    """Who hears of what a person writes or asks (user ids): their caseworkers who can sign in;
    when none can (all switched off, their people not yet moved), the organization's directors."""
    caseworkers = list(exoneree.caseworkers.filter(is_active=True).values_list("pk", flat=True))
    return caseworkers or directors_by_organization([exoneree.organization_id])[exoneree.organization_id]


def carries_anything(caseworker: AbstractUser) -> bool:
    """Whether a caseworker still carries people or open follow-ups (to move when they leave)."""
    open_follow_ups = FollowUp.objects.filter(assigned_to=caseworker, done_at__isnull=True)
    return caseworker.caseload.exists() or open_follow_ups.exists()


def caseload_of(director: AbstractUser, caseworker: AbstractUser) -> QuerySet[Exoneree]:
    """The people a caseworker carries, as the director may see them, by name."""
    return (
        exonerees_visible_to(director)
        .filter(caseworkers=caseworker)
        .only("legal_name", "preferred_name")
        .order_by("legal_name", "pk")
    )


def directors_by_organization(organization_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active directors' user ids of each organization, in id order (who is told of
    escalations, emergency access, stalled referrals)."""
    directors: dict[int, list[int]] = defaultdict(list)
    rows = StaffMember.objects.filter(
        organization_id__in=set(organization_ids), role=Role.DIRECTOR, user__is_active=True
    ).values_list("organization_id", "user_id")
    for organization_id, user_id in rows.order_by("user_id"):
        directors[organization_id].append(user_id)
    return directors
