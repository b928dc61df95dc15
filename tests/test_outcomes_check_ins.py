"""Check-ins after release on the director's outcomes page, counted by hand on this fixture.

"Now" is April 15, 2025, 10:00 (America/New_York); the period is the first quarter of 2025.

    Ava (caseworker1), released 2024-12-30: 7-day check-in due Jan 6, done Jan 5 (on time);
                       30-day due Jan 29, done Feb 2 (late); 90-day due Mar 30, not done (overdue)
    Bo  (caseworker2), released 2025-03-10: 7-day due Mar 17, done on time; 30-day due Apr 9,
                       after the period (not counted)
    Cy  (caseworker1), a follow-up due Jan 10 that is not a check-in (never counted here)
    Dee (organization 2), released 2024-12-30: 7-day due Jan 6, overdue (never for director1)

Week: due 2 (Ava, Bo), on time 2. 30 days: due 1 (Ava), late 1. 90 days: due 1, overdue 1.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services.models.people import Exoneree
from services.outcomes.follow_ups import check_in_figure
from services.outcomes.scope import OutcomeFilters, Scope
from tests.conftest import World
from tests.factories import ExonereeFactory, FollowUpFactory
from tests.test_outcomes import NOW, NY, page, table

Q1 = {"from": "2025-01-01", "to": "2025-03-31"}
WEEK, MONTH, QUARTER = "A week after release", "30 days after release", "90 days after release"
pytestmark = pytest.mark.world_built_once


def check_in(who: Exoneree, caseworker: Any, days: int, *, done: date | None = None) -> None:
    due = datetime.combine(who.release_date + timedelta(days=days), time(10), tzinfo=NY)
    done_at = datetime.combine(done, time(9), tzinfo=NY) if done else None
    FollowUpFactory(exoneree=who, assigned_to=caseworker, due_at=due, done_at=done_at, release_check=days)


@pytest.fixture
def check_ins(time_machine: Any, world: World) -> dict[str, Exoneree]:
    time_machine.move_to(NOW, tick=False)
    w = world
    people = {
        name: ExonereeFactory(organization=org, legal_name=f"{name} Released", release_date=released, caseworkers=[cw])
        for name, org, cw, released in (
            ("Ava", w.org1, w.caseworker1, date(2024, 12, 30)),
            ("Bo", w.org1, w.caseworker2, date(2025, 3, 10)),
            ("Cy", w.org1, w.caseworker1, date(2024, 1, 1)),
            ("Dee", w.org2, w.caseworker3, date(2024, 12, 30)),
        )
    }
    check_in(people["Ava"], w.caseworker1, 7, done=date(2025, 1, 5))
    check_in(people["Ava"], w.caseworker1, 30, done=date(2025, 2, 2))
    check_in(people["Ava"], w.caseworker1, 90)
    check_in(people["Bo"], w.caseworker2, 7, done=date(2025, 3, 16))
    check_in(people["Bo"], w.caseworker2, 30)
    FollowUpFactory(exoneree=people["Cy"], assigned_to=w.caseworker1, due_at=datetime(2025, 1, 10, 10, tzinfo=NY))
    check_in(people["Dee"], w.caseworker3, 7)
    return people


def listed(client: Any, href: str) -> set[str]:
    response = client.get(href)
    assert response.status_code == 200, href
    return {follow_up.exoneree.legal_name for follow_up in response.context["page"].object_list}


def test_check_ins_due_in_the_period_by_days_after_release(check_ins, login):
    figure = page(login("director1"), **Q1)["release_checks"]

    # Due, done on time, done late, overdue, not due yet.
    assert table(figure) == {WEEK: [2, 2, 0, 0, 0], MONTH: [1, 0, 1, 0, 0], QUARTER: [1, 0, 0, 1, 0]}
    assert figure.columns[0] == "Check-in"


def test_every_number_lists_the_check_ins_it_counts(check_ins, login):
    client = login("director1")
    rows = {row.label: row for row in page(client, **Q1)["release_checks"].rows}

    assert listed(client, rows[WEEK].cells[1].href) == {"Ava Released", "Bo Released"}
    assert listed(client, rows[MONTH].cells[2].href) == {"Ava Released"}
    assert listed(client, rows[QUARTER].cells[3].href) == {"Ava Released"}


def test_a_row_that_is_not_a_check_in_is_refused_by_the_list(check_ins, login):
    response = login("director1").get(
        reverse("outcome_records"), {**Q1, "figure": "release_checks", "group": "8", "measure": "due"}
    )

    assert response.status_code == 404


def test_the_caseworker_filter_applies_and_the_need_filter_does_not(check_ins, login, world):
    client = login("director1")

    two = page(client, **Q1, caseworker=str(world.caseworker2.pk))["release_checks"]
    housing = page(client, **Q1, domain="housing")["release_checks"]

    assert table(two) == {WEEK: [1, 1, 0, 0, 0]}
    assert table(housing)[WEEK] == [2, 2, 0, 0, 0]


def test_another_organizations_check_ins_are_never_counted(check_ins, login):
    assert table(page(login("director2"), **Q1)["release_checks"]) == {WEEK: [1, 0, 0, 1, 0]}


def test_the_figure_is_one_query(check_ins, world):
    people = Exoneree.objects.filter(organization=world.org1)
    scope = Scope(
        people, OutcomeFilters(start=date(2025, 1, 1), end=date(2025, 3, 31)), timezone.now(), organization=world.org1
    )

    with CaptureQueriesContext(connection) as queries:
        figure = check_in_figure(scope)

    assert len(queries) == 1
    assert [row.key for row in figure.rows] == ["7", "30", "90"]


def test_the_csv(check_ins, login):
    response = login("director1").get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "release_checks"})

    assert list(csv.reader(io.StringIO(response.content.decode())))[:2] == [
        ["Check-in", "Due", "Done on time", "Done late", "Overdue, not done", "Not due yet"],
        [WEEK, "2", "2", "0", "0", "0"],
    ]
