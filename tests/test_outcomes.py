"""The director's outcomes page: each figure equals a count made by hand on a small fixture.

"Now" is April 15, 2025, 10:00 in the organization's timezone (America/New_York); the
period is the first quarter of 2025. The world's own records are all dated April 15, so
they fall outside the period and every number below comes from `small` alone:

    Pat   (caseworker1) released 2024-12-15; intake 2024-12-20 (housing 2, income 1),
          interim 2025-03-01 (housing 4, income 3)
          N1 housing, recorded 2024-12-20, met 2025-01-20: R1 sent Jan 4, completed Jan 14
          N2 income, recorded 2025-01-10, met 2025-02-10: R2 sent Jan 15, declined;
                                                          R3 sent Jan 25, completed Feb 4
          F1 due Jan 10, done Jan 9 (on time); F2 due Feb 10, done Feb 12 (late)
    Quinn (caseworker2) released 2025-02-20; never assessed
          N3 identification, recorded Feb 21, open: R4 a draft, cancelled (never sent)
          N6 employment, recorded Feb 25, open
          F4 due Mar 1, done exactly then (on time); F5 due Apr 5 (after the period)
    Rae   (caseworker1) released 2024-02-01; intake 2024-02-05 (housing 1, income 3),
          interim 2024-06-01 (housing 3), exit 2025-02-10 (housing 5, income 2)
          N4 housing, recorded 2024-11-01, open
          F3 due Mar 20, not done (overdue)
    Sam   (caseworker2) released 2024-08-01; never assessed

The legal figures (claims, awards, records) have their own fixture: tests/test_legal_outcomes.py.
          N5 health coverage, recorded Mar 10, met Mar 20: R5 sent Mar 12, still sent
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services import figures, outcome_counts
from services.actions import follow_ups, needs, people, staff
from services.choices import AssessmentKind, NeedDomain, NeedStatus, ReferralStatus
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import ReferralEvent
from services.outcomes.report import FIGURES, SPECS
from services.outcomes.scope import Figure, OutcomeFilters, Scope, records_url
from services.templatetags import outcome_charts
from tests.conftest import World
from tests.factories import (
    AssessmentFactory,
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    ReferralFactory,
    ResourceFactory,
    StaffFactory,
)

NY = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime(2025, 4, 15, 10, 0, tzinfo=NY)
Q1 = {"from": "2025-01-01", "to": "2025-03-31"}
S = ReferralStatus


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def at(month: int, day: int, year: int = 2025) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=NY)


@pytest.fixture
def now(time_machine: Any) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


def referral(need: Any, resource: Any, moves: list[tuple[str, datetime]]) -> Any:
    """A referral created as a draft, then moved through `moves` (status, when), as the events record."""
    made = ReferralFactory(need=need, resource=resource, created_at=moves[0][1])
    previous = S.DRAFT
    for status, when in moves:
        ReferralEvent.objects.create(referral=made, from_status=previous, to_status=status, at=when)
        previous = status
    made.status, made.status_changed_at = previous, moves[-1][1]
    made.sent_at = next((when for status, when in moves if status == S.SENT), None)
    made.accepted_at = next((when for status, when in moves if status == S.ACCEPTED), None)
    made.save()
    return made


def person(w: World, name: str, caseworker: Any, released: date, **extra: Any) -> Any:
    return ExonereeFactory(
        organization=w.org1, legal_name=name, release_date=released, caseworkers=[caseworker], **extra
    )


@pytest.fixture
def small(now: datetime, world: World) -> dict[str, Any]:
    w = world
    cw1, cw2 = w.caseworker1, w.caseworker2
    resource = ResourceFactory(organization=w.org1, name="Small fixture services")
    pat = person(w, "Pat Early", cw1, date(2024, 12, 15))
    quinn = person(w, "Quinn Later", cw2, date(2025, 2, 20))
    rae = person(w, "Rae Year", cw1, date(2024, 2, 1))
    sam = person(w, "Sam Mid", cw2, date(2024, 8, 1))

    AssessmentFactory(exoneree=pat, taken_on=date(2024, 12, 20), scores={"housing": 2, "income": 1})
    AssessmentFactory(
        exoneree=pat, kind=AssessmentKind.INTERIM, taken_on=date(2025, 3, 1), scores={"housing": 4, "income": 3}
    )
    AssessmentFactory(exoneree=rae, taken_on=date(2024, 2, 5), scores={"housing": 1, "income": 3})
    AssessmentFactory(exoneree=rae, kind=AssessmentKind.INTERIM, taken_on=date(2024, 6, 1), scores={"housing": 3})
    AssessmentFactory(
        exoneree=rae, kind=AssessmentKind.EXIT, taken_on=date(2025, 2, 10), scores={"housing": 5, "income": 2}
    )

    met = {"status": NeedStatus.MET}
    n1 = NeedFactory(
        exoneree=pat, domain=NeedDomain.HOUSING, opened_on=date(2024, 12, 20), closed_on=date(2025, 1, 20), **met
    )
    n2 = NeedFactory(
        exoneree=pat, domain=NeedDomain.INCOME, opened_on=date(2025, 1, 10), closed_on=date(2025, 2, 10), **met
    )
    n3 = NeedFactory(exoneree=quinn, domain=NeedDomain.IDENTIFICATION, opened_on=date(2025, 2, 21))
    NeedFactory(exoneree=rae, domain=NeedDomain.HOUSING, opened_on=date(2024, 11, 1))
    n5 = NeedFactory(
        exoneree=sam, domain=NeedDomain.HEALTH_COVERAGE, opened_on=date(2025, 3, 10), closed_on=date(2025, 3, 20), **met
    )
    NeedFactory(exoneree=quinn, domain=NeedDomain.EMPLOYMENT, opened_on=date(2025, 2, 25))

    completed = [(S.SENT, at(1, 4)), (S.ACCEPTED, at(1, 5)), (S.IN_PROGRESS, at(1, 6)), (S.COMPLETED, at(1, 14))]
    r1 = referral(n1, resource, completed)
    referral(n2, resource, [(S.SENT, at(1, 15)), (S.DECLINED, at(1, 20))])
    referral(
        n2,
        resource,
        [(S.SENT, at(1, 25)), (S.ACCEPTED, at(1, 26)), (S.IN_PROGRESS, at(1, 27)), (S.COMPLETED, at(2, 4))],
    )
    referral(n3, resource, [(S.CANCELLED, at(2, 22))])
    referral(n5, resource, [(S.SENT, at(3, 12))])

    FollowUpFactory(exoneree=pat, assigned_to=cw1, due_at=at(1, 10), done_at=at(1, 9))
    FollowUpFactory(exoneree=pat, assigned_to=cw1, due_at=at(2, 10), done_at=at(2, 12))
    FollowUpFactory(exoneree=rae, assigned_to=cw1, due_at=at(3, 20))
    FollowUpFactory(exoneree=quinn, assigned_to=cw2, due_at=at(3, 1), done_at=at(3, 1))
    FollowUpFactory(exoneree=quinn, assigned_to=cw2, due_at=at(4, 5))
    outcome_counts.recount(w.org1)  # the rows above were made by factories, not by tracked actions
    return {"pat": pat, "quinn": quinn, "rae": rae, "sam": sam, "r1": r1}


def recount() -> None:
    """Rows made by factories are not counted until a recount (tracked actions count as they go)."""
    for organization in Organization.objects.all():
        outcome_counts.recount(organization)


def page(client: Any, **params: str) -> dict[str, Figure]:
    recount()
    response = client.get(reverse("outcome_dashboard"), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return {figure.name: figure for figure in response.context["figures"]}


def table(figure: Figure) -> dict[str, list[Any]]:
    return {row.label: [cell.value for cell in row.cells] for row in figure.rows}


# --- each figure, counted by hand ---------------------------------------------------------------


def test_referrals_completed_and_how_long_it_took(small, login):
    referrals = page(login("director1"), **Q1)["referrals"]

    assert table(referrals) == {
        "Sent": [4],  # R1, R2, R3, R5; R4 was cancelled as a draft
        "Completed": [2],
        "Still under way": [1],
        "Declined": [1],
        "Unresolved": [0],
        "Cancelled after sending": [0],
        "Completion rate (%)": [50],  # the summary's, in the CSV too
        "Average days from need recorded to first referral sent": [7.3],  # (15 + 5 + 2) / 3
        "Average days from referral sent to completed": [10.0],  # (10 + 10) / 2
    }
    assert referrals.summary == "50% of referrals sent were completed."


def test_needs_recorded_and_met_by_domain(small, login):
    assert table(page(login("director1"), **Q1)["needs"]) == {
        "Housing": [0, 1],
        "Identification documents": [1, 0],
        "Income and benefits": [1, 1],
        "Health coverage": [1, 1],
        "Employment and job training": [1, 0],
    }


def test_needs_open_longer_than_30_and_90_days_at_the_end_of_the_period(small, login):
    assert table(page(login("director1"), **Q1)["open_needs"]) == {
        "Housing": [1, 1, 1],  # Rae's, recorded 150 days before March 31
        "Identification documents": [1, 1, 0],  # 38 days
        "Employment and job training": [1, 1, 0],  # 34 days
    }


def test_follow_ups_on_time_late_and_overdue_per_caseworker(small, login):
    assert table(page(login("director1"), **Q1)["follow_ups"]) == {
        "Casey Onewell": [3, 1, 1, 1, 0],
        "Chris Twofold": [1, 1, 0, 0, 0],  # done exactly when due is on time; April 5 is after the period
    }


def test_housing_at_30_90_180_365_days_after_release(small, login):
    assert table(page(login("director1"), **Q1)["housing"]) == {
        "Day 30 after release": [0, 1, 1, 0],  # Pat scored 2 by Jan 14; Quinn never assessed
        "Day 90 after release": [1, 0, 0, 0],  # Pat scored 4 by Mar 15
        "Day 180 after release": [0, 0, 1, 0],  # Sam never assessed
        "Day 365 after release": [1, 0, 0, 0],  # Rae scored 3 in June 2024 (her 5 came after day 365)
    }


def test_housing_day_not_reached_yet(small, login):
    housing = table(page(login("director1"), **{"from": "2025-04-01", "to": "2025-04-30"})["housing"])

    assert housing["Day 90 after release"] == [0, 0, 0, 0]
    assert housing["Day 30 after release"] == [0, 0, 0, 0]
    # Pat's 180th day is June 13 2025: outside April. Quinn's 30th day (March 22) is before April.
    # A period that has not started is refused; one that runs on past today counts what is ahead.
    late = table(page(login("director1"), **{"from": "2025-04-01", "to": "2025-05-31"})["housing"])
    assert late["Day 90 after release"] == [0, 0, 0, 1]  # Quinn's 90th day, May 21, is still ahead


def test_benefits_coverage_and_ids_obtained(small, login):
    assert table(page(login("director1"), **Q1)["benefits"]) == {
        "Income and benefits": [1, 1],
        "Health coverage": [1, 1],
        "Identification documents": [0, 0],
    }


def test_self_sufficiency_change_since_intake(small, login):
    scores = page(login("director1"), **Q1)["scores"]

    assert table(scores) == {
        "Income": [2, 1, 0, 1, 0.5],  # Pat 1 → 3, Rae 3 → 2
        "Housing": [2, 2, 0, 0, 3.0],  # Pat 2 → 4, Rae 1 → 5
    }


def test_housing_takes_the_latest_score_by_the_day_and_the_later_one_of_a_same_day_pair(now, world, login):
    """The figure reads each person's housing scores in (day, assessment) order; ties go to the later one."""
    cw = world.caseworker1
    ann = person(world, "Ann Tie", cw, date(2025, 1, 1))  # day 30: January 31
    AssessmentFactory(exoneree=ann, taken_on=date(2025, 1, 10), scores={"housing": 2})
    AssessmentFactory(exoneree=ann, kind=AssessmentKind.INTERIM, taken_on=date(2025, 1, 31), scores={"housing": 4})
    AssessmentFactory(exoneree=ann, kind=AssessmentKind.INTERIM, taken_on=date(2025, 1, 31), scores={"housing": 1})
    AssessmentFactory(exoneree=ann, kind=AssessmentKind.INTERIM, taken_on=date(2025, 2, 5), scores={"housing": 5})
    ben = person(world, "Ben Income", cw, date(2025, 1, 2))  # scored, but never for housing
    AssessmentFactory(exoneree=ben, taken_on=date(2025, 1, 5), scores={"income": 4})
    cal = person(world, "Cal Onday", cw, date(2025, 1, 3))  # housing 3 on day 30 exactly
    AssessmentFactory(exoneree=cal, taken_on=date(2025, 2, 2), scores={"housing": 3})
    client = login("director1")

    figures = page(client, **Q1)
    assert table(figures["housing"])["Day 30 after release"] == [1, 1, 1, 0]  # Cal; Ann's later 1; Ben
    for row in figures["housing"].rows:  # the drill-down looks each score up on its own: same people
        for cell in row.cells:
            assert client.get(cell.href).context["page"].paginator.count == cell.value, (row.label, cell.href)


