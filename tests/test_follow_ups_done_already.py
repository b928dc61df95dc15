"""Recording something already done for a person (drove him to the SSA office, helped fill in
a housing form): a follow-up of theirs created done when it happened, never overdue, never
reminded, through the same action as a follow-up (services/actions/follow_ups.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services.actions import follow_ups
from services.choices import ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.notifications import Reminder
from services.models.people import Exoneree
from services.selectors import dashboards
from tests.conftest import World
from tests.test_api import api, conforms, key_for, the_cached_schema, v1

# 9:00 in New York (org1's zone), on a Monday.
NOW = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
TITLE = "Drove him to the SSA office"

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def url(name: str, person: Exoneree) -> str:
    return reverse(name, args=[person.pk])


def service_data(world: World, **changes) -> dict:
    return {
        "title": TITLE,
        "due_at": "2030-03-01T10:30",  # Friday morning, New York
        "need": world.marcus.need.pk,
        "referral": world.marcus.referral.pk,
        "outcome": "  Card ordered; it comes in two weeks.  ",
        **changes,
    }


def error_beside(response, field: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<(ul|div|p)\b[^>]*\bid="id_{field}_errors?"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no error shown beside {field!r}"
    return unescape(match.group(2))


def test_recording_a_past_service_keeps_a_follow_up_done_when_it_happened(login, world, clock):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(url("follow_up_record_done", marcus), service_data(world))

    assert response.status_code == 302
    assert response.url == marcus.get_absolute_url()
    service = FollowUp.objects.get(title=TITLE)
    when = datetime(2030, 3, 1, 15, 30, tzinfo=UTC)  # 10:30 in New York
    assert (service.exoneree, service.due_at, service.done_at) == (marcus, when, when)
    assert (service.assigned_to, service.done_by, service.created_by) == (world.caseworker1,) * 3
    assert (service.need, service.referral) == (world.marcus.need, world.marcus.referral)
    assert service.outcome == "Card ordered; it comes in two weeks."
    assert service.shared_with_exoneree is False  # a staff record unless said otherwise
    assert not service.is_overdue
    created = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CREATED, exoneree=marcus).latest("pk")
    assert (created.actor, created.target) == (world.caseworker1, f"Follow up {service.pk}")
    assert {"due_at", "done_at", "outcome"} <= set(created.changes)


def test_the_person_page_offers_it_and_lists_it_done_with_its_date(login, world, clock):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    page = client.get(marcus.get_absolute_url()).content.decode()
    assert f'href="{url("follow_up_record_done", marcus)}"' in page

    client.post(url("follow_up_record_done", marcus), service_data(world))

    response = client.get(marcus.get_absolute_url())
    service = FollowUp.objects.get(title=TITLE)
    assert [f.pk for f in response.context["follow_ups_done"]] == [service.pk]
    assert service.pk not in [f.pk for f in response.context["follow_ups_open"]]
    row = re.search(rf'<li id="follow-up-{service.pk}" class="done">(.*?)</li>', response.content.decode(), re.S)
    assert row and "Done Mar 1, 2030 10:30 a.m." in row.group(1) and "Overdue" not in row.group(1)


def test_a_recorded_service_is_overdue_nowhere(login, world, clock):
    """The caseworker's dashboard and overdue list, the people list's tag, the director's counts."""
    marcus = world.marcus.exoneree
    FollowUp.objects.filter(exoneree=marcus).update(done_at=NOW)  # the world's home visit is long overdue
    client = login("caseworker1")

    client.post(url("follow_up_record_done", marcus), service_data(world))

    assert FollowUp.objects.filter(title=TITLE).exists()
    assert client.get(reverse("dashboard")).context["overdue_count"] == 0
    assert not client.get(reverse("follow_up_list") + "?due=overdue").context["page"].object_list
    assert not dashboards.overdue_by_assignee(world.org1, due_before=timezone.now()).get(world.caseworker1.pk)
    people = client.get(reverse("exoneree_list")).content.decode()
    assert "Overdue" not in people


def test_no_reminder_is_planned_for_it_even_on_their_plan(login, world, clock):
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(appointment_reminders=True)
    # An hour ago: a follow-up due then would still have its overdue notice and escalation ahead.
    data = service_data(world, due_at="2030-03-04T08:00", shared_with_exoneree="on")

    login("caseworker1").post(url("follow_up_record_done", marcus), data)

    service = FollowUp.objects.get(title=TITLE)
    assert service.due_at == NOW - timedelta(hours=1)
    assert not Reminder.objects.filter(follow_up=service).exists()


def test_a_time_still_to_come_is_refused_beside_the_field(login, world, clock):
    response = login("caseworker1").post(
        url("follow_up_record_done", world.marcus.exoneree), service_data(world, due_at="2030-03-04T09:30")
    )

    assert response.status_code == 400
    assert "This time has not come yet: schedule a follow-up for it instead." in error_beside(response, "due_at")
    assert not FollowUp.objects.filter(title=TITLE).exists()


