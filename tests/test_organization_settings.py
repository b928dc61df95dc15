"""The organization's settings page: a director sets how long things may wait before someone
is told and how long closed cases are kept; what changed is in the access log, the figures
count with it at once, and overdue follow-ups are planned again with a new escalation."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.choices import ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.notifications import Reminder
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.reminder_plans import reminders_plan_digests, reminders_plan_for_follow_up
from tests.factories import FollowUpFactory

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

SETTINGS = reverse("organization_settings")
VALID = {
    "escalation_days": "5",
    "digest_hour": "8",
    "provider_response_days": "7",
    "completion_days": "45",
    "provider_link_days": "20",
    "retention_years": "10",
    "retention_mode": "deidentify",
}


def stored(world) -> Organization:
    return Organization.objects.get(pk=world.org1.pk)


def test_a_director_sees_the_settings_and_saves_them_with_each_change_in_the_access_log(login, world):
    client = login("director1")
    version = stored(world).figures_version

    page = client.get(SETTINGS).content.decode()
    assert "Tell me when a follow-up is overdue by (days)" in page
    response = client.post(SETTINGS, VALID, follow=True)

    assert response.redirect_chain == [(SETTINGS, 302)]
    assert "The settings are saved." in response.content.decode()
    org = stored(world)
    assert (org.escalation_days, org.provider_response_days, org.completion_days) == (5, 7, 45)
    assert (org.provider_link_days, org.retention_years, org.retention_mode) == (20, 10, "deidentify")
    assert org.figures_version > version  # "stalled now" counts with the new days at once
    entry = AuditEvent.objects.filter(actor=world.director1).latest("pk")
    assert entry.action == AuditEvent.Action.RECORD_CHANGED
    assert entry.changes["escalation_days"] == [3, 5]
    assert entry.changes["retention_mode"] == ["purge", "deidentify"]
    assert entry.organization_id == world.org1.pk


def test_saving_what_is_there_already_writes_nothing_to_the_log(login, world):
    client = login("director1")
    client.post(SETTINGS, VALID)
    entries = AuditEvent.objects.count()
    version = stored(world).figures_version

    client.post(SETTINGS, VALID)

    assert AuditEvent.objects.count() == entries
    assert stored(world).figures_version == version  # nor are the figures counted again


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("escalation_days", "-3", "Enter a whole number from 1 to 60."),  # not "greater than or equal to 0"
        ("escalation_days", "0", "Enter a whole number from 1 to 60."),
        ("escalation_days", "61", "Enter a whole number from 1 to 60."),
        ("digest_hour", "24", "Enter a whole number from 0 to 23."),
        ("completion_days", "a month", "Enter a whole number from 1 to 365."),
        ("retention_years", "", "This field is required"),
        ("retention_mode", "shred", "Select a valid choice"),
    ],
)
def test_a_bad_value_is_said_beside_its_field_and_nothing_is_saved(login, world, field, value, says):
    client = login("director1")
    before = stored(world)

    response = client.post(SETTINGS, {**VALID, field: value})

    assert response.status_code == 400
    assert says in str(response.context["form"].errors[field])
    after = stored(world)
    assert [getattr(after, name) for name in VALID] == [getattr(before, name) for name in VALID]
    assert after.figures_version == before.figures_version


def test_a_director_changes_their_own_organization_only(login, world):
    other = Organization.objects.get(pk=world.org2.pk)

    login("director2").post(SETTINGS, {**VALID, "retention_years": "20"})

    assert stored(world).retention_years != 20
    assert Organization.objects.get(pk=other.pk).retention_years == 20


def test_a_new_escalation_plans_the_open_follow_ups_again(login, world):
    due = timezone.now() - timedelta(days=1)
    follow_up = FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, due_at=due)

    reminders_plan_for_follow_up(follow_up)
    escalation = Reminder.objects.get(follow_up=follow_up, kind=ReminderKind.ESCALATION, recipient=world.director1)
    assert escalation.send_at == due + timedelta(days=3)

    login("director1").post(SETTINGS, {**VALID, "escalation_days": "10"})

    escalation = Reminder.objects.get(follow_up=follow_up, kind=ReminderKind.ESCALATION, recipient=world.director1)
    assert escalation.send_at == due + timedelta(days=10)


def test_a_new_digest_hour_moves_the_digests_planned_and_leaves_a_claimed_one(login, world):
    """Planned for today and tomorrow at 8 (the organization's time); the sweep has taken one."""
    now = timezone.now()
    reminders_plan_digests(now=now)
    planned = Reminder.objects.filter(organization=world.org1, kind=ReminderKind.DIGEST)
    assert planned.exists()
    taken = planned.order_by("pk").first()
    Reminder.objects.filter(pk=taken.pk).update(status=ReminderStatus.CLAIMED)

    login("director1").post(SETTINGS, {**VALID, "digest_hour": "6"})

    zone = zoneinfo.ZoneInfo(world.org1.timezone)
    for reminder in planned.exclude(pk=taken.pk):
        assert reminder.send_at.astimezone(zone).hour == 6
    assert Reminder.objects.get(pk=taken.pk).send_at.astimezone(zone).hour == 8


def test_the_overview_links_to_the_settings(login, world):
    page = login("director1").get(reverse("director_dashboard")).content.decode()

    assert f'<a href="{SETTINGS}">Settings</a>' in page


def test_the_boxes_say_the_range_the_help_text_says(login, world):
    page = login("director1").get(SETTINGS).content.decode()

    assert re.search(r'name="escalation_days"[^>]*min="1"', page) or re.search(
        r'min="1"[^>]*name="escalation_days"', page
    )
    assert 'max="60"' in page and 'max="23"' in page


def test_fewer_years_says_how_many_closed_cases_are_due_now(login, world):
    """Seven years down to one: a case closed two years ago is due at once, to confirm or hold."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(
        case_closed_on=timezone.localdate() - timedelta(days=730)
    )

    response = login("director1").post(SETTINGS, {**VALID, "retention_years": "1"}, follow=True)

    assert "1 closed case has reached the end of its retention" in response.content.decode()