def test_self_sufficiency_compares_with_the_first_intake_that_scored_the_domain(now, world, login):
    cw = world.caseworker1
    intake, interim = AssessmentKind.INTAKE, AssessmentKind.INTERIM
    dee = person(world, "Dee Twointakes", cw, date(2024, 11, 20))
    AssessmentFactory(exoneree=dee, kind=intake, taken_on=date(2024, 12, 1), scores={"income": 2})
    AssessmentFactory(exoneree=dee, kind=intake, taken_on=date(2024, 12, 5), scores={"housing": 1, "income": 5})
    AssessmentFactory(exoneree=dee, kind=interim, taken_on=date(2025, 2, 1), scores={"housing": 3, "income": 3})
    eve = person(world, "Eve Nohousing", cw, date(2024, 10, 20))  # latest scores no housing; no intake income
    AssessmentFactory(exoneree=eve, kind=intake, taken_on=date(2024, 11, 1), scores={"housing": 4})
    AssessmentFactory(exoneree=eve, kind=interim, taken_on=date(2025, 1, 10), scores={"housing": 2})
    AssessmentFactory(exoneree=eve, kind=interim, taken_on=date(2025, 3, 1), scores={"income": 3})
    fay = person(world, "Fay Sameday", cw, date(2024, 12, 20))  # two intakes the same day: the first one
    AssessmentFactory(exoneree=fay, kind=intake, taken_on=date(2025, 1, 5), scores={"housing": 3})
    AssessmentFactory(exoneree=fay, kind=intake, taken_on=date(2025, 1, 5), scores={"housing": 5})
    AssessmentFactory(exoneree=fay, kind=interim, taken_on=date(2025, 3, 10), scores={"housing": 3})
    client = login("director1")

    scores = page(client, **Q1)["scores"]
    assert table(scores) == {
        "Income": [1, 1, 0, 0, 1.0],  # Dee 2 → 3
        "Housing": [2, 1, 1, 0, 1.0],  # Dee 1 → 3, Fay 3 → 3
    }
    for row in scores.rows:
        for cell in row.cells:
            if cell.href:
                assert client.get(cell.href).context["page"].paginator.count == cell.value, (row.label, cell.href)


