"""The access log as directors and the person read it, and emergency grants to review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    Max,
    Q,
    QuerySet,
)
from django.utils import timezone

from services.choices import (
    EmergencyReview,
    Role,
)
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.organizations import Organization
from services.models.people import Exoneree


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
        entries = entries.filter(exoneree=exoneree)
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


OPENED = [AuditEvent.Action.RECORD_VIEWED, AuditEvent.Action.SSN_REVEALED]


def record_openers(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Who at the organization opened this person's record, and when they last did: for
    the person themselves, so names and roles only."""
    rows = (
        AuditEvent.objects.filter(exoneree=exoneree, action__in=OPENED, actor__staff__isnull=False)
        .values("actor", "actor__first_name", "actor__last_name", "actor__username", "actor__staff__role")
        .annotate(last=Max("at"), times=Count("pk"))
        .order_by("-last")
    )
    return [
        {
            "name": f"{row['actor__first_name']} {row['actor__last_name']}".strip() or row["actor__username"],
            "role": Role(row["actor__staff__role"]).label,
            "last": row["last"],
            "times": row["times"],
        }
        for row in rows
    ]


def pending_emergency_reviews(grants: QuerySet[EmergencyAccess]) -> dict[str, Any]:
    return {
        "pending": list(grants.filter(review=EmergencyReview.PENDING).order_by("granted_at", "pk")),
        "reviewed": list(grants.exclude(review=EmergencyReview.PENDING).order_by("-reviewed_at", "-pk")[:50]),
    }
