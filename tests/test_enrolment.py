"""A case's life (issue 23): opened at intake, closed with its exit, reopened as a new enrolment.

Closing stops every reminder about the person (checked through a real Celery worker, as
tests/test_reminders_worker.py runs one), closes their open needs and referrals with the
reason, and lists and dashboards show open cases unless asked for closed ones; the outcomes
count the people served in a period and the exits by reason and destination.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import pytest
import time_machine
from celery.signals import task_postrun
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services import tasks
from services.actions import enrolment
from services.actions import follow_ups as follow_ups_actions
from services.actions import legal as legal_actions
from services.choices import NeedStatus, ReferralStatus, ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.enrolments import Enrolment
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim
from services.models.needs import Need
from services.models.notifications import Notification, Reminder
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralEvent
from services.outcomes import report
from services.outcomes.scope import OutcomeFilters
from services.reminders import reminder_send, reminders_claim_due
from services.selectors.dashboards import DASHBOARD_ROWS
from tests.conftest import World
from tests.factories import ExonereeFactory, FollowUpFactory, NeedFactory
from tests.test_api import api, key_for, v1
from tests.test_reminders_worker import queue, use_app, wait_for, worker  # noqa: F401 (the real worker's fixtures)

EXIT = {"reason": "goals_met", "destination": "permanent_own", "housing_at_exit": "stable"}


def close_marcus(w: World, **changes: Any) -> Enrolment:
    fields = {"closed_on": timezone.localdate(), **EXIT, **changes}
    return enrolment.close_case(w.caseworker1, w.marcus.exoneree, **fields)


def marcus() -> Exoneree:
    return Exoneree.objects.get(legal_name="Marcus Whitfield")


# --- closing and reopening ------------------------------------------------------------------------


def test_intake_opens_a_case_today(login, world):
    response = login("caseworker1").post(
        reverse("exoneree_create"),
        {"legal_name": "Nadia Newcomer", "preferred_language": "en", "contact_preference": "in_person"}
        | {"reminder_channel": "email"},
    )

    person = Exoneree.objects.get(legal_name="Nadia Newcomer")
    assert response.status_code == 302
    assert [(e.opened_on, e.opened_by, e.closed_on) for e in person.enrolments.all()] == [
        (timezone.localdate(), world.caseworker1, None)
    ]
    assert person.case_is_open


def test_closing_records_the_exit_closes_needs_and_referrals_with_the_reason(world):
    referral = world.marcus.referral
    closed = close_marcus(world, note="He moved in with his sister.")

    person = marcus()
    need = Need.objects.get(pk=world.marcus.need.pk)
    referral.refresh_from_db()
    assert person.case_closed_on == timezone.localdate()
    assert (closed.closed_on, closed.closed_by, closed.exit_reason, closed.destination, closed.housing_at_exit) == (
        timezone.localdate(),
        world.caseworker1,
        "goals_met",
        "permanent_own",
        "stable",
    )
    assert (need.status, need.closed_on) == (NeedStatus.NO_LONGER_WANTED, timezone.localdate())
    assert referral.status == ReferralStatus.CANCELLED
    event = ReferralEvent.objects.filter(referral=referral).latest("pk")
    assert event.note == "Case closed: Their goals are met"
    need_entry = AuditEvent.objects.filter(target=f"Need {need.pk}").latest("pk")
    assert need_entry.changes["reason"] == "Case closed: Their goals are met"
    enrolment_entry = AuditEvent.objects.filter(target=f"Enrolment {closed.pk}").latest("pk")
    assert enrolment_entry.changes["exit_reason"] == ["", "goals_met"]
    assert [n.text for n in CaseNote.objects.filter(exoneree=person).order_by("-pk")[:1]] == [
        "Case closed: Their goals are met. He moved in with his sister."
    ]


def test_reopening_starts_a_new_enrolment_and_keeps_the_old(world):
    closed_on = timezone.localdate() - timedelta(days=10)
    first = Enrolment.objects.get(exoneree=world.marcus.exoneree)
    Enrolment.objects.filter(pk=first.pk).update(opened_on=closed_on - timedelta(days=100))
    close_marcus(world, closed_on=closed_on)

    again = enrolment.reopen_case(world.caseworker1, world.marcus.exoneree, opened_on=timezone.localdate())

    rows = list(Enrolment.objects.filter(exoneree=world.marcus.exoneree).order_by("pk"))
    assert [(e.pk, e.closed_on, e.exit_reason) for e in rows] == [
        (first.pk, closed_on, "goals_met"),
        (again.pk, None, ""),
    ]
    assert marcus().case_closed_on is None


@pytest.mark.parametrize(
    ("days", "message"),
    [(1, "The exit date cannot be in the future."), (-400, "The exit date cannot be before the case was opened")],
)
def test_an_exit_date_in_the_future_or_before_the_enrolment_is_refused_beside_the_field(login, world, days, message):
    Enrolment.objects.filter(exoneree=world.marcus.exoneree).update(opened_on=timezone.localdate() - timedelta(days=30))
    day = timezone.localdate() + timedelta(days=days)
    data = {"closed_on": day.isoformat(), "exit_reason": "moved_away", "destination": "temporary"}

    response = login("caseworker1").post(
        reverse("case_close", args=[world.marcus.exoneree.pk]), data | {"housing_at_exit": "at_risk"}
    )

    assert response.status_code == 400
    assert message in str(response.context["form"].errors["closed_on"])
    assert marcus().case_is_open
    assert Need.objects.get(pk=world.marcus.need.pk).status == NeedStatus.OPEN


def test_closing_asks_which_needs_were_met_ticking_those_a_provider_served(login, world):
    """A need a provider's completed referral served is ticked as met to start with; the
    caseworker's ticks decide, and the others close as no longer wanted."""
    served, other = world.marcus.need, NeedFactory(exoneree=world.marcus.exoneree, domain="employment")
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.COMPLETED, got_service=True)
    client = login("caseworker1")
    url = reverse("case_close", args=[world.marcus.exoneree.pk])

    form = client.get(url).context["form"]
    assert [pk for pk, _label in form.fields["needs_met"].choices] == [served.pk, other.pk]
    assert form.fields["needs_met"].initial == [served.pk]

    exit = {"closed_on": timezone.localdate().isoformat(), "exit_reason": "goals_met"}
    exit |= {"destination": "permanent_own", "housing_at_exit": "stable"}
    assert client.post(url, exit | {"needs_met": [other.pk]}).status_code == 302
    statuses = dict(Need.objects.filter(exoneree=world.marcus.exoneree).values_list("pk", "status"))
    assert statuses == {served.pk: NeedStatus.NO_LONGER_WANTED, other.pk: NeedStatus.MET}