# --- filters ------------------------------------------------------------------------------------


def test_caseworker_filter_keeps_their_caseload_and_their_follow_ups(small, login, world):
    figures = page(login("director1"), **Q1, caseworker=str(world.caseworker2.pk))

    assert table(figures["referrals"])["Sent"] == [1]  # R5, for Sam
    assert list(table(figures["follow_ups"])) == ["Chris Twofold"]
    assert table(figures["needs"]) == {
        "Identification documents": [1, 0],
        "Health coverage": [1, 1],
        "Employment and job training": [1, 0],
    }


def test_domain_filter_keeps_needs_and_referrals_of_that_domain(small, login):
    figures = page(login("director1"), **Q1, domain="housing")

    assert table(figures["needs"]) == {"Housing": [0, 1]}
    assert table(figures["referrals"])["Sent"] == [1]
    assert table(figures["referrals"])["Completed"] == [1]


def test_a_figure_the_need_filter_does_not_narrow_says_so(small, login):
    # The page heads a filtered page "housing needs only": a figure that counts the same with
    # or without the filter (housing after release, the legal figures) must say it is not
    # narrowed, or a director reports every record holder's clearances as housing's.
    figures = page(login("director1"), **Q1, domain="housing")

    for name, figure in figures.items():
        spec = SPECS.get(name)
        narrowed = spec is not None and spec.by_domain
        says_so = "The need-domain filter does not apply" in figure.how
        assert says_so != narrowed, name


