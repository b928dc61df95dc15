"""Follow-ups: saved, done and reopened, with their reminders planned again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services import audit
from services.models.follow_ups import FOLLOW_UP_EDITABLE_FIELDS, FollowUp
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.outcome_counts import outcome_counts_tracked_for
from services.reminder_plans import reminders_plan_for_follow_up

# Follow-ups.


PERSON_ANSWER_FIELDS = ["person_answer", "person_words", "person_answered_at"]
# When it was done and who marked it: set together, and emptied together when it is reopened.
DONE_FIELDS = ["done_at", "done_by"]


@transaction.atomic
def follow_up_person_answer(*, by: AbstractUser, follow_up: FollowUp, answer: str, words: str = "") -> FollowUp:
    """The person's word on an appointment of their plan: they will be there, or they need
    another time (in their words). Its assignee is told in the app; they may change it."""
    before = audit.stored(follow_up)
    follow_up.person_answer = answer
    follow_up.person_words = words
    follow_up.person_answered_at = timezone.now()
    follow_up.full_clean()
    follow_up.save(update_fields=PERSON_ANSWER_FIELDS)
    audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree, fields=PERSON_ANSWER_FIELDS)
    person = follow_up.exoneree
    with translation.override(settings.LANGUAGE_CODE):  # staff read it, in the staff pages' language
        text = f"{person.display_name} answered “{follow_up.get_person_answer_display()}”: {follow_up.title}"
    Notification.objects.create(
        user_id=follow_up.assigned_to_id, text=text[:300], url=f"{person.get_absolute_url()}#follow-up-{follow_up.pk}"
    )
    return follow_up


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
    elif follow_up.referral_id and follow_up.need_id and follow_up.referral.need_id != follow_up.need_id:
        errors["referral"] = _("This referral is for another need. Choose that need, or no need.")
    can_sign_in = exoneree.caseworkers.filter(pk=follow_up.assigned_to_id).values_list("is_active", flat=True).first()
    if can_sign_in is None:
        errors["assigned_to"] = _("Choose one of this person's caseworkers.")
    elif not can_sign_in and adding:  # nobody would be reminded of it
        errors["assigned_to"] = _("This caseworker can no longer sign in: choose another.")
    if errors:
        raise ValidationError(errors)
    follow_up.full_clean()
    before = {} if adding else audit.stored(follow_up)
    fields = FOLLOW_UP_EDITABLE_FIELDS
    if adding:
        follow_up.save()
    else:
        if before["due_at"] != follow_up.due_at:
            # The person answered for the old time: the new one asks them again.
            follow_up.person_answer, follow_up.person_words, follow_up.person_answered_at = "", "", None
            fields = [*fields, *PERSON_ANSWER_FIELDS]
        # Never the done time or outcome: a colleague may have just marked it done.
        follow_up.save(update_fields=fields)
    reminders_plan_for_follow_up(follow_up)  # a new due date or assignee moves its reminders
    audit.record_change(by, follow_up, before, exoneree=exoneree, fields=None if adding else fields)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def follow_up_record_done(*, by: AbstractUser, exoneree: Exoneree, follow_up: FollowUp) -> FollowUp:
    """Something already done for the person (drove them to the SSA office, filled in a housing
    form with them), kept as a follow-up of theirs created done: never overdue, never reminded.

    It is done when it happened (`due_at`), not when it is typed in: the outcome figures then
    count it done on time, as it was, where "done now" would count a service given last week
    as a follow-up done late. The audit entry keeps when it was recorded, and by whom.
    """
    if follow_up.due_at is not None and follow_up.due_at > timezone.now():
        # A later time would be a follow-up still to do, shown done before it happened.
        raise ValidationError({"due_at": _("This time has not come yet: schedule a follow-up for it instead.")})
    follow_up.assigned_to = by
    follow_up.done_at = follow_up.due_at
    follow_up.done_by = by
    follow_up.outcome = follow_up.outcome.strip()
    # The same checks, audit entry and reminder planning (none, as it is done) as any new follow-up.
    return follow_up_save(by=by, exoneree=exoneree, follow_up=follow_up)


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_complete(*, by: AbstractUser, follow_up: FollowUp, outcome: str = "") -> FollowUp:
    # Only an open follow-up is completed, so a double submit keeps the first time and outcome.
    before = audit.stored(follow_up)
    updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=by, outcome=outcome.strip()
    )
    if updated:
        follow_up.refresh_from_db()
        reminders_plan_for_follow_up(follow_up)  # cancels its pending reminders
        audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_reopen(*, by: AbstractUser, follow_up: FollowUp) -> FollowUp:
    """Open a done follow-up again. One marked done keeps its due time: undone, it is as late
    as it was, and the on-time figures stay honest. A service recorded as already done was
    never due at the time it happened: reopened, it is something to do again, due by the end
    of today (the organization's day), not "Overdue" since the day it was given."""
    before = audit.stored(follow_up)
    fields = DONE_FIELDS
    if follow_up.is_recorded_service:
        follow_up.due_at = _end_of_today(follow_up)
        fields = [*DONE_FIELDS, "due_at"]
    follow_up.done_at = follow_up.done_by = None
    follow_up.save(update_fields=fields)
    reminders_plan_for_follow_up(follow_up)
    audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree, fields=fields)
    return follow_up


def _end_of_today(follow_up: FollowUp) -> datetime:
    """The last minute of today where the person's organization is: due today, as the morning
    digest counts it (services.reminders), until that day is over."""
    return follow_up.exoneree.organization.tomorrow_starts(timezone.now()) - timedelta(minutes=1)
