"""The access log as directors and the person read it, and emergency grants to review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.choices import (
    EmergencyReview,
    Role,
)
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.selectors.audit_display import group_runs


def audit_log(
    organization: Organization,
    *,
    staff: Any = None,
    person: str = "",
    action: str = "",
    start: date | None = None,
    end: date | None = None,
    exoneree: Exoneree | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's entries of the access log, newest first, filtered."""
    entries = AuditEvent.objects.filter(organization=organization)
    if staff is not None:
        entries = entries.filter(actor=staff)
    for word in person.split():
        entries = entries.filter(Q(exoneree__legal_name__icontains=word) | Q(exoneree__preferred_name__icontains=word))
    if action:
        entries = entries.filter(action=action)
    zone = timezone.get_current_timezone()
    if start:
        entries = entries.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        entries = entries.filter(at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    if exoneree is not None:
        # The log keeps the ids of merged records: a person's log includes the entries of
        # the duplicates merged into them (services/actions/merges.py).
        merged = Exoneree.objects.filter(merged_into=exoneree).values("pk")
        entries = entries.filter(Q(exoneree=exoneree) | Q(exoneree__in=merged))
    return (
        entries.select_related("actor__staff", "exoneree")
        .only(
            *[f.name for f in AuditEvent._meta.concrete_fields],
            "actor__first_name",
            "actor__last_name",
            "actor__username",
            "actor__staff__role",
            "exoneree__legal_name",
            "exoneree__preferred_name",
            "exoneree__organization_id",
        )
        .order_by("-pk")
    )


OPENED = [AuditEvent.Action.RECORD_VIEWED, AuditEvent.Action.SSN_REVEALED, AuditEvent.Action.DOCUMENT_DOWNLOADED]


def record_openers(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Who opened this person's record, and when they last did: staff of the organization,
    and the providers who saw what the person agreed to share with them (through a
    referral's link; their entry names the provider). For the person themselves, so names
    and roles only. One query: a provider's entries group under its name."""
    provider = AuditEvent.Action.PROVIDER_OPENED
    rows = (
        AuditEvent.objects.filter(
            Q(action__in=OPENED, actor__staff__isnull=False) | Q(action=provider, actor__isnull=True),
            exoneree=exoneree,
        )
        .annotate(provider=Case(When(action=provider, then=F("username")), default=Value(""), output_field=CharField()))
        .values("actor", "actor__first_name", "actor__last_name", "actor__username", "actor__staff__role", "provider")
        .annotate(last=Max("at"), times=Count("pk"))
        .order_by("-last")
    )
    return [
        {
            "name": row["provider"]
            or f"{row['actor__first_name']} {row['actor__last_name']}".strip()
            or row["actor__username"],
            "role": _("provider") if row["provider"] else Role(row["actor__staff__role"]).label,
            "is_provider": bool(row["provider"]),
            "last": row["last"],
            "times": row["times"],
        }
        for row in rows
    ]


# The person's own list reads this many openings at a time: the plan the newest, their page of
# visits each page (visits_page).
VISITS_READ = 200


def visits_page(exoneree: Exoneree, *, before: int | None = None) -> dict[str, Any]:
    """Who opened this person's record, newest first, a run of openings by one reader within
    half an hour as one visit ("6 times, 11:50–11:57"). For the person themselves: names and
    roles only, and which openings showed the full SSN. One query, read as plain rows: a
    file opened daily has its VISITS_READ openings, three model instances each otherwise.

    A page of them (`visits`; the newest, or those older than `before`) and `earlier`: where
    the next page of older ones begins (the `before` that shows it), or None when this page
    reaches the first opening. A visit that may go on past the openings read is left to the
    next page, which then shows it whole."""
    openings = _openings(exoneree, before, one_more=True)  # the one more says whether there are older
    more = len(openings) > VISITS_READ
    openings = openings[:VISITS_READ]
    visits = _visits(openings)
    earlier = None
    if more:
        if len(visits) > 1:
            earlier = visits.pop()["newest"] + 1
        else:  # one reader's run fills the page: the next one goes on with it
            earlier = openings[-1].pk
    return {"visits": visits, "earlier": earlier}


def every_visit(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Every visit to the person's file, newest first (their own copy): every opening, read
    VISITS_READ at a time, grouped at once, so one reader's run longer than a page of
    openings is one visit here."""
    openings: list[Any] = []
    before = None
    while True:
        read = _openings(exoneree, before)
        openings += read
        if len(read) < VISITS_READ:
            return _visits(openings)
        before = read[-1].pk


def _openings(exoneree: Exoneree, before: int | None, *, one_more: bool = False) -> list[Any]:
    """The person's VISITS_READ newest openings (older than `before`), as named rows; with
    `one_more`, one more if there is one."""
    provider = AuditEvent.Action.PROVIDER_OPENED
    openings = AuditEvent.objects.filter(
        Q(action__in=OPENED, actor__staff__isnull=False) | Q(action=provider, actor__isnull=True),
        exoneree=exoneree,
    )
    if before is not None:
        openings = openings.filter(pk__lt=before)
    return list(
        openings.order_by("-pk").values_list(
            "pk",
            "at",
            "action",
            "username",
            "exoneree_id",
            "actor_id",
            "actor__first_name",
            "actor__last_name",
            "actor__username",
            "actor__staff__role",
            named=True,
        )[: VISITS_READ + one_more]
    )


def _visits(openings: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            # As User.get_full_name() or get_username() reads them; a provider's entry names it.
            "name": (f"{row.entry.actor__first_name} {row.entry.actor__last_name}".strip() or row.entry.actor__username)
            if row.entry.actor_id
            else row.entry.username,
            "role": Role(row.entry.actor__staff__role).label if row.entry.actor_id else _("provider"),
            "is_provider": row.entry.actor_id is None,
            "ssn": row.entry.action == AuditEvent.Action.SSN_REVEALED,
            "download": row.entry.action == AuditEvent.Action.DOCUMENT_DOWNLOADED,
            "times": row.times,
            "start": row.first_at or row.entry.at,
            "end": row.entry.at,
            "newest": row.entry.pk,  # the id of its newest opening
        }
        for row in group_runs(openings)
    ]


def pending_emergency_reviews(grants: QuerySet[EmergencyAccess]) -> dict[str, Any]:
    return {
        "pending": list(grants.filter(review=EmergencyReview.PENDING).order_by("granted_at", "pk")),
        "reviewed": list(grants.exclude(review=EmergencyReview.PENDING).order_by("-reviewed_at", "-pk")[:50]),
    }