def test_default_period_is_the_last_12_months(small, login):
    response = login("director1").get(reverse("outcome_dashboard"))

    filters = response.context["filters"]
    assert (filters.start, filters.end) == (date(2024, 4, 16), date(2025, 4, 15))
    assert "How this is counted" in response.content.decode()


def test_last_month_and_this_month_are_one_click_away_with_the_filters_kept(small, login, world):
    # At the month's end a director reports on the month just gone; typing its two dates into
    # two date boxes was the only way to it.
    client = login("director1")
    response = client.get(reverse("outcome_dashboard"), {"caseworker": world.caseworker1.pk, "domain": "housing"})
    links = dict(re.findall(r'<a href="(\?[^"]+)">((?:Last|This) month[^<]*)</a>', response.content.decode()))
    links = {label: unescape(href) for href, label in links.items()}

    assert set(links) == {"Last month (March 2025)", "This month so far"}
    for label, (start, end) in {
        "Last month (March 2025)": (date(2025, 3, 1), date(2025, 3, 31)),
        "This month so far": (date(2025, 4, 1), date(2025, 4, 15)),
    }.items():
        filters = client.get(reverse("outcome_dashboard") + links[label]).context["filters"]
        assert (filters.start, filters.end, filters.caseworker, filters.domain) == (
            start,
            end,
            world.caseworker1,
            "housing",
        )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2025-02-30"}, "from", "Enter a valid date."),
        ({"to": "yesterday"}, "to", "Enter a valid date."),
        ({"from": "2025-03-01", "to": "2025-01-01"}, "to", "The end of the period cannot be before its start."),
        # "To" left empty is today: the start after it is what to fix (it said so under "To").
        ({"from": "2025-06-01"}, "from", "This is after today, and with “To” left empty the period ends today."),
        ({"from": "2025-06-01", "to": ""}, "from", "Choose a start on or before today, or fill in “To”."),
        ({"from": "0001-01-01"}, "from", "Enter a date between 1900 and 2200."),
        # A period that has not started counted "people served" and "stalled now" as if real.
        ({"from": "2200-12-31", "to": "2200-12-31"}, "from", "This period has not started yet: check the year."),
        ({"from": "2025-04-16", "to": "2025-05-01"}, "from", "This period has not started yet: check the year."),
        # "From" left empty is 12 months before "To": a "To" a year ahead starts after today too.
        ({"to": "2099-01-01"}, "to", "This period has not started yet: check the year."),
        ({"to": "2026-04-16"}, "to", "This period has not started yet: check the year."),
        ({"domain": "astrology"}, "domain", "Select a valid choice."),
        ({"caseworker": "not-a-number"}, "caseworker", "Select a valid choice."),
    ],
)
def test_bad_filters_answer_400_with_the_message_beside_the_field(small, login, params, field, message):
    response = login("director1").get(reverse("outcome_dashboard"), params)

    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert list(response.context["form"].errors) == [field]


