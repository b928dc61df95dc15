"""The resource directory finds a thing by the words people use for it ("food stamps" is SNAP)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from django.urls import reverse

from services.lib import synonyms
from services.lib.synonyms import SynonymsError, Term
from tests.factories import ResourceFactory

GROUPS: list[list[str]] = yaml.safe_load(synonyms.DATA_FILE.read_text(encoding="utf-8"))


def search(login, q: str):
    return login("caseworker1").get(reverse("resource_list") + "?" + urlencode({"q": q}))


def names(response) -> set[str]:
    return {resource.name for resource in response.context["page"]}


@pytest.mark.parametrize("group", GROUPS, ids=[group[0] for group in GROUPS])
def test_each_term_of_a_group_finds_what_every_other_term_names(login, world, group: list[str]) -> None:
    desks = {term: ResourceFactory(organization=world.org1, name=f"Desk for {term}").name for term in group}

    for term in group:
        response = search(login, term)

        assert response.status_code == 200
        assert set(desks.values()) <= names(response), term
        assert response.context["also_searched"] == [other for other in group if other != term]


def test_a_search_says_which_synonyms_it_also_looked_for(login, world) -> None:
    ResourceFactory(organization=world.org1, name="SNAP enrollment desk")

    response = search(login, "Food  Stamps")

    assert names(response) >= {"SNAP enrollment desk"}
    assert "Also searched: SNAP, EBT" in response.content.decode()
    partial = login("caseworker1").get(reverse("resource_list") + "?q=food+stamps", headers={"HX-Request": "true"})
    assert "Also searched: SNAP, EBT" in partial.content.decode()


def test_a_word_with_no_synonym_is_searched_as_before(login, world) -> None:
    ResourceFactory(organization=world.org1, name="Food Pantry")
    ResourceFactory(organization=world.org1, name="Church Pantry")
    ResourceFactory(organization=world.org1, name="SNAP enrollment desk")

    response = search(login, "pantry")

    assert names(response) == {"Food Pantry", "Church Pantry"}
    assert response.context["also_searched"] == []
    assert "Also searched" not in response.content.decode()


@pytest.mark.parametrize(
    ("q", "name"),
    [
        ("high school diploma", "Managed care clinic"),  # "GED" only where a word starts
        ("job", "Neighborhood Network"),  # "work" only where a word starts
        ("food stamps", "Debt counseling"),  # "EBT" added only where a word starts
        ("shelter", "Medicaid office"),  # one group does not lead to another
    ],
)
def test_a_synonym_finds_no_more_than_its_own_thing(login, world, q: str, name: str) -> None:
    ResourceFactory(organization=world.org1, name=name)

    assert name not in names(search(login, q))


@pytest.mark.parametrize(
    ("q", "found", "not_found"),
    [
        ("EBT", {"EBT card help"}, {"Debt counseling"}),
        ("rent", {"Back rent fund", "Rental deposits"}, {"Parent circle"}),
        ("ID", {"State ID clinic", "Idaho legal aid"}, {"Valid papers desk"}),
        ("fo", {"Food Pantry"}, {"Info line"}),
    ],
)
def test_a_short_typed_word_is_found_where_a_word_starts_not_inside_one(
    login, world, q: str, found: set, not_found: set
) -> None:
    """A typed word of four letters or fewer is found where a word starts, never inside one
    ("EBT" found "Debt counseling"); the list searches as the word is typed, so "fo" finds "Food"."""
    for name in found | not_found:
        ResourceFactory(organization=world.org1, name=name, domains=[])

    listed = names(search(login, q))

    assert found <= listed
    assert not (not_found & listed)


@pytest.mark.parametrize(
    ("q", "found", "not_found"),
    [
        ("food stamps", {"SNAP desk", "EBT card help"}, {"Snapshot photo studio", "Debt counseling"}),
        ("state ID", {"IDs replaced"}, {"Identity theft desk", "Idaho legal aid"}),
        ("employment", {"Jobs board"}, {"Jobless claims"}),
    ],
)
def test_a_short_synonym_is_found_as_a_whole_word_or_its_plural(
    login, world, q: str, found: set, not_found: set
) -> None:
    """A synonym of four letters or fewer added to a search is found only as a word of its own, or
    its plural: "food stamps" also searches "SNAP", which is no "Snapshot"."""
    for name in found | not_found:
        ResourceFactory(organization=world.org1, name=name, domains=[])

    listed = names(search(login, q))

    assert found <= listed
    assert not (not_found & listed)


def test_a_longer_word_is_still_found_inside_a_word(login, world) -> None:
    ResourceFactory(organization=world.org1, name="Workforce pantries", domains=[])

    assert "Workforce pantries" in names(search(login, "pantr"))


def test_a_phrase_is_one_term_and_other_words_still_narrow(login, world) -> None:
    ResourceFactory(organization=world.org1, name="SNAP desk", city="Austin")
    ResourceFactory(organization=world.org1, name="SNAP desk", city="Dallas")

    response = search(login, "food stamps austin")

    assert [r.city for r in response.context["page"]] == ["Austin"]


def test_terms_keeps_a_phrase_of_the_file_together() -> None:
    assert synonyms.terms("Food  Stamps near DRIVER’S license") == [
        Term("Food Stamps", ("SNAP", "EBT")),
        Term("near"),
        Term("DRIVER’S license", ("ID", "state ID")),
    ]
    assert synonyms.terms("stamps") == [Term("stamps")]


def test_every_term_is_in_one_group_only() -> None:
    keys = [synonyms.key(term) for group in GROUPS for term in group]
    assert len(keys) == len(set(keys)) == len(synonyms.groups())


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([["SNAP", "food stamps"], ["snap", "EBT"]], "'snap' is in two groups"),
        ([["SNAP"]], "two terms or more"),
        ([["SNAP", ""]], "non-empty text"),
        ([["SNAP", "one two three four five"]], "longer than 4 words"),
        ({"SNAP": "food stamps"}, "expected a list of groups"),
    ],
)
def test_a_bad_synonym_file_is_refused_and_named(tmp_path: Path, groups, message: str) -> None:
    bad = tmp_path / "synonyms.yaml"
    bad.write_text(yaml.safe_dump(groups), encoding="utf-8")

    with pytest.raises(SynonymsError) as refused:
        synonyms.load(bad)

    assert message in str(refused.value)
