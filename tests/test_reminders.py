"""Reminders, as a user would notice them: what is sent, when, to whom, once.

Tasks run eagerly here (pytest-env), emails go to the locmem outbox, time moves with
time_machine. A real worker is in test_reminders_worker.py.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.crypto import salted_hmac

from services import reminder_plans, reminders, tasks
from services.actions import follow_ups, legal, people
from services.choices import ClaimStage, ContactPreference, ReminderKind, ReminderStatus
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim
from services.models.notifications import Notification, Reminder
from services.models.people import Exoneree
from tests.conftest import World

Kind, Status = ReminderKind, ReminderStatus
START = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)  # 9:00 AM in New York (org1's zone)
DUE = START + timedelta(days=2)
# The day `world` is made (and whatever a test makes before `clock` moves): fixed, well before
# START, so the world's own follow-ups are long overdue in 2030 whatever day the suite runs. Made
# on the real day, from 2 March 2030 on Marcus's home visit got an appointment reminder of its own.
MADE = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture(autouse=True)
def world_made_long_before(time_machine):
    """Before `world` (autouse fixtures come first)."""
    time_machine.move_to(MADE)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the sweep at a moment; the queued sends run (eagerly) once its claim commits."""

    def _sweep(clock, at: datetime) -> list[int]:
        clock.move_to(at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.reminders_sweep()

    return _sweep


def new_follow_up(world: World, due_at: datetime = DUE, **fields) -> FollowUp:
    follow_up = FollowUp(
        title="Bring the lease to Harbor Housing",
        details="Landlord is Mr. Secretdetail",
        due_at=due_at,
        assigned_to=world.caseworker1,
        **{"shared_with_exoneree": True, **fields},  # his appointment, on his plan
    )
    return follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)


def emails() -> list:
    """The outbox without the morning digests (the world's follow-ups are long overdue in 2030)."""
    return [m for m in mail.outbox if not m.subject.startswith("Today:")]


def rows(**filters) -> list[tuple[str, str, datetime, str]]:
    return sorted(
        (r.kind, r.recipient.username if r.recipient else "-", r.send_at, r.status)
        for r in Reminder.objects.filter(**filters).select_related("recipient")
    )


# --- planning -------------------------------------------------------------------------------------


def test_a_follow_up_plans_its_reminders(world, clock):
    follow_up = new_follow_up(world)

    assert rows(follow_up=follow_up) == sorted(
        [
            (Kind.BEFORE, "caseworker1", DUE - timedelta(days=1), Status.PENDING),
            (Kind.DUE, "caseworker1", DUE, Status.PENDING),
            (Kind.OVERDUE, "caseworker1", DUE + timedelta(days=1), Status.PENDING),
            (Kind.ESCALATION, "director1", DUE + timedelta(days=3), Status.PENDING),
        ]
    )


def test_escalation_waits_the_organizations_number_of_days(world, clock):
    world.org1.escalation_days = 5
    world.org1.save()

    follow_up = new_follow_up(world)

    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.ESCALATION).send_at == DUE + timedelta(days=5)


def test_moving_the_due_date_moves_pending_reminders(world, clock):
    follow_up = new_follow_up(world)

    follow_up.due_at = DUE + timedelta(hours=3)  # same day, later: a new due time, new reminders
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)
    pending = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE, status=Status.PENDING)
    assert pending.send_at == DUE + timedelta(hours=3)

    follow_up.due_at = DUE + timedelta(days=7)  # another day: the old ones go, new ones come
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)
    due = rows(follow_up=follow_up, kind=Kind.DUE)
    assert due == [
        (Kind.DUE, "caseworker1", DUE, Status.CANCELLED),
        (Kind.DUE, "caseworker1", DUE + timedelta(hours=3), Status.CANCELLED),
        (Kind.DUE, "caseworker1", DUE + timedelta(days=7), Status.PENDING),
    ]


def test_completion_cancels_and_nothing_is_sent(world, clock, sweep):
    follow_up = new_follow_up(world)

    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=follow_up, outcome="Done early")

    assert {r[3] for r in rows(follow_up=follow_up)} == {Status.CANCELLED}
    assert sweep(clock, DUE + timedelta(days=10)) == []
    assert emails() == []

    follow_ups.follow_up_reopen(by=world.caseworker1, follow_up=follow_up)  # its future ones come back
    assert rows(follow_up=follow_up, status=Status.PENDING) == []  # all of them are in the past now


def test_reopening_before_the_due_date_plans_again(world, clock):
    follow_up = new_follow_up(world)
    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=follow_up)

    follow_ups.follow_up_reopen(by=world.caseworker1, follow_up=follow_up)

    assert len(rows(follow_up=follow_up, status=Status.PENDING)) == 4


def test_reassignment_moves_pending_reminders_to_the_new_caseworker(world, clock):
    follow_up = new_follow_up(world)
    people.caseload_assign(by=world.director1, exoneree=world.marcus.exoneree, caseworkers=[world.caseworker2])

    pending = rows(follow_up=follow_up, status=Status.PENDING)
    assert {(kind, who) for kind, who, *_ in pending} == {
        (Kind.BEFORE, "caseworker2"),
        (Kind.DUE, "caseworker2"),
        (Kind.OVERDUE, "caseworker2"),
        (Kind.ESCALATION, "director1"),
    }
    assert not Reminder.objects.filter(recipient=world.caseworker1, status=Status.PENDING).exists()


# --- sending --------------------------------------------------------------------------------------


def test_a_due_follow_up_sends_one_email_and_one_notification(world, clock, sweep):
    marcus = world.marcus.exoneree
    marcus.address = "12 Hiddenplace Street"
    marcus.save()
    follow_up = new_follow_up(world)

    sweep(clock, DUE - timedelta(days=1) - timedelta(minutes=1))
    assert emails() == []
    sweep(clock, DUE - timedelta(days=1))  # the day before
    sweep(clock, DUE + timedelta(seconds=30))  # at the due time
    sweep(clock, DUE + timedelta(minutes=1))  # and again: nothing new

    assert [m.subject for m in emails()] == [
        "Reminder: a follow-up is due Wednesday, Mar 6",
        "A follow-up is due now",
    ]
    day_before = emails()[0]
    assert "is due at 9:00 a.m. on Wednesday, March 6." in day_before.body  # not "a.m.."
    assert ".." not in day_before.body + day_before.alternatives[0][0]
    due_email = emails()[1]
    assert due_email.to == ["caseworker1@example.org"]
    body = due_email.body + due_email.alternatives[0][0]
    assert "9:00 a.m." in body  # in the organization's zone (14:00 UTC)
    assert f"http://localhost:8000/people/{marcus.pk}/" in body
    for secret in ("Marcus", "Whitfield", "Harbor Housing", "Secretdetail", "Hiddenplace", "900123456", "3456"):
        assert secret not in body + due_email.subject
    notifications = Notification.objects.filter(reminder__follow_up=follow_up).order_by("pk")
    assert [n.text for n in notifications] == [
        "Due Mar 6, 9:00 a.m.: Bring the lease to Harbor Housing — Marcus Whitfield",
        "Due now (Mar 6, 9:00 a.m.): Bring the lease to Harbor Housing — Marcus Whitfield",
    ]
    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE).status == Status.SENT