def test_a_to_ahead_with_from_left_empty_counts_the_12_months_up_to_it(small, login):
    response = login("director1").get(reverse("outcome_dashboard"), {"to": "2026-04-14"})

    assert response.status_code == 200
    assert (response.context["filters"].start, response.context["filters"].end) == (
        date(2025, 4, 15),
        date(2026, 4, 14),
    )


def test_from_today_with_to_left_empty_is_the_one_day(small, login):
    response = login("director1").get(reverse("outcome_dashboard"), {"from": "2025-04-15", "to": ""})

    assert response.status_code == 200
    filters = response.context["filters"]
    assert (filters.start, filters.end) == (date(2025, 4, 15), date(2025, 4, 15))


def test_to_on_the_first_allowed_day_starts_the_period_there_and_every_figure_link_works(small, login):
    """ "From" left empty is 12 months before "To": before 1900 it was a date the page refuses
    ("From January 2, 1899…"), carried by every figure's link, each of which answered 400."""
    client = login("director1")
    response = client.get(reverse("outcome_dashboard"), {"to": "1900-01-01"})

    assert response.status_code == 200
    filters = response.context["filters"]
    assert (filters.start, filters.end) == (date(1900, 1, 1), date(1900, 1, 1))
    html = response.content.decode()
    assert "1899" not in html
    links = sorted(set(re.findall(r'href="(/director/outcomes/records/\?[^"]+)"', html)))
    assert links
    assert client.get(unescape(links[0])).status_code == 200


def test_caseworker_of_another_organization_is_not_a_valid_filter(small, login, world):
    response = login("director2").get(reverse("outcome_dashboard"), {"caseworker": world.caseworker1.pk})

    assert response.status_code == 400


# --- links to the records, CSV, charts ----------------------------------------------------------


def records(client: Any, **params: str) -> Any:
    return client.get(reverse("outcome_records"), params)


def test_every_number_links_to_exactly_the_records_behind_it(small, login):
    client = login("director1")
    for figure in page(client, **Q1).values():
        for row in figure.rows:
            for cell in row.cells:
                if cell.href:
                    response = client.get(cell.href)
                    assert response.status_code == 200, cell.href
                    if figure.name != "benefits" or "measure=needs" in cell.href:
                        assert response.context["page"].paginator.count == cell.value, (figure.name, row.label)


def test_records_page_says_which_caseworker_and_need_it_is_filtered_to(small, login, world):
    params = {**Q1, "figure": "referrals", "group": "completed", "measure": "count"}

    body = records(
        login("director1"), **params, caseworker=str(world.caseworker1.pk), domain="housing"
    ).content.decode()

    assert "Caseworker: Casey Onewell" in body and "Need: Housing" in body
    assert "Caseworker:" not in records(login("director1"), **params).content.decode()


def test_records_page_names_no_need_filter_its_list_does_not_apply(small, login, world):
    """People served: the outcomes page says the need filter does not apply; its list was headed
    "Need: …" all the same, listing everyone served."""
    client = login("director1")
    params = {"figure": "served", "group": "served", "measure": "people", "domain": "community"}

    filtered, unfiltered = records(client, **params), records(client, **{**params, "domain": ""})

    body = filtered.content.decode()
    assert "Need: Community" not in body and "The need filter does not apply to this list." in body
    assert filtered.context["page"].paginator.count == unfiltered.context["page"].paginator.count > 0


def test_every_figure_says_truly_whether_the_need_filter_narrows_it(small, world):
    """A figure whose list is named "Need: …" narrows to that need; every other one lists the same
    records whichever need is chosen."""
    people = Exoneree.objects.filter(organization=world.org1)
    start, end = date.fromisoformat(Q1["from"]), date.fromisoformat(Q1["to"])
    for spec in SPECS.values():
        for domain in (NeedDomain.HOUSING, NeedDomain.COMMUNITY):
            scopes = [
                Scope(people, OutcomeFilters(start=start, end=end, domain=d), timezone.now(), organization=world.org1)
                for d in ("", domain)
            ]
            every, narrowed = (set(spec.base(scope).values_list("pk", flat=True)) for scope in scopes)
            if spec.by_domain:
                assert narrowed <= every, spec.name
            else:
                assert narrowed == every, spec.name
    assert any(s.by_domain for s in SPECS.values()) and not all(s.by_domain for s in SPECS.values())


def test_records_page_names_the_people_and_links_their_records(small, login):
    response = records(login("director1"), **Q1, figure="referrals", group="completed", measure="count")

    body = response.content.decode()
    assert response.context["page"].paginator.count == 2
    assert "Pat Early" in body
    assert reverse("referral_detail", args=[small["r1"].pk]) in body
    assert reverse("exoneree_detail", args=[small["pat"].pk]) in body


