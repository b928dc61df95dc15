"""A note that was a check-in after release closes it (release_checks.release_checks_done_by_note):
the new-note form offers a box per open check-in due by a week from now, unticked; ticked, saving
marks it done through the follow-ups' own action."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from services import audit
from services.actions import release_checks
from services.choices import NoteVisibility, ReminderStatus
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.follow_ups import FollowUp
from services.models.notifications import Reminder
from services.models.people import Exoneree

pytestmark = pytest.mark.world_built_once

NOTE = {"text": "Called him: the room is fine, sleeping better.", "visibility": NoteVisibility.STAFF}


def released(person: Exoneree, days_ago: int) -> dict[int, FollowUp]:
    """Released `days_ago` days ago and taken on that day: all five check-ins planned."""
    person.release_date = timezone.localdate() - timedelta(days=days_ago)
    person.save(update_fields=["release_date"])
    taken_on = datetime.combine(person.release_date, time(0), tzinfo=person.organization.zone())
    planned = release_checks.release_checks_plan(by=person.caseworkers.get(), exoneree=person, now=taken_on)
    return {follow_up.release_check: follow_up for follow_up in planned}


def post_note(client, person: Exoneree, **data):
    return client.post(reverse("note_create", args=[person.pk]), {**NOTE, **data})


def said(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def test_the_box_is_offered_unticked_for_each_open_check_in_due_within_a_week(login, world):
    marcus = world.marcus.exoneree
    checks = released(marcus, days_ago=25)  # the week's overdue, the month's due in five days

    response = login("caseworker1").get(reverse("note_create", args=[marcus.pk]))

    field = response.context["form"]["check_ins"]
    assert [str(choice.choice_label) for choice in field] == [
        "This was the 7-day check-in after release (marks it done)",
        "This was the 30-day check-in after release (marks it done)",
    ]
    assert field.value() is None  # unticked
    page = response.content.decode()
    assert f'value="{checks[7].pk}"' in page and f'value="{checks[90].pk}"' not in page
    assert "checked" not in page.split("check_ins", 1)[1].split("</fieldset>", 1)[0]


def test_no_box_without_a_check_in_due(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    assert "check_ins" not in client.get(reverse("note_create", args=[marcus.pk])).context["form"].fields

    checks = released(marcus, days_ago=60)  # the 90-day one is a month ahead
    for days in (7, 30):
        FollowUp.objects.filter(pk=checks[days].pk).update(done_at=timezone.now(), done_by=world.caseworker1)

    assert "check_ins" not in client.get(reverse("note_create", args=[marcus.pk])).context["form"].fields


def test_ticked_the_note_marks_it_done_through_the_follow_up_action(login, world):
    marcus = world.marcus.exoneree
    checks = released(marcus, days_ago=31)  # the month's is a day overdue
    month = checks[30]
    assert Reminder.objects.filter(follow_up=month, status=ReminderStatus.PENDING).exists()

    response = post_note(login("caseworker1"), marcus, check_ins=[month.pk])

    assert response.status_code == 302
    assert said(response) == "Note saved. Marked done: Check in: 30 days since release."
    month.refresh_from_db()
    assert month.is_done and month.done_by == world.caseworker1
    assert month.outcome == "See the case note written with it."
    assert marcus.notes.latest("pk").text == NOTE["text"]
    assert not Reminder.objects.filter(follow_up=month, status=ReminderStatus.PENDING).exists()
    changed = AuditEvent.objects.filter(exoneree=marcus, action=AuditEvent.Action.RECORD_CHANGED)
    assert changed.filter(target=audit.describe(month)).exists()
    checks[7].refresh_from_db()
    assert not checks[7].is_done  # only the one ticked


def test_unticked_the_note_is_only_a_note(login, world):
    marcus = world.marcus.exoneree
    checks = released(marcus, days_ago=31)

    response = post_note(login("caseworker1"), marcus)

    assert response.status_code == 302 and said(response) == "Note saved."
    assert not FollowUp.objects.filter(pk__in=[c.pk for c in checks.values()], done_at__isnull=False).exists()


@pytest.mark.parametrize("whose", ["another person's check-in", "an ordinary follow-up", "one not due", "no number"])
def test_a_tampered_box_is_refused_beside_the_field_and_nothing_is_saved(login, world, whose):
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    released(marcus, days_ago=31)
    theirs = released(thomas, days_ago=31)
    posted = {
        "another person's check-in": theirs[30].pk,
        "an ordinary follow-up": world.marcus.follow_up.pk,
        "one not due": marcus.follow_ups.get(release_check=90).pk,
        "no number": "thirty",
    }[whose]
    notes = marcus.notes.count()

    response = post_note(login("caseworker1"), marcus, check_ins=[posted])

    assert response.status_code == 400
    assert response.context["form"].errors["check_ins"] == [
        "Choose one of this person's check-ins after release that is due."
    ]
    assert marcus.notes.count() == notes
    assert not FollowUp.objects.filter(release_check__isnull=False, done_at__isnull=False).exists()


def test_the_same_note_posted_twice_marks_it_done_once(login, world):
    marcus = world.marcus.exoneree
    month = released(marcus, days_ago=29)[30]  # due tomorrow
    client = login("caseworker1")

    first = post_note(client, marcus, check_ins=[month.pk])
    assert said(first).startswith("Note saved. Marked done:")
    client.get(first.url)  # the person's page shows that message, and it is gone
    month.refresh_from_db()
    again = post_note(client, marcus, check_ins=[month.pk])

    assert again.status_code == 302
    assert said(again) == "Note saved. “Check in: 30 days since release” was already marked done."
    done_at = month.done_at
    month.refresh_from_db()
    assert month.done_at == done_at


def test_the_action_refuses_another_persons_check_in(world):
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    theirs = released(thomas, days_ago=31)

    with pytest.raises(ValidationError) as refused:
        release_checks.release_checks_done_by_note(
            by=world.caseworker1, exoneree=marcus, note=CaseNote(**NOTE), check_ins=[theirs[30]]
        )
    assert "check_ins" in refused.value.message_dict


def test_a_check_in_done_by_another_post_meanwhile_is_not_said_marked_by_this_one(world):
    """Two posts at once: both load the check-in open; the other marks it done first. This one
    keeps the other's time and outcome and does not count it among those it marked."""
    marcus = world.marcus.exoneree
    month = released(marcus, days_ago=29)[30]
    loaded_open = FollowUp.objects.get(pk=month.pk)
    release_checks.release_checks_done_by_note(
        by=world.caseworker1, exoneree=marcus, note=CaseNote(**NOTE), check_ins=[month]
    )
    first = FollowUp.objects.get(pk=month.pk)

    done = release_checks.release_checks_done_by_note(
        by=world.caseworker1, exoneree=marcus, note=CaseNote(**NOTE), check_ins=[loaded_open]
    )

    assert done == []
    assert FollowUp.objects.get(pk=month.pk).done_at == first.done_at


