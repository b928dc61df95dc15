"""The Network's figures (/network/): counts summed over the organizations that share them, small
cells hidden, for the Network's analysts only.

"Now" is April 15, 2025, 10:00 in New York; the period is the page's default, the last 12
months. The world's own records are dated when it was built, after "now", so every number
below comes from `build`: per person, a release 100+ days ago, an intake and a later
assessment, a need with one referral sent (completed, declined or still sent), and follow-ups
done on time, done late (every other person) and overdue.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from services import access, outcome_counts
from services.choices import AssessmentDomain, AssessmentKind, ReferralStatus
from services.lib.suppression import Hidden, suppressed
from services.models.audit import AuditEvent
from services.models.network import NetworkAnalyst
from services.models.organizations import Organization
from services.models.outcomes import OutcomeCount
from services.models.people import Exoneree
from services.outcomes import network, report
from services.outcomes.follow_ups import FOLLOW_UP_MEASURES
from services.outcomes.scope import OutcomeFilters
from services.outcomes.wellbeing import HOUSING, SCORE_MEASURES
from tests.conftest import World
from tests.factories import (
    AssessmentFactory,
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    OrganizationFactory,
    ResourceFactory,
    StaffFactory,
)
from tests.test_outcomes import referral

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

NY = zoneinfo.ZoneInfo("America/New_York")
NOW = datetime(2025, 4, 15, 10, 0, tzinfo=NY)
TODAY = NOW.date()
START = date(2024, 4, 16)  # the default period: 12 months up to today
NETWORK = reverse("network_figures")
S = ReferralStatus


@pytest.fixture
def now(time_machine: Any) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=NY)


def build(organization: Organization, people: int) -> None:
    """`people` people of the organization with one of each thing counted (the module's docstring)."""
    caseworker = StaffFactory(organization=organization).user
    resource = ResourceFactory(organization=organization)
    for i in range(people):
        released = TODAY - timedelta(days=100 + 7 * i)
        person = ExonereeFactory(organization=organization, release_date=released, caseworkers=[caseworker])
        AssessmentFactory(exoneree=person, taken_on=released + timedelta(days=5), scores={"housing": 2, "income": 2})
        later = {"housing": 1 + (2 * i) % 5, "income": 1 + i % 4}
        AssessmentFactory(
            exoneree=person, kind=AssessmentKind.INTERIM, taken_on=released + timedelta(days=60), scores=later
        )
        need = NeedFactory(exoneree=person, opened_on=released + timedelta(days=1))
        sent = at(released + timedelta(days=10))
        ending = [[(S.COMPLETED, sent + timedelta(days=3 + i))], [(S.DECLINED, sent + timedelta(days=1))], []][i % 3]
        referral(need, resource, [(S.SENT, sent), *ending])
        on_time, late = at(released + timedelta(days=20)), at(released + timedelta(days=30))
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=on_time, done_at=on_time - timedelta(hours=1))
        if i % 2:
            FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=late, done_at=late + timedelta(days=3))
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=NOW - timedelta(days=2))
    outcome_counts.recount(organization)


def sharing(world: World, *people: int) -> list[Organization]:
    """The world's two organizations and more, each sharing, with this many people counted each."""
    organizations = [world.org1, world.org2, *(OrganizationFactory() for _ in people[2:])]
    for organization, n in zip(organizations, people, strict=True):
        Organization.objects.filter(pk=organization.pk).update(shares_network_figures=True)
        build(organization, n)
    return organizations


def shown(figures: network.NetworkFigures) -> dict[tuple[str, str, str], Any]:
    """(table, row, column) → the value shown (None when hidden)."""
    return {
        (table.name, label, column): cell.value
        for table in figures.tables
        for label, cells in table.labelled
        for column, cell in cells
    }