def test_records_page_without_a_period_is_the_last_12_months_and_a_page_past_the_end_is_the_last(small, login):
    """As the outcomes page does, and as the access log shows its last page (walk: both said 404)."""
    cell = {"figure": "referrals", "group": "completed", "measure": "count"}

    response = records(login("director1"), **cell, page="99")

    assert response.status_code == 200
    filters = response.context["filters"]
    assert (filters.start, filters.end) == (date(2024, 4, 16), date(2025, 4, 15))
    assert response.context["page"].number == 1 and response.context["page"].paginator.count == 2


@pytest.mark.parametrize(
    "params",
    [
        {"figure": "nonsense", "group": "x", "measure": "count"},
        {"figure": "needs", "group": "astrology", "measure": "met"},
        {"figure": "needs", "group": "housing", "measure": "nonsense"},
        {"figure": "follow_ups", "group": "999999", "measure": "due"},
        {"figure": "follow_ups", "group": "not-a-number", "measure": "due"},
    ],
)
def test_unknown_cell_is_404(small, login, params):
    assert records(login("director1"), **Q1, **params).status_code == 404


def test_director2_sees_nothing_of_organization_1(small, login, world):
    client = login("director2")
    figures = page(client, **Q1)

    assert all(not figure.rows for name, figure in figures.items() if name in ("needs", "open_needs", "follow_ups"))
    assert table(figures["referrals"])["Sent"] == [0]
    cw1 = str(world.caseworker1.pk)
    assert records(client, **Q1, figure="follow_ups", group=cw1, measure="due").status_code == 404
    listed = records(client, **Q1, figure="needs", group="income", measure="met")
    assert listed.context["page"].paginator.count == 0
    assert "Pat Early" not in listed.content.decode()


def test_csv_file_names_carry_the_caseworker_and_need_by_id_and_code(small, login, world):
    """Two downloads under different filters had one name: now each filter is in it (by id and
    code, never a name), the need only where the figure is narrowed by it."""
    client = login("director1")
    cw1 = world.caseworker1.pk

    def name(figure: str, **params: str) -> str:
        response = client.get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": figure, **params})
        return response["Content-Disposition"].removeprefix('attachment; filename="').removesuffix('"')

    assert name("referrals", domain="housing", caseworker=str(cw1)) == (
        f"referrals_2025-01-01_2025-03-31_housing_caseworker-{cw1}.csv"
    )
    assert name("referrals", domain="housing") == "referrals_2025-01-01_2025-03-31_housing.csv"
    assert name("served", domain="housing") == "served_2025-01-01_2025-03-31.csv"  # the need does not apply
    assert world.caseworker1.last_name not in name("served", caseworker=str(cw1))


def test_a_column_of_percentages_says_so_for_the_csv_where_the_sign_is_lost(small, login):
    # The page shows "40%"; its CSV the number alone, 40: a funder read under "Share" a 40
    # that could be a count, or 0.4 expected.
    for name, figure in page(login("director1"), **Q1).items():
        for row in figure.rows:
            for column, cell in zip(figure.columns[1:], row.cells, strict=True):
                if str(cell.display).endswith("%"):
                    assert column.endswith("(%)"), (name, column)


def test_csv_export_of_each_figure(small, login):
    client = login("director1")
    for name in FIGURES:
        response = client.get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": name})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert f"{name}_2025-01-01_2025-03-31.csv" in response["Content-Disposition"]
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "follow_ups"}
                ).content.decode()
            )
        )
    )
    assert rows == [
        ["Caseworker", "Due", "Done on time", "Done late", "Overdue, not done", "Not due yet"],
        ["Casey Onewell", "3", "1", "1", "1", "0"],
        ["Chris Twofold", "1", "1", "0", "0", "0"],
    ]


def test_each_csv_export_is_in_the_access_log(small, login, world):
    from services.models.audit import AuditEvent

    client = login("director1")
    before = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count()

    client.get(
        reverse("outcome_dashboard"),
        {**Q1, "format": "csv", "figure": "follow_ups", "caseworker": world.caseworker1.pk},
    )

    entry = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).latest("pk")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count() == before + 1
    # The figure by its title and the caseworker by username, as a director reads them.
    assert (entry.actor, entry.target) == (world.director1, "Outcomes: Follow-ups on time, per caseworker (CSV)")
    assert entry.changes["filters"]["caseworker"] == world.caseworker1.username


def test_csv_of_an_unknown_figure_is_404(small, login):
    response = login("director1").get(reverse("outcome_dashboard"), {"format": "csv", "figure": "secrets"})

    assert response.status_code == 404


def test_csv_cells_cannot_run_as_spreadsheet_formulas(small, login, world):
    world.caseworker1.first_name = "=HYPERLINK(1)"
    world.caseworker1.save()

    response = login("director1").get(reverse("outcome_dashboard"), {**Q1, "format": "csv", "figure": "follow_ups"})

    assert "'=HYPERLINK(1) Onewell" in response.content.decode()


