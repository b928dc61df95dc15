"""Restricted records (issue 23): only the person's assigned caseworkers and the directors see them.

The crawl walks every page of the access table (tests/test_access.py), so a page added there is
crawled here too: for a colleague who opened Marcus by emergency access before he was
restricted (caseworker2) and for the other organization's staff, Marcus's name and id appear
on no list, search or dashboard, and his page is a 404; the directors' outcome totals are the
same before and after. Every opening of his record tells the directors who opened it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from services import access
from services.actions import emergency, restriction
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.outcomes import report
from services.outcomes.scope import OutcomeFilters
from tests.conftest import World
from tests.sample_files import document_for
from tests.test_access import PAGES, Page

REASON = "He called the hotline in crisis; his caseworker is away."
OUTSIDERS = ("caseworker2", "caseworker3", "director2")


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def restrict_marcus(w: World) -> None:
    restriction.restriction_set(by=w.director1, exoneree=w.marcus.exoneree, restricted=True, reason="Victim safety")


def traces_of_marcus(w: World) -> re.Pattern[str]:
    """His name, and links or ids that point at his record ("Marcus" alone also names the
    world's "Marcus Housing Help", a resource every colleague sees)."""
    pk = w.marcus.exoneree.pk
    return re.compile(rf"Whitfield|/people/{pk}/|\"id\":\s*{pk}\b")


class _RollBack(Exception):
    pass


def answer_in_savepoint(client: Any, page: Page, world: World) -> tuple[int, str]:
    """One page's GET after its setup, undone afterwards (setups may not run twice)."""
    result: tuple[int, str] = (0, "")
    try:
        with transaction.atomic():
            if page.setup:
                page.setup(world)
            response = client.get(page.url(world))
            body = b"".join(response.streaming_content) if response.streaming else response.content
            result = (response.status_code, body.decode(errors="replace"))
            raise _RollBack
    except _RollBack:
        return result


# The provider's page is no staff page: whoever holds the link of a referral the person agreed
# to share with that provider reads what the referral carries (tests/test_referral_loop.py).
NOT_STAFF_PAGES = {"provider_referral"}
# A transfer the person consented to is addressed to the receiving organization's director, who
# must see whom they accept (its setup proposes one to org2); it is that director's page, not a
# colleague's (tests/test_transfer.py).
ADDRESSED_TO_THEM = {"transfer_answer"}
GET_PAGES = [page for page in PAGES if "GET" in page.methods and page.name not in NOT_STAFF_PAGES | ADDRESSED_TO_THEM]


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_a_restricted_person_vanishes_from_every_page_of_everyone_else(login, world, persona):
    if persona == "caseworker2":  # a colleague who opened him by emergency access before
        emergency.emergency_access_grant(by=world.caseworker2, exoneree=world.marcus.exoneree, reason=REASON)
    client = login(persona)
    traces = traces_of_marcus(world)
    if persona == "caseworker2":  # the grant shows him, until he is restricted
        assert client.get(world.marcus.exoneree.get_absolute_url()).status_code == 200
        assert traces.search(client.get(reverse("exoneree_list")).content.decode())
    restrict_marcus(world)

    seen = {}
    for page in GET_PAGES:
        status, body = answer_in_savepoint(client, page, world)
        if status == 200 and (found := traces.search(body)):
            seen[page.name] = found.group(0)

    assert seen == {}
    assert client.get(world.marcus.exoneree.get_absolute_url()).status_code == 404
    for name in ("api:people", "api:root"):
        response = client.get(reverse(name))
        assert response.status_code in (200, 403) and not traces.search(response.content.decode())
    assert client.get(reverse("api:person", args=[world.marcus.exoneree.pk])).status_code in (403, 404)


def test_his_caseworker_and_the_directors_still_see_him(login, world):
    restrict_marcus(world)
    marcus = world.marcus.exoneree

    for persona in ("caseworker1", "director1"):
        client = login(persona)
        assert client.get(marcus.get_absolute_url()).status_code == 200
        assert "Marcus Whitfield" in client.get(reverse("exoneree_list")).content.decode()
    assert set(access.exonerees_visible_to(world.caseworker1)) == {marcus}


def test_the_directors_outcome_totals_are_the_same_before_and_after(world):
    today = timezone.localdate()
    filters = OutcomeFilters(start=today.replace(year=today.year - 1), end=today)

    def totals() -> list[tuple[str, list[list[Any]]]]:
        people = access.exonerees_visible_to(world.director1)
        figures = report.outcomes(world.org1, people, filters)
        return [(f.name, [[cell.value for cell in row.cells] for row in f.rows]) for f in figures]

    before = totals()
    restrict_marcus(world)

    assert totals() == before
    assert dict(before)["served"] == [[2], [2], [0]]  # Marcus and Thomas, counted


def test_emergency_search_and_the_intake_check_find_nothing(login, world):
    restrict_marcus(world)
    client = login("caseworker2")
    data = {"legal_name": "Marcus Whitfield", "date_of_birth": "1970-03-14", "reason": REASON, "confirm": "on"}

    response = client.post(reverse("emergency_access_request"), data)

    assert response.status_code == 400
    assert "No single record in your organization matches" in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    intake = client.post(
        reverse("exoneree_create"),
        {"legal_name": "Marcus Whitfield", "date_of_birth": "1970-03-14", "ssn": "900-12-3456"}
        | {"preferred_language": "en", "contact_preference": "in_person", "reminder_channel": "email"},
    )
    assert intake.status_code == 302  # no warning: nothing tells him a record exists
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DUPLICATE_WARNING).exists()


