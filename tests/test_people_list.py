"""The People list (staff): a director narrows it to one caseworker's people, with the
search and the case state; the filter never shows anyone more than the access rules do."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from services import access
from services.choices import Role
from services.models.people import Exoneree
from services.views.cases import PAGE_SIZE
from tests.conftest import World
from tests.factories import ExonereeFactory, FollowUpFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

PEOPLE = reverse("exoneree_list")


def listed(response) -> set[str]:
    return {person.legal_name for person in response.context["page"]}


def caseload(world: World, caseworker, **case) -> set[str]:
    """Whom the caseworker carries, as the director sees them (open cases unless said)."""
    people = access.exonerees_visible_to(world.director1).filter(caseworkers=caseworker)
    return set(people.filter(**(case or {"case_closed_on__isnull": True})).values_list("legal_name", flat=True))


def test_a_director_sees_one_caseworkers_people_only(login, world):
    shared = ExonereeFactory(
        organization=world.org1, legal_name="Sam Shared", caseworkers=[world.caseworker1, world.caseworker2]
    )
    director = login("director1")

    first = director.get(PEOPLE, {"caseworker": world.caseworker1.pk})
    second = director.get(PEOPLE, {"caseworker": world.caseworker2.pk})

    assert first.status_code == second.status_code == 200
    assert listed(first) == caseload(world, world.caseworker1)
    assert listed(second) == caseload(world, world.caseworker2)
    assert {world.marcus.exoneree.legal_name, shared.legal_name} <= listed(first)
    assert world.thomas.exoneree.legal_name not in listed(first)
    assert shared.legal_name in listed(second)
    # The choice stays chosen on the page it answers.
    assert f'<option value="{world.caseworker1.pk}" selected>' in first.content.decode()


def test_the_caseworker_filter_goes_with_the_search_and_the_case_state(login, world):
    ExonereeFactory(organization=world.org1, legal_name="Marcus Other", caseworkers=[world.caseworker2])
    closed = ExonereeFactory(organization=world.org1, legal_name="Marcus Closed", caseworkers=[world.caseworker1])
    Exoneree.objects.filter(pk=closed.pk).update(case_closed_on=world.marcus.exoneree.created_at.date())
    director = login("director1")

    searched = director.get(PEOPLE, {"q": "marcus", "caseworker": world.caseworker1.pk})
    closed_ones = director.get(PEOPLE, {"case": "closed", "caseworker": world.caseworker1.pk})

    assert "Marcus Other" not in listed(searched) and "Marcus Closed" not in listed(searched)
    assert world.marcus.exoneree.legal_name in listed(searched)
    assert listed(closed_ones) == caseload(world, world.caseworker1, case_closed_on__isnull=False)
    assert "Marcus Closed" in listed(closed_ones)


def test_the_pages_of_one_caseworkers_people_keep_the_filter(login, world):
    for i in range(PAGE_SIZE + 1):
        ExonereeFactory(organization=world.org1, legal_name=f"Carried {i:03}", caseworkers=[world.caseworker2])
    director = login("director1")

    response = director.get(PEOPLE, {"caseworker": world.caseworker2.pk, "case": "all"})

    page = unescape(response.content.decode())
    assert response.context["page"].paginator.count == len(caseload(world, world.caseworker2, pk__isnull=False))
    assert f"caseworker={world.caseworker2.pk}&case=all&page=2" in page
    second = director.get(PEOPLE, {"caseworker": world.caseworker2.pk, "case": "all", "page": 2})
    assert listed(second) <= caseload(world, world.caseworker2, pk__isnull=False)


def test_the_choices_are_the_organizations_caseworkers_switched_off_ones_said_so(login, world):
    gone = UserFactory(username="gone@merp", first_name="Gale", last_name="Gone", is_active=False)
    StaffFactory(user=gone, organization=world.org1, role=Role.CASEWORKER)

    form = login("director1").get(PEOPLE).context["form"]

    choices = {label for _, label in form.fields["caseworker"].choices}
    assert {"Anyone", "Gale Gone (switched off)"} <= choices
    offered = set(form.fields["caseworker"].queryset)
    assert {world.caseworker1, world.caseworker2, gone} <= offered
    assert world.caseworker3 not in offered and world.director1 not in offered


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5", str(2**63), str(2**70), "caseworker3", "director1"])
def test_a_caseworker_not_of_the_organization_or_not_a_number_is_said_beside_the_field(login, world, value):
    """Never a 500: the message is beside the field, and the other filters still apply."""
    named = {"caseworker3": world.caseworker3.pk, "director1": world.director1.pk}
    chosen = named.get(value, value)

    response = login("director1").get(PEOPLE, {"caseworker": chosen, "q": "marcus"})

    assert response.status_code == 400
    assert 'id="id_caseworker_error"' in response.content.decode()
    assert "Select a valid choice" in response.content.decode()
    assert world.marcus.exoneree.legal_name in listed(response)
    assert world.thomas.exoneree.legal_name not in listed(response)


def test_a_caseworkers_list_is_never_widened_by_naming_a_colleague(login, world):
    caseworker = login("caseworker1")
    own = listed(caseworker.get(PEOPLE))

    response = caseworker.get(PEOPLE, {"caseworker": world.caseworker2.pk})

    assert response.status_code == 200
    assert listed(response) == own
    assert world.thomas.exoneree.legal_name not in listed(response)
    assert 'name="caseworker"' not in response.content.decode()  # the question is the director's


def test_a_person_who_goes_by_another_name_is_listed_by_it_with_the_legal_name_after(login, world):
    ExonereeFactory(
        organization=world.org1, legal_name="Anthony Reyes", preferred_name="Tony", caseworkers=[world.caseworker1]
    )
    ExonereeFactory(
        organization=world.org1, legal_name="Rosa Vega", preferred_name="Rosa Vega", caseworkers=[world.caseworker1]
    )
    client = login("caseworker1")

    for page in (client.get(PEOPLE), client.get(reverse("dashboard"))):
        text = unescape(page.content.decode())
        assert 'Tony</a> <span class="muted">(Anthony Reyes)</span>' in text
        assert "(Rosa Vega)" not in text  # the same name twice says nothing


@pytest.mark.parametrize(
    "query",
    [
        {"q": "x" * 5000},
        {"q": "\x00"},
        {"case": "everything"},
        {"case": ["open", "closed"]},
        {"page": "-1"},
        {"page": "9" * 30},
        {"caseworker": "abc", "page": "2"},
    ],
    ids=["long-search", "nul", "unknown-case", "two-cases", "negative-page", "huge-page", "caseworker-and-page"],
)
def test_a_caseworkers_list_answers_bad_filters_without_an_error(login, world, query):
    """The access table fuzzes People as the director (who has the caseworker filter); the
    caseworker's own list, through the permission filter, gets the same bad values here."""
    response = login("caseworker1").get(PEOPLE, query)

    assert response.status_code in (200, 400)
    assert world.thomas.exoneree.legal_name not in listed(response)