def test_an_edit_offers_the_box_the_new_note_had_and_ticked_marks_it_done(login, world):
    """The edit form had no box: a caseworker who forgot to tick it could not say so from the note."""
    marcus = world.marcus.exoneree
    checks = released(marcus, days_ago=31)  # the week's and the month's overdue
    client = login("caseworker1")
    post_note(client, marcus)
    notes, note = marcus.notes.count(), marcus.notes.latest("pk")
    edit = reverse("note_edit", args=[note.pk])

    field = client.get(edit).context["form"]["check_ins"]
    assert [str(choice.choice_label) for choice in field] == [
        "This was the 7-day check-in after release (marks it done)",
        "This was the 30-day check-in after release (marks it done)",
    ]
    response = client.post(edit, {**NOTE, "text": "Called him: fine.", "check_ins": [checks[30].pk]})

    assert response.status_code == 302
    assert said(response) == "Note saved. Marked done: Check in: 30 days since release."
    checks[30].refresh_from_db()
    assert checks[30].is_done and checks[30].outcome == "See the case note written with it."
    note.refresh_from_db()
    assert note.text == "Called him: fine." and marcus.notes.count() == notes
    checks[7].refresh_from_db()
    assert not checks[7].is_done


def test_an_edit_offers_only_the_check_ins_in_reach_when_the_note_was_written(login, world):
    """A note of a contact two months ago was not this week's check-in: the same rule as a new
    note's (due by a week from then), from the day it was written."""
    marcus = world.marcus.exoneree
    checks = released(marcus, days_ago=88)  # the 90-day one is due in two days
    client = login("caseworker1")
    post_note(client, marcus)
    note = marcus.notes.latest("pk")
    CaseNote.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(days=60))
    FollowUp.objects.filter(pk=checks[7].pk).update(done_at=timezone.now(), done_by=world.caseworker1)
    edit = reverse("note_edit", args=[note.pk])

    field = client.get(edit).context["form"]["check_ins"]
    assert [str(choice.choice_label) for choice in field] == [
        "This was the 30-day check-in after release (marks it done)"
    ]
    response = client.post(edit, {**NOTE, "check_ins": [checks[90].pk]})

    assert response.status_code == 400
    assert response.context["form"].errors["check_ins"] == [
        "Choose one of this person's check-ins after release that is due."
    ]
    checks[90].refresh_from_db()
    assert not checks[90].is_done