def test_charts_are_svg_without_inline_style_or_script(small, login):
    body = login("director1").get(reverse("outcome_dashboard"), Q1).content.decode()

    assert body.count("<svg") >= 6
    assert "style=" not in body
    assert "<script>" not in body and "<script " not in body.replace('<script src="/static/', "")


def test_outcomes_are_linked_from_the_overview_and_the_menu(world, login):
    body = login("director1").get(reverse("director_dashboard")).content.decode()

    assert body.count(f'href="{reverse("outcome_dashboard")}"') == 2


def test_columns_that_overlap_are_drawn_side_by_side_not_stacked(small, login):
    figures = {
        figure.name: figure for figure in login("director1").get(reverse("outcome_dashboard"), Q1).context["figures"]
    }
    for name in ("needs", "open_needs"):
        bars = figures[name].chart
        assert bars
        assert all(len(segments) == 1 and total == segments[0].value for _, segments, total in bars)


# --- the figures' cache (services.figures) ------------------------------------------------------


def shown(client: Any, **params: str) -> tuple[str, int]:
    """The page's body (filters and figures) without a recount, and the page's query count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("outcome_dashboard"), params)
    assert response.status_code == 200
    return response.context["body"], len(queries)


def fresh(client: Any, **params: str) -> str:
    figures.cache().clear()
    return shown(client, **params)[0]


def test_the_page_is_cached_and_says_as_of_when(small, login):
    client = login("director1")
    first, computed = shown(client, **Q1)
    again, cached = shown(client, **Q1)

    assert again == first
    assert cached == 3  # session, user (with the organization and its version), device: nothing counted again
    assert computed > cached
    assert "Figures as of 10:00." in first


def test_a_tracked_write_shows_at_once(small, login, world):
    client = login("director1")
    before, _ = shown(client, **Q1)
    overdue = FollowUp.objects.get(exoneree=small["rae"])

    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=overdue, outcome="Found a room")
    after, _ = shown(client, **Q1)

    assert after != before
    assert after == fresh(client, **Q1)


def test_a_new_need_shows_at_once(small, login, world):
    client = login("director1")
    before, _ = shown(client, **Q1)

    need = Need(domain=NeedDomain.TRANSPORTATION, description="A bus pass", opened_on=date(2025, 3, 3))
    needs.need_create(by=world.caseworker1, exoneree=small["pat"], need=need)
    after, _ = shown(client, **Q1)

    row = '<th scope="row">Transportation</th>'
    assert row not in before and row in after
    assert after == fresh(client, **Q1)


def test_a_new_caseworker_can_be_chosen_at_once(small, login, world):
    client = login("director1")
    shown(client, **Q1)

    staff.staff_create(
        by=world.director1,
        username="newcw",
        first_name="Nova",
        last_name="Newhire",
        email="n@example.org",
        role="caseworker",
    )

    assert "Nova Newhire" in shown(client, **Q1)[0]


def test_figures_about_now_are_counted_again_the_next_minute(small, login, time_machine):
    client = login("director1")
    shown(client, **Q1)
    time_machine.move_to(datetime(2025, 4, 15, 10, 1, tzinfo=NY), tick=False)

    assert "Figures as of 10:01." in shown(client, **Q1)[0]


def test_another_organizations_cached_page_is_never_served(small, login):
    Organization.objects.update(figures_version=7)  # the same version: only the organization tells the keys apart
    theirs, _ = shown(login("director1"), **Q1)

    ours, _ = shown(login("director2"), **Q1)

    assert ours != theirs
    assert "Casey Onewell" in theirs and "Casey Onewell" not in ours
    assert ours == fresh(login("director2"), **Q1)


def test_names_in_charts_and_tables_are_escaped(small, login, world):
    marked = StaffFactory(organization=world.org1, user__first_name="<i>Ivy</i>", user__last_name="Mark").user
    FollowUpFactory(exoneree=small["pat"], assigned_to=marked, due_at=at(3, 3))

    page(login("director1"), **Q1)  # recounts
    content = login("director1").get(reverse("outcome_dashboard"), Q1).content.decode()

    assert "<i>Ivy" not in content
    assert content.count("&lt;i&gt;Ivy&lt;/i&gt; Mark") >= 2  # the chart's label and the table's row


def dashboard(client: Any) -> tuple[dict[str, Any], int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("director_dashboard"))
    assert response.status_code == 200
    context = response.context
    return {
        "referrals": {label: count for label, count, _records in context["referrals_by_status"]},
        "needs": list(context["needs_by_domain"]),
        "caseloads": {row["member"].user_id: (row["caseload"], row["overdue"]) for row in context["caseworkers"]},
        "people": (context["people"], context["people_closed"]),
    }, len(queries)


def test_the_directors_dashboard_counts_come_from_the_cache_until_a_write_changes_them(login, world):
    client = login("director1")
    dashboard(client)  # warms the per-process caches (content types, ...)
    figures.cache().clear()
    before, counted = dashboard(client)
    again, cached = dashboard(client)

    needs.need_set_status(by=world.caseworker1, need=world.marcus.need, status=NeedStatus.MET)
    after, _ = dashboard(client)
    figures.cache().clear()
    recounted, _ = dashboard(client)

    assert again == before
    assert cached == counted - 5  # referrals by status, needs by domain, caseloads, overdue, people
    assert after == recounted != before


def test_the_overviews_caseloads_and_overdue_follow_ups_follow_a_write_at_once(login, world):
    marcus, first, second = world.marcus.exoneree, world.caseworker1.pk, world.caseworker2.pk
    late = FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, due_at=timezone.now() - timedelta(days=2))
    client = login("director1")
    figures.cache().clear()
    before, _ = dashboard(client)

    follow_ups.follow_up_complete(by=world.caseworker1, follow_up=late)
    done, _ = dashboard(client)
    people.caseload_assign(by=world.director1, exoneree=marcus, caseworkers=[world.caseworker2])
    moved, _ = dashboard(client)
    figures.cache().clear()

    assert before["caseloads"][first][1] >= 1
    assert done["caseloads"][first] == (before["caseloads"][first][0], before["caseloads"][first][1] - 1)
    assert moved["caseloads"][first][0] == before["caseloads"][first][0] - 1
    assert moved["caseloads"][second][0] == before["caseloads"][second][0] + 1
    assert moved == dashboard(client)[0]  # as counted afresh


def test_saving_the_whole_organization_never_winds_its_figures_version_back(login, world):
    """The admin's form saves every field of the row it loaded: not the version, which a write
    may have bumped since, or a figure cached before that write would be served again."""
    client = login("director1")
    before, _ = dashboard(client)
    loaded = Organization.objects.get(pk=world.org1.pk)  # as the admin's form loads it

    needs.need_set_status(by=world.caseworker1, need=world.marcus.need, status=NeedStatus.MET)
    loaded.name = "Renamed"
    loaded.save()
    after, _ = dashboard(client)

    assert Organization.objects.get(pk=world.org1.pk).figures_version > loaded.figures_version
    assert after != before
    figures.cache().clear()
    assert after == dashboard(client)[0]


@pytest.mark.parametrize(
    "label, shown",
    [
        ("Casey Onewell", "Casey Onewell"),
        ("A" * 44, "A" * 44),
        (
            "People whose case opened in the period: by referral from a court",
            '<tspan x="0" y="14">People whose case opened in the period: by</tspan> '
            '<tspan x="0" y="34">referral from a court</tspan>',
        ),
        ("<b>Tom & Jerry</b>", "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"),
    ],
)
def test_a_bar_label_is_above_its_bar_escaped_and_whole(label: str, shown: str) -> None:
    """On the line above its bar, from the chart's left edge: never cut at that edge (it was,
    right-aligned in a fixed column); past what a phone's line holds, on over more lines."""
    bar = {"y": 40, "text_y": 53, "parts": [], "lines": outcome_charts._lines(label), "end": 120.0, "total": 3}
    assert f'<text x="0" y="34" class="chart-label">{shown}</text>' in outcome_charts._bar(bar)


