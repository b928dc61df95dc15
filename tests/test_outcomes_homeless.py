"""Returns to homelessness on the director's outcomes page, counted by hand on this fixture.

"Now" is April 15, 2025, 10:00 (America/New_York); the period is the first quarter of 2025.
The housing score of the Self-Sufficiency Matrix stands in for a housing status: 1 is
homeless (or about to be evicted), 3 or better is stably housed.

    Hal (caseworker1)  housing 4 on 2024-10-01, 1 on 2025-02-10: a return in the period
    Ida (caseworker1)  housing 1 on 2025-01-05 and on 2025-03-01: never housed
    Jon (caseworker2)  housing 3 on 2024-06-01, 1 on 2024-11-01 (before the period),
                       2 on 2025-02-01: housed once, no return in the period
    Kim (caseworker2)  housing 4 on 2025-01-10, 1 on 2025-03-05: a return in the period
    Mo  (caseworker2)  housing 1 on 2025-01-15, 4 on 2025-02-15: housed after, not before
    Ned (caseworker1)  housing 5 on 2025-01-20, 1 on 2025-04-10: a return after the period
    Oz  (caseworker1)  housing 1 on 2025-02-01, 4 on 2025-04-05: housed only after the period
    Lee (organization 2) housing 4 on 2025-01-10, 1 on 2025-02-10: never counted for director1

Stably housed by March 31: Hal, Jon, Kim, Mo, Ned (5); back to homelessness in it: Hal, Kim (2).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services.actions import casework
from services.choices import AssessmentKind
from services.models.casework import Assessment
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.outcomes.scope import OutcomeFilters, Scope
from services.outcomes.wellbeing import housing_return_figure
from tests.conftest import World
from tests.factories import AssessmentFactory, ExonereeFactory
from tests.test_outcomes import NOW, page, shown, table

Q1 = {"from": "2025-01-01", "to": "2025-03-31"}
HOUSED = "Stably housed at an assessment by the end of the period"
RETURNED = "Back to homelessness in the period"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def housing(who: Exoneree, *scores: tuple[date, int]) -> None:
    for i, (day, score) in enumerate(scores):
        kind = AssessmentKind.INTAKE if i == 0 else AssessmentKind.INTERIM
        AssessmentFactory(exoneree=who, kind=kind, taken_on=day, scores={"housing": score, "income": 2})


@pytest.fixture
def homeless(time_machine: Any, world: World) -> dict[str, Exoneree]:
    time_machine.move_to(NOW, tick=False)
    w = world
    people = {}
    for name, org, caseworker in (
        ("Hal", w.org1, w.caseworker1),
        ("Ida", w.org1, w.caseworker1),
        ("Jon", w.org1, w.caseworker2),
        ("Kim", w.org1, w.caseworker2),
        ("Mo", w.org1, w.caseworker2),
        ("Ned", w.org1, w.caseworker1),
        ("Oz", w.org1, w.caseworker1),
        ("Lee", w.org2, w.caseworker3),
    ):
        people[name] = ExonereeFactory(
            organization=org, legal_name=f"{name} Housing", release_date=date(2024, 5, 1), caseworkers=[caseworker]
        )
    housing(people["Hal"], (date(2024, 10, 1), 4), (date(2025, 2, 10), 1))
    housing(people["Ida"], (date(2025, 1, 5), 1), (date(2025, 3, 1), 1))
    housing(people["Jon"], (date(2024, 6, 1), 3), (date(2024, 11, 1), 1), (date(2025, 2, 1), 2))
    housing(people["Kim"], (date(2025, 1, 10), 4), (date(2025, 3, 5), 1))
    housing(people["Mo"], (date(2025, 1, 15), 1), (date(2025, 2, 15), 4))
    housing(people["Ned"], (date(2025, 1, 20), 5), (date(2025, 4, 10), 1))
    housing(people["Oz"], (date(2025, 2, 1), 1), (date(2025, 4, 5), 4))
    housing(people["Lee"], (date(2025, 1, 10), 4), (date(2025, 2, 10), 1))
    return people


def listed(client: Any, href: str) -> set[str]:
    response = client.get(href)
    assert response.status_code == 200, href
    return {person.legal_name for person in response.context["page"].object_list}


def test_returns_to_homelessness_among_those_housed_before(homeless, login):
    figure = page(login("director1"), **Q1)["housing_returns"]

    assert table(figure) == {HOUSED: [5, None], RETURNED: [2, 40]}
    assert [str(cell) for cell in figure.rows[1].cells] == ["2", "40%"]


def test_every_number_lists_exactly_the_people_it_counts(homeless, login):
    client = login("director1")
    figure = page(client, **Q1)["housing_returns"]
    housed, returned = (row.cells[0].href for row in figure.rows)

    assert listed(client, housed) == {"Hal Housing", "Jon Housing", "Kim Housing", "Mo Housing", "Ned Housing"}
    assert listed(client, returned) == {"Hal Housing", "Kim Housing"}


def test_the_caseworker_filter_keeps_their_caseload(homeless, login, world):
    client = login("director1")

    one = page(client, **Q1, caseworker=str(world.caseworker1.pk))["housing_returns"]
    two = page(client, **Q1, caseworker=str(world.caseworker2.pk))["housing_returns"]

    assert table(one) == {HOUSED: [2, None], RETURNED: [1, 50]}  # Hal, Ned; Hal
    assert table(two) == {HOUSED: [3, None], RETURNED: [1, 33]}  # Jon, Kim, Mo; Kim
    assert listed(client, two.rows[1].cells[0].href) == {"Kim Housing"}


def test_the_need_filter_does_not_apply(homeless, login):
    figure = page(login("director1"), **Q1, domain="employment")["housing_returns"]

    assert table(figure) == {HOUSED: [5, None], RETURNED: [2, 40]}


def test_another_organizations_people_are_never_counted(homeless, login):
    client = login("director2")
    figure = page(client, **Q1)["housing_returns"]

    assert table(figure) == {HOUSED: [1, None], RETURNED: [1, 100]}  # Lee alone
    assert listed(client, figure.rows[1].cells[0].href) == {"Lee Housing"}


def test_a_same_day_pair_counts_in_the_order_they_were_taken(homeless, world, login):
    """Two assessments on one day: housed then homeless is a return; homeless then housed is not."""
    back, fine = (
        ExonereeFactory(organization=world.org1, legal_name=name, caseworkers=[world.caseworker1])
        for name in ("Pia Sameday", "Rex Sameday")
    )
    housing(back, (date(2025, 2, 1), 4), (date(2025, 2, 1), 1))
    housing(fine, (date(2025, 2, 1), 1), (date(2025, 2, 1), 4))
    client = login("director1")

    figure = page(client, **Q1)["housing_returns"]

    assert listed(client, figure.rows[1].cells[0].href) == {"Hal Housing", "Kim Housing", "Pia Sameday"}


def test_the_figure_is_one_query(homeless, world):
    people = Exoneree.objects.filter(organization=world.org1)
    filters = OutcomeFilters(start=date(2025, 1, 1), end=date(2025, 3, 31))
    scope = Scope(people, filters, timezone.now(), organization=world.org1)

    with CaptureQueriesContext(connection) as queries:
        figure = housing_return_figure(scope)

    assert len(queries) == 1
    assert [row.cells[0].value for row in figure.rows] == [5, 2]


def test_the_csv(homeless, login):
    response = login("director1").get(
        reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "housing_returns"}
    )

    assert response.status_code == 200
    assert "housing_returns_2025-01-01_2025-03-31.csv" in response["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["", "People", "Share (%)"],  # 40 is 40%, not 40 times
        [HOUSED, "5", ""],
        [RETURNED, "2", "40"],
    ]


def returned_on_page(body: str) -> int:
    found = re.search(r"figure=housing_returns&amp;group=returned&amp;measure=people\">(\d+)<", body)
    assert found is not None
    return int(found.group(1))


def test_a_new_assessment_shows_at_once(homeless, login, world):
    """Saving an assessment bumps the figures' version (it is a tracked write): the cached page
    is not served again."""
    client = login("director1")
    page(client, **Q1)  # counted and cached
    before, _ = shown(client, **Q1)
    version = Organization.objects.get(pk=world.org1.pk).figures_version

    assessment = Assessment(kind=AssessmentKind.INTERIM, taken_on=date(2025, 3, 20))
    casework.assessment_save(
        by=world.caseworker2, exoneree=homeless["Mo"], assessment=assessment, scores={"housing": 1}
    )
    after, _ = shown(client, **Q1)

    assert Organization.objects.get(pk=world.org1.pk).figures_version > version
    assert (returned_on_page(before), returned_on_page(after)) == (2, 3)
