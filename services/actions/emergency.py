"""Emergency (break-the-glass) access: granted with a reason, ended, reviewed by a director."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.access import organization_of
from services.choices import (
    EmergencyReview,
    Role,
)
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.notifications import Notification
from services.models.people import Exoneree

EMERGENCY_REASON_MIN = 20


# Break-the-glass: emergency access to a record outside one's caseload.


@transaction.atomic
def emergency_access_grant(*, by: AbstractUser, exoneree: Exoneree, reason: str) -> EmergencyAccess:
    """Read access for BREAK_GLASS_HOURS, logged, and put before the directors for review."""
    reason = reason.strip()
    if len(reason) < EMERGENCY_REASON_MIN:
        raise ValidationError(
            {"reason": _("Explain the emergency in at least %(count)d characters.") % {"count": EMERGENCY_REASON_MIN}}
        )
    if exoneree.organization_id != organization_of(by).pk:
        raise ValidationError(_("This record is not in your organization."))
    now = timezone.now()
    expires_at = now + timedelta(hours=settings.BREAK_GLASS_HOURS)
    grant = EmergencyAccess(user=by, exoneree=exoneree, reason=reason, granted_at=now, expires_at=expires_at)
    grant.full_clean()
    grant.save()
    who = by.get_full_name() or by.get_username()
    directors = get_user_model().objects.filter(
        is_active=True, staff__organization_id=exoneree.organization_id, staff__role=Role.DIRECTOR
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user=director,
                text=f"{who} used emergency access to {exoneree.display_name}'s record. Review it.",
                url=reverse("emergency_reviews"),
            )
            for director in directors
        ]
    )
    audit.record(
        AuditEvent.Action.EMERGENCY_ACCESS,
        actor=by,
        exoneree=exoneree,
        target=audit.describe(exoneree),
        changes={"expires_at": grant.expires_at.isoformat(), "reason": "given"},
    )
    return grant


@transaction.atomic
def emergency_access_end(*, by: AbstractUser, grant: EmergencyAccess) -> EmergencyAccess:
    """End an emergency access before it expires: the record closes to its holder at once.

    The grant stays for the director's review; only its end moves to now.
    """
    now = timezone.now()
    before = audit.snapshot(grant)
    if not EmergencyAccess.objects.filter(pk=grant.pk, expires_at__gt=now).update(expires_at=now):
        raise ValidationError(_("This emergency access has already ended."))
    grant.refresh_from_db()
    audit.record_change(
        by, grant, before, exoneree=grant.exoneree, fields=["expires_at"], extra={"ended_early": [False, True]}
    )
    return grant


@transaction.atomic
def emergency_access_review(*, by: AbstractUser, grant: EmergencyAccess, decision: str, note: str) -> EmergencyAccess:
    if decision not in (EmergencyReview.ACKNOWLEDGED, EmergencyReview.FLAGGED):
        raise ValidationError({"decision": _("Acknowledge it or flag it.")})
    if decision == EmergencyReview.FLAGGED and not note.strip():
        raise ValidationError({"note": _("Say why you flag it.")})
    # Reviewed once: a second director's review (or a double submit) does not overwrite it.
    if not EmergencyAccess.objects.filter(pk=grant.pk, review=EmergencyReview.PENDING).update(
        review=decision, reviewed_by=by, reviewed_at=timezone.now(), review_note=note.strip()
    ):
        raise ValidationError(_("This emergency access was already reviewed."))
    grant.refresh_from_db()
    audit.record(
        AuditEvent.Action.EMERGENCY_REVIEWED,
        actor=by,
        exoneree=grant.exoneree,
        target=f"Emergency access {grant.pk} by {grant.user.get_username()}",
        changes={"review": decision},
    )
    return grant
