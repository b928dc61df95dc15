"""Facts about users: their language, their sign-in lockouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from services.access import (
    own_exoneree_or_none,
)

if TYPE_CHECKING:
    pass


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