def test_overdue_and_escalation_until_it_is_done(world, clock, sweep):
    follow_up = new_follow_up(world)
    sweep(clock, DUE + timedelta(days=3))  # everything due so far at once: the sweep catches up

    # Due and overdue to the caseworker, the escalation to the director; the day-before
    # reminder, reached only after the due time, would be wrong now and is dropped.
    assert sorted(m.to[0] for m in emails()) == [
        "caseworker1@example.org",
        "caseworker1@example.org",
        "director1@example.org",
    ]
    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.BEFORE).status == Status.CANCELLED
    escalation = next(m for m in emails() if m.to == ["director1@example.org"])
    assert escalation.subject == "A follow-up has been overdue for 3 days"
    assert "Casey Onewell" in escalation.body  # the staff member, not the person
    assert Notification.objects.get(user=world.director1).url == follow_up.exoneree.get_absolute_url()
    texts = set(Notification.objects.filter(reminder__follow_up=follow_up).values_list("text", flat=True))
    assert texts == {
        "Due now (Mar 6, 9:00 a.m.): Bring the lease to Harbor Housing — Marcus Whitfield",
        "Overdue since Mar 6, 9:00 a.m.: Bring the lease to Harbor Housing — Marcus Whitfield",
        "Overdue 3 days (due Mar 6, 9:00 a.m.), assigned to Casey Onewell: Bring the lease to Harbor Housing"
        " — Marcus Whitfield",
    }


def test_a_second_send_of_the_same_reminder_does_nothing(world, clock, django_capture_on_commit_callbacks):
    follow_up = new_follow_up(world)
    clock.move_to(DUE, tick=False)
    with django_capture_on_commit_callbacks(execute=False):  # claimed, but the message is "lost"
        [*_, due_id] = tasks.reminders_sweep()

    assert reminders.reminder_send(due_id) in {"sent"}
    assert reminders.reminder_send(due_id) == "not ours"  # a redelivered message
    assert len([m for m in emails() if m.subject == "A follow-up is due now"]) == 1
    assert Notification.objects.filter(reminder__follow_up=follow_up, reminder__kind=Kind.DUE).count() == 1


def test_a_claim_nobody_finished_is_claimed_again_after_the_timeout(world, clock, sweep, settings):
    follow_up = new_follow_up(world)
    before, due = (Reminder.objects.get(follow_up=follow_up, kind=kind) for kind in (Kind.BEFORE, Kind.DUE))
    clock.move_to(DUE, tick=False)
    tasks.reminders_sweep()  # claimed; the queued message never runs (a broker that lost it)
    due.refresh_from_db()
    assert due.status == Status.CLAIMED

    assert sweep(clock, DUE + timedelta(minutes=1)) == []  # someone may still be on it
    timeout = timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT_SECONDS)
    assert sweep(clock, DUE + timeout + timedelta(minutes=1)) == [before.pk, due.pk]

    due.refresh_from_db()
    assert due.status == Status.SENT
    assert [m.subject for m in emails()] == ["A follow-up is due now"]  # the day-before one is too late now


def test_two_sweeps_claim_a_row_once(world, clock):
    new_follow_up(world)
    clock.move_to(DUE, tick=False)

    first = tasks.reminders_sweep()
    second = tasks.reminders_sweep()

    assert len(first) == 2  # the day-before and the due reminder
    assert second == []


def test_email_failures_retry_then_show_as_failed(world, clock, sweep, settings, login):
    settings.EMAIL_BACKEND = "tests.email_backends.FailingBackend"
    settings.REMINDER_MAX_RETRIES = 2
    follow_up = new_follow_up(world)

    sweep(clock, DUE)

    due = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    assert due.status == Status.FAILED
    assert due.attempts == 3  # the first try and two retries
    assert due.reason == "Gave up: SMTPServerDisconnected"
    assert Notification.objects.filter(reminder=due).count() == 1  # the app still told them, once
    page = login("caseworker1").get(reverse("notification_list")).content.decode()
    # The day-before reminder, reached only now, is too late to send: dropped, not failed.
    assert "Reminders that could not be sent (1)" in page
    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.BEFORE).status == Status.CANCELLED
    assert "Gave up: SMTPServerDisconnected" in page
    assert "Reminders that could not be sent" in login("director1").get(reverse("notification_list")).content.decode()
    assert "could not be sent" not in login("caseworker2").get(reverse("notification_list")).content.decode()