def test_bars_whose_labels_differ_only_at_their_end_read_apart(small, login):
    """ "Medical, dental and vision care: open over …" twice, told apart only by colour (walk):
    each label is whole, its bar lower by the lines it takes, the chart taller by them."""
    html = login("director1").get(reverse("outcome_dashboard"), Q1).content.decode()

    chart = html[html.index('<svg viewBox="0 0 480', html.index('id="open_needs')) :]
    chart = chart[: chart.index("</svg>")]
    assert "Employment and job training: open over 30</tspan>" in chart  # "days" on the next line
    labels = re.findall(r'<text x="0"[^>]*class="chart-label">(.*?)</text>', chart)
    words = [re.sub(r"<[^>]+>", "", label) for label in labels]
    assert "Employment and job training: open over 30 days" in words
    assert "Employment and job training: open over 90 days" in words
    assert len(set(words)) == len(words) and "…" not in chart


def test_a_cells_link_to_its_records_is_the_query_string_urlencode_makes(world):
    today = date(2026, 6, 30)
    filters = OutcomeFilters(start=date(2026, 1, 1), end=today, caseworker=world.caseworker1, domain="housing")
    scope = Scope(Exoneree.objects.none(), filters, timezone.now(), organization=world.org1)
    base = f"{reverse('outcome_records')}?{urlencode(filters.params())}"
    for spec, group, measure in [
        (SPECS["needs"], "housing", "met"),
        (SPECS["follow_ups"], world.caseworker1.pk, "late"),  # a caseworker's row: their id
        (SPECS["records"], "a & b=c/ d+é", "count"),  # whatever a row's key holds, quoted
        (SPECS["needs"], "housing", "met"),  # again: from what the page quoted before
    ]:
        expected = f"{base}&{urlencode({'figure': spec.name, 'group': group, 'measure': measure})}"
        assert records_url(scope, spec, group, measure) == expected
