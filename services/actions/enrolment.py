"""A person's case: opened, closed with an exit, reopened (services/models/enrolments.py).

Closing is one transaction: the open enrolment gets its exit, the person their closing date,
every reminder not yet being sent about them is cancelled (a reminder the sweep has claimed
is taken back too: its send task finds the row no longer claimed and does nothing), and
their open needs and referrals are closed through their own lifecycles, each with the
reason. The reminder planners and the sender also look at the closing date (services.
reminder_plans, services.reminders), so nothing about a closed case is planned again or sent.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from services import audit, document_reminders
from services.actions.casework import note_save
from services.actions.needs import need_set_status
from services.actions.referrals import referral_transition
from services.choices import (
    ExitDestination,
    ExitReason,
    HousingAtExit,
    NeedStatus,
    NoteVisibility,
    ReferralStatus,
    ReminderStatus,
)
from services.figures import figures_changed
from services.lifecycle import REFERRAL_OPEN
from services.models.casework import CaseNote
from services.models.enrolments import Enrolment
from services.models.needs import Need
from services.models.notifications import Reminder
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.reminder_plans import CANCELLABLE, reminders_plan_for_exoneree

EXIT_FIELDS = ["closed_on", "closed_by", "exit_reason", "destination", "housing_at_exit"]
OPEN_NEED_STATUSES = [NeedStatus.OPEN, NeedStatus.IN_PROGRESS]


def _day(value: date) -> str:
    return date_format(value, "F j, Y")


def _locked(person: Exoneree) -> Exoneree:
    """The person's row, locked until commit: two people closing (or reopening) the same case
    at once take turns, and the second finds it already done. A no-key lock, as for caseloads."""
    return Exoneree.objects.select_for_update(no_key=True).get(pk=person.pk)


# Every reason but "merged", which only a merge of two records of one person gives
# (services.actions.merges).
CHOSEN_EXIT_REASONS = frozenset(ExitReason.values) - {ExitReason.MERGED}


def enrolment_open(*, by: AbstractUser | None, exoneree: Exoneree, opened_on: date | None = None) -> Enrolment:
    """Open the person's case (intake, the demo); call inside the transaction that made them."""
    enrolment = Enrolment(exoneree=exoneree, opened_on=opened_on or timezone.localdate(), opened_by=by)
    enrolment.full_clean()
    enrolment.save()
    audit.record_change(by, enrolment, {}, exoneree=exoneree)
    return enrolment


def open_enrolment(person: Exoneree) -> Enrolment | None:
    return Enrolment.objects.filter(exoneree=person, closed_on__isnull=True).first()


@transaction.atomic
def close_case(
    actor: AbstractUser,
    person: Exoneree,
    *,
    closed_on: date,
    reason: str,
    destination: str,
    housing_at_exit: str,
    note: str = "",
    needs_met: Collection[int] = (),
) -> Enrolment:
    """Close the person's case on `closed_on` with its exit (reason, destination, housing).

    Its open needs close: those in `needs_met` (ids) as met, the others as no longer wanted.
    `note`: a few words on why, kept as a staff case note. Refused (ValidationError, by field)
    for a date before the enrolment opened or after today, an unknown choice, or a case
    already closed.
    """
    figures_changed(person.organization_id)  # first (the lock order of tracked actions)
    locked = _locked(person)
    enrolment = open_enrolment(locked)
    if enrolment is None or locked.case_closed_on is not None:
        raise ValidationError(_("This case is already closed."))
    errors = {}
    if closed_on > timezone.localdate():
        errors["closed_on"] = _("The exit date cannot be in the future.")
    elif closed_on < enrolment.opened_on:
        errors["closed_on"] = _("The exit date cannot be before the case was opened (%(day)s).") % {
            "day": _day(enrolment.opened_on)
        }
    for name, value, allowed in (
        ("exit_reason", reason, CHOSEN_EXIT_REASONS),
        ("destination", destination, ExitDestination.values),
        ("housing_at_exit", housing_at_exit, HousingAtExit.values),
    ):
        if value not in allowed:
            errors[name] = _("Choose one of the answers given.")
    if errors:
        raise ValidationError(errors)

    before = audit.stored(enrolment)
    enrolment.closed_on, enrolment.closed_by = closed_on, actor
    enrolment.exit_reason, enrolment.destination, enrolment.housing_at_exit = reason, destination, housing_at_exit
    enrolment.full_clean()
    enrolment.save(update_fields=EXIT_FIELDS)
    audit.record_change(actor, enrolment, before, exoneree=locked, fields=EXIT_FIELDS)
    _set_closed_on(actor, locked, closed_on)
    person.case_closed_on = closed_on

    why = _("Case closed: %(reason)s") % {"reason": ExitReason(reason).label}
    _cancel_reminders(locked)
    for referral in Referral.objects.filter(need__exoneree=locked, status__in=REFERRAL_OPEN).order_by("pk"):
        referral_transition(by=actor, referral=referral, status=ReferralStatus.CANCELLED, note=why)
    for need in Need.objects.filter(exoneree=locked, status__in=OPEN_NEED_STATUSES).order_by("pk"):
        status = NeedStatus.MET if need.pk in needs_met else NeedStatus.NO_LONGER_WANTED
        need_set_status(by=actor, need=need, status=status, today=max(closed_on, need.opened_on), reason=why)
    if note.strip():
        words = CaseNote(text=f"{why}. {note.strip()}", visibility=NoteVisibility.STAFF)
        note_save(by=actor, exoneree=locked, note=words)
    return enrolment


@transaction.atomic
def reopen_case(actor: AbstractUser, person: Exoneree, *, opened_on: date) -> Enrolment:
    """Open a closed case again: a new enrolment from `opened_on`; the old one keeps its exit.
    Their reminders are planned again (follow-ups still open, claims' deadlines, IDs)."""
    figures_changed(person.organization_id)
    locked = _locked(person)
    if locked.case_closed_on is None:
        raise ValidationError(_("This case is already open."))
    if opened_on > timezone.localdate():
        raise ValidationError({"opened_on": _("The case cannot be reopened on a day still to come.")})
    if opened_on < locked.case_closed_on:
        day = _day(locked.case_closed_on)
        raise ValidationError({"opened_on": _("Reopen it on or after the day it closed (%(day)s).") % {"day": day}})
    enrolment = enrolment_open(by=actor, exoneree=locked, opened_on=opened_on)
    _set_closed_on(actor, locked, None)
    person.case_closed_on = None
    reminders_plan_for_exoneree(locked)
    document_reminders.plan_for_exoneree(locked)
    return enrolment


def _set_closed_on(actor: AbstractUser, person: Exoneree, closed_on: date | None) -> None:
    before = audit.snapshot(person)
    person.case_closed_on = closed_on
    person.save(update_fields=["case_closed_on"])
    audit.record_change(actor, person, before, exoneree=person, fields=["case_closed_on"])


def _cancel_reminders(person: Exoneree) -> int:
    """Every reminder about the person nobody has started sending (their own, their follow-ups',
    referrals', claims' and papers'): a compare-and-set, as every move of a reminder row is."""
    about = Q(exoneree=person) | Q(follow_up__exoneree=person)
    return Reminder.objects.filter(about, status__in=CANCELLABLE).update(
        status=ReminderStatus.CANCELLED,
        reason="The case was closed.",
        claim_token=None,
    )