def test_a_retry_succeeds_after_a_failure(world, clock, settings, django_capture_on_commit_callbacks):
    follow_up = new_follow_up(world)
    clock.move_to(DUE, tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        tasks.reminders_sweep()
    due = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    settings.EMAIL_BACKEND = "tests.email_backends.FailingBackend"
    with pytest.raises(reminders.ReminderSendError) as error:
        reminders.reminder_send(due.pk)
    assert str(error.value) == "SMTPServerDisconnected"  # the type only: no address
    due.refresh_from_db()
    assert (due.status, due.reason) == (Status.CLAIMED, "Retrying: SMTPServerDisconnected")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminders.reminder_send(due.pk) == "sent"
    assert len(emails()) == 1


def test_retry_backoff_grows_and_stays_below_the_claim_timeout(settings):
    settings.REMINDER_RETRY_SECONDS = 60
    settings.REMINDER_CLAIM_TIMEOUT_SECONDS = 900
    assert [reminders.retry_countdown(n) for n in range(6)] == [60, 120, 240, 450, 450, 450]


def test_the_sweep_costs_the_same_queries_for_n_and_10n_due_reminders(world, clock):
    def add(n: int, start: int) -> None:
        Reminder.objects.bulk_create(
            Reminder(
                organization=world.org1,
                kind=Kind.DUE,
                key=f"bench:{start + i}",
                recipient=world.caseworker1,
                send_at=START - timedelta(minutes=1),
            )
            for i in range(n)
        )

    def measure() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            claimed = tasks.reminders_sweep()
        return len(claimed), len(queries)

    tasks.reminders_sweep()  # warm-up: digests planned
    add(5, 0)
    small = measure()
    add(50, 100)
    large = measure()

    assert (small[0], large[0]) == (5, 50)
    assert small[1] == large[1] <= 10


# --- the morning digest ---------------------------------------------------------------------------


def test_morning_digest_at_the_organizations_hour_in_its_zone(world, clock, sweep):
    FollowUp.objects.update(done_at=START)  # only this test's follow-ups count
    world.org1.timezone = "America/Chicago"
    world.org1.save()
    new_follow_up(world, due_at=datetime(2030, 3, 5, 20, 0, tzinfo=UTC))  # due 2 PM Chicago on the 5th
    new_follow_up(world, due_at=START - timedelta(days=2))  # overdue
    eight_chicago = datetime(2030, 3, 5, 14, 0, tzinfo=UTC)  # 8:00 AM CST

    sweep(clock, eight_chicago - timedelta(minutes=1))  # plans the 5th's digests
    assert [m.subject for m in mail.outbox if m.subject.startswith("Today")] == []
    mail.outbox.clear()  # the follow-ups' own reminders
    sweep(clock, eight_chicago)

    digests = [m for m in mail.outbox if m.subject.startswith("Today")]
    assert [(m.to[0], m.subject) for m in digests] == [("caseworker1@example.org", "Today: 1 follow-up due, 1 overdue")]
    assert "http://localhost:8000/dashboard/" in digests[0].body
    notice = Notification.objects.get(reminder__kind=Kind.DIGEST, user=world.caseworker1)
    assert (notice.text, notice.url) == ("Today: 1 follow-up due, 1 overdue.", "/dashboard/")
    quiet = Reminder.objects.get(kind=Kind.DIGEST, recipient=world.caseworker2, status=Status.CANCELLED)
    assert quiet.reason == "Nothing due or overdue."
    assert quiet.send_at == eight_chicago
    new_york = Reminder.objects.filter(kind=Kind.DIGEST, recipient=world.caseworker3).order_by("send_at").first()
    assert new_york.send_at == datetime(2030, 3, 6, 13, 0, tzinfo=UTC)  # 8:00 AM EST: the 5th's had passed


def test_a_zone_this_machine_does_not_know_plans_at_the_sites_hour_rather_than_failing(world, clock, sweep):
    """A stored name the validator would refuse today (a row older than it, a machine without
    that zone): the digest still goes out, at 8 AM in the site's zone, as every page shows."""
    FollowUp.objects.update(done_at=START)
    type(world.org1).objects.filter(pk=world.org1.pk).update(timezone="Mars/Olympus_Mons")
    new_follow_up(world, due_at=START - timedelta(days=2))
    eight_new_york = datetime(2030, 3, 5, 13, 0, tzinfo=UTC)  # settings.TIME_ZONE

    sweep(clock, eight_new_york - timedelta(minutes=1))
    mail.outbox.clear()
    sweep(clock, eight_new_york)

    digests = [m for m in mail.outbox if m.subject.startswith("Today")]
    assert [(m.to[0], m.subject) for m in digests] == [("caseworker1@example.org", "Today: 1 overdue follow-up")]


# --- statutory deadlines --------------------------------------------------------------------------


def test_compensation_deadline_warnings_to_caseworker_and_director(world, clock, sweep):
    marcus = world.marcus.exoneree
    claim = CompensationClaim(jurisdiction="IL", deadline_override=date(2030, 7, 1), override_reason="The lawyer's")
    legal.claim_create(by=world.caseworker1, exoneree=marcus, claim=claim)

    warnings = rows(exoneree=marcus, follow_up=None)
    eight_am = [datetime.combine(date(2030, 7, 1) - timedelta(days=d), time(12), tzinfo=UTC) for d in (90, 30, 7, 0)]
    assert warnings == sorted(
        (kind, who, at, Status.PENDING)
        for kind, at in zip(reminder_plans.COMPENSATION_KINDS, eight_am, strict=True)
        for who in ("caseworker1", "director1")
    )

    sweep(clock, eight_am[1])  # 30 days before (the 90-day one comes too, late but not lost)
    assert sorted(m.subject for m in emails()) == [
        "A compensation filing deadline is in 30 days",
        "A compensation filing deadline is in 30 days",
        "A compensation filing deadline is in 30 days",
        "A compensation filing deadline is in 30 days",
    ]
    assert "Marcus" not in emails()[0].body

    claim.stage, claim.filed_on = ClaimStage.FILED, date(2030, 6, 2)
    legal.claim_update(by=world.caseworker1, claim=claim)
    assert not Reminder.objects.filter(exoneree=marcus, status=Status.PENDING).exists()


# --- the exoneree's own reminders -----------------------------------------------------------------


def opt_in(exoneree: Exoneree, world: World, **fields) -> None:
    exoneree.email = "marcus.private@example.net"
    exoneree.phone = "(312) 555-0199"
    exoneree.appointment_reminders = True
    for name, value in fields.items():
        setattr(exoneree, name, value)
    people.exoneree_update(by=world.caseworker1, exoneree=exoneree)


def test_no_reminder_to_the_exoneree_unless_they_opted_in(world, clock):
    follow_up = new_follow_up(world)
    assert not Reminder.objects.filter(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT).exists()


def test_exoneree_reminder_by_email_says_only_when(world, clock, sweep):
    marcus = world.marcus.exoneree
    opt_in(marcus, world)
    new_follow_up(world)

    sweep(clock, DUE - timedelta(days=1))

    [email] = [m for m in emails() if m.to == ["marcus.private@example.net"]]
    assert email.subject == "Reminder: your appointment on Wednesday, Mar 6"
    assert "9:00 a.m." in email.body
    assert "http://localhost:8000/my-plan/" in email.body
    for secret in ("Harbor", "Secretdetail", "Marcus", "Light"):  # not even the organization
        assert secret not in email.body + email.subject


def test_do_not_contact_blocks_everything_to_the_exoneree(world, clock, sweep):
    marcus = world.marcus.exoneree
    opt_in(marcus, world)
    follow_up = new_follow_up(world)
    assert Reminder.objects.filter(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT, status=Status.PENDING)

    marcus.contact_preference = ContactPreference.DO_NOT_CONTACT
    people.exoneree_update(by=world.caseworker1, exoneree=marcus)
    sweep(clock, DUE + timedelta(minutes=1))

    assert not [m for m in emails() if m.to == ["marcus.private@example.net"]]
    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT).status == Status.CANCELLED
    assert [m.to for m in emails()] == [["caseworker1@example.org"]]  # staff reminders go on