def directors_sums(organizations: list[Organization]) -> dict[tuple, int]:
    """The same cells summed over each organization's own director's page (its figures)."""
    filters = OutcomeFilters(start=START, end=TODAY)
    sums: dict[tuple, int] = defaultdict(int)
    for organization in organizations:
        people = Exoneree.objects.current().filter(organization=organization)
        for name in ("referrals", "follow_ups", "housing", "scores"):
            figure = report.outcomes(organization, people, filters, only=name)[0]
            for row in figure.rows:
                keys = {
                    "referrals": ["count"],
                    "follow_ups": list(FOLLOW_UP_MEASURES),
                    "housing": list(HOUSING.measures),
                    "scores": list(SCORE_MEASURES),
                }[name]
                group = "" if name == "follow_ups" else row.key  # a row per caseworker: all of them
                for key, cell in zip(keys, row.cells, strict=False):
                    sums[(name, group, key)] += cell.value or 0
    return sums


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "hidden"), [(0, Hidden.NO), (1, Hidden.SMALL), (10, Hidden.SMALL), (11, Hidden.NO)])
def test_a_count_from_1_to_10_is_hidden_and_0_and_11_are_shown(count, hidden):
    assert suppressed(count, [count], 11)[0] == hidden
    assert suppressed(50, [count, 50 - count - 20, 20], 11)[1][0] == hidden


def test_one_hidden_part_hides_the_next_smallest_part_too():
    total, parts = suppressed(60, [30, 4, 0, 12, 14], 11)

    assert total == Hidden.NO
    assert parts == [Hidden.NO, Hidden.SMALL, Hidden.NO, Hidden.PROTECTS, Hidden.NO]  # 12, not the 0


def test_two_hidden_parts_give_away_only_their_sum_and_hide_nothing_more():
    assert suppressed(61, [40, 4, 6, 11], 11) == (Hidden.NO, [Hidden.NO, Hidden.SMALL, Hidden.SMALL, Hidden.NO])
    assert suppressed(60, [46, 4, 10], 11) == (Hidden.NO, [Hidden.NO, Hidden.SMALL, Hidden.SMALL])


def test_a_hidden_only_part_hides_the_total_and_a_small_total_is_hidden():
    assert suppressed(40, [7], 11) == (Hidden.PROTECTS, [Hidden.SMALL])
    assert suppressed(7, [7, 0], 11) == (Hidden.SMALL, [Hidden.SMALL, Hidden.NO])
    assert suppressed(0, [0, 0], 11) == (Hidden.NO, [Hidden.NO, Hidden.NO])


# --- The figures ------------------------------------------------------------------------------


def test_the_figures_are_the_sums_of_the_sharing_organizations_own_figures(now, world):
    counted = sharing(world, 4, 5, 6)
    build(OrganizationFactory(), 7)  # does not share: counted nowhere below

    figures = network.network_figures(access.network_organizations(world.analyst), START, TODAY, today=TODAY, minimum=1)
    values, sums = shown(figures), directors_sums(counted)

    assert figures.organizations == 3
    referrals = {key: values[("referrals", "Referrals sent", column)] for key, column in REFERRAL_COLUMNS.items()}
    assert referrals == {key: sums[("referrals", key, "count")] for key in REFERRAL_COLUMNS}
    assert referrals["sent"] == 15 and referrals["completed"] == 6  # 4 + 5 + 6 people: the 1st and 4th of each
    assert values[("referrals", "Referrals sent", "Completion rate")] == 40
    follow_ups = {key: values[("follow_ups", "Follow-ups due", column)] for key, column in FOLLOW_UP_COLUMNS.items()}
    assert follow_ups == {key: sums[("follow_ups", "", key)] for key in FOLLOW_UP_COLUMNS}
    assert follow_ups["overdue"] == 15 and follow_ups["late"] == 2 + 2 + 3
    for days in (30, 90, 180, 365):
        row = f"Day {days} after release"
        for key, column in HOUSING_COLUMNS.items():
            assert values[("housing", row, column)] == sums[("housing", str(days), key)], (days, key)
    assert values[("housing", "Day 30 after release", "Stably housed")] == 0  # intake's 2: not yet safe
    assert values[("housing", "Day 90 after release", "People")] == 15
    for domain, label in AssessmentDomain.choices:
        for key, column in SCORE_COLUMNS.items():
            assert values.get(("scores", str(label), column), 0) == sums[("scores", domain, key)], (domain, key)
    assert values[("scores", "Income", "People")] == 15


REFERRAL_COLUMNS = {
    "sent": "Sent",
    "completed": "Completed",
    "under_way": "Still under way",
    "declined": "Declined",
    "unresolved": "Unresolved",
    "cancelled": "Cancelled after sending",
}
FOLLOW_UP_COLUMNS = {
    "due": "Due",
    "on_time": "Done on time",
    "late": "Done late",
    "overdue": "Overdue, not done",
    "upcoming": "Not due yet",
}
HOUSING_COLUMNS = {"housed": "Stably housed", "not_housed": "Not stably housed", "unknown": "Not assessed"}
SCORE_COLUMNS = {"people": "People", "better": "Better", "same": "Same", "worse": "Worse"}


