"""A director's review of the closed cases reaching their end of retention (issue 23):
confirm that one may be purged (or de-identified), place a legal hold with its reason, lift it.

Nothing is purged without a confirmation for the case's current closing, and nothing at all
while a hold stands (services/retention.py checks both again, under a lock, when it runs)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services import audit
from services.lib.text import visible_length
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from services.models.retention import LegalHold, RetentionReview

REVIEWED = AuditEvent.Action.RETENTION_REVIEWED


def retention_confirm(*, by: AbstractUser, exoneree: Exoneree) -> RetentionReview:
    """The director's word that this closing's case may end as the organization says. Given
    once per closing; a case reopened and closed again needs it again."""
    if exoneree.legal_holds.filter(lifted_at__isnull=True).exists():
        raise ValidationError(_("This case is on legal hold. Lift the hold first."))
    with transaction.atomic():
        review, created = RetentionReview.objects.get_or_create(
            exoneree=exoneree, case_closed_on=exoneree.case_closed_on, defaults={"confirmed_by": by}
        )
        if created:
            audit.record(
                REVIEWED,
                actor=by,
                exoneree=exoneree,
                target=audit.describe(exoneree),
                changes={"confirmed": exoneree.organization.retention_mode},
            )
    return review


# A hold's reason, missing: said by the form (left empty) and by the action (blanks alone) alike.
HOLD_REASON_MISSING = gettext_lazy("Say why the record must be kept: staff who open the record read it with the hold.")
LIFT_REASON_MISSING = gettext_lazy(
    "Say why the hold can be lifted: the record may then be removed when its retention ends, and the reason is "
    "kept with the hold."
)


def _required_reason(reason: str, missing: str) -> str:
    """A hold's reason, placed or lifted: required, and blanks or zero-width characters alone are none."""
    reason = reason.strip()
    if not visible_length(reason):
        raise ValidationError({"reason": missing})
    return reason


def legal_hold_place(*, by: AbstractUser, exoneree: Exoneree, reason: str) -> LegalHold:
    """Stop the case's end of retention until the hold is lifted; the reason is required."""
    if exoneree.deidentified_at is not None:
        # Who they were is gone already: a hold would keep nothing the counts do not keep.
        raise ValidationError(_("This record was de-identified under retention: there is nothing left to hold."))
    reason = _required_reason(reason, HOLD_REASON_MISSING)
    hold = LegalHold(exoneree=exoneree, reason=reason, placed_by=by)
    hold.full_clean(exclude=["exoneree", "placed_by"])
    try:
        with transaction.atomic():
            hold.save()
            audit.record(
                REVIEWED, actor=by, exoneree=exoneree, target=audit.describe(exoneree), changes={"legal_hold": "placed"}
            )
    except IntegrityError:  # one_hold_per_person: a hold placed a moment ago, by someone else
        raise ValidationError(_("This case is already on legal hold.")) from None
    return hold


def legal_hold_lift(*, by: AbstractUser, exoneree: Exoneree, reason: str) -> None:
    """End the case's active hold (kept, with who lifted it, when and why). Lifting lets the
    record be purged, so it needs its reason as much as placing does."""
    reason = _required_reason(reason, LIFT_REASON_MISSING)
    try:
        LegalHold._meta.get_field("lift_reason").clean(reason, None)  # its length
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    with transaction.atomic():
        lifted = LegalHold.objects.filter(exoneree=exoneree, lifted_at__isnull=True).update(
            lifted_at=timezone.now(), lifted_by=by, lift_reason=reason
        )
        if not lifted:
            raise ValidationError(_("This case is not on legal hold."))
        audit.record(
            REVIEWED, actor=by, exoneree=exoneree, target=audit.describe(exoneree), changes={"legal_hold": "lifted"}
        )
