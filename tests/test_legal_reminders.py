"""A claim's deadline warnings and a cleared record's re-check through a real Celery worker (the
machinery of tests/test_reminders_worker.py): each sent exactly once, and filing cancels the rest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from services import tasks
from services.actions import legal
from services.choices import ClaimStage, ClearanceStatus, RecordHolder, ReminderKind, ReminderStatus
from services.models.legal import CompensationClaim, RecordClearance
from services.models.notifications import Notification, Reminder
from tests.test_reminders_worker import queue, status, use_app, wait_for, worker  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

# The dates below are fixed (a trigger in June 2026, a record cleared in November 2026): the
# tests run on a fixed day after them, before the reminders they expect. At the real date the
# re-check (15 May 2027) and then the 90-day warning (3 March 2028) would be in the past, and a
# reminder whose time has passed when it is planned is not planned at all.
TODAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 AM in New York (org1's zone)


@pytest.fixture(autouse=True)
def on_a_fixed_day(time_machine) -> None:
    """Before `world` (autouse fixtures come first), so every record is made on that day too."""
    time_machine.move_to(TODAY)


def subjects(text: str) -> list[str]:
    return [m.to[0] for m in mail.outbox if m.subject == text]


def test_warnings_follow_the_computed_deadline_once_and_filing_cancels_the_rest(world, worker):  # noqa: F811
    claim = legal.claim_create(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        claim=CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=date(2026, 6, 1)),
    )
    assert claim.filing_deadline == date(2028, 6, 1)  # two years, from the rules table
    ninety = list(Reminder.objects.filter(compensation_claim=claim, kind=ReminderKind.COMPENSATION_90))
    thirty = list(Reminder.objects.filter(compensation_claim=claim, kind=ReminderKind.COMPENSATION_30))
    assert len(ninety) == len(thirty) == 2  # the caseworker and the director

    with time_machine.travel(ninety[0].send_at + timedelta(seconds=5)):
        claimed = tasks.reminders_sweep()
        assert {r.pk for r in ninety} <= set(claimed)
        wait_for(lambda: all(status(r) == ReminderStatus.SENT for r in ninety))
        assert not {r.pk for r in ninety} & set(tasks.reminders_sweep())  # a second sweep: nothing again

    assert sorted(subjects("A compensation filing deadline is in 90 days")) == [
        "caseworker1@example.org",
        "director1@example.org",
    ]
    assert Notification.objects.filter(reminder__in=ninety).count() == 2
    assert "Marcus" not in mail.outbox[0].body and "Illinois" not in mail.outbox[0].body

    claim.stage, claim.filed_on = ClaimStage.FILED, date(2028, 3, 20)
    with time_machine.travel(datetime(2028, 3, 20, 17, tzinfo=UTC)):  # recorded the day it was filed
        legal.claim_update(by=world.caseworker1, claim=claim)

    with time_machine.travel(thirty[0].send_at + timedelta(seconds=5)):
        assert not {r.pk for r in thirty} & set(tasks.reminders_sweep())
    assert {status(r) for r in thirty} == {ReminderStatus.CANCELLED}
    assert subjects("A compensation filing deadline is in 30 days") == []


def test_a_record_confirmed_clear_is_rechecked_six_months_later_once(world, worker):  # noqa: F811
    clearance = legal.clearance_save(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        clearance=RecordClearance(
            holder=RecordHolder.STATE_REPOSITORY,
            status=ClearanceStatus.CONFIRMED_CLEAR,
            requested_on=date(2026, 10, 1),
            confirmed_on=date(2026, 11, 15),
        ),
    )
    (recheck,) = Reminder.objects.filter(record_clearance=clearance)
    assert recheck.send_at.date() == date(2027, 5, 15)

    with time_machine.travel(recheck.send_at + timedelta(seconds=5)):
        assert recheck.pk in tasks.reminders_sweep()
        wait_for(lambda: status(recheck) == ReminderStatus.SENT)
        assert recheck.pk not in tasks.reminders_sweep()

    assert subjects("Time to check a cleared record again") == ["caseworker1@example.org"]
    note = Notification.objects.get(reminder=recheck)
    assert "State criminal records repository" in note.text and note.url.endswith("/legal/")
