"""Follow-ups: saved, done and reopened, with their reminders planned again."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.models.follow_ups import FOLLOW_UP_EDITABLE_FIELDS, FollowUp
from services.models.people import Exoneree
from services.outcome_counts import outcome_counts_tracked_for
from services.reminder_plans import reminders_plan_for_follow_up

# Follow-ups.


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def follow_up_save(*, by: AbstractUser, exoneree: Exoneree, follow_up: FollowUp) -> FollowUp:
    """Create or edit a follow-up; its need, referral and assignee must fit the exoneree.

    The assignee is one of the person's caseworkers: anyone else could not see the person,
    and the follow-up would be due with nobody able to act on it.
    """
    adding = follow_up._state.adding
    follow_up.exoneree = exoneree
    if adding:
        follow_up.created_by = by
    errors = {}
    if follow_up.need_id and follow_up.need.exoneree_id != exoneree.pk:
        errors["need"] = _("Choose one of this person's needs.")
    if follow_up.referral_id and follow_up.referral.need.exoneree_id != exoneree.pk:
        errors["referral"] = _("Choose one of this person's referrals.")
    if not exoneree.caseworkers.filter(pk=follow_up.assigned_to_id).exists():
        errors["assigned_to"] = _("Choose one of this person's caseworkers.")
    if errors:
        raise ValidationError(errors)
    follow_up.full_clean()
    before = {} if adding else audit.stored(follow_up)
    if adding:
        follow_up.save()
    else:
        # Never the done time or outcome: a colleague may have just marked it done.
        follow_up.save(update_fields=FOLLOW_UP_EDITABLE_FIELDS)
    reminders_plan_for_follow_up(follow_up)  # a new due date or assignee moves its reminders
    audit.record_change(by, follow_up, before, exoneree=exoneree, fields=None if adding else FOLLOW_UP_EDITABLE_FIELDS)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_complete(*, by: AbstractUser, follow_up: FollowUp, outcome: str = "") -> FollowUp:
    # Only an open follow-up is completed, so a double submit keeps the first time and outcome.
    before = audit.stored(follow_up)
    updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(
        done_at=timezone.now(), outcome=outcome.strip()
    )
    if updated:
        follow_up.refresh_from_db()
        reminders_plan_for_follow_up(follow_up)  # cancels its pending reminders
        audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_reopen(*, by: AbstractUser, follow_up: FollowUp) -> FollowUp:
    before = audit.stored(follow_up)
    follow_up.done_at = None
    follow_up.save(update_fields=["done_at"])
    reminders_plan_for_follow_up(follow_up)
    audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree, fields=["done_at"])
    return follow_up