@pytest.mark.parametrize("when", ["1900-01-01T00:00", "1850-05-05T10:00", "2020-02-01T10:30"])
def test_a_time_more_than_ten_years_ago_is_a_slip_of_the_year(login, world, clock, when):
    """1900-01-01 was saved and listed "Done Jan 1, 1900"."""
    response = login("caseworker1").post(
        url("follow_up_record_done", world.marcus.exoneree), service_data(world, due_at=when)
    )

    assert response.status_code == 400
    assert "This is more than 10 years ago: check the year." in error_beside(response, "due_at")
    assert "Card ordered; it comes in two weeks." in response.content.decode()  # what was typed stays
    assert not FollowUp.objects.filter(title=TITLE).exists()


def test_a_time_recorded_late_from_the_paper_file_is_taken(login, world, clock):
    response = login("caseworker1").post(
        url("follow_up_record_done", world.marcus.exoneree), service_data(world, due_at="2021-06-01T10:30")
    )

    assert response.status_code == 302
    assert FollowUp.objects.filter(title=TITLE).exists()


def test_the_action_refuses_a_time_still_to_come_too(world, clock):
    follow_up = FollowUp(title=TITLE, due_at=NOW + timedelta(minutes=5))

    with pytest.raises(Exception, match="has not come yet"):
        follow_ups.follow_up_record_done(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)

    assert not FollowUp.objects.filter(title=TITLE).exists()


def test_the_form_starts_at_now_which_is_taken(login, world, clock):
    client = login("caseworker1")
    form = client.get(url("follow_up_record_done", world.marcus.exoneree)).context["form"]
    assert 'value="2030-03-04T09:00"' in str(form["due_at"])

    response = client.post(
        url("follow_up_record_done", world.marcus.exoneree), service_data(world, due_at="2030-03-04T09:00")
    )

    assert response.status_code == 302
    assert FollowUp.objects.get(title=TITLE).done_at == NOW


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("need", lambda w: {"need": w.thomas.need.pk}),  # someone else's need
        ("referral", lambda w: {"referral": w.thomas.referral.pk}),
        ("due_at", lambda w: {"due_at": "last Friday"}),
        ("title", lambda w: {"title": ""}),
    ],
)
def test_bad_input_is_said_beside_its_field_and_saves_nothing(login, world, clock, field, change):
    response = login("caseworker1").post(
        url("follow_up_record_done", world.marcus.exoneree), service_data(world, **change(world))
    )

    assert response.status_code == 400
    assert error_beside(response, field)
    assert not FollowUp.objects.filter(exoneree=world.marcus.exoneree, done_by__isnull=False).exists()


@pytest.mark.parametrize(("persona", "status"), [("caseworker2", 404), ("caseworker3", 404), ("director1", 403)])
def test_who_may_not_add_a_follow_up_may_not_record_one_done(login, world, clock, persona, status):
    """A colleague who does not carry Marcus, another organization's caseworker: 404, as for
    scheduling a follow-up; his director reads his record but changes none: 403."""
    client = login(persona)
    marcus = world.marcus.exoneree
    before = FollowUp.objects.count()

    for method in ("get", "post"):
        scheduled = getattr(client, method)(url("follow_up_create", marcus), service_data(world))
        recorded = getattr(client, method)(url("follow_up_record_done", marcus), service_data(world))
        assert recorded.status_code == scheduled.status_code == status

    assert FollowUp.objects.count() == before


def test_shown_on_their_plan_as_done_lately_in_their_language(login, world, clock):
    marcus = world.marcus.exoneree
    login("caseworker1").post(
        url("follow_up_record_done", marcus), service_data(world, shared_with_exoneree="on", outcome="Staff words")
    )
    plan = login("exoneree1")

    response = plan.get(reverse("my_plan"))
    english = response.content.decode()
    Exoneree.objects.filter(pk=marcus.pk).update(preferred_language="es")
    spanish = plan.get(reverse("my_plan")).content.decode()

    assert "<h3>Done lately</h3>" in english and f"<li>March 1: {TITLE}</li>" in english
    assert "<h3>Hecho hace poco</h3>" in spanish and f"<li>1 de marzo: {TITLE}</li>" in spanish
    assert "Staff words" not in english  # the outcome is the staff's
    assert TITLE not in [item.title for item in response.context["missed"]]  # done: not a missed date


def test_a_staff_only_record_stays_off_their_plan(login, world, clock):
    login("caseworker1").post(url("follow_up_record_done", world.marcus.exoneree), service_data(world))

    assert TITLE not in login("exoneree1").get(reverse("my_plan")).content.decode()


def test_done_lately_reaches_back_three_months(login, world, clock):
    marcus = world.marcus.exoneree
    for days, title in ((89, "Went to the DMV with him"), (91, "Helped him open a bank account")):
        done = FollowUp(title=title, due_at=NOW - timedelta(days=days), shared_with_exoneree=True)
        follow_ups.follow_up_record_done(by=world.caseworker1, exoneree=marcus, follow_up=done)

    done_lately = login("exoneree1").get(reverse("my_plan")).context["done_lately"]

    assert [item.title for item in done_lately] == ["Went to the DMV with him"]