def test_do_not_contact_chosen_after_the_claim_still_holds(world, clock, django_capture_on_commit_callbacks):
    marcus = world.marcus.exoneree
    opt_in(marcus, world)
    follow_up = new_follow_up(world)
    clock.move_to(DUE - timedelta(days=1), tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        tasks.reminders_sweep()
    Exoneree.objects.filter(pk=marcus.pk).update(contact_preference=ContactPreference.DO_NOT_CONTACT)

    reminder = Reminder.objects.get(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT)
    assert reminders.reminder_send(reminder.pk) == "skipped"
    assert emails() == []


def test_quiet_hours_are_kept(world, clock, sweep):
    marcus = world.marcus.exoneree
    # Quiet from 8 PM to 10 AM New York time; the day-before reminder falls at 9 AM.
    opt_in(marcus, world, quiet_hours_start=time(20), quiet_hours_end=time(10))
    follow_up = new_follow_up(world)
    reminder = Reminder.objects.get(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT)
    ten_am = DUE - timedelta(days=1) + timedelta(hours=1)
    assert reminder.send_at == ten_am  # planned for the end of their quiet hours

    marcus.quiet_hours_end = time(11)  # they changed their mind after it was planned
    Exoneree.objects.filter(pk=marcus.pk).update(quiet_hours_end=time(11))
    sweep(clock, ten_am)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.send_at) == (Status.PENDING, ten_am + timedelta(hours=1))
    assert not [m for m in emails() if m.to == ["marcus.private@example.net"]]

    sweep(clock, ten_am + timedelta(hours=1))
    assert len([m for m in emails() if m.to == ["marcus.private@example.net"]]) == 1


def test_sms_switched_off_fails_visibly(world, clock, sweep, login):
    opt_in(world.marcus.exoneree, world, reminder_channel="sms")
    follow_up = new_follow_up(world)

    sweep(clock, DUE - timedelta(days=1))

    reminder = Reminder.objects.get(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT)
    assert (reminder.status, reminder.reason) == (Status.FAILED, "Text messages are switched off (SMS_BACKEND).")
    assert not [m for m in emails() if m.to == ["marcus.private@example.net"]]
    page = login("caseworker1").get(reverse("notification_list")).content.decode()
    assert "Appointment reminder to the person" in page
    assert "Text messages are switched off" in page


def test_sms_goes_through_the_configured_backend(world, clock, sweep, settings, caplog):
    settings.SMS_BACKEND = "services.lib.sms.ConsoleBackend"
    opt_in(world.marcus.exoneree, world, reminder_channel="sms")
    follow_up = new_follow_up(world)

    sweep(clock, DUE - timedelta(days=1))

    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.EXONEREE_APPOINTMENT).status == Status.SENT
    assert "SMS to …99: Reminder: you have an appointment at 9:00 a.m. on Wednesday, Mar 6. See: " in caplog.text


@pytest.mark.parametrize(("language", "shown"), [("en", "3:00 p.m."), ("es", "15:00")])
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_appointment_reminder_says_the_time_as_the_plan_page_does(
    world, clock, sweep, settings, caplog, login, language, shown, channel
):
    """It wrote "3:00 PM" where the plan says "3:00 p.m." (and "15:00" in Spanish)."""
    settings.SMS_BACKEND = "services.lib.sms.ConsoleBackend"
    opt_in(world.marcus.exoneree, world, preferred_language=language, reminder_channel=channel)
    follow_up = new_follow_up(world, due_at=DUE + timedelta(hours=6))  # 3:00 p.m. in New York
    plan = login("exoneree1").get(reverse("my_plan")).content.decode()
    on_the_plan = re.search(rf'id="appointment-{follow_up.pk}"><strong><time[^>]*>([^<]*)</time>', plan)
    assert on_the_plan is not None and on_the_plan.group(1).endswith(shown)

    sweep(clock, DUE + timedelta(hours=6) - timedelta(days=1))

    if channel == "sms":
        [said] = [record.getMessage() for record in caplog.records if record.getMessage().startswith("SMS to")]
    else:
        [email] = [m for m in emails() if m.to == ["marcus.private@example.net"]]
        said = email.body + email.alternatives[0][0]
    assert shown in said
    assert "PM" not in said and ".." not in said


# --- in the app -----------------------------------------------------------------------------------


def test_unread_count_in_the_header_and_marking_read(world, clock, sweep, login):
    follow_up = new_follow_up(world)
    sweep(clock, DUE - timedelta(days=1))
    sweep(clock, DUE)
    client = login("caseworker1")

    page = client.get(reverse("dashboard")).content.decode()
    # The day-before and due reminders, and the morning digest of the due day.
    assert Notification.objects.filter(user=world.caseworker1).count() == 3
    assert '<span class="badge">3<span class="visually-hidden"> unread</span></span>' in page

    first = Notification.objects.filter(user=world.caseworker1).first()
    response = client.post(reverse("notification_read", args=[first.pk]))
    assert response.status_code == 302
    assert response.url == follow_up.exoneree.get_absolute_url()
    assert '<span class="badge">2<' in client.get(reverse("dashboard")).content.decode()

    client.post(reverse("notification_read_all"))
    assert 'class="badge"' not in client.get(reverse("dashboard")).content.decode()
    assert "Bring the lease" in client.get(reverse("notification_list")).content.decode()


# --- what the review found ----------------------------------------------------------------------


def test_an_error_no_retry_can_fix_fails_visibly_at_once(world, clock, sweep, settings):
    settings.EMAIL_BACKEND = "tests.email_backends.BrokenBackend"
    follow_up = new_follow_up(world)

    sweep(clock, DUE)
    sweep(clock, DUE + timedelta(hours=1))  # not claimed again and again

    due = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    assert (due.status, due.reason, due.attempts) == (Status.FAILED, "Could not be sent: ValueError", 1)


