"""The director's legal figures equal a count made by hand on this fixture.

"Now" is April 15, 2025, 10:00 (America/New_York). Illinois claims, two years from the
vacatur (the rules table), all of Harbor Light (organization 1), unless said otherwise:

    Ada  exonerated 2023-01-10 → deadline 2025-01-10; filed 2024-12-01 (in time);
         awarded 2025-02-10 (25.0 months after exoneration)
    Bo   exonerated 2023-02-01 → deadline 2025-02-01; filed 2025-02-05 (late)
    Cal  exonerated 2023-03-01 → deadline 2025-03-01; not filed (missed)
    Eve  exonerated 2023-05-01 → deadline 2025-05-01; not filed (16 days left: due soon)
    Fay  exonerated 2023-12-01 → deadline 2025-12-01; not filed (230 days left)
    Gus  exonerated 2023-02-15 → deadline 2025-02-15; found not eligible (left out)
    Hal  moved from the old fields: filed, no filing date; lawyer's deadline 2025-03-10
    Ivy  exonerated 2024-03-20 → deadline 2026-03-20; filed 2024-06-01; awarded and paid
         2025-03-20 (12.0 months)
    Jo   exonerated 2024-06-01; awarded 2025-04-01 (after the first quarter)
    Anita (organization 2): deadline 2025-02-20, not filed — never counted for director1

Records: Ada's court confirmed clear 2025-02-01, her FBI record requested; Bo's court
confirmed clear 2024-11-01 (before the period), his FBI record still showing, DMV not
requested; Cal's court requested; Anita's court still showing (organization 2).
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import date, datetime
from typing import Any

import pytest
from django.urls import reverse

from services.actions import legal
from services.choices import ClaimStage, ClearanceStatus
from services.models.legal import CompensationClaim, RecordClearance
from tests.conftest import World
from tests.factories import ExonereeFactory
from tests.test_outcomes import page, table

NY = zoneinfo.ZoneInfo("America/New_York")
Q1 = {"from": "2025-01-01", "to": "2025-03-31"}
YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def now(time_machine: Any) -> datetime:
    moment = datetime(2025, 4, 15, 10, 0, tzinfo=NY)
    time_machine.move_to(moment, tick=False)
    return moment


def person(w: World, name: str, exonerated: date | None, org: Any = None, caseworker: Any = None) -> Any:
    return ExonereeFactory(
        organization=org or w.org1,
        legal_name=name,
        exoneration_date=exonerated,
        caseworkers=[caseworker or w.caseworker1],
    )


def claim(w: World, who: Any, exonerated: date, by: Any = None, **fields: Any) -> CompensationClaim:
    made = CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=exonerated, **fields)
    return legal.claim_create(by=by or w.caseworker1, exoneree=who, claim=made)


def record(w: World, who: Any, holder: str, status: str, by: Any = None, **dates: date) -> None:
    clearance = RecordClearance(holder=holder, status=status, **dates)
    legal.clearance_save(by=by or w.caseworker1, exoneree=who, clearance=clearance)


@pytest.fixture
def legal_world(now: datetime, world: World) -> World:
    w = world
    filed, awarded, paid = ClaimStage.FILED, ClaimStage.AWARDED, ClaimStage.PAID
    ada = person(w, "Ada Intime", date(2023, 1, 10))
    claim(w, ada, date(2023, 1, 10), stage=awarded, filed_on=date(2024, 12, 1), decided_on=date(2025, 2, 10))
    bo = person(w, "Bo Late", date(2023, 2, 1))
    claim(w, bo, date(2023, 2, 1), stage=filed, filed_on=date(2025, 2, 5))
    cal = person(w, "Cal Missed", date(2023, 3, 1))
    claim(w, cal, date(2023, 3, 1))
    claim(w, person(w, "Eve Soon", date(2023, 5, 1)), date(2023, 5, 1))
    claim(w, person(w, "Fay Far", date(2023, 12, 1)), date(2023, 12, 1))
    claim(w, person(w, "Gus Not Eligible", date(2023, 2, 15)), date(2023, 2, 15), stage=ClaimStage.NOT_ELIGIBLE)
    hal = person(w, "Hal Undated", None)
    CompensationClaim.objects.create(  # as migration 0019 wrote it: filed, no date
        exoneree=hal,
        organization=w.org1,
        stage=filed,
        deadline_override=date(2025, 3, 10),
        override_reason="Moved",
        filing_deadline=date(2025, 3, 10),
        deadline_basis="override",
    )
    ivy = person(w, "Ivy Paid", date(2024, 3, 20))
    claim(w, ivy, date(2024, 3, 20), stage=paid, filed_on=date(2024, 6, 1), decided_on=date(2025, 3, 20))
    jo = person(w, "Jo April", date(2024, 6, 1))
    claim(w, jo, date(2024, 6, 1), stage=awarded, filed_on=date(2024, 7, 1), decided_on=date(2025, 4, 1))
    anita = w.anita.exoneree
    claim(w, anita, date(2023, 2, 20), by=w.caseworker3)

    clear, requested, showing = (
        ClearanceStatus.CONFIRMED_CLEAR,
        ClearanceStatus.REQUESTED,
        ClearanceStatus.STILL_SHOWING,
    )
    record(w, ada, "court", clear, requested_on=date(2024, 12, 1), confirmed_on=date(2025, 2, 1))
    record(w, ada, "fbi", requested, requested_on=date(2025, 1, 5))
    record(w, bo, "court", clear, requested_on=date(2024, 10, 1), confirmed_on=date(2024, 11, 1))
    record(w, bo, "fbi", showing)
    record(w, bo, "dmv", ClearanceStatus.NOT_REQUESTED)
    record(w, cal, "court", requested, requested_on=date(2025, 3, 1))
    record(w, anita, "court", showing, by=w.caseworker3)
    return w


def test_claims_filed_before_their_deadline(legal_world, login):
    quarter = page(login("director1"), **Q1)["claims"]
    year = page(login("director1"), **YEAR)["claims"]

    assert table(quarter) == {
        "Filed by the deadline": [1],  # Ada
        "Filed after the deadline": [1],  # Bo
        "Filed, date not recorded": [1],  # Hal
        "Deadline passed, not filed": [1],  # Cal (Gus not eligible, Anita elsewhere)
        "Not filed yet, still time": [0],
    }
    assert table(year)["Not filed yet, still time"] == [2]  # Eve, Fay


def test_deadlines_within_90_days_not_filed_are_listed(legal_world, login):
    due = page(login("director1"), **Q1)["due_soon"]

    assert due.columns == ["", "Days left", "Deadline"]
    assert table(due) == {"Eve Soon — Illinois": [16, date(2025, 5, 1)]}
    assert due.rows[0].cells[0].href == reverse("exoneree_legal", args=[due_person(legal_world, "Eve Soon")])


def test_the_due_soon_csv_has_the_deadline_as_the_page_shows_it(legal_world, login):
    """Walkthrough: the download had the days left but not the day itself."""
    client = login("director1")
    params = {**Q1, "format": "csv", "figure": "due_soon"}

    page_html = client.get(reverse("outcome_dashboard"), Q1).content.decode()
    rows = list(csv.reader(io.StringIO(client.get(reverse("outcome_dashboard"), params).content.decode())))

    assert rows == [["", "Days left", "Deadline"], ["Eve Soon — Illinois", "16", "2025-05-01"]]
    figure = page_html[page_html.index('id="due_soon"') :]
    assert '<td class="num" data-label="Deadline">2025-05-01</td>' in figure[: figure.index("</section>")]


def test_the_due_soon_csv_does_not_run_a_name_as_a_formula(legal_world, login):
    who = person(legal_world, "=HYPERLINK(1)", date(2023, 5, 1))
    claim(legal_world, who, date(2023, 5, 1))

    response = login("director1").get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "due_soon"})

    assert "'=HYPERLINK(1) — Illinois,16,2025-05-01" in response.content.decode()


def due_person(w: World, name: str) -> int:
    return CompensationClaim.objects.get(exoneree__legal_name=name).exoneree_id


def test_awards_and_median_months_from_exoneration(legal_world, login):
    awards = page(login("director1"), **Q1)["awards"]

    assert table(awards) == {"Awarded in the period": [2, 18.5]}  # Ada 25.0 and Ivy 12.0 months; Jo in April


def test_records_cleared_per_holder(legal_world, login):
    records = page(login("director1"), **Q1)["records"]

    got = {label: values for label, values in table(records).items() if any(values)}
    assert got == {
        "Court of conviction": [1, 1, 0],  # Ada cleared in the period; Cal waiting (Bo's was before)
        "FBI (national criminal history)": [0, 1, 1],  # Ada waiting; Bo still showing
        "Motor vehicles department (DMV)": [0, 0, 1],  # Bo's never requested
    }


def test_each_number_links_to_its_records(legal_world, login):
    client = login("director1")
    figures = page(client, **Q1)
    late = next(row for row in figures["claims"].rows if row.key == "late").cells[0].href
    fbi = next(row for row in figures["records"].rows if row.key == "fbi").cells[2].href

    late_page = client.get(late)
    fbi_page = client.get(fbi)

    assert [c.exoneree.legal_name for c in late_page.context["page"]] == ["Bo Late"]
    assert [c.exoneree.legal_name for c in fbi_page.context["page"]] == ["Bo Late"]
    assert "Anita" not in late_page.content.decode() + fbi_page.content.decode()


def test_a_claim_filed_shows_at_once_on_the_cached_page(legal_world, login):
    """The page is cached per minute and figures version (services/figures.py): a claim's write
    bumps the version, so the same minute's page already counts it."""
    client = login("director1")
    before = client.get(reverse("outcome_dashboard"), Q1).content.decode()
    cal = CompensationClaim.objects.get(exoneree__legal_name="Cal Missed")
    cal.stage, cal.filed_on = ClaimStage.FILED, date(2025, 3, 20)
    legal.claim_update(by=legal_world.caseworker1, claim=cal)

    after = {f.name: f for f in client.get(reverse("outcome_dashboard"), Q1).context["figures"]}

    assert "Deadline passed, not filed" in before
    assert table(after["claims"])["Deadline passed, not filed"] == [0]
    assert table(after["claims"])["Filed after the deadline"] == [2]
