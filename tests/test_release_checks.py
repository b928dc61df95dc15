"""The check-ins after release (services.actions.release_checks): intake plans those still ahead,
an edit that adds the release date plans them, a corrected release date moves them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from services.actions import release_checks
from services.choices import ReminderKind
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.notifications import Reminder
from services.models.people import Exoneree

pytestmark = pytest.mark.world_built_once

INTAKE = {
    "legal_name": "Nadia Newcomer",
    "preferred_language": "en",
    "contact_preference": "in_person",
    "reminder_channel": "email",
}


def days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def checks(person: Exoneree) -> dict[int, FollowUp]:
    return {row.release_check: row for row in person.follow_ups.filter(release_check__isnull=False)}


def intake(client, **data) -> tuple[Exoneree, str]:
    response = client.post(reverse("exoneree_create"), {**INTAKE, **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = Exoneree.objects.get(legal_name=data.get("legal_name", INTAKE["legal_name"]))
    return person, " ".join(str(message) for message in get_messages(response.wsgi_request))


def at_ten(person: Exoneree, days: int) -> datetime:
    return datetime.combine(person.release_date + timedelta(days=days), time(10), tzinfo=person.organization.zone())


def test_the_intake_box_is_ticked_and_stands_after_the_release_date(login):
    form = login("caseworker1").get(reverse("exoneree_create")).context["form"]

    names = list(form.fields)
    assert names[names.index("release_date") + 1] == "release_checks"
    assert form["release_checks"].value() is True


def test_intake_released_three_days_ago_plans_all_five_for_the_caseworker_with_reminders(login, world):
    person, said = intake(login("caseworker1"), release_date=days_ago(3), release_checks="on")

    planned = checks(person)
    assert sorted(planned) == [7, 30, 90, 180, 365]
    for days, follow_up in planned.items():
        assert follow_up.due_at == at_ten(person, days)
        assert follow_up.assigned_to == world.caseworker1
        assert not follow_up.shared_with_exoneree  # the caseworker's task, not the person's appointment
    assert planned[7].title == "Check in: one week since release"
    assert "SB 1050" in planned[30].details
    # Where the outcomes' housing after release reads an assessment, the check-in says so.
    assert "housing at 90 days after release" in planned[90].details
    assert "assessment" not in planned[7].details
    # Reminded as any follow-up: due and overdue to the caseworker, escalated to the director.
    kinds = set(Reminder.objects.filter(follow_up=planned[7]).values_list("kind", flat=True))
    assert {ReminderKind.DUE, ReminderKind.OVERDUE, ReminderKind.ESCALATION} <= kinds
    # Each in the person's history, as a follow-up added by the caseworker.
    created = AuditEvent.objects.filter(exoneree=person, action=AuditEvent.Action.RECORD_CREATED)
    assert created.filter(target__startswith="Follow up ").count() == 5
    next_day = date_format(person.release_date + timedelta(days=7), "DATE_FORMAT")
    assert f"5 check-ins after release planned on their follow-ups, the next on {next_day}." in said


def test_intake_two_months_after_release_plans_only_those_still_ahead(login):
    person, said = intake(login("caseworker1"), release_date=days_ago(60), release_checks="on")

    assert sorted(checks(person)) == [90, 180, 365]
    assert "3 check-ins after release planned" in said


def test_intake_without_the_box_or_without_a_release_date_plans_none(login):
    unticked, said = intake(login("caseworker1"), legal_name="Una Ticked", release_date=days_ago(3))
    undated, said_undated = intake(login("caseworker1"), legal_name="Noa Date", release_checks="on")

    assert checks(unticked) == {} and checks(undated) == {}
    assert "Check-in" not in said and "check-in" not in said_undated


def test_intake_more_than_a_year_after_release_says_none_is_ahead(login):
    person, said = intake(login("caseworker1"), release_date=days_ago(400), release_checks="on")

    assert checks(person) == {}
    assert "No check-in after release is still ahead" in said


def test_an_edit_that_adds_the_release_date_plans_them_and_then_the_box_is_gone(login, world):
    client = login("caseworker1")
    person, _ = intake(client)
    edit = reverse("exoneree_edit", args=[person.pk])
    assert client.get(edit).context["form"]["release_checks"].value() is True  # no date yet: ticked

    response = client.post(edit, {**INTAKE, "release_date": days_ago(10), "release_checks": "on"})

    assert response.status_code == 302
    assert sorted(checks(person)) == [30, 90, 180, 365]
    assert "release_checks" not in client.get(edit).context["form"].fields


def test_a_record_released_long_ago_without_them_offers_the_box_unticked(login, world):
    marcus = world.marcus.exoneree  # released in 2015, no check-ins
    form = login("caseworker1").get(reverse("exoneree_edit", args=[marcus.pk])).context["form"]

    assert form["release_checks"].value() is False


def test_a_corrected_release_date_moves_the_untouched_ones_and_keeps_the_rest(login, world):
    client = login("caseworker1")
    person, _ = intake(client, release_date=days_ago(3), release_checks="on")
    planned = checks(person)
    by_hand = planned[90].due_at + timedelta(days=2, hours=3)
    FollowUp.objects.filter(pk=planned[90].pk).update(due_at=by_hand)
    FollowUp.objects.filter(pk=planned[180].pk).update(done_at=timezone.now())

    response = client.post(reverse("exoneree_edit", args=[person.pk]), {**INTAKE, "release_date": days_ago(1)})

    assert response.status_code == 302
    person.refresh_from_db()
    moved = checks(person)
    assert moved[7].due_at == at_ten(person, 7)
    assert moved[30].due_at == at_ten(person, 30)
    assert moved[365].due_at == at_ten(person, 365)
    assert moved[90].due_at == by_hand  # a caseworker's own time stands
    assert moved[180].due_at == planned[180].due_at  # done: history, not moved
    assert Reminder.objects.filter(follow_up=moved[7], send_at=at_ten(person, 7), kind=ReminderKind.DUE).exists()


def test_a_corrected_date_never_moves_one_into_the_past(login, world):
    client = login("caseworker1")
    person, _ = intake(client, release_date=days_ago(3), release_checks="on")
    week = checks(person)[7].due_at

    client.post(reverse("exoneree_edit", args=[person.pk]), {**INTAKE, "release_date": days_ago(20)})

    assert checks(person)[7].due_at == week  # its new day has passed: still worth doing soon


def test_planned_again_adds_nothing_and_the_database_refuses_a_second_of_the_same(login, world):
    person, _ = intake(login("caseworker1"), release_date=days_ago(3), release_checks="on")

    assert release_checks.release_checks_plan(by=world.caseworker1, exoneree=person) == []
    first = checks(person)[7]
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(
            exoneree=person, title="again", due_at=first.due_at, assigned_to=world.caseworker1, release_check=7
        )


def test_planned_by_a_director_they_go_to_the_persons_caseworker(world):
    marcus = world.marcus.exoneree
    marcus.release_date = timezone.localdate() - timedelta(days=2)
    marcus.save(update_fields=["release_date"])

    planned = release_checks.release_checks_plan(by=world.director1, exoneree=marcus)

    assert {follow_up.assigned_to_id for follow_up in planned} == {world.caseworker1.pk}
    assert len(planned) == 5