def test_a_refused_address_is_not_written_to_the_logs(world, clock, sweep, settings, caplog):
    settings.EMAIL_BACKEND = "tests.email_backends.RefusingBackend"
    settings.REMINDER_MAX_RETRIES = 1
    marcus = world.marcus.exoneree
    opt_in(marcus, world)
    new_follow_up(world)

    sweep(clock, DUE - timedelta(days=1))

    appointment = Reminder.objects.get(exoneree=marcus, kind=Kind.EXONEREE_APPOINTMENT)
    assert appointment.status == Status.FAILED
    assert "SMTPRecipientsRefused" in caplog.text
    assert "marcus.private@example.net" not in caplog.text


def test_a_claimed_reminder_moved_later_the_same_day_is_not_sent_early(
    world, clock, django_capture_on_commit_callbacks
):
    follow_up = new_follow_up(world)
    clock.move_to(DUE, tick=False)
    with django_capture_on_commit_callbacks(execute=False):  # claimed; its message still queued
        tasks.reminders_sweep()
    queued = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    assert queued.status == Status.CLAIMED

    follow_up.due_at = DUE + timedelta(hours=6)
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)

    assert reminders.reminder_send(queued.pk) == "not ours"  # the queued message does nothing
    assert emails() == []
    moved = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE, status=Status.PENDING)
    assert moved.send_at == DUE + timedelta(hours=6)


def test_a_follow_up_moved_later_the_same_day_after_its_reminder_gets_a_new_one(world, clock, sweep):
    follow_up = new_follow_up(world)
    sweep(clock, DUE)
    follow_up.due_at = DUE + timedelta(hours=6)
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)

    sweep(clock, DUE + timedelta(hours=6, minutes=1))

    assert [m.subject for m in emails()] == ["A follow-up is due now", "A follow-up is due now"]


def test_a_claim_taken_over_again_and_again_is_given_up_visibly(world, clock, settings):
    settings.REMINDER_MAX_RETRIES = 1
    follow_up = new_follow_up(world)
    due = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    timeout = timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT_SECONDS + 60)
    moment = DUE
    for _ in range(3):  # each time a worker takes it and dies before finishing
        clock.move_to(moment, tick=False)
        tasks.reminders_sweep()
        Reminder.objects.filter(pk=due.pk, status=Status.CLAIMED).update(
            status=Status.SENDING, attempts=F("attempts") + 1
        )
        moment += timeout

    due.refresh_from_db()
    assert due.status == Status.FAILED
    assert due.reason == "Gave up: no worker finished sending it."


# --- a database blip while recording "sent" ------------------------------------------------------


def claimed_due_reminder(world, clock, capture) -> Reminder:
    follow_up = new_follow_up(world)
    clock.move_to(DUE, tick=False)
    with capture(execute=False):  # claimed; the test sends it itself
        tasks.reminders_sweep()
    return Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)


@pytest.fixture
def blip(monkeypatch):
    """Make the first `failures` records of "sent" fail as a restarting database would;
    `commit_first`: the first one commits before its answer is lost. Returns the pauses taken."""
    pauses: list[float] = []
    monkeypatch.setattr(reminders.clock, "sleep", pauses.append)
    # The simulated blip leaves the connection working; closing it would end the test's transaction.
    monkeypatch.setattr(reminders, "close_old_connections", lambda: None)
    real_move = reminders._move

    def _blip(failures: int, *, commit_first: bool = False) -> list[float]:
        calls = {"n": 0}

        def move(reminder_id, token, status, **fields):
            if status != Status.SENT or calls["n"] >= failures:
                return real_move(reminder_id, token, status, **fields)
            calls["n"] += 1
            if commit_first and calls["n"] == 1:
                real_move(reminder_id, token, status, **fields)
            raise OperationalError("the database system is shutting down")

        monkeypatch.setattr(reminders, "_move", move)
        return pauses

    return _blip


def test_a_database_blip_while_recording_costs_no_duplicate(
    world, clock, blip, django_capture_on_commit_callbacks, caplog
):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    pauses = blip(6)

    assert reminders.reminder_send(due.pk) == "sent"

    due.refresh_from_db()
    assert due.status == Status.SENT
    assert pauses == [0.5, 1, 2, 4, 8, 10]  # backing off, for a meaningful time
    assert sum(pauses) < settings.REMINDER_RECORD_RETRY_SECONDS
    said = f"reminder {due.pk} sent, not yet recorded (OperationalError): trying again"
    assert caplog.text.count(said) == 6
    assert reminders.reminder_send(due.pk) == "not ours"
    assert len(emails()) == 1


def test_a_record_whose_answer_was_lost_is_read_back(world, clock, blip, django_capture_on_commit_callbacks, caplog):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    blip(1, commit_first=True)

    assert reminders.reminder_send(due.pk) == "sent"

    due.refresh_from_db()
    assert due.status == Status.SENT
    assert "possible duplicate" not in caplog.text


def test_a_record_that_outlasts_the_retries_is_retried_by_the_task_without_sending_again(
    world, clock, blip, settings, django_capture_on_commit_callbacks
):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    settings.REMINDER_RECORD_RETRY_SECONDS = 0  # every failure goes to the task's retry
    blip(3)

    tasks.send_reminder.delay(due.pk)

    due.refresh_from_db()
    assert due.status == Status.SENT
    assert len(emails()) == 1


