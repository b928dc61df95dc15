"""Nothing stalls unseen (issue 17): the referral loop's reminder rows through a real Celery
worker, like tests/test_reminders_worker.py — on time, exactly once, cancelled by the answer.

    sent, no answer in provider_response_days (5) → one nudge to the provider (a new link),
                                                   one reminder to the caseworker
        … and escalation_days (3) later            → the directors
    accepted, not completed in completion_days (30) → the caseworker; then the directors
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services import tasks
from services.actions import referrals as referral_actions
from services.choices import ConsentCategory, ReferralStatus, ReminderKind, ReminderStatus
from services.models.notifications import Notification, Reminder
from services.models.referrals import Referral, ReferralCategory
from tests.factories import consent_for
from tests.test_reminders_worker import queue, use_app, wait_for, worker  # noqa: F401 (fixtures)

# Every test runs with a worker thread (the fixture of tests/test_reminders_worker.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]

LINK = re.compile(r"/p/([A-Za-z0-9_-]+)/")


def send(world) -> Referral:
    referral = world.marcus.referral
    ReferralCategory.objects.create(referral=referral, category=ConsentCategory.HOUSING)
    consent_for(world.marcus.exoneree, referral.resource.provider)
    return referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.SENT)


def sweep_and_wait() -> list[int]:
    """One sweep; wait until the worker has finished every row it claimed. Returns the
    referral loop's rows among them (the morning digests come due too, as time travels)."""
    ids = tasks.reminders_sweep()
    busy = [ReminderStatus.CLAIMED, ReminderStatus.SENDING]
    wait_for(lambda: not Reminder.objects.filter(pk__in=ids, status__in=busy).exists())
    return list(Reminder.objects.filter(pk__in=ids, referral__isnull=False).values_list("pk", flat=True))


def kinds(ids: list[int]) -> list[str]:
    return sorted(Reminder.objects.filter(pk__in=ids).values_list("kind", flat=True))


def to(address: str) -> list[mail.EmailMessage]:
    """The referral loop's emails to this address (not the digests)."""
    return [m for m in mail.outbox if m.to == [address] and "referral" in m.subject.lower()]


def test_an_unanswered_referral_is_nudged_once_then_escalated_once(world) -> None:
    referral = send(world)
    intake = referral.resource.intake_email
    start = timezone.now()

    assert kinds(sweep_and_wait()) == [ReminderKind.REFERRAL_NOTICE]
    (first_token,) = LINK.findall(to(intake)[0].body)

    with time_machine.travel(start + timedelta(days=world.org1.provider_response_days, minutes=1)):
        assert kinds(sweep_and_wait()) == [ReminderKind.PROVIDER_NUDGE, ReminderKind.REFERRAL_UNANSWERED]
        assert sweep_and_wait() == []
        nudge = to(intake)[1]
        assert "still waiting for your answer" in nudge.body
        (token,) = LINK.findall(nudge.body)
        client = Client()
        assert client.get(reverse("provider_referral", args=[first_token])).status_code == 200  # kept
        assert client.get(reverse("provider_referral", args=[token])).status_code == 200
        assert [m.subject for m in to(world.caseworker1.email)] == ["A referral has no answer from the provider"]
        assert "Marcus" not in to(world.caseworker1.email)[0].body
        (note,) = Notification.objects.filter(user=world.caseworker1, reminder__referral=referral)
        assert note.text.startswith("No answer from") and note.url == referral.get_absolute_url()

    days = world.org1.provider_response_days + world.org1.escalation_days
    with time_machine.travel(start + timedelta(days=days, minutes=1)):
        assert kinds(sweep_and_wait()) == [ReminderKind.REFERRAL_ESCALATION]
        assert sweep_and_wait() == []
    assert [m.subject for m in to(world.director1.email)] == ["A referral has stalled"]
    assert len(to(intake)) == 2 and len(to(world.caseworker1.email)) == 1


def test_the_answer_cancels_the_nudge_and_completion_cancels_the_rest(world) -> None:
    referral = send(world)
    start = timezone.now()
    sweep_and_wait()
    (token,) = LINK.findall(mail.outbox[0].body)
    client = Client()
    accepted = client.post(reverse("provider_referral", args=[token]), {"move": "accept", "contact_person": "Ana"})
    assert accepted.status_code == 302
    nudges = Reminder.objects.filter(
        referral=referral, kind__in=[ReminderKind.PROVIDER_NUDGE, ReminderKind.REFERRAL_UNANSWERED]
    )
    assert set(nudges.values_list("status", flat=True)) == {ReminderStatus.CANCELLED}

    with time_machine.travel(start + timedelta(days=10)):
        assert sweep_and_wait() == []  # no nudge, no escalation of the answered stage

    with time_machine.travel(start + timedelta(days=world.org1.completion_days, minutes=1)):
        assert kinds(sweep_and_wait()) == [ReminderKind.REFERRAL_NOT_COMPLETED]
        assert sweep_and_wait() == []
        assert [m.subject for m in to(world.caseworker1.email)] == ["An accepted referral is not completed"]
        # The link has expired by now (provider_link_days): the caseworker records the end.
        for status in (ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED):
            referral = referral_actions.referral_transition(
                by=world.caseworker1, referral=referral, status=status, got_service=True
            )

    days = world.org1.completion_days + world.org1.escalation_days
    with time_machine.travel(start + timedelta(days=days, minutes=1)):
        assert sweep_and_wait() == []
    escalations = Reminder.objects.filter(referral=referral, kind=ReminderKind.REFERRAL_ESCALATION)
    assert list(escalations.values_list("status", flat=True)) == [ReminderStatus.CANCELLED] * 2  # both stages
    assert to(world.director1.email) == []


def test_a_reminder_racing_the_answer_is_dropped_when_sent(world) -> None:
    """The sweep claimed the nudge just before the answer committed: sending it finds the
    referral answered and sends nothing."""
    referral = send(world)
    start = timezone.now()
    sweep_and_wait()
    with time_machine.travel(start + timedelta(days=world.org1.provider_response_days, minutes=1)):
        Reminder.objects.filter(referral=referral, kind=ReminderKind.PROVIDER_NUDGE).update(
            status=ReminderStatus.CLAIMED, claimed_at=timezone.now()
        )
        nudge = Reminder.objects.get(referral=referral, kind=ReminderKind.PROVIDER_NUDGE)
        Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.ACCEPTED)
        tasks.send_reminder.delay(nudge.pk)
        wait_for(lambda: Reminder.objects.get(pk=nudge.pk).status == ReminderStatus.CANCELLED)
    assert len(to(referral.resource.intake_email)) == 1
