"""The director's overview: each count that has a list behind it links to that list, and the
list shows exactly the things counted."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from services import figures
from services.actions import merges, needs
from services.choices import NeedDomain, NeedStatus, ReferralStatus
from services.lifecycle import REFERRAL_OPEN, WITH_PROVIDER
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World
from tests.factories import ExonereeFactory, FollowUpFactory, NeedFactory, ReferralFactory, ResourceFactory
from tests.test_outcomes import page as outcomes_page
from tests.test_outcomes import referral, table

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

# A number that is a link, as the overview draws them: <a href="…">12</a>.
NUMBER_LINK = re.compile(r'<a href="([^"]+)"(?: class="count")?>(?:<span class="tag overdue">)?(\d+)(?:</span>)?</a>')
PEOPLE_LINK = re.compile(r'<a href="([^"]+)">(\d+) (?:person|people) with an open case</a>')
CLOSED_LINK = re.compile(r'<a href="([^"]+)">(\d+) closed cases?</a>')
UNDER_WAY_LINK = re.compile(r'<a href="([^"]+)">(\d+) referrals? under way</a>')


def overview(client) -> str:
    figures.cache().clear()  # counted now, not a minute ago
    response = client.get(reverse("director_dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def listed(client, href: str) -> int:
    response = client.get(unescape(href))
    assert response.status_code == 200, href
    return response.context["page"].paginator.count


@pytest.fixture
def busy(world: World) -> None:
    """More of everything the overview counts: people shared and moved, a duplicate merged
    away (its rows stay, hidden), a closed case, nobody assigned, needs in several states."""
    org = world.org1
    ExonereeFactory(organization=org, legal_name="Sam Shared", caseworkers=[world.caseworker1, world.caseworker2])
    closed = ExonereeFactory(organization=org, legal_name="Cleo Closed", caseworkers=[world.caseworker1])
    Exoneree.objects.filter(pk=closed.pk).update(case_closed_on=timezone.localdate() - timedelta(days=3))
    ExonereeFactory(organization=org, legal_name="Nadia Nobody")
    twin = ExonereeFactory(
        organization=org,
        legal_name="Marcus Whitfield",
        ssn="900123456",
        date_of_birth=date(1970, 3, 14),
        caseworkers=[world.caseworker1],
    )
    merges.merge_people(by=world.director1, kept=world.marcus.exoneree, duplicate=twin)
    NeedFactory(exoneree=world.thomas.exoneree, domain=NeedDomain.BASIC)
    NeedFactory(exoneree=world.thomas.exoneree, domain=NeedDomain.BASIC, status=NeedStatus.IN_PROGRESS)
    for person, caseworker in ((world.thomas.exoneree, world.caseworker2), (closed, world.caseworker1)):
        met = NeedFactory(exoneree=person, domain=NeedDomain.BASIC)
        needs.need_set_status(by=caseworker, need=met, status=NeedStatus.MET)
    # Follow-ups overdue, and some that are not counted so: done, not due yet, a closed case's.
    past, ahead = timezone.now() - timedelta(days=2), timezone.now() + timedelta(days=2)
    for person, caseworker, due, done in (
        (world.marcus.exoneree, world.caseworker1, past, None),
        (world.marcus.exoneree, world.caseworker1, past - timedelta(hours=5), None),
        (world.marcus.exoneree, world.caseworker1, past, past),
        (world.marcus.exoneree, world.caseworker1, ahead, None),
        (closed, world.caseworker1, past, None),
        (world.thomas.exoneree, world.caseworker2, past, None),
    ):
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=due, done_at=done)
    # Referrals in several states, a closed case's among them (the overview counts them all),
    # and a draft, which has gone to nobody.
    for person, status in (
        (world.marcus.exoneree, ReferralStatus.DRAFT),
        (world.marcus.exoneree, ReferralStatus.SENT),
        (world.marcus.exoneree, ReferralStatus.COMPLETED),
        (world.thomas.exoneree, ReferralStatus.IN_PROGRESS),
        (closed, ReferralStatus.SENT),
    ):
        ReferralFactory(need=NeedFactory(exoneree=person), status=status)


def test_every_number_that_links_lists_exactly_what_it_counts(login, world, busy):
    client = login("director1")
    page = overview(client)

    links = [
        *NUMBER_LINK.findall(page),
        *PEOPLE_LINK.findall(page),
        *CLOSED_LINK.findall(page),
        *UNDER_WAY_LINK.findall(page),
    ]
    for href, number in links:
        assert listed(client, href) == int(number), (href, number)
    hrefs = {unescape(href) for href, _ in links}
    # The main ones: the open cases, each caseworker's, nobody assigned, the needs by domain.
    people = reverse("exoneree_list")
    assert people in hrefs
    assert f"{people}?caseworker={world.caseworker1.pk}" in hrefs
    assert f"{people}?caseworker={world.caseworker2.pk}" in hrefs
    assert f"{people}?case=unassigned" in hrefs
    assert f"{people}?case=closed" in hrefs
    # Each caseworker's overdue follow-ups (busy's, besides the world's): the list of exactly those.
    overdue = {unescape(href): int(number) for href, number in links if "due=overdue" in href}
    follow_ups = reverse("follow_up_list")
    assert overdue[f"{follow_ups}?caseworker={world.caseworker1.pk}&due=overdue"] >= 2
    assert overdue[f"{follow_ups}?caseworker={world.caseworker2.pk}&due=overdue"] >= 1
    # The referrals by status, each one, and those under way (sent, not finished): every one ever made.
    referral_links = {href.split("&group=")[1]: href for href in hrefs if "figure=referral_status" in href}
    assert set(referral_links) == {"under_way&measure=count", *(f"{s}&measure=count" for s in ReferralStatus.values)}
    assert [int(n) for href, n in UNDER_WAY_LINK.findall(page)] == [
        Referral.objects.filter(organization=world.org1, status__in=WITH_PROVIDER).count()
    ]
    needs_links = [href for href in hrefs if href.startswith(reverse("outcome_records"))]
    for figure, measure in (("needs", "opened"), ("open_needs", "open"), ("needs", "met")):
        assert any(f"figure={figure}&group=basic&measure={measure}" in href for href in needs_links), figure


def test_referrals_under_way_are_outcomes_still_under_way_and_a_draft_is_not_one(login, world):
    """The overview said "open referrals" and counted drafts; Outcomes' "Still under way", over the
    same dates, did not: a draft has gone to nobody. Now both count the referrals sent and not finished."""
    need, resource = NeedFactory(exoneree=world.marcus.exoneree), ResourceFactory(organization=world.org1)
    sent = timezone.now() - timedelta(days=20)
    later = sent + timedelta(days=1)
    ReferralFactory(need=need, resource=resource)  # a draft
    for moves in (
        [(ReferralStatus.SENT, sent)],
        [(ReferralStatus.SENT, sent), (ReferralStatus.ACCEPTED, later)],
        [(ReferralStatus.SENT, sent), (ReferralStatus.ACCEPTED, later), (ReferralStatus.IN_PROGRESS, later)],
        [(ReferralStatus.SENT, sent), (ReferralStatus.COMPLETED, later)],
        [(ReferralStatus.CANCELLED, sent)],  # called off as a draft
    ):
        referral(need, resource, moves)
    client = login("director1")
    under_way = table(outcomes_page(client, **{"from": "1900-01-01"})["referrals"])["Still under way"][0]

    page = overview(client)

    [(href, number)] = UNDER_WAY_LINK.findall(page)
    drafts = Referral.objects.filter(organization=world.org1, status=ReferralStatus.DRAFT).count()
    assert drafts and int(number) == under_way == listed(client, href) >= 3
    assert int(number) == Referral.objects.filter(organization=world.org1, status__in=REFERRAL_OPEN).count() - drafts


def test_a_caseworkers_open_cases_leave_out_a_duplicate_merged_away(login, world, busy):
    """The merged-away record keeps its caseworkers (hidden, for an undo): not one more person."""
    client = login("director1")
    overview(client)

    rows = {
        row["member"].user_id: row["caseload"]
        for row in client.get(reverse("director_dashboard")).context["caseworkers"]
    }

    carried = listed(client, f"{reverse('exoneree_list')}?caseworker={world.caseworker1.pk}")
    assert rows[world.caseworker1.pk] == carried
    listed_names = [
        p.legal_name for p in client.get(reverse("exoneree_list"), {"caseworker": world.caseworker1.pk}).context["page"]
    ]
    assert listed_names.count("Marcus Whitfield") == 1  # the record kept, not the twin merged into it


def test_a_list_of_needs_from_the_overview_says_every_one_not_a_year_nobody_chose(login, world, busy):
    client = login("director1")
    href = next(unescape(h) for h, _ in NUMBER_LINK.findall(overview(client)) if "figure=needs" in h)

    page = client.get(href).content.decode()

    assert "Every one up to" in page
    assert "January 1, 1900" not in page


def test_the_overview_says_its_counts_are_of_every_date_unlike_the_outcomes_period(login, world, busy):
    # At the month's end a director reads "Completed 7" here and "Completed 4" on Outcomes (the
    # last 12 months): each table says which it counts, and where to count a period.
    page = overview(login("director1"))

    for heading, words in [
        ("Referrals by status", "Every referral, since the first"),
        ("Needs met by domain", "Every need, whenever recorded"),
    ]:
        after = page[page.index(heading) :]
        assert after.index(words) < after.index("<table"), heading
    assert page.count("Outcomes counts them for the period you choose.") == 2


def test_a_switched_off_caseworkers_people_are_counted_once(login, world, busy):
    """Switched off, Chris carried Thomas (alone) and Sam (with Casey): Thomas was counted under
    Chris and again under "Nobody assigned" (walk). Now under nobody assigned only, Sam under Casey."""
    get_user_model().objects.filter(pk=world.caseworker2.pk).update(is_active=False)
    client = login("director1")
    page = overview(client)
    context = client.get(reverse("director_dashboard")).context

    people = reverse("exoneree_list")
    counted = {
        row["member"].user_id: names(client, f"{people}?caseworker={row['member'].user_id}")
        for row in context["caseworkers"]
    }
    unassigned = names(client, f"{people}?case=unassigned")
    assert set(counted) == {world.caseworker1.pk}
    assert "Thomas Okafor" in unassigned and "Sam Shared" in counted[world.caseworker1.pk]
    assert not unassigned & counted[world.caseworker1.pk]
    assert unassigned | counted[world.caseworker1.pk] == names(client, people)
    assert [row["member"].user_id for row in context["switched_off"]] == [world.caseworker2.pk]
    assert reverse("caseload_move", args=[world.caseworker2.pk]) in page
    assert f"{people}?caseworker={world.caseworker2.pk}" not in unescape(page)


def test_a_switched_off_caseworkers_overdue_follow_ups_are_a_link_like_every_count(login, world):
    """Every other count on the overview opens its list; "1 overdue follow-up" of a switched-off
    caseworker was plain words."""
    thomas = world.thomas.exoneree
    FollowUpFactory(
        exoneree=thomas, title="Call the SSA", assigned_to=world.caseworker2, due_at=timezone.now() - timedelta(days=2)
    )
    get_user_model().objects.filter(pk=world.caseworker2.pk).update(is_active=False)
    client = login("director1")

    page = overview(client)

    switched_off = page[page.index("switched off</span>") :]
    href = re.search(r'<a href="([^"]+)">1 overdue follow-up</a>', switched_off).group(1)
    assert unescape(href) == f"{reverse('follow_up_list')}?caseworker={world.caseworker2.pk}&due=overdue"
    response = client.get(unescape(href))
    assert response.status_code == 200 and "Call the SSA" in response.content.decode()


def names(client, href: str) -> set[str]:
    return {person.legal_name for person in client.get(unescape(href)).context["page"]}


def test_an_old_link_to_the_open_referrals_goes_on_to_those_under_way_with_its_filters(login, world, busy):
    """The overview linked "open referrals" as `group=open` before they became "under way": a
    bookmark of it answered 404. It is sent on to the list under way, its other filters kept."""
    client = login("director1")
    [(href, number)] = UNDER_WAY_LINK.findall(overview(client))
    old = unescape(href).replace("group=under_way", "group=open") + f"&domain={NeedDomain.HOUSING}"

    response = client.get(old)

    assert response.status_code == 301
    assert response["Location"] == unescape(href) + f"&domain={NeedDomain.HOUSING}"
    assert listed(client, response["Location"]) <= int(number)
    assert listed(client, href) == int(number)
    assert client.get(old.replace("group=open", "group=gone")).status_code == 404