def test_a_database_error_before_sending_is_retried_by_the_task(
    world, clock, monkeypatch, django_capture_on_commit_callbacks
):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    real_send, calls = reminders.reminder_send, []

    def send(reminder_id):
        calls.append(reminder_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_send(reminder_id)

    monkeypatch.setattr(reminders, "reminder_send", send)

    tasks.send_reminder.delay(due.pk)

    due.refresh_from_db()
    assert (due.status, len(calls), len(emails())) == (Status.SENT, 2, 1)


def test_every_reminder_email_has_a_message_id_of_its_own_that_a_resend_repeats(world, clock):
    one, two = new_follow_up(world), new_follow_up(world, due_at=DUE - timedelta(minutes=5))
    clock.move_to(DUE, tick=False)
    tasks.reminders_sweep()  # claimed; sent here, one by one
    due, other = (Reminder.objects.get(follow_up=f, kind=Kind.DUE) for f in (one, two))

    reminders.reminder_send(due.pk)
    Reminder.objects.filter(pk=due.pk).update(status=Status.CLAIMED)  # as a sweep taking it over would
    reminders.reminder_send(due.pk)
    reminders.reminder_send(other.pk)

    first, again, another = (m.extra_headers.get("Message-ID") for m in mail.outbox[-3:])
    assert first == again
    assert first != another
    assert first.startswith("<reminder.") and first.endswith("@localhost>")
    assert due.key not in first  # opaque: says nothing about what it is about
    assert mail.outbox[-1].message()["Message-ID"] == another


def test_the_count_of_reminders_that_could_not_be_sent_is_the_true_one(world, login):
    Reminder.objects.bulk_create(
        Reminder(
            organization=world.org1,
            kind=Kind.DUE,
            key=f"due:failed:{n}",
            recipient=world.caseworker1,
            follow_up=world.marcus.follow_up,
            send_at=START - timedelta(minutes=n),
            status=Status.FAILED,
            reason="Gave up: SMTPServerDisconnected",
        )
        for n in range(60)
    )

    page = login("director1").get(reverse("notification_list")).content.decode()

    assert "Reminders that could not be sent (60)" in page
    assert "The latest 50 are listed here." in page
    assert page.count("Gave up: SMTPServerDisconnected") == 50


# --- a task that does not hold the row touches nothing ----------------------------------------------


def test_a_redelivered_message_leaves_a_row_being_sent_alone(world, clock, django_capture_on_commit_callbacks):
    """Another task holds the row (`sending`, its own token): a second delivery of the same
    message must neither send nor take the row from it."""
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    holder = uuid.uuid4()
    Reminder.objects.filter(pk=due.pk).update(status=Status.SENDING, claim_token=holder, attempts=1)

    assert reminders.reminder_send(due.pk) == "not ours"

    due.refresh_from_db()
    assert (due.status, due.claim_token, due.attempts, due.sent_at) == (Status.SENDING, holder, 1, None)
    assert emails() == []
    assert not Notification.objects.filter(reminder=due).exists()


@pytest.mark.parametrize("status", [Status.PENDING, Status.SENT, Status.CANCELLED, Status.FAILED])
def test_a_row_not_claimed_is_never_sent(world, clock, django_capture_on_commit_callbacks, status):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    Reminder.objects.filter(pk=due.pk).update(status=status)

    assert reminders.reminder_send(due.pk) == "not ours"

    due.refresh_from_db()
    assert (due.status, due.attempts) == (status, 0)
    assert emails() == []


def test_a_finish_without_the_rows_token_records_nothing(world, clock, django_capture_on_commit_callbacks):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    holder = uuid.uuid4()
    Reminder.objects.filter(pk=due.pk).update(status=Status.SENDING, claim_token=holder)

    assert reminders._finish(due.pk, uuid.uuid4()) == 0
    due.refresh_from_db()
    assert (due.status, due.sent_at) == (Status.SENDING, None)

    assert reminders._finish(due.pk, holder) == 1
    due.refresh_from_db()
    assert (due.status, due.reason) == (Status.SENT, "") and due.sent_at is not None


def test_a_late_finish_after_a_takeover_leaves_the_row_to_its_new_holder(
    world, clock, settings, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """Task A's mail server is so slow that its claim goes stale: a sweep takes the row over and
    task B starts sending it. A's finish must not mark B's row sent (B may still fail); A says
    the reminder may have gone out twice."""
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    taken_over_by: list[uuid.UUID] = []
    real_send = reminders.send_templated_email

    def slow_send(**kwargs):
        if not taken_over_by:  # task A, still talking to the mail server
            clock.shift(timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT_SECONDS + 60))
            with django_capture_on_commit_callbacks(execute=False):
                assert due.pk in tasks.reminders_sweep()
            task_b = uuid.uuid4()  # task B took the row and is sending it now
            Reminder.objects.filter(pk=due.pk, status=Status.CLAIMED).update(status=Status.SENDING, claim_token=task_b)
            taken_over_by.append(task_b)
        return real_send(**kwargs)

    monkeypatch.setattr(reminders, "send_templated_email", slow_send)

    with caplog.at_level("WARNING", logger="services.reminders"):
        assert reminders.reminder_send(due.pk) == "sent"

    due.refresh_from_db()
    assert (due.status, due.claim_token, due.sent_at) == (Status.SENDING, taken_over_by[0], None)
    assert f"reminder {due.pk} delivered after its claim was taken over: possible duplicate" in caplog.text
    assert reminders._finish(due.pk, taken_over_by[0]) == 1  # B's own finish still counts


@pytest.mark.parametrize("goodbye_fails", [False, True])
def test_the_mail_connection_closes_only_after_sent_is_recorded(
    world, clock, settings, django_capture_on_commit_callbacks, monkeypatch, goodbye_fails, caplog
):
    """The instant in which a killed worker sends twice is from the server's acceptance to our
    record: the goodbye to the server (a round trip) comes after the record, not inside it, and
    a failed goodbye changes nothing."""
    from tests.email_backends import GoodbyeBackend

    caplog.set_level("INFO", logger="services.reminders")
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.email_backends.GoodbyeBackend"
    monkeypatch.setattr(GoodbyeBackend, "events", [])
    monkeypatch.setattr(GoodbyeBackend, "fail_goodbye", goodbye_fails)

    assert reminders.reminder_send(due.pk) == "sent"

    assert GoodbyeBackend.events == [("accepted", Status.SENDING), ("goodbye", Status.SENT)]
    due.refresh_from_db()
    assert due.status == Status.SENT
    said = f"reminder {due.pk}: the mail server's goodbye failed (SMTPServerDisconnected)"
    assert (said in caplog.text) == goodbye_fails


def test_an_email_failure_releases_only_the_tasks_own_claim(
    world, clock, settings, django_capture_on_commit_callbacks, monkeypatch
):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    task_b = uuid.uuid4()

    def fail_after_a_takeover(**kwargs):
        Reminder.objects.filter(pk=due.pk).update(status=Status.SENDING, claim_token=task_b)
        raise SMTPServerDisconnected("mail.example.org said no to someone@example.org")

    monkeypatch.setattr(reminders, "send_templated_email", fail_after_a_takeover)

    with pytest.raises(reminders.ReminderSendError):
        reminders.reminder_send(due.pk)

    due.refresh_from_db()
    assert (due.status, due.claim_token, due.reason) == (Status.SENDING, task_b, "")


# --- liveness: is anyone sweeping and sending? ------------------------------------------------------


def liveness(*, swept: int | None = None, waiting: int | None = None) -> reminders.Liveness:
    """Seconds since the last sweep and since the oldest due reminder came due (None: none)."""
    return reminders.Liveness(
        now=START,
        last_sweep=None if swept is None else START - timedelta(seconds=swept),
        oldest_due=None if waiting is None else START - timedelta(seconds=waiting),
    )


def test_late_means_past_the_limit_not_at_it(settings):
    sweep_late, send_late = settings.REMINDER_SWEEP_LATE_SECONDS, settings.REMINDER_SEND_LATE_SECONDS

    assert liveness(swept=sweep_late, waiting=send_late).ok
    assert not liveness(swept=sweep_late + 1, waiting=0).ok
    assert not liveness(swept=0, waiting=send_late + 1).ok
    assert liveness().ok  # nothing noted, nothing waiting
    assert (liveness(swept=sweep_late + 1).sweep_late, liveness(waiting=send_late + 1).sending_late) == (True, True)


def test_a_clock_a_little_behind_counts_as_no_time_at_all():
    # A sweep noted by a worker whose clock runs ahead, a reminder due "in the future".
    ahead = liveness(swept=-5, waiting=-5)
    assert (ahead.sweep_age, ahead.waiting) == (0, 0)
    now = liveness(swept=0, waiting=0)
    assert (now.sweep_age, now.waiting) == (0, 0)
    assert (liveness().sweep_age, liveness().waiting) == (None, None)


def test_only_due_unsent_reminders_of_the_organization_asked_about_are_waiting(world, clock):
    def due(organization, status: str, minutes_ago: int) -> None:
        Reminder.objects.create(
            organization=organization,
            kind=Kind.DUE,
            key=f"due:liveness:{organization.pk}:{status}:{minutes_ago}",
            recipient=world.caseworker1,
            send_at=START - timedelta(minutes=minutes_ago),
            status=status,
        )

    for status in (Status.SENT, Status.CANCELLED, Status.FAILED):
        due(world.org1, status, 90)
    due(world.org1, Status.PENDING, -10)  # not due yet
    assert reminders.reminders_liveness(now=START).oldest_due is None

    for minutes_ago, status in ((3, Status.PENDING), (4, Status.CLAIMED), (5, Status.SENDING)):
        due(world.org1, status, minutes_ago)
    due(world.org2, Status.PENDING, 60)

    assert reminders.reminders_liveness(now=START).waiting == 3600
    assert reminders.reminders_liveness(organization_id=world.org1.pk, now=START).waiting == 300
    assert reminders.reminders_liveness(organization_id=world.org2.pk).waiting == 3600  # now: the clock's


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        ((14, 0), "Mar 4, 9:00 a.m."),
        ((20, 5), "Mar 4, 3:05 p.m."),
        ((17, 0), "Mar 4, 12:00 p.m."),
        ((5, 30), "Mar 4, 12:30 a.m."),
    ],
)
def test_a_time_in_a_notification_is_on_a_twelve_hour_clock_in_the_organizations_zone(utc, shown):
    assert reminders._when(datetime(2030, 3, 4, *utc, tzinfo=UTC), ZoneInfo("America/New_York")) == shown