# --- the search by name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_file", "typed"),
    [
        ("Delia Ruiz", "Délia"),
        ("Délia Ruiz", "delia"),
        ("José Ortega", "Jose"),
        ("Jose Ortega", "JOSÉ ortega"),
        ("Ana Muñoz", "Munoz"),
        ("Ana Munoz", "muñoz"),
        ("Seán O'Neil-Barry", "sean oneil"),
        ("Seán O'Neil-Barry", "O'Neil"),
    ],
)
def test_the_search_ignores_accents_case_and_punctuation_both_ways(login, world, on_file, typed):
    ExonereeFactory(organization=world.org1, legal_name=on_file, caseworkers=[world.caseworker1])

    response = login("caseworker1").get(PEOPLE, {"q": typed})

    assert response.status_code == 200
    assert listed(response) == {on_file}


def test_the_search_finds_the_preferred_name_and_every_word_must_match(login, world):
    ExonereeFactory(
        organization=world.org1, legal_name="Jesús Ramírez", preferred_name="Chúy", caseworkers=[world.caseworker1]
    )
    client = login("caseworker1")

    assert listed(client.get(PEOPLE, {"q": "chuy ramirez"})) == {"Jesús Ramírez"}
    assert listed(client.get(PEOPLE, {"q": "chuy whitfield"})) == set()


