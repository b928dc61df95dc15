"""What the legal remedies' reminders say, decided at sending time (services.reminders sends
them; services.reminder_plans plans them): a compensation claim's 90/30/7/0-day deadline
warnings, and the re-check of a record confirmed clear six months before.

Emails say only what is due and link to the person's Legal page (behind the login): no name,
no jurisdiction, no case detail. The in-app notification may name the person.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from services.choices import ClearanceStatus, ReminderKind
from services.models.notifications import Reminder
from services.reminder_messages import Outgoing, Skip
from services.reminder_plans import COMPENSATION_KINDS, recheck_day

KINDS = frozenset({*COMPENSATION_KINDS, ReminderKind.RECORD_RECHECK})


def compose(reminder: Reminder, now: datetime) -> Outgoing | Skip:
    person = reminder.exoneree
    url = reverse("exoneree_legal", args=[person.pk])
    link = settings.SITE_URL + url
    today = now.astimezone(reminder.organization.zone()).date()
    if reminder.kind == ReminderKind.RECORD_RECHECK:
        clearance = reminder.record_clearance
        if clearance is None or clearance.status != ClearanceStatus.CONFIRMED_CLEAR or clearance.confirmed_on is None:
            return Skip("The record is no longer marked clear.")
        if recheck_day(clearance.confirmed_on) != reminder.send_at.astimezone(reminder.organization.zone()).date():
            return Skip("The confirmation date changed.")
        text = f"Check again that the {clearance.get_holder_display()} record is still clear — {person.display_name}"
        return Outgoing("reminder_record_recheck", {"link": link}, reminder.recipient.email, notification=text, url=url)
    claim = reminder.compensation_claim
    # Filed, closed, moved or deadline removed: the warning no longer stands. (Planning cancels
    # it too; this covers a row a sweep had already claimed.)
    if claim is None or claim.filing_deadline is None or not claim.is_open_to_filing:
        return Skip("The claim was filed or closed, or the deadline removed.")
    days = (claim.filing_deadline - today).days
    if days < 0:
        return Skip("Too late: the deadline has passed.")
    on = claim.filing_deadline
    when = "is today" if days <= 0 else f"is in {days} days"
    where = claim.jurisdiction_name or "compensation"
    text = f"{where} claim filing deadline {when} ({on:%b} {on.day}, {on.year}): {person.display_name}"
    context = {"days": days, "deadline": on, "link": link}
    return Outgoing("reminder_compensation", context, reminder.recipient.email, notification=text, url=url)