def test_a_caseworker_without_an_email_address_gets_the_notification_alone(world, clock, sweep):
    type(world.caseworker1).objects.filter(pk=world.caseworker1.pk).update(email="")
    follow_up = new_follow_up(world)

    sweep(clock, DUE)

    due = Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE)
    assert due.status == Status.SENT
    assert Notification.objects.filter(reminder=due, user=world.caseworker1).exists()
    assert emails() == []


@pytest.mark.parametrize(("site", "host"), [("https://reentry.example.org", "reentry.example.org"), ("", "localhost")])
def test_a_message_id_is_the_keyed_hash_of_the_reminder_at_the_sites_host(world, settings, site, host):
    """Fixed across releases: a resend after an upgrade must still carry the same Message-ID."""
    settings.SITE_URL = site
    reminder = Reminder(pk=41, key="due:follow_up:7:2030-03-06T14:00")
    digest = salted_hmac("services.reminders.message_id", "41:due:follow_up:7:2030-03-06T14:00").hexdigest()

    assert reminders.reminder_message_id(reminder) == f"<reminder.{digest[:32]}@{host}>"


def test_giving_up_shows_that_claimed_reminder_as_failed_with_a_reason_that_fits(
    world, clock, django_capture_on_commit_callbacks
):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    before = Reminder.objects.get(follow_up=due.follow_up, kind=Kind.BEFORE)  # claimed by the same sweep
    pending = Reminder.objects.get(follow_up=due.follow_up, kind=Kind.OVERDUE)
    assert (before.status, pending.status) == (Status.CLAIMED, Status.PENDING)

    reminders.reminder_fail(due.pk, reason="x" * 300)
    reminders.reminder_fail(pending.pk, reason="late")

    due.refresh_from_db()
    assert (due.status, due.reason) == (Status.FAILED, ("Gave up: " + "x" * 300)[:200])
    assert Reminder.objects.get(pk=before.pk).status == Status.CLAIMED  # another task's to finish
    assert Reminder.objects.get(pk=pending.pk).status == Status.PENDING  # only a claimed row


def test_a_retried_record_says_whether_the_row_was_ours(world, clock, django_capture_on_commit_callbacks):
    due = claimed_due_reminder(world, clock, django_capture_on_commit_callbacks)
    holder = uuid.uuid4()
    Reminder.objects.filter(pk=due.pk).update(status=Status.SENDING, claim_token=holder)

    assert reminders.reminder_record_sent(due.pk, uuid.uuid4()) == "not ours"
    assert reminders.reminder_record_sent(due.pk, holder) == "sent"
    assert Reminder.objects.get(pk=due.pk).status == Status.SENT


# --- why nothing was sent: decided at sending time, and said on the notifications page ---------------

DAY_BEFORE = DUE - timedelta(days=1)  # 9 AM in New York: the day-before and the appointment reminders


