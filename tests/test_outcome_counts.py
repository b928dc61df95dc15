"""The counts kept for the outcomes page: tracked actions keep them equal to a full recount.

`outcome_counts.counted(org)` is what a recount would store; `stored(org)` is what is stored.
After any sequence of tracked actions the two must be equal, cell by cell.
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services import outcome_counts, tasks
from services.actions import casework, follow_ups, needs, referrals
from services.actions import people as people_actions
from services.choices import AssessmentKind, ConsentCategory, NeedDomain
from services.choices import ReferralStatus as S
from services.lifecycle import REFERRAL_TRANSITIONS
from services.models.casework import Assessment
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.outcomes import OutcomeCount
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World
from tests.factories import ResourceFactory, consent_for

NY = zoneinfo.ZoneInfo("America/New_York")
START = datetime(2025, 3, 1, 9, 0, tzinfo=NY)
DOMAINS = [NeedDomain.HOUSING, NeedDomain.INCOME, NeedDomain.IDENTIFICATION, NeedDomain.HEALTH_COVERAGE]


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def assert_counts_match(org: Any) -> None:
    stored, counted = outcome_counts.stored(org), outcome_counts.counted(org)
    wrong = {
        key: (stored.get(key), counted.get(key))
        for key in stored.keys() | counted.keys()
        if stored.get(key) != counted.get(key)
    }
    assert not wrong, f"{len(wrong)} cells differ (stored, recounted): {sorted(wrong.items())[:10]}"


def person_referrals(person: Exoneree) -> QuerySet[Referral]:
    return Referral.objects.filter(need__exoneree=person)


class Actor:
    """Random tracked actions on organization 1, as its caseworkers and director would take them."""

    def __init__(self, w: World, rng: random.Random, clock: Any) -> None:
        self.w, self.rng, self.clock = w, rng, clock
        self.now = START
        self.caseworkers = [w.caseworker1, w.caseworker2]
        self.resource = ResourceFactory(organization=w.org1, name="Counted services")

    def people(self) -> list[Exoneree]:
        return list(Exoneree.objects.filter(organization=self.w.org1).order_by("pk"))

    def caseworker_of(self, person: Exoneree) -> Any:
        return person.caseworkers.order_by("pk").first() or self.w.caseworker1

    def tick(self) -> None:
        # Forward by a few hours, so days (in New York) and follow-up deadlines are crossed.
        self.now += timedelta(hours=self.rng.choice([1, 5, 11, 19, 30]))
        self.clock.move_to(self.now, tick=False)

    def step(self) -> None:
        self.tick()
        rng, people = self.rng, self.people()
        person = rng.choice(people)
        by = self.caseworker_of(person)
        choice = rng.randrange(12)
        if choice == 0:
            released = self.now.date() - timedelta(days=rng.randint(0, 400))
            people_actions.exoneree_create(
                by=rng.choice(self.caseworkers), exoneree=Exoneree(legal_name="New Person", release_date=released)
            )
        elif choice == 1:
            person.release_date = self.now.date() - timedelta(days=rng.randint(0, 400))
            people_actions.exoneree_update(by=by, exoneree=person)
        elif choice == 2:
            chosen = rng.sample(self.caseworkers, rng.randint(1, 2))
            people_actions.caseload_assign(by=self.w.director1, exoneree=person, caseworkers=chosen)
        elif choice == 3:
            need = Need(
                domain=rng.choice(DOMAINS),
                description="Counted",
                opened_on=self.now.date() - timedelta(days=rng.randint(0, 60)),
            )
            needs.need_create(by=by, exoneree=person, need=need)
        elif choice == 4 and (need := person.needs.order_by("?").first()):
            need.domain = rng.choice(DOMAINS)
            need.opened_on = self.now.date() - timedelta(days=rng.randint(0, 90))
            needs.need_update(by=by, need=need)
        elif choice == 5 and (need := person.needs.order_by("?").first()):
            consent_for(person, self.resource.provider, ConsentCategory.values)
            referrals.referral_create(by=by, need=need, resource=self.resource)
        elif choice == 6 and (referral := Referral.objects.filter(need__exoneree=person).order_by("?").first()):
            moves = sorted(REFERRAL_TRANSITIONS[referral.status])
            if moves:
                status = rng.choice(moves)
                if status == S.SENT:
                    consent_for(person, referral.resource.provider, ConsentCategory.values)
                extra = {"decline_reason": "Full"} if status == S.DECLINED else {}
                extra |= {"got_service": True} if status == S.COMPLETED else {}
                referrals.referral_transition(by=by, referral=referral, status=status, **extra)
        elif choice == 7:
            follow_up = FollowUp.objects.filter(exoneree=person).order_by("?").first()
            if follow_up is None or rng.random() < 0.5:
                follow_up = FollowUp(title="Check in")
            follow_up.due_at = self.now + timedelta(hours=rng.randint(-72, 72))
            follow_up.assigned_to = by
            follow_up.need = person.needs.order_by("?").first() if rng.random() < 0.5 else None
            # A referral of its need, when it is about one (the action refuses another need's).
            referrals_of = Referral.objects.filter(need=follow_up.need) if follow_up.need else person_referrals(person)
            follow_up.referral = referrals_of.order_by("?").first() if rng.random() < 0.3 else None
            follow_ups.follow_up_save(by=by, exoneree=person, follow_up=follow_up)
        elif choice == 8 and (follow_up := FollowUp.objects.filter(exoneree=person, done_at__isnull=True).first()):
            follow_ups.follow_up_complete(by=by, follow_up=follow_up)
        elif choice == 9 and (follow_up := FollowUp.objects.filter(exoneree=person, done_at__isnull=False).first()):
            follow_ups.follow_up_reopen(by=by, follow_up=follow_up)
        elif choice == 10:
            assessment = Assessment.objects.filter(exoneree=person).order_by("?").first()
            if assessment is None or rng.random() < 0.6:
                assessment = Assessment(kind=rng.choice(AssessmentKind.values))
            assessment.taken_on = self.now.date() - timedelta(days=rng.choice([0, 0, 3, 40, 200]))
            scores = {
                domain: rng.randint(1, 5)
                for domain in rng.sample(["housing", "income", "employment"], rng.randint(1, 3))
            }
            casework.assessment_save(by=by, exoneree=person, assessment=assessment, scores=scores)
        elif choice == 11 and by in person.caseworkers.all():
            # Something already done for them, recorded later: done on time, when it happened.
            done = FollowUp(
                title="Drove them to the SSA office", due_at=self.now - timedelta(hours=rng.randint(0, 200))
            )
            done.need = person.needs.order_by("?").first() if rng.random() < 0.5 else None
            follow_ups.follow_up_record_done(by=by, exoneree=person, follow_up=done)


@pytest.mark.parametrize("seed", range(6))
def test_tracked_actions_keep_the_counts_equal_to_a_recount(world, time_machine, seed):
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)  # the world's rows were made by factories
    other = outcome_counts.stored(world.org2)
    actor = Actor(world, random.Random(seed), time_machine)

    for _ in range(60):
        actor.step()

    assert_counts_match(world.org1)
    assert outcome_counts.stored(world.org2) == other


def test_every_counted_figure_is_reached_by_the_random_actions(world, time_machine):
    """Guards the test above: its actions must leave counts in every figure kept."""
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)
    actor = Actor(world, random.Random(99), time_machine)
    for _ in range(150):
        actor.step()

    figures = set(OutcomeCount.objects.filter(organization=world.org1).values_list("figure", flat=True))
    assert figures == {"referrals", "follow_ups", "housing", "scores"}
    assert_counts_match(world.org1)


def test_a_new_person_is_counted_once_though_two_tracked_actions_save_them(world, time_machine):
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)

    person = people_actions.exoneree_create(
        by=world.caseworker1, exoneree=Exoneree(legal_name="Nora New", release_date=date(2025, 1, 1))
    )

    everyone = OutcomeCount.objects.filter(
        organization=world.org1, figure="housing", caseworker=None, day=date(2025, 1, 31)
    )
    assert list(everyone.values_list("key", "count")) == [("30_unknown", 1)]
    mine = OutcomeCount.objects.filter(organization=world.org1, figure="housing", caseworker=world.caseworker1)
    assert mine.filter(day=date(2025, 1, 31)).get().count == 1
    assert person.caseworkers.get() == world.caseworker1
    assert_counts_match(world.org1)


def test_recounted_afterwards_counts_nothing_inside_and_everything_once_at_the_end(world, time_machine):
    """The demo's seed: its tracked actions count nothing as they go, the recount at the end
    counts them (and the rows written directly) once."""
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)
    before = outcome_counts.stored(world.org1)
    housing = OutcomeCount.objects.filter(organization=world.org1, figure="housing", day=date(2025, 1, 31))

    with transaction.atomic(), outcome_counts.recounted_afterwards([world.org1]):
        people_actions.exoneree_create(
            by=world.caseworker1, exoneree=Exoneree(legal_name="Nora New", release_date=date(2025, 1, 1))
        )
        assert outcome_counts.stored(world.org1) == before

    assert list(housing.filter(caseworker=None).values_list("key", "count")) == [("30_unknown", 1)]
    assert_counts_match(world.org1)


def test_a_reassignment_moves_the_persons_counts_to_the_new_caseworker(world, time_machine):
    time_machine.move_to(START, tick=False)
    marcus = world.marcus.exoneree
    marcus.release_date = date(2025, 1, 1)
    people_actions.exoneree_update(by=world.caseworker1, exoneree=marcus)
    outcome_counts.recount(world.org1)
    housing = OutcomeCount.objects.filter(organization=world.org1, figure="housing", day=date(2025, 1, 31))

    people_actions.caseload_assign(by=world.director1, exoneree=marcus, caseworkers=[world.caseworker2])

    assert set(housing.values_list("caseworker", flat=True)) == {None, world.caseworker2.pk}
    assert_counts_match(world.org1)


def test_a_tracked_write_stores_its_change_in_a_few_queries_however_many_cells_it_changes(
    world, time_machine, monkeypatch
):
    time_machine.move_to(START, tick=False)
    released = date(2025, 1, 1)
    nora = people_actions.exoneree_create(
        by=world.caseworker1, exoneree=Exoneree(legal_name="Nora New", release_date=released)
    )
    marcus = world.marcus.exoneree
    marcus.release_date = released
    people_actions.exoneree_update(by=world.caseworker1, exoneree=marcus)
    outcome_counts.recount(world.org1)
    stored, add = [], outcome_counts._add

    def counted_add(organization: Any, change: Any) -> None:
        with CaptureQueriesContext(connection) as queries:
            add(organization, change)
        stored.append((len(change), len(queries)))

    monkeypatch.setattr(outcome_counts, "_add", counted_add)
    # Caseworker 1's cells go from 2 to 1, then to none; caseworker 2's are made, then grow.
    people_actions.caseload_assign(by=world.director1, exoneree=marcus, caseworkers=[world.caseworker2])
    people_actions.caseload_assign(by=world.director1, exoneree=nora, caseworkers=[world.caseworker2])

    assert len(stored) == 2 and min(cells for cells, _ in stored) > 4  # more cells than queries
    assert all(queries <= 4 for _, queries in stored), stored
    housing = OutcomeCount.objects.filter(organization=world.org1, figure="housing", day=date(2025, 1, 31))
    assert set(housing.values_list("caseworker", "count")) == {(None, 2), (world.caseworker2.pk, 2)}
    assert_counts_match(world.org1)


def test_the_page_follows_a_tracked_write_without_a_recount(world, login, time_machine):
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)
    follow_up = FollowUp.objects.create(
        exoneree=world.marcus.exoneree, title="Call", due_at=START - timedelta(days=2), assigned_to=world.caseworker1
    )
    outcome_counts.recount(world.org1)
    client = login("director1")

    def cells() -> list[Any]:
        figure = next(f for f in client.get(reverse("outcome_dashboard")).context["figures"] if f.name == "follow_ups")
        return [c.value for row in figure.rows if row.key == str(world.caseworker1.pk) for c in row.cells]

    due, on_time, late, overdue, upcoming = cells()
    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=follow_up)

    assert cells() == [due, on_time, late + 1, overdue - 1, upcoming]


def test_something_already_done_counts_done_on_time_on_the_day_it_happened(world, login, time_machine):
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)
    client = login("director1")

    def cells() -> list[Any]:
        figure = next(f for f in client.get(reverse("outcome_dashboard")).context["figures"] if f.name == "follow_ups")
        values = [c.value for row in figure.rows if row.key == str(world.caseworker1.pk) for c in row.cells]
        return values or [0] * 5  # no row while none is due in the period

    due, on_time, late, overdue, upcoming = cells()
    done = FollowUp(title="Helped fill in the housing form", due_at=START - timedelta(days=3), need=world.marcus.need)
    follow_ups.follow_up_record_done(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=done)

    # Due (on its day), done on time; never overdue, not done late for being written down later.
    assert cells() == [due + 1, on_time + 1, late, overdue, upcoming]
    assert_counts_match(world.org1)


def test_an_open_follow_up_due_today_is_overdue_once_its_hour_has_passed(world, login, time_machine):
    time_machine.move_to(START, tick=False)  # 9:00 in New York
    outcome_counts.recount(world.org1)
    for hour in (8, 15):
        follow_up = FollowUp(title=f"At {hour}", due_at=START.replace(hour=hour), assigned_to=world.caseworker2)
        follow_ups.follow_up_save(by=world.caseworker2, exoneree=world.thomas.exoneree, follow_up=follow_up)
    client = login("director1")

    figure = next(f for f in client.get(reverse("outcome_dashboard")).context["figures"] if f.name == "follow_ups")
    row = next(row for row in figure.rows if row.key == str(world.caseworker2.pk))

    # Due, on time, late, overdue (the 8:00 one), not due yet (15:00).
    assert [c.value for c in row.cells] == [2, 0, 0, 1, 1]


def test_refresh_outcomes_repairs_counts_changed_behind_its_back_and_is_idempotent(world):
    outcome_counts.recount(world.org1)
    expected = outcome_counts.stored(world.org1)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {OutcomeCount._meta.db_table} SET count = count + 7")  # noqa: S608 (a constant)
    assert outcome_counts.stored(world.org1) != expected

    out = StringIO()
    call_command("refresh_outcomes", stdout=out)
    call_command("refresh_outcomes", "--organization", str(world.org1.pk), stdout=out)

    assert outcome_counts.stored(world.org1) == expected
    assert "Harbor Light:" in out.getvalue() and "New Dawn:" in out.getvalue()


def test_a_zone_this_machine_does_not_know_counts_the_days_of_the_sites_zone_as_the_page_does(world):
    """The page falls back to the site's zone for a stored name it cannot load
    (`Organization.zone`); the recount must count the same days, not fail the night's task."""
    type(world.org1).objects.filter(pk=world.org1.pk).update(timezone="Mars/Olympus_Mons")
    world.org1.refresh_from_db()
    assert world.org1.zone() == zoneinfo.ZoneInfo(settings.TIME_ZONE)

    call_command("refresh_outcomes", "--organization", str(world.org1.pk), stdout=StringIO())

    assert_counts_match(world.org1)


