"""The director's figures, cached for the whole deployment until something they read changes.

Every write through the actions that a figure reads (people, their caseloads, needs,
referrals, follow-ups, assessments, staff) calls `figures_changed` in its own transaction
(a write outside them, by SQL or the admin site, shows within the minute below): it bumps the
organization's `figures_version`, which comes with the signed-in user's organization at
no extra query. A cached figure's key holds the version it was computed at, so after a
write no process serves it again. A figure computed while a write commits may include it
under the older version; never the other way round, since the version is read before the
figures are.

The cache is one for every web and Celery process (settings.CACHES["figures"]: Redis under
its own key prefix when REDIS_URL is set, else a table of the database), so a page computed
by one server process is served by all the others. An entry lives a minute (figures that
depend on "now", such as what is overdue, are at most that old, and the page says as of
when). After a write, the organization's default outcomes page and the director dashboard's
counts are computed again in the background (`recompute`, a Celery task, at most once a
minute per organization), so a director finds them ready instead of waiting for them.

The key also holds the organization (nothing of one organization is ever served to
another), the time zone, the language, and the filters.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from services.choices import Role
from services.models.organizations import Organization, StaffMember

logger = logging.getLogger(__name__)

TTL_SECONDS = 60  # how old a figure about "now" may be when it is served
RECOMPUTE_EVERY_SECONDS = 60  # at most one background recompute per organization in this time
CACHE = "figures"


def cache() -> BaseCache:
    """The deployment's figures cache (settings.CACHES["figures"]). Never `clear()` it outside
    tests: on Redis that is FLUSHDB, which would empty the task queue's database too."""
    return caches[CACHE]


def figures_changed(organization_id: int) -> None:
    """Call inside the transaction of a write the figures read, before it locks any record.

    It locks the organization row until commit, as tracked actions (services.outcome_counts)
    do before they touch a record; taking it after a record's lock could deadlock with them.
    Once the write commits, the organization's figures are computed again in the background.
    """
    Organization.objects.filter(pk=organization_id).update(figures_version=F("figures_version") + 1)
    if settings.FIGURES_RECOMPUTE:

        def queue_recompute() -> None:  # named: a robust on_commit logs the callback's name
            recompute_soon(organization_id)

        transaction.on_commit(queue_recompute, robust=True)


class Hooks:
    """What queues the background recompute (a task) and what computes the pages (the outcomes
    page, the director's counts): both live in higher layers, which connect them here when the
    app is ready (services.apps), so this low module imports none of them."""

    def queue(self, organization_id: int) -> None:
        raise ImproperlyConfigured("services.figures.hooks are connected in services.apps.ready")

    def compute(self, director: Any, organization: Organization, now: datetime) -> None:
        raise ImproperlyConfigured("services.figures.hooks are connected in services.apps.ready")


hooks = Hooks()


def recompute_soon(organization_id: int) -> bool:
    """Queue `recompute` for the organization unless one was queued in the last minute (a
    lock in the shared cache, taken with `add`, which only one process wins); True if queued."""
    if not caches["shared"].add(f"figures-recompute:{organization_id}", 1, RECOMPUTE_EVERY_SECONDS):
        return False
    hooks.queue(organization_id)
    return True


def recompute(organization_id: int) -> bool:
    """Compute the organization's default outcomes page (no filters) and its director
    dashboard's counts into the cache, as a director of it would see them now (their
    language, the organization's time zone). False if it has no active director."""
    staff = (
        StaffMember.objects.select_related("organization", "user")
        .filter(organization_id=organization_id, role=Role.DIRECTOR, user__is_active=True)
        .order_by("pk")
        .first()
    )
    if staff is None:
        return False
    organization, director = staff.organization, staff.user
    try:
        zone = zoneinfo.ZoneInfo(organization.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    with timezone.override(zone):  # the director's language: the hook's
        now = timezone.now()
        hooks.compute(director, organization, now)
    logger.info("figures of organization %s computed again (version %s)", organization.pk, organization.figures_version)
    return True


def key(name: str, organization: Organization, parts: str) -> str:
    """The cache key of `name` (a page, or a part of one) for these `parts` (its filters)."""
    return ":".join(
        [
            "figures",
            name,
            str(organization.pk),
            str(organization.figures_version),
            timezone.get_current_timezone_name(),
            translation.get_language() or "",
            parts,
        ]
    )
