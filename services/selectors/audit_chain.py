"""The directors' check of the access log's chain, in plain words (the audit page's button).

The log is one hash chain for every organization on the site, so the check reads every
entry in the part it checks, whichever organization wrote it, and reports only what is the
director's own: their organization's entries, and where the chain breaks (another
organization's entry is named by its time only). The recomputing is `services.audit.check_chain`,
the same `manage.py verify_audit` runs; the end is compared with the latest sealed checkpoint
as there (services.audit_anchor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from services.audit import check_chain
from services.audit_anchor import checkpoint_problem
from services.models.audit import AuditEvent
from services.models.organizations import Organization

# At most this many of the newest entries are checked on the page, so it answers in well under
# a second: on SQLite 1,000 entries took 0.02 s, 5,000 took 0.11 s, 20,000 took 0.34 s (the
# hashing and reading are linear). The whole log is `manage.py verify_audit`'s.
CHAIN_CHECK_WINDOW = 20_000


@dataclass(frozen=True)
class ChainReport:
    window: int  # the most entries the page checks
    checked: int  # entries recomputed, every organization's
    from_start: bool  # the check began at the log's first entry
    since: datetime | None  # when the first entry checked was written
    ours: int  # of the entries checked, the organization's
    first_at: datetime | None  # when the first and last of those were written
    last_at: datetime | None
    broken_at: datetime | None  # when the entry where the chain breaks was written
    broken_ours: bool  # that entry is the organization's (its number and action are shown)
    broken_pk: int | None
    broken_action: str
    removed: bool  # the break: entries removed before it (else: it was changed)
    end_missing: bool  # the log falls short of its latest sealed checkpoint

    @property
    def whole(self) -> bool:
        return self.broken_at is None and not self.end_missing


def chain_report(organization: Organization) -> ChainReport:
    """Check the newest CHAIN_CHECK_WINDOW entries of the log (all of it, when it is shorter)."""
    window = CHAIN_CHECK_WINDOW
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[window : window + 1]
    after = next(iter(before), 0)  # the entry before the part checked, taken as stored
    result = check_chain(after=after)
    span = AuditEvent.objects.filter(pk__gt=after, pk__lte=result.last_pk or 0).aggregate(
        since=Min("at"),
        ours=Count("pk", filter=Q(organization=organization)),
        first_at=Min("at", filter=Q(organization=organization)),
        last_at=Max("at", filter=Q(organization=organization)),
    )
    broken = result.broken
    # The end is compared with the checkpoint only when the chain up to it holds, as the
    # command does: a break already says the log was tampered with.
    end_missing = broken is None and checkpoint_problem() is not None
    ours = broken is not None and broken.entry.organization_id == organization.pk
    return ChainReport(
        window=window,
        checked=result.checked,
        from_start=after == 0,
        since=span["since"],
        ours=span["ours"],
        first_at=span["first_at"],
        last_at=span["last_at"],
        broken_at=broken.entry.at if broken else None,
        broken_ours=ours,
        broken_pk=broken.entry.pk if ours else None,
        broken_action=broken.entry.get_action_display() if ours else "",
        removed=broken.removed if broken else False,
        end_missing=end_missing,
    )