def analyzed_after_the_counts(queries: CaptureQueriesContext) -> bool:
    """The counts table's ANALYZE was issued, after the last count was written."""
    table = OutcomeCount._meta.db_table
    statements = [q["sql"] for q in queries.captured_queries]
    analyze = [i for i, sql in enumerate(statements) if sql.startswith("ANALYZE") and table in sql]
    writes = [i for i, sql in enumerate(statements) if sql.startswith("INSERT") and table in sql]
    return bool(analyze and writes) and analyze[-1] > writes[-1]


def test_refresh_outcomes_leaves_the_planners_statistics_current(world):
    with CaptureQueriesContext(connection) as queries:
        call_command("refresh_outcomes", stdout=StringIO())

    assert analyzed_after_the_counts(queries)


def test_refresh_outcomes_names_an_unknown_organization(world):
    with pytest.raises(CommandError, match="No organization has the id 999"):
        call_command("refresh_outcomes", "--organization", "999")


def test_the_nightly_task_recounts_every_organization(world):
    OutcomeCount.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        assert tasks.refresh_outcome_counts() == 2

    assert analyzed_after_the_counts(queries)
    assert outcome_counts.stored(world.org1) == outcome_counts.counted(world.org1)
    assert outcome_counts.stored(world.org1)
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-outcome-counts"]
    assert schedule["task"] == "services.tasks.refresh_outcome_counts"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 11, 1), date(2025, 2, 28)),  # whole months
        (date(2024, 11, 17), date(2025, 3, 1)),  # parts of months at both ends; today is the last day
        (date(2025, 1, 31), date(2025, 2, 1)),  # two days of two months
        (date(2024, 10, 2), date(2025, 4, 30)),  # today's month, split at today
    ],
)
def test_follow_ups_summed_by_days_and_months_equal_a_count_of_the_rows(world, login, time_machine, start, end):
    time_machine.move_to(START, tick=False)
    outcome_counts.recount(world.org1)
    rng = random.Random(7)
    for _ in range(40):
        due = START + timedelta(days=rng.randint(-150, 50), hours=rng.randint(-12, 12))
        follow_up = FollowUp(title="Visit", due_at=due, assigned_to=world.caseworker1)
        follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)
        if rng.random() < 0.5:
            follow_ups.follow_up_complete(by=world.caseworker1, follow_up=follow_up)
    client = login("director1")

    params = {"from": start.isoformat(), "to": end.isoformat()}
    figure = next(
        f for f in client.get(reverse("outcome_dashboard"), params).context["figures"] if f.name == "follow_ups"
    )
    row = next((row for row in figure.rows if row.key == str(world.caseworker1.pk)), None)

    starts = datetime.combine(start, datetime.min.time(), tzinfo=NY)
    ends = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=NY)
    due = FollowUp.objects.filter(assigned_to=world.caseworker1, due_at__gte=starts, due_at__lt=ends)
    open_ = due.filter(done_at__isnull=True)
    expected = [
        due.count(),
        None,
        None,
        open_.filter(due_at__lt=START).count(),
        open_.filter(due_at__gte=START).count(),
    ]
    cells = [c.value for c in row.cells] if row else [0] * 5  # no row: nothing due
    assert expected[0] or (end - start).days < 3  # the longer periods hold follow-ups to count
    assert [cells[0], None, None, *cells[3:]] == expected
    assert cells[1] + cells[2] == due.filter(done_at__isnull=False).count()