# --- reopened -----------------------------------------------------------------------------------

# The last minute of Monday March 4 in New York, org1's zone.
END_OF_TODAY = datetime(2030, 3, 5, 4, 59, tzinfo=UTC)


def test_a_recorded_service_reopened_is_due_again_today_not_overdue(login, world, clock):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    client.post(url("follow_up_record_done", marcus), service_data(world))
    service = FollowUp.objects.get(title=TITLE)
    overdue_before = client.get(reverse("dashboard")).context["overdue_count"]

    response = client.post(reverse("follow_up_reopen", args=[service.pk]), follow=True)

    service.refresh_from_db()
    assert (service.done_at, service.done_by, service.due_at) == (None, None, END_OF_TODAY)
    assert not service.is_overdue
    said = [str(message) for message in response.context["messages"]]
    assert said[-1] == f"Reopened: {TITLE}. It is due again today; edit it to set another time."
    row = re.search(rf'<li id="follow-up-{service.pk}" class="">(.*?)</li>', response.content.decode(), re.S)
    assert (
        row
        and 'datetime="2030-03-04T23:59:00-05:00">Mon Mar 4, 2030 11:59 p.m.<' in row.group(1)
        and "Overdue" not in row.group(1)
    )
    assert client.get(reverse("dashboard")).context["overdue_count"] == overdue_before
    # Reminded as a follow-up due tonight, never escalated as one late since Friday.
    planned = Reminder.objects.filter(follow_up=service, status=ReminderStatus.PENDING)
    assert planned.filter(kind=ReminderKind.DUE, send_at=END_OF_TODAY).exists()
    assert all(reminder.send_at >= END_OF_TODAY for reminder in planned)
    changed = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED, exoneree=marcus).latest("pk")
    assert {"done_at", "due_at"} <= set(changed.changes)


def test_a_recorded_service_reopened_by_htmx_reads_due_today(login, world, clock):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    client.post(url("follow_up_record_done", marcus), service_data(world))
    service = FollowUp.objects.get(title=TITLE)

    row = client.post(reverse("follow_up_reopen", args=[service.pk]), HTTP_HX_REQUEST="true").content.decode()

    assert 'datetime="2030-03-04T23:59:00-05:00">Mon Mar 4, 2030 11:59 p.m.<' in row and "Overdue" not in row


def test_a_follow_up_marked_done_late_and_reopened_is_as_late_as_it_was(world, clock):
    """Undo keeps its due time: reopening is no way to turn a late follow-up into one on time."""
    visit = world.marcus.follow_up
    due = NOW - timedelta(days=3)
    FollowUp.objects.filter(pk=visit.pk).update(due_at=due)
    visit.refresh_from_db()
    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=visit)
    assert not visit.is_recorded_service

    follow_ups.follow_up_reopen(by=world.caseworker1, follow_up=visit)

    visit.refresh_from_db()
    assert (visit.done_at, visit.due_at) == (None, due)
    assert visit.is_overdue


# --- through the API: POST /api/v1/people/<pk>/follow-ups/already-done/ ----------------------------


def api_record_done(world: World, body: dict) -> Any:
    key = key_for(world, "caseworker1")
    return api(Client(), key, "POST", v1("person-follow-ups-already-done", world.marcus.exoneree.pk), body)


def test_the_api_records_it_as_the_page_does(world, clock):
    response = api_record_done(world, service_data(world, due_at="2030-03-01T10:30:00-05:00"))

    assert response.status_code == 201, response.content
    service = FollowUp.objects.get(title=TITLE)
    when = datetime(2030, 3, 1, 15, 30, tzinfo=UTC)
    assert (service.exoneree, service.due_at, service.done_at) == (world.marcus.exoneree, when, when)
    assert (service.assigned_to, service.done_by, service.created_by) == (world.caseworker1,) * 3
    assert (service.need, service.referral) == (world.marcus.need, world.marcus.referral)
    assert service.outcome == "Card ordered; it comes in two weeks."
    assert not service.is_overdue and not Reminder.objects.filter(follow_up=service).exists()
    assert (response.json()["id"], response.json()["done"]) == (service.pk, True)
    created = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CREATED, target=f"Follow up {service.pk}")
    assert [event.actor for event in created] == [world.caseworker1]


def test_the_api_takes_now_when_no_time_is_sent_as_the_page_starts_at_now(world, clock):
    body = service_data(world)
    del body["due_at"]

    response = api_record_done(world, body)

    assert response.status_code == 201, response.content
    assert FollowUp.objects.get(title=TITLE).done_at == NOW


def test_the_api_refuses_a_time_to_come_with_its_reason_and_saves_nothing(world, clock):
    response = api_record_done(world, service_data(world, due_at="2030-03-04T09:30:00-05:00"))

    assert response.status_code == 400
    assert response.json() == {"due_at": ["This time has not come yet: schedule a follow-up for it instead."]}
    assert not FollowUp.objects.filter(title=TITLE).exists()
    schema = the_cached_schema(world)
    conforms(response, schema, schema["paths"]["/api/v1/people/{id}/follow-ups/already-done/"]["post"])
