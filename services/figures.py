"""The director's figures, cached until something they read changes.

Every write through the actions that a figure reads (people, their caseloads, needs,
referrals, follow-ups, assessments, staff) calls `figures_changed` in its own transaction
(a write outside them, by SQL or the admin site, shows within the minute below): it bumps the
organization's `figures_version`, which comes with the signed-in user's organization at
no extra query. A cached figure's key holds the version it was computed at, so after a
write no process serves it again, whatever cache it lives in (Django's default: local
memory, one per server process, so each process computes a page once). A figure computed
while a write commits may include it under the older version; never the other way round,
since the version is read before the figures are.

The key also holds the organization (nothing of one organization is ever served to
another), the minute (figures that depend on "now", such as what is overdue, are at most
that old, and the page says as of when), the time zone, the language, and the filters.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.utils import timezone, translation

from services.models.organizations import Organization

TTL_SECONDS = 120  # a key is dead after its minute anyway; this only frees the memory


def figures_changed(organization_id: int) -> None:
    """Call inside the transaction of a write the figures read, before it locks any record.

    It locks the organization row until commit, as tracked actions (services.outcome_counts)
    do before they touch a record; taking it after a record's lock could deadlock with them.
    """
    Organization.objects.filter(pk=organization_id).update(figures_version=F("figures_version") + 1)


def key(name: str, organization: Organization, now: datetime, parts: str) -> str:
    """The cache key of `name` (a page, or a part of one) for these `parts` (its filters), now."""
    return ":".join(
        [
            "figures",
            name,
            str(organization.pk),
            str(organization.figures_version),
            now.strftime("%Y%m%d%H%M"),
            timezone.get_current_timezone_name(),
            translation.get_language() or "",
            parts,
        ]
    )