def test_a_need_not_the_persons_cannot_be_ticked_as_met(login, world):
    url = reverse("case_close", args=[world.marcus.exoneree.pk])
    exit = {"closed_on": timezone.localdate().isoformat(), "exit_reason": "goals_met"}
    exit |= {"destination": "permanent_own", "housing_at_exit": "stable"}

    response = login("caseworker1").post(url, exit | {"needs_met": [world.thomas.need.pk]})

    assert response.status_code == 400 and "needs_met" in response.context["form"].errors
    assert marcus().case_is_open
    assert Need.objects.get(pk=world.thomas.need.pk).status == NeedStatus.OPEN


def test_the_form_closes_the_case_and_the_person_page_says_so(login, world):
    client = login("caseworker1")
    url = reverse("case_close", args=[world.marcus.exoneree.pk])
    assert b"Permanent housing" in client.get(url).content  # the destinations, grouped as HMIS groups them

    response = client.post(
        url,
        {"closed_on": timezone.localdate().isoformat(), "exit_reason": "moved_away"}
        | {"destination": "temporary", "housing_at_exit": "at_risk", "note": ""},
    )

    assert response.status_code == 302
    page = client.get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert "Case closed on" in page and "Moved away" in page and "Went to: " in page and "Reopen the case" in page
    director_page = login("director1").get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert "Case closed on" in director_page and "Reopen the case" not in director_page


def test_a_closed_case_has_nothing_to_do_and_says_its_follow_ups_wait(login, world):
    person = world.marcus.exoneree
    FollowUp.objects.filter(exoneree=person).delete()
    FollowUpFactory(exoneree=person, title="Call about the lease", due_at=timezone.now() - timedelta(days=2))
    client = login("caseworker1")
    page = client.get(person.get_absolute_url()).content.decode()
    assert "What needs doing" in page and "Call about the lease" in page  # open: overdue, to do

    close_marcus(world)
    page = client.get(person.get_absolute_url()).content.decode()

    assert "What needs doing" not in page
    assert "1 follow-up is still open</a>: no reminder goes out for them while the case is closed" in page
    assert "Call about the lease" in page  # still listed with the follow-ups
    FollowUpFactory(exoneree=person, title="Second call")
    assert "2 follow-ups are still open</a>" in client.get(person.get_absolute_url()).content.decode()