def account_switched_off(world, follow_up, reminder) -> None:
    type(world.caseworker1).objects.filter(pk=world.caseworker1.pk).update(is_active=False)


def follow_up_done(world, follow_up, reminder) -> None:
    FollowUp.objects.filter(pk=follow_up.pk).update(done_at=DUE)


def follow_up_reassigned(world, follow_up, reminder) -> None:
    FollowUp.objects.filter(pk=follow_up.pk).update(assigned_to=world.caseworker2)


def sent_after_the_due_time(world, follow_up, reminder) -> None:
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=DAY_BEFORE)


def exoneree(**fields):
    def arrange(world, follow_up, reminder) -> None:
        Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(**fields)

    return arrange


def off_their_plan(world, follow_up, reminder) -> None:
    FollowUp.objects.filter(pk=follow_up.pk).update(shared_with_exoneree=False)


def quiet_past_a_close_appointment(world, follow_up, reminder) -> None:
    exoneree(quiet_hours_start=time(8), quiet_hours_end=time(11))(world, follow_up, reminder)  # New York
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=DAY_BEFORE + timedelta(hours=1))


def unknown_kind(world, follow_up, reminder) -> None:
    Reminder.objects.filter(pk=reminder.pk).update(kind="carrier_pigeon")


def follow_up_gone(world, follow_up, reminder) -> None:
    Reminder.objects.filter(pk=reminder.pk).update(follow_up=None)


@pytest.mark.parametrize(
    ("kind", "arrange", "outcome"),
    [
        (Kind.BEFORE, account_switched_off, ("skipped", Status.CANCELLED, "The recipient's account is switched off.")),
        (Kind.BEFORE, follow_up_done, ("skipped", Status.CANCELLED, "The follow-up was done.")),
        (Kind.BEFORE, follow_up_reassigned, ("skipped", Status.CANCELLED, "The follow-up was reassigned.")),
        (
            Kind.BEFORE,
            sent_after_the_due_time,
            ("skipped", Status.CANCELLED, "Too late: the follow-up's time has passed."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            exoneree(contact_preference=ContactPreference.DO_NOT_CONTACT),
            ("skipped", Status.CANCELLED, "They asked not to be contacted."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            exoneree(appointment_reminders=False),
            ("skipped", Status.CANCELLED, "They no longer want appointment reminders."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            off_their_plan,
            ("skipped", Status.CANCELLED, "The appointment is no longer on their plan."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            quiet_past_a_close_appointment,
            ("skipped", Status.CANCELLED, "Their quiet hours last until the appointment."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            exoneree(quiet_hours_start=time(8), quiet_hours_end=time(10)),
            ("postponed", Status.PENDING, "Postponed until their quiet hours end."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            exoneree(reminder_channel="sms", phone=""),
            ("failed", Status.FAILED, "No phone number for text messages."),
        ),
        (
            Kind.EXONEREE_APPOINTMENT,
            exoneree(email=""),
            ("failed", Status.FAILED, "No email address to send the reminder to."),
        ),
        (Kind.BEFORE, unknown_kind, ("failed", Status.FAILED, "Unknown kind carrier_pigeon.")),
        (Kind.BEFORE, follow_up_gone, ("failed", Status.FAILED, "Could not be written: AttributeError")),
    ],
    ids=lambda value: getattr(value, "__name__", None) if callable(value) else None,
)
def test_a_reminder_that_no_longer_stands_says_why(
    world, clock, django_capture_on_commit_callbacks, kind, arrange, outcome
):
    opt_in(world.marcus.exoneree, world)
    follow_up = new_follow_up(world)
    clock.move_to(DAY_BEFORE, tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        tasks.reminders_sweep()
    reminder = Reminder.objects.get(follow_up=follow_up, kind=kind, status=Status.CLAIMED)
    arrange(world, follow_up, reminder)

    result = reminders.reminder_send(reminder.pk)

    reminder.refresh_from_db()
    assert (result, reminder.status, reminder.reason) == outcome
    assert emails() == []
    assert not Notification.objects.filter(reminder=reminder).exists()
    if result == "postponed":
        assert reminder.send_at == DAY_BEFORE + timedelta(hours=1)  # 10 AM in New York


def test_a_digest_claimed_too_late_for_its_day_is_not_sent(world, clock):
    clock.move_to(START, tick=False)
    digest = Reminder.objects.create(
        organization=world.org1,
        kind=Kind.DIGEST,
        key="digest:late",
        recipient=world.caseworker1,
        send_at=START - timedelta(days=1),
        status=Status.CLAIMED,
    )

    assert reminders.reminder_send(digest.pk) == "skipped"

    digest.refresh_from_db()
    assert (digest.status, digest.reason) == (Status.CANCELLED, "Too late: that day's digest is out of date.")
    assert mail.outbox == []


# --- what goes wrong around the sweep must not stop it -------------------------------------------------


def test_the_digests_failing_to_plan_do_not_stop_the_due_reminders(world, clock, monkeypatch, caplog):
    follow_up = new_follow_up(world)
    clock.move_to(DUE, tick=False)

    def bad_data(**kwargs):
        raise ValueError("one organization's bad data")

    monkeypatch.setattr(reminders, "reminders_plan_digests", bad_data)
    caplog.set_level("INFO", logger="services.reminders")

    ids = reminders.reminders_claim_due()

    assert Reminder.objects.get(follow_up=follow_up, kind=Kind.DUE).pk in ids
    assert "planning the digests failed; claiming due reminders anyway" in caplog.text
    assert f"reminder sweep claimed {len(ids)}" in caplog.text


def test_a_cache_that_is_down_never_fails_the_sweep_and_shows_as_no_sweep_noted(world, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("redis is restarting")

    shared = reminders.caches[reminders.SHARED]
    monkeypatch.setattr(shared, "get", down)
    monkeypatch.setattr(shared, "set", down)

    reminders.reminders_sweep_done(now=START)
    liveness = reminders.reminders_liveness(now=START)

    assert liveness.last_sweep is None
    assert caplog.messages == [
        "could not note the sweep's time: ConnectionError",
        "could not read the sweep's time: ConnectionError",
    ]


def test_the_last_sweep_is_noted_for_as_long_as_it_takes_to_notice(world, time_machine):
    time_machine.move_to(START, tick=False)
    reminders.reminders_sweep_done()
    time_machine.move_to(START + timedelta(days=2), tick=False)

    assert reminders.reminders_liveness().last_sweep == START