def test_an_emergency_grant_made_before_stops_opening_him(world):
    emergency.emergency_access_grant(by=world.caseworker2, exoneree=world.marcus.exoneree, reason=REASON)
    assert world.marcus.exoneree in access.exonerees_visible_to(world.caseworker2)

    restrict_marcus(world)

    assert world.marcus.exoneree not in access.exonerees_visible_to(world.caseworker2)


def test_every_opening_tells_the_directors_who_opened_it(login, world):
    restrict_marcus(world)
    marcus = world.marcus.exoneree

    caseworker = login("caseworker1")
    caseworker.get(marcus.get_absolute_url())
    caseworker.get(reverse("exoneree_legal", args=[marcus.pk]))
    caseworker.get(reverse("api:person", args=[marcus.pk]))
    document = document_for(marcus, world.caseworker1)
    assert caseworker.get(reverse("document_download", args=[document.pk])).status_code == 200
    caseworker.post(reverse("exoneree_ssn_reveal", args=[marcus.pk]))  # not an opening of a page
    login("director1").get(marcus.get_absolute_url())  # a director is not told of their own

    told = list(Notification.objects.filter(user=world.director1).order_by("pk"))
    assert [n.text for n in told] == ["Casey Onewell opened a restricted record."] * 4
    assert {n.url for n in told} == {reverse("exoneree_access_log", args=[marcus.pk])}
    assert not Notification.objects.exclude(user=world.director1).exists()


def test_unrestricted_records_tell_nobody(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())

    assert not Notification.objects.exists()


def test_the_director_restricts_and_lifts_with_a_reason_in_the_log(login, world):
    client = login("director1")
    url = reverse("restriction", args=[world.marcus.exoneree.pk])
    assert client.post(url, {"reason": "   "}).status_code == 400

    assert client.post(url, {"reason": "Press attention"}).status_code == 302
    marcus = Exoneree.objects.get(pk=world.marcus.exoneree.pk)
    assert (marcus.restricted, marcus.restricted_reason, marcus.restricted_by) == (
        True,
        "Press attention",
        world.director1,
    )
    assert "Restricted record" in client.get(marcus.get_absolute_url()).content.decode()

    assert client.post(url, {"reason": "The trial is over"}).status_code == 302
    marcus.refresh_from_db()
    assert (marcus.restricted, marcus.restricted_reason, marcus.restricted_at) == (False, "", None)
    entry = AuditEvent.objects.filter(target=f"Exoneree {marcus.pk}", action="record_changed").latest("pk")
    assert entry.changes["reason"] == "The trial is over"
    assert entry.changes["restricted"] == [True, False]