def test_the_close_form_warns_of_a_compensation_deadline_still_ahead(login, world):
    claim = CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=timezone.localdate())
    legal_actions.claim_create(by=world.caseworker1, exoneree=world.marcus.exoneree, claim=claim)
    claim.refresh_from_db()
    client = login("caseworker1")
    close = reverse("case_close", args=[world.marcus.exoneree.pk])

    page = unescape(client.get(close).content.decode())

    assert claim.filing_deadline is not None
    day = f"{claim.filing_deadline:%b} {claim.filing_deadline.day}, {claim.filing_deadline.year}"
    assert f"Their Illinois compensation claim is not filed, and its deadline is {day}" in page
    assert "Closing the case stops its reminders: make sure someone will file it in time." in page
    CompensationClaim.objects.filter(pk=claim.pk).update(filed_on=timezone.localdate(), stage="filed")
    assert "compensation claim is not filed" not in client.get(close).content.decode()


def test_reopen_before_the_exit_or_of_an_open_case_is_refused(login, world):
    client = login("caseworker1")
    url = reverse("case_reopen", args=[world.marcus.exoneree.pk])
    assert client.post(url, {"opened_on": timezone.localdate().isoformat()}).status_code == 400  # open already

    close_marcus(world)
    yesterday = timezone.localdate() - timedelta(days=1)
    refused = client.post(url, {"opened_on": yesterday.isoformat()})

    assert refused.status_code == 400
    assert "on or after the day it closed" in refused.content.decode()
    assert not marcus().case_is_open
    assert client.post(url, {"opened_on": ""}).status_code == 302  # today
    assert marcus().case_is_open


def test_merged_is_not_a_reason_a_caseworker_chooses(login, world):
    """Only a merge of two records of one person closes a case as "merged"."""
    url = reverse("case_close", args=[world.marcus.exoneree.pk])
    client = login("caseworker1")
    assert 'value="merged"' not in client.get(url).content.decode()

    exit = {"closed_on": timezone.localdate().isoformat(), "exit_reason": "merged"}
    response = client.post(url, exit | {"destination": "permanent_own", "housing_at_exit": "stable"})

    assert response.status_code == 400 and "exit_reason" in response.context["form"].errors
    with pytest.raises(ValidationError, match="Choose one of the answers given"):
        close_marcus(world, reason="merged")
    assert marcus().case_is_open


def test_closing_twice_is_refused(world):
    close_marcus(world)
    with pytest.raises(ValidationError, match="already closed"):
        close_marcus(world)


# --- reminders: none goes out after closing (a real worker) -----------------------------------------


def due_in_an_hour(w: World) -> tuple[FollowUp, Reminder]:
    follow_up = FollowUp(
        title="Visit the clinic", due_at=timezone.now() + timedelta(hours=1), assigned_to=w.caseworker1
    )
    follow_ups_actions.follow_up_save(by=w.caseworker1, exoneree=w.marcus.exoneree, follow_up=follow_up)
    return follow_up, Reminder.objects.get(follow_up=follow_up, kind=ReminderKind.DUE)


def status(reminder: Reminder) -> str:
    return Reminder.objects.values_list("status", flat=True).get(pk=reminder.pk)


