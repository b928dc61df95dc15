"""Every outcome figure in one CSV: the month-end report a director sends on, in one download."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from services.models.audit import AuditEvent
from services.outcomes.report import FIGURES
from tests.test_outcomes import page
from tests.test_outcomes_check_ins import Q1, WEEK, check_ins  # noqa: F401 (the fixture, used by every test)

pytestmark = [pytest.mark.world_built_once, pytest.mark.usefixtures("check_ins")]


def every(client, **params: str) -> tuple[list[list[str]], str]:
    response = client.get(reverse("outcome_dashboard"), {**Q1, **params, "format": "csv", "figure": "all"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode()))), response["Content-Disposition"]


def test_one_file_holds_what_it_covers_and_every_figure_as_the_page_shows_it(login, world):
    client = login("director1")
    shown = page(client, **Q1)

    rows, disposition = every(client)

    assert rows[:5] == [
        ["Outcomes", world.org1.name],
        ["From", "2025-01-01"],
        ["To", "2025-03-31"],
        ["Caseworker", "Everyone"],
        ["Need", "Every need"],
    ]
    titles = [str(figure.title) for figure in shown.values()]
    assert [row[0] for row in rows if len(row) == 1 and row[0] in titles] == titles
    assert len(titles) == len(FIGURES)
    start = rows.index(["Check-ins after release"])
    assert rows[start + 1][0].startswith("The check-ins intake plans")  # how it is counted
    assert rows[start + 2 : start + 4] == [
        ["Check-in", "Due", "Done on time", "Done late", "Overdue, not done", "Not due yet"],
        [WEEK, "2", "2", "0", "0", "0"],
    ]
    assert 'filename="outcomes_2025-01-01_2025-03-31.csv"' in disposition


def test_the_filters_are_named_in_the_file_and_its_name(login, world):
    rows, disposition = every(login("director1"), caseworker=str(world.caseworker2.pk), domain="housing")

    assert rows[3] == ["Caseworker", world.caseworker2.get_full_name()]
    assert rows[4] == ["Need", "Housing"]
    assert f"outcomes_2025-01-01_2025-03-31_housing_caseworker-{world.caseworker2.pk}.csv" in disposition


def test_the_download_is_in_the_access_log_and_linked_from_the_page(login):
    client = login("director1")

    body = client.get(reverse("outcome_dashboard"), Q1).content.decode()
    every(client)

    assert "format=csv&amp;figure=all" in body and "Download every figure (one CSV)" in body
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED, target="Outcomes: Every figure (CSV)").exists()


def test_a_caseworker_cannot_download_it(login):
    response = login("caseworker1").get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "all"})

    assert response.status_code in (403, 404)