def test_an_organization_that_stops_sharing_is_counted_no_more_and_two_show_nothing(now, world, login):
    first, *_ = sharing(world, 12, 12, 12)
    client = login("analyst")
    three = client.get(NETWORK).context["figures"]

    Organization.objects.filter(pk=first.pk).update(shares_network_figures=False)
    page = client.get(NETWORK)

    assert shown(three)[("referrals", "Referrals sent", "Sent")] == 36
    assert (page.status_code, page.context["figures"].organizations, page.context["figures"].tables) == (200, 2, [])
    html = page.content.decode()
    assert "2 organizations share their counts." in html
    assert "No figure is shown while fewer than 3 organizations share" in html
    assert "format=csv" not in html and "Referrals sent" not in html


def test_small_counts_are_hidden_on_the_page_and_in_the_csv_and_never_sent(now, world, login):
    sharing(world, 9, 9, 9)  # 27 sent: 9 completed, 9 declined, 9 still sent, each hidden
    client = login("analyst")

    response = client.get(NETWORK)
    referrals = response.context["figures"].tables[0]
    download = client.get(NETWORK, {"format": "csv", "table": "referrals"})

    label, cells = referrals.labelled[0]
    assert [(column, cell.text) for column, cell in cells] == [
        ("Sent", "27"),
        ("Completed", "fewer than 11"),
        ("Still under way", "fewer than 11"),
        ("Declined", "fewer than 11"),
        ("Unresolved", "0"),
        ("Cancelled after sending", "0"),
        ("Completion rate", "hidden"),  # made from a hidden count
        ("Average days from sent to completed", "hidden"),
    ]
    assert all(cell.value is None for _, cell in cells[1:4] + cells[6:])
    html = response.content.decode()
    assert "A count from 1 to 10 is shown as “fewer than 11”." in html
    assert html.count("fewer than 11") >= 3 and ">33%<" not in html
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[1] == [
        "Referrals sent",
        "27",
        "fewer than 11",
        "fewer than 11",
        "fewer than 11",
        "0",
        "0",
        "hidden",
        "hidden",
    ]
    assert download["Content-Disposition"] == 'attachment; filename="network_referrals_2024-04-16_2025-04-15.csv"'


def test_a_rate_is_hidden_only_with_a_count_it_is_made_of(world):
    organizations = [world.org1, world.org2, OrganizationFactory()]
    Organization.objects.update(shares_network_figures=True)
    today = timezone.localdate()
    day = today - timedelta(days=5)
    rows = {"sent": 40, "completed": 20, "under_way": 17, "declined": 3}
    OutcomeCount.objects.bulk_create(
        OutcomeCount(organization=organizations[i % 3], figure="referrals", key=key, day=day, count=n)
        for i, (key, n) in enumerate(rows.items())
    )
    two_days = 2 * 86_400_000_000
    OutcomeCount.objects.create(
        organization=world.org1, figure="referrals", key="to_service", day=day, count=20, total=20 * two_days
    )

    figures = network.network_figures(Organization.objects.all(), day, today, today=today, minimum=11)

    assert [cell.text for _, cell in figures.tables[0].labelled[0][1]] == [
        *("40", "20", "hidden", "fewer than 11", "0", "0"),  # 17, the next smallest after the 3
        *("50%", "2"),  # made of the sent and the completed, both shown
    ]


def test_the_minimum_is_the_settings(now, world, login, settings):
    settings.NETWORK_MIN_CELL = 5
    sharing(world, 9, 9, 9)

    cells = dict(login("analyst").get(NETWORK).context["figures"].tables[0].labelled[0][1])

    assert (cells["Completed"].text, cells["Completion rate"].text) == ("9", "33%")


# --- Who -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["director1", "caseworker1", "exoneree1", "root"])
def test_nobody_but_an_analyst_opens_the_page(login, world, persona):
    assert login(persona).get(NETWORK).status_code == 403