@pytest.mark.django_db(transaction=True)
def test_closing_cancels_the_pending_reminders_and_the_worker_sends_nothing(world, worker):  # noqa: F811
    follow_up, _due = due_in_an_hour(world)
    pending = set(Reminder.objects.filter(follow_up=follow_up).values_list("pk", flat=True))
    assert len(pending) >= 3  # before, due, overdue, the director's escalation

    close_marcus(world)

    assert set(Reminder.objects.filter(pk__in=pending).values_list("status", flat=True)) == {ReminderStatus.CANCELLED}
    with time_machine.travel(follow_up.due_at + timedelta(days=30)):
        assert tasks.reminders_sweep() == []
    assert mail.outbox == []
    assert not Notification.objects.filter(reminder__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_reminder_claimed_before_the_close_is_not_sent_by_the_worker(world, worker):  # noqa: F811
    follow_up, due = due_in_an_hour(world)
    answers: list[str] = []

    def note_answer(sender: Any = None, retval: Any = None, **kwargs: Any) -> None:
        if sender.name == "services.tasks.send_reminder":
            answers.append(retval)

    task_postrun.connect(note_answer, weak=False)
    try:
        with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
            claimed = reminders_claim_due()  # the sweep took it; its message is not queued yet
            assert due.pk in claimed
            close_marcus(world)
            tasks._queue(claimed)  # the message reaches the worker after the close
            wait_for(lambda: len(answers) == len(claimed))
    finally:
        task_postrun.disconnect(note_answer)

    assert set(answers) == {"not ours"}
    assert status(due) == ReminderStatus.CANCELLED
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_reopening_plans_the_open_follow_ups_reminders_again(world, worker):  # noqa: F811
    follow_up, due = due_in_an_hour(world)
    close_marcus(world)
    enrolment.reopen_case(world.caseworker1, marcus(), opened_on=timezone.localdate())

    assert status(due) == ReminderStatus.PENDING
    with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
        assert due.pk in tasks.reminders_sweep()
        wait_for(lambda: status(due) == ReminderStatus.SENT)
    assert [m.subject for m in mail.outbox] == ["A follow-up is due now"]


def test_the_sender_skips_a_reminder_of_a_closed_case_that_a_planner_left_pending(world):
    follow_up, due = due_in_an_hour(world)
    # As if the case closed while a planner was moving this row back to pending.
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(case_closed_on=timezone.localdate())

    with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
        assert due.pk in reminders_claim_due()
        assert reminder_send(due.pk) == "skipped"

    due.refresh_from_db()
    assert (due.status, due.reason) == (ReminderStatus.CANCELLED, "The case is closed.")
    assert mail.outbox == []


def test_planning_again_plans_nothing_for_a_closed_case(world):
    follow_up, due = due_in_an_hour(world)
    close_marcus(world)

    follow_ups_actions.follow_up_save(by=world.caseworker1, exoneree=marcus(), follow_up=follow_up)

    assert set(Reminder.objects.filter(follow_up=follow_up).values_list("status", flat=True)) == {
        ReminderStatus.CANCELLED
    }


# --- lists and dashboards: open cases unless asked ----------------------------------------------------


def test_lists_and_dashboards_show_open_cases_unless_asked(login, world):
    close_marcus(world)
    caseworker = login("caseworker1")
    people = reverse("exoneree_list")

    assert "Marcus Whitfield" not in caseworker.get(people).content.decode()
    assert "Marcus Whitfield" in caseworker.get(people + "?case=closed").content.decode()
    assert "Marcus Whitfield" in caseworker.get(people + "?case=all").content.decode()
    assert caseworker.get(people + "?case=nonsense").status_code == 400
    dashboard = caseworker.get(reverse("dashboard")).content.decode()
    assert "Marcus Whitfield" not in dashboard
    assert "?case=closed" in dashboard
    director = login("director1").get(reverse("director_dashboard")).content.decode()
    assert "1 person with an open case" in director and "1 closed case" in director


def test_the_overview_lists_the_first_people_nobody_is_assigned_to_and_links_to_them_all(login, world):
    before = Exoneree.objects.filter(organization=world.org1, caseworkers__isnull=True, case_closed_on__isnull=True)
    for i in range(DASHBOARD_ROWS + 2):
        ExonereeFactory(organization=world.org1, legal_name=f"Nobody {i:02}")
    close_marcus(world)
    world.marcus.exoneree.caseworkers.clear()  # closed: not waiting for a caseworker
    everyone = before.count()
    director = login("director1")

    response = director.get(reverse("director_dashboard"))

    page = response.content.decode()
    first = before.order_by("legal_name", "pk").values_list("legal_name", flat=True)[:DASHBOARD_ROWS]
    assert [p.legal_name for p in response.context["unassigned"]] == list(first)
    assert len(first) == DASHBOARD_ROWS
    assert f'Nobody assigned (<a href="{reverse("exoneree_list")}?case=unassigned">{everyone}</a>)' in page
    assert f"See all {everyone} people nobody is assigned to" in page and "?case=unassigned" in page
    listed = director.get(reverse("exoneree_list") + "?case=unassigned").context["page"]
    assert listed.paginator.count == everyone
    assert "Marcus Whitfield" not in {p.legal_name for p in listed}
    assert all(not p.caseworker_names for p in listed)
    # A caseworker's people are assigned to them: the choice is the director's.
    caseworker = login("caseworker1")
    assert "Open cases nobody is assigned to" not in caseworker.get(reverse("exoneree_list")).content.decode()
    assert caseworker.get(reverse("exoneree_list") + "?case=unassigned").status_code == 400
    key = key_for(world, "director1")
    api_rows = api(Client(), key, "GET", v1("people") + "?case=unassigned&limit=100").json()["results"]
    assert {r["legal_name"] for r in api_rows} == set(before.values_list("legal_name", flat=True))


# --- outcomes -----------------------------------------------------------------------------------------


def figure(world: World, name: str, filters: OutcomeFilters) -> dict[str, Any]:
    (found,) = report.outcomes(world.org1, Exoneree.objects.filter(organization=world.org1), filters, only=name)
    return {row.key: row.cells[0].value for row in found.rows}


def test_outcomes_count_people_served_and_exits_by_reason_and_destination(login, world):
    today = timezone.localdate()
    period = OutcomeFilters(start=today - timedelta(days=30), end=today)
    long_ago = today - timedelta(days=400)
    Enrolment.objects.filter(exoneree__organization=world.org1).update(opened_on=long_ago)
    close_marcus(world, closed_on=today - timedelta(days=5))
    enrolment.reopen_case(world.caseworker1, marcus(), opened_on=today - timedelta(days=2))  # served once
    gone = ExonereeFactory(organization=world.org1, caseworkers=[world.caseworker2])
    Enrolment.objects.filter(exoneree=gone).update(opened_on=long_ago)
    enrolment.close_case(
        world.caseworker2,
        gone,
        closed_on=today - timedelta(days=200),
        reason="moved_away",
        destination="temporary",
        housing_at_exit="unknown",
    )  # closed before the period: not served in it
    NeedFactory(exoneree=world.marcus.exoneree)

    assert figure(world, "served", period) == {"served": 2, "enrolled": 1, "exited": 1}
    assert figure(world, "exit_reasons", period) == {"goals_met": 1}
    assert figure(world, "exit_destinations", period) == {"permanent_own": 1}
    earlier = OutcomeFilters(start=today - timedelta(days=300), end=today - timedelta(days=100))
    assert figure(world, "served", earlier) == {"served": 3, "enrolled": 0, "exited": 1}
    assert figure(world, "exit_reasons", earlier) == {"moved_away": 1}

    director = login("director1")
    page = director.get(reverse("outcome_dashboard")).content.decode()
    assert "People served, cases opened and closed" in page and "Where people went" in page
    query = "?figure=exit_reasons&group=goals_met&measure=exits"
    records = director.get(reverse("outcome_records") + query).content.decode()
    assert "Marcus Whitfield" in records and gone.legal_name not in records


def test_a_case_closed_twice_in_the_period_is_one_person_in_each_figure_as_in_its_list(login, world):
    """Closed, reopened and closed again for the same reason: one person in "closed in the
    period" and in the reason's row, as each row's list of records names them once."""
    today = timezone.localdate()
    period = OutcomeFilters(start=today - timedelta(days=30), end=today)
    Enrolment.objects.filter(exoneree__organization=world.org1).update(opened_on=today - timedelta(days=400))
    close_marcus(world, closed_on=today - timedelta(days=20))
    enrolment.reopen_case(world.caseworker1, marcus(), opened_on=today - timedelta(days=10))
    close_marcus(world, closed_on=today - timedelta(days=5))

    assert figure(world, "served", period)["exited"] == 1
    assert figure(world, "exit_reasons", period) == {"goals_met": 1}
    assert figure(world, "exit_destinations", period) == {"permanent_own": 1}
    director = login("director1")
    for query in ("?figure=served&group=exited&measure=people", "?figure=exit_reasons&group=goals_met&measure=exits"):
        listed = director.get(reverse("outcome_records") + query + f"&from={period.start}&to={period.end}")
        assert listed.status_code == 200
        assert listed.context["page"].paginator.count == 1


def test_the_api_lists_open_cases_unless_asked_and_gives_the_new_figures(login, world):
    close_marcus(world)
    caseworker = login("caseworker1")

    def names(query: str = "") -> list[str]:
        return [row["display_name"] for row in caseworker.get(reverse("api:people") + query).json()["results"]]

    assert names() == []
    assert names("?case=closed") == names("?case=all") == ["Marcus Whitfield"]
    assert caseworker.get(reverse("api:people") + "?case=nonsense").status_code == 400
    figures = login("director1").get(reverse("api:outcomes")).json()
    assert {"served", "exit_reasons", "exit_destinations"} <= {f["name"] for f in figures["figures"]}
