"""The person page stays one screen of what is current; the history and the done follow-ups
have their own pages (issue 7: the page a caseworker opens most, in at most 12 queries)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from services.actions import casework, enrolment, follow_ups
from services.choices import ConsentCategory, NeedStatus, NoteVisibility, ReferralStatus
from services.models.audit import AuditEvent
from services.models.consent import Consent
from services.models.enrolments import Enrolment
from services.models.referrals import ReferralEvent
from services.selectors import coverage, records
from tests.factories import (
    AssessmentFactory,
    CaseNoteFactory,
    FollowUpFactory,
    NeedFactory,
    StaffFactory,
    UserFactory,
    consent_for,
)

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def done_follow_ups(world, n: int) -> list:
    marcus = world.marcus.exoneree
    now = timezone.now()
    return [
        FollowUpFactory(
            exoneree=marcus,
            assigned_to=world.caseworker1,
            title=f"Done task {i:02}",
            done_at=now - timedelta(days=i),
            outcome=f"Outcome {i:02}",
        )
        for i in range(n)
    ]


def test_the_person_page_shows_the_latest_done_follow_ups_and_links_to_all(login, world):
    done_follow_ups(world, records.DONE_FOLLOW_UPS_SHOWN + 3)
    client = login("caseworker1")

    response = client.get(world.marcus.exoneree.get_absolute_url())
    page = response.content.decode()

    shown = [f.title for f in response.context["follow_ups_done"]]
    assert shown == [f"Done task {i:02}" for i in range(records.DONE_FOLLOW_UPS_SHOWN)]
    assert "Done task 12" not in page
    assert world.marcus.follow_up.title in page  # the open one is still there
    all_done = reverse("exoneree_done_follow_ups", args=[world.marcus.exoneree.pk])
    assert all_done in page

    everything = client.get(all_done)
    assert everything.status_code == 200
    assert [f.title for f in everything.context["page"]] == [f"Done task {i:02}" for i in range(13)]
    assert "Outcome 12" in everything.content.decode()
    assert "13 follow-ups done" in everything.content.decode()


@pytest.mark.parametrize("n", [2, records.DONE_FOLLOW_UPS_SHOWN])
def test_a_few_done_follow_ups_need_no_link(login, world, n):
    done_follow_ups(world, n)

    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()

    assert "Done task 01" in page
    assert reverse("exoneree_done_follow_ups", args=[world.marcus.exoneree.pk]) not in page


def test_the_needs_count_is_of_the_open_ones_as_the_follow_ups_and_the_dashboard_count(login, world):
    """Walkthrough: "Needs (6)" on Marcus's page, "4" open needs beside his name on the dashboard
    and People: the count took in the needs closed, folded under "Closed (2)"."""
    marcus = world.marcus.exoneree
    NeedFactory(exoneree=marcus, status=NeedStatus.MET, closed_on=timezone.localdate())
    NeedFactory(exoneree=marcus, status=NeedStatus.NO_LONGER_WANTED, closed_on=timezone.localdate())
    client = login("caseworker1")
    open_needs = marcus.needs.filter(status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS]).count()

    page = client.get(marcus.get_absolute_url()).content.decode()
    dashboard = client.get(reverse("dashboard")).context["caseload"]

    assert f'<a href="#needs">Needs ({open_needs})</a>' in page
    assert "Closed (2)" in page
    assert [row.open_needs for row in dashboard if row.pk == marcus.pk] == [open_needs]


def test_the_history_has_every_kind_of_entry_newest_first_a_page_at_a_time(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    referral = world.marcus.referral
    ReferralEvent.objects.create(
        referral=referral, from_status=referral.status, to_status=ReferralStatus.SENT, by=world.caseworker1
    )
    done_follow_ups(world, 120)
    CaseNoteFactory(exoneree=marcus, author=world.caseworker1)
    history = reverse("exoneree_history", args=[marcus.pk])

    first = client.get(history)
    second = client.get(history + "?page=2")

    entries = list(first.context["page"]) + list(second.context["page"])
    kinds = {entry.kind for entry in entries}
    assert {"Need", "Referral", "Follow-up", "Note"} <= kinds
    assert [e.sort_key for e in entries] == sorted((e.sort_key for e in entries), reverse=True)
    assert len(first.context["page"]) == 100
    assert "Page 1 of 2" in first.content.decode()
    assert "Referral to" in first.content.decode()
    assert reverse("exoneree_history", args=[marcus.pk]) in client.get(marcus.get_absolute_url()).content.decode()
    # The link says what the history holds, not "everything that happened" (open follow-ups,
    # the profile's changes and openings of the record are not in it).
    link = client.get(marcus.get_absolute_url()).content.decode()
    assert (
        "History: needs, referrals, follow-ups done, notes, assessments, consents, papers, messages, legal steps,"
        " newest first"
    ) in link
    assert "everything that happened" not in link


def test_the_history_names_who_marked_a_follow_up_done(login, world):
    """As its other lines name people: full name, else username. Nobody is named where nobody is
    known: done before who did it was kept, or by an account since deleted."""
    marcus = world.marcus.exoneree
    nameless = StaffFactory(organization=world.org1, user__first_name="", user__last_name="").user
    gone = UserFactory()
    for title, by in (("Call the housing office", world.caseworker1), ("Book the van", nameless)):
        follow_up = FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, title=title)
        follow_ups.follow_up_complete(by=by, follow_up=follow_up)
    earlier = timezone.now() - timedelta(days=1)
    FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, title="Older task", done_at=earlier)
    FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, title="Bus pass", done_at=earlier, done_by=gone)
    gone.delete()

    response = login("caseworker1").get(reverse("exoneree_history", args=[marcus.pk]))

    done = {entry.text for entry in response.context["page"] if entry.kind == "Follow-up"}
    assert done == {
        f"Done: Call the housing office, by {world.caseworker1.get_full_name()}",
        f"Done: Book the van, by {nameless.username}",
        "Done: Older task",
        "Done: Bus pass",
    }


def test_the_history_keeps_a_days_steps_in_the_order_they_happened(login, world, time_machine, settings):
    marcus = world.marcus.exoneree
    morning = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    time_machine.move_to(morning, tick=False)
    # Signed in at 9:00 and never idle for long enough to be signed out: the steps are hours
    # apart. (Signed in before the clock moved, the test passed only when run after 3 p.m.)
    settings.SESSION_IDLE_MINUTES_STAFF = 8 * 60
    client = login("caseworker1")
    client.post(
        reverse("need_create", args=[marcus.pk]),
        {
            "domain": "transportation",
            "description": "Bus pass",
            "priority": "medium",
            "opened_on": f"{morning:%Y-%m-%d}",
        },
    )
    need = marcus.needs.latest("pk")
    time_machine.move_to(morning + timedelta(hours=2), tick=False)
    client.post(reverse("referral_create", args=[need.pk]), {"resource": world.marcus.resource.pk})
    time_machine.move_to(morning + timedelta(hours=6), tick=False)
    client.post(reverse("need_status", args=[need.pk]), {"status": "met"})

    page = client.get(reverse("exoneree_history", args=[marcus.pk])).content.decode()

    met, referred, recorded = (
        page.index(words) for words in ("Transportation: Met", "Referral to", "Transportation need recorded")
    )
    assert met < referred < recorded  # newest first, within the one day
    assert f"{morning:%b} {morning.day}, {morning.year} 3:00 p.m." in page  # with its time
    assert f"{morning:%b} {morning.day}, {morning.year} 9:00 a.m." in page


def test_the_history_and_the_done_follow_ups_are_logged_as_openings(login, world):
    client = login("director1")
    marcus = world.marcus.exoneree
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    client.get(reverse("exoneree_history", args=[marcus.pk]))
    client.get(reverse("exoneree_done_follow_ups", args=[marcus.pk]))

    opened = AuditEvent.objects.filter(pk__gt=start, action=AuditEvent.Action.RECORD_VIEWED, exoneree=marcus)
    assert opened.count() == 2


def test_the_caseworkers_are_named_in_order_or_unassigned(login, world):
    marcus = world.marcus.exoneree
    nameless = StaffFactory(organization=world.org1, user__first_name="", user__last_name="").user
    marcus.caseworkers.add(nameless)
    client = login("director1")

    names = [caseworker.name for caseworker in client.get(marcus.get_absolute_url()).context["caseworkers"]]

    expected = [world.caseworker1.get_full_name(), nameless.username]
    assert names == sorted(expected, key=str.casefold)
    marcus.caseworkers.clear()
    page = client.get(marcus.get_absolute_url())
    assert page.context["caseworkers"] == []
    assert "Unassigned" in page.content.decode()


def test_consent_categories_read_with_the_consent_are_those_of_its_rows(world):
    marcus = world.marcus.exoneree
    chosen = [ConsentCategory.HOUSING, ConsentCategory.CONTACT, ConsentCategory.MEDICAL]
    consent_for(marcus, world.marcus.resource.provider, chosen)
    consent_for(marcus, world.marcus.resource.provider, [ConsentCategory.CONTACT])

    joined = {consent.pk: consent.categories for consent in coverage.consents_for(marcus)}
    from_rows = {consent.pk: consent.categories for consent in Consent.objects.filter(exoneree=marcus)}

    assert joined == from_rows
    assert ConsentCategory.in_order(chosen) in joined.values()


def test_the_dashboard_gives_the_year_of_a_day_in_another_year(login, world):
    today = timezone.localdate()
    old = NeedFactory(exoneree=world.marcus.exoneree, opened_on=today.replace(year=today.year - 1, day=1))
    recent = NeedFactory(exoneree=world.marcus.exoneree, opened_on=today.replace(day=1))

    page = login("caseworker1").get(reverse("dashboard")).content.decode()

    assert f"since {old.opened_on:%b} 1, {old.opened_on.year}" in page
    assert f"since {recent.opened_on:%b} 1<" in page  # this year's, without it


def test_the_history_says_who_stopped_sharing_a_follow_up_or_note_and_the_plan_says_nothing(login, world):
    """Stopping sharing takes the item off the person's plan without a trace there; the staff's
    history names the item, who stopped sharing it and when (and who shared it again)."""
    marcus = world.marcus.exoneree
    appointment = FollowUpFactory(
        exoneree=marcus, assigned_to=world.caseworker1, title="Housing office visit", shared_with_exoneree=True
    )
    note = CaseNoteFactory(exoneree=marcus, author=world.caseworker1, visibility=NoteVisibility.SHARED)
    assert "Housing office visit" in login("exoneree1").get(reverse("my_plan")).content.decode()

    appointment.shared_with_exoneree = False
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=marcus, follow_up=appointment)
    note.visibility = NoteVisibility.STAFF
    casework.note_save(by=world.caseworker2, exoneree=marcus, note=note)
    note.visibility = NoteVisibility.SHARED
    casework.note_save(by=world.caseworker1, exoneree=marcus, note=note)

    response = login("caseworker1").get(reverse("exoneree_history", args=[marcus.pk]))
    sharing = [entry.text for entry in response.context["page"] if entry.kind == "Sharing"]
    name1 = world.caseworker1.get_full_name()
    day = date_format(timezone.localtime(note.created_at), "M j, Y")
    assert sharing == [
        f"Shared with the person: Note of {day}, by {name1}",
        f"Stopped sharing with the person: Note of {day}, by {world.caseworker2.get_full_name()}",
        f"Stopped sharing with the person: Follow-up “Housing office visit”, by {name1}",
    ]
    assert "Stopped sharing with the person: Follow-up “Housing office visit”" in response.content.decode()
    plan = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert "Housing office visit" not in plan
    assert "Stopped sharing" not in plan


def test_the_case_state_and_the_assessments_read_with_the_record_are_the_latest(login, world):
    """Loaded with the record, in its one query: the state is the latest stay's, not an
    earlier one's; each assessment links to itself with how many domains it scored."""
    marcus = world.marcus.exoneree
    today = timezone.localdate()
    Enrolment.objects.filter(exoneree=marcus).update(opened_on=today - timedelta(days=400))
    exit = {"reason": "moved_away", "destination": "temporary", "housing_at_exit": "at_risk"}
    enrolment.close_case(world.caseworker1, marcus, closed_on=today - timedelta(days=10), **exit)
    enrolment.reopen_case(world.caseworker1, marcus, opened_on=today - timedelta(days=3))
    assessment = AssessmentFactory(exoneree=marcus, scores={"housing": 2, "food": 3, "legal": 4})

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()

    assert f"Case open since {date_format(today - timedelta(days=3), 'M j, Y')}." in page
    assert reverse("assessment_detail", args=[assessment.pk]) in page
    assert "3 domains scored" in page