def test_a_visitor_signs_in_first_and_an_analyst_passes_the_second_factor(client, world):
    assert client.get(NETWORK).url == f"{reverse('login')}?next=/network/"

    client.force_login(world.analyst)  # the password only
    response = client.get(NETWORK)

    assert response.url.startswith(reverse("two_factor_setup"))


RECORDS = {
    "get_exoneree": "exoneree",
    "get_need": "need",
    "get_referral": "referral",
    "get_follow_up": "follow_up",
    "get_note": "staff_note",
    "get_assessment": "assessment",
}


@pytest.mark.parametrize("loader", RECORDS)
def test_an_analyst_opens_no_record_and_nobody_else_the_networks_organizations(world, loader):
    with pytest.raises(Http404):
        getattr(access, loader)(world.analyst, getattr(world.marcus, RECORDS[loader]).pk)
    Organization.objects.update(shares_network_figures=True)
    assert not access.network_organizations(world.director1).exists()
    assert access.network_organizations(world.analyst).count() == 2


def test_each_opening_is_one_entry_in_the_access_log_with_the_period(now, world, login):
    sharing(world, 1, 1, 1)
    client = login("analyst")
    before = AuditEvent.objects.count()

    client.get(NETWORK, {"from": "2025-01-01", "to": "2025-03-31"})
    client.get(NETWORK, {"from": "2025-01-01", "to": "2025-03-31", "format": "csv", "table": "housing"})

    opened, downloaded = AuditEvent.objects.order_by("pk")[before:]
    assert (opened.action, opened.actor, opened.organization_id) == (
        AuditEvent.Action.NETWORK_FIGURES_VIEWED,
        world.analyst,
        None,
    )
    assert opened.changes == {"from": "2025-01-01", "to": "2025-03-31", "organizations": 3}
    assert (downloaded.action, downloaded.target) == (
        AuditEvent.Action.EXPORTED,
        "Network's figures: Housing after release (CSV)",
    )


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ({"from": "2025-02-30"}, "from", "Enter a valid date."),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "to", "The end of the period cannot be before its start."),
        ({"from": "2206-01-01"}, "from", "Enter a date between"),
    ],
)
def test_a_bad_period_is_a_400_with_the_message_beside_its_field(now, world, login, query, field, says):
    client = login("analyst")
    before = AuditEvent.objects.count()

    response = client.get(NETWORK, query)

    assert response.status_code == 400
    assert says in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert AuditEvent.objects.count() == before  # nothing was shown


# --- Accounts and sharing ---------------------------------------------------------------------


def test_an_operator_makes_an_analyst_who_chooses_a_password_from_a_printed_link(world, capsys):
    call_command("add_analyst", "Nia.Reed", "nia@example.org", "--first-name", "Nia", "--last-name", "Reed")

    analyst = NetworkAnalyst.objects.get(user__username="nia.reed").user
    printed = capsys.readouterr().out
    assert not analyst.has_usable_password() and (analyst.first_name, analyst.email) == ("Nia", "nia@example.org")
    assert "/accounts/invite/" in printed and mail.outbox == []  # handed over by the operator, never emailed
    assert access.role_of(analyst) == "analyst"

    call_command("add_analyst", "nia.reed", "--remove")

    assert not NetworkAnalyst.objects.filter(user=analyst).exists()
    assert AuditEvent.objects.filter(target="Analyst account nia.reed").count() == 2
    with pytest.raises(CommandError, match="is not an analyst"):
        call_command("add_analyst", "nia.reed", "--remove")


def test_staff_cannot_be_made_an_analyst(world):
    with pytest.raises(CommandError, match="staff"):
        call_command("add_analyst", "caseworker1", "c@example.org")
    assert not NetworkAnalyst.objects.filter(user__username="caseworker1").exists()


def test_a_director_shares_the_organizations_counts_from_its_settings(login, world):
    client = login("director1")
    settings_page = reverse("organization_settings")
    form = client.get(settings_page).context["form"]
    data = {name: value for name, value in form.initial.items() if name != "shares_network_figures"}

    client.post(settings_page, {**data, "shares_network_figures": "on"})

    assert Organization.objects.get(pk=world.org1.pk).shares_network_figures
    assert "counts only" in str(form["shares_network_figures"].help_text)
    entry = AuditEvent.objects.filter(actor=world.director1).latest("pk")
    assert entry.changes["shares_network_figures"] == [False, True]
