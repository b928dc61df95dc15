"""Emergency (break-the-glass) access: granted with a reason, ended, reviewed by a director."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Replace
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.access import active_emergency_grants, get_exoneree_for_emergency, organization_of
from services.choices import (
    EmergencyReview,
)
from services.lib.text import visible_length
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.selectors import duplicates
from services.selectors.users import directors_by_organization

EMERGENCY_REASON_MIN = 20
SEARCHED = AuditEvent.Action.EMERGENCY_SEARCH
# The directors' notification of a grant ends asking for the review, then says it is done.
TO_REVIEW, REVIEWED = "Review it.", "Reviewed."


def emergency_access_request(*, by: AbstractUser, candidate: Exoneree, reason: str) -> EmergencyAccess:
    """Find a record outside the caseload and open it: one act, with its reason given first.

    The search says nothing until the reason is given and the opening confirmed, so it cannot
    be used to learn, say, a birth date by trying dates: a match opens the record (and tells
    the directors), anything else gets one answer. Every search is logged, misses too, and a
    caseworker may search BREAK_GLASS_SEARCHES_PER_HOUR times an hour; the directors are told
    when someone reaches that. The log entries of refused searches are committed even though
    the request fails: they are the trace the directors read.
    """
    if visible_length(reason) < EMERGENCY_REASON_MIN:
        raise ValidationError({"reason": _too_short()})
    limit = settings.BREAK_GLASS_SEARCHES_PER_HOUR
    refusal = None
    with transaction.atomic():
        since = timezone.now() - timedelta(hours=1)
        searched = AuditEvent.objects.filter(action=SEARCHED, actor=by, at__gte=since).count()
        if searched >= limit:
            audit.record(SEARCHED, actor=by, changes={"result": "refused: hourly limit reached"})
            refusal = ValidationError(
                _("You have searched %(count)d times in the last hour, the most allowed. Ask your director.")
                % {"count": limit}
            )
        else:
            matches = duplicates.possible_duplicates(by, candidate)
            result = "opened" if len(matches.hidden) == 1 and not matches.visible else "no single match"
            # Seen already: on the caseload, or by an emergency access still open (which was
            # told "already on your caseload", though the person is on no caseload of theirs).
            open_grant = None
            if matches.visible:
                result = "already on the caseload"
                if len(matches.visible) == 1:
                    grants = active_emergency_grants(by).filter(exoneree=matches.visible[0])
                    open_grant = grants.order_by("-expires_at").first()
                    result = "already open by emergency access" if open_grant else result
            audit.record(SEARCHED, actor=by, changes={"result": result, "by": _searched_by(candidate)})
            if searched + 1 == limit:
                _tell_directors(by, f"{_name(by)} reached the limit of {limit} emergency searches in an hour.")
            if open_grant is not None:
                return open_grant
            if result == "already on the caseload":
                refusal = ValidationError(_("This person is already on your caseload: open them from People."))
            elif result != "opened":
                refusal = ValidationError(
                    _("No single record in your organization matches. Check the details or ask your director.")
                )
            else:
                exoneree = get_exoneree_for_emergency(by, matches.hidden[0])
                return emergency_access_grant(by=by, exoneree=exoneree, reason=reason)
    raise refusal


def _searched_by(candidate: Exoneree) -> str:
    return "social security number" if candidate.ssn else "name and birth date"


def _too_short() -> str:
    return _("Explain the emergency in at least %(count)d characters.") % {"count": EMERGENCY_REASON_MIN}


def _name(user: AbstractUser) -> str:
    return user.get_full_name() or user.get_username()


def _tell_directors(by: AbstractUser, text: str, url: str = "") -> None:
    organization_id = organization_of(by).pk
    directors = directors_by_organization([organization_id])[organization_id]
    Notification.objects.bulk_create(
        [Notification(user_id=director, text=text, url=url or reverse("audit_log")) for director in directors]
    )


# Break-the-glass: emergency access to a record outside one's caseload.


@transaction.atomic
def emergency_access_grant(*, by: AbstractUser, exoneree: Exoneree, reason: str) -> EmergencyAccess:
    """Read access for BREAK_GLASS_HOURS, logged, and put before the directors for review."""
    reason = reason.strip()
    if visible_length(reason) < EMERGENCY_REASON_MIN:
        raise ValidationError({"reason": _too_short()})
    if exoneree.organization_id != organization_of(by).pk:
        raise ValidationError(_("This record is not in your organization."))
    now = timezone.now()
    expires_at = now + timedelta(hours=settings.BREAK_GLASS_HOURS)
    grant = EmergencyAccess(user=by, exoneree=exoneree, reason=reason, granted_at=now, expires_at=expires_at)
    grant.full_clean()
    grant.save()
    _tell_directors(
        by,
        f"{_name(by)} used emergency access to {exoneree.display_name}'s record. {TO_REVIEW}",
        grant.get_review_url(),
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
    if decision == EmergencyReview.FLAGGED and not visible_length(note):
        raise ValidationError({"note": _("Say why you flag it.")})
    # Reviewed once: a second director's review (or a double submit) does not overwrite it.
    if not EmergencyAccess.objects.filter(pk=grant.pk, review=EmergencyReview.PENDING).update(
        review=decision, reviewed_by=by, reviewed_at=timezone.now(), review_note=note.strip()
    ):
        raise ValidationError(_("This emergency access was already reviewed."))
    grant.refresh_from_db()
    _notifications_reviewed(grant)
    audit.record(
        AuditEvent.Action.EMERGENCY_REVIEWED,
        actor=by,
        exoneree=grant.exoneree,
        target=f"Emergency access {grant.pk} by {grant.user.get_username()}",
        changes={"review": decision},
    )
    return grant


def _notifications_reviewed(grant: EmergencyAccess) -> None:
    """Every director's notification of the grant (found by its link, as a purge finds them)
    says it was reviewed and is no longer new: one review settles it for all of them, and
    "Review it." shown as new sent the others to a review already done."""
    notices = Notification.objects.filter(url=grant.get_review_url())
    notices.update(text=Replace("text", Value(TO_REVIEW), Value(REVIEWED)))
    notices.filter(read_at__isnull=True).update(read_at=timezone.now())