def test_a_renamed_person_is_found_by_the_new_name_only(login, world):
    """A save of only the name (as a merge saves) refreshes what the search compares."""
    person = ExonereeFactory(organization=world.org1, legal_name="Zoe Before", caseworkers=[world.caseworker1])
    person.legal_name, person.preferred_name = "Zoë Après", "Zozo"
    person.save(update_fields=["legal_name", "preferred_name"])
    client = login("caseworker1")

    assert listed(client.get(PEOPLE, {"q": "apres"})) == {"Zoë Après"}
    assert listed(client.get(PEOPLE, {"q": "zozo"})) == {"Zoë Après"}
    assert listed(client.get(PEOPLE, {"q": "before"})) == set()


def test_the_search_still_shows_only_whom_the_user_may_see(login, world):
    ExonereeFactory(organization=world.org1, legal_name="Tomás Elsewhere", caseworkers=[world.caseworker2])

    response = login("caseworker1").get(PEOPLE, {"q": "tomas"})

    assert listed(response) == set()


def test_a_caseworker_switched_off_is_said_so_and_whom_nobody_else_carries_is_unassigned(login, world):
    """Chris, switched off, was still named as Thomas's caseworker with nothing said (walk); the
    list now says so, and says "Unassigned" exactly where "nobody is assigned to" finds them."""
    ExonereeFactory(
        organization=world.org1, legal_name="Sam Shared", caseworkers=[world.caseworker1, world.caseworker2]
    )
    get_user_model().objects.filter(pk=world.caseworker2.pk).update(is_active=False)
    director = login("director1")

    rows = person_rows(director.get(PEOPLE))

    assert "Chris Twofold switched off · Unassigned" in rows["Thomas Okafor"]
    assert "Casey Onewell, Chris Twofold switched off" in rows["Sam Shared"]
    assert "Unassigned" not in rows["Sam Shared"] and "switched off" not in rows["Marcus Whitfield"]
    said_unassigned = {name for name, row in rows.items() if "Unassigned" in row}
    assert listed(director.get(PEOPLE, {"case": "unassigned"})) == said_unassigned
    page = unescape(director.get(world.thomas.exoneree.get_absolute_url()).content.decode())
    assert "Chris Twofold switched off · Unassigned" in " ".join(re.sub(r"<[^>]+>", "", page).split())


def person_rows(response) -> dict[str, str]:
    """Each row of the list as its text, by the person's name."""
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S)
    texts = [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    texts = [text.replace(" ,", ",") for text in texts]
    return {
        person.legal_name: next(t for t in texts if t.startswith(person.display_name))
        for person in response.context["page"]
    }


def test_a_next_follow_up_already_past_is_marked_overdue_in_words(login, world):
    late = ExonereeFactory(organization=world.org1, legal_name="Lena Late", caseworkers=[world.caseworker1])
    soon = ExonereeFactory(organization=world.org1, legal_name="Sol Soon", caseworkers=[world.caseworker1])
    FollowUpFactory(exoneree=late, assigned_to=world.caseworker1, due_at=timezone.now() - timedelta(hours=2))
    FollowUpFactory(exoneree=soon, assigned_to=world.caseworker1, due_at=timezone.now() + timedelta(days=2))

    html = login("caseworker1").get(PEOPLE).content.decode()

    rows = {name: row_of(html, name) for name in ("Lena Late", "Sol Soon")}
    assert '<span class="tag overdue">Overdue</span>' in rows["Lena Late"]
    assert "Overdue" not in rows["Sol Soon"]


def row_of(html: str, name: str) -> str:
    start = html.index(name)
    return html[html.rindex("<tr>", 0, start) : html.index("</tr>", start)]
