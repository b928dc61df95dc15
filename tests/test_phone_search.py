"""Finding a person by the number that called: People and the API's `?q=` compare the blind
index of the whole number (`phone_index`), however it was written, and only among the people
the searcher may see."""

from __future__ import annotations

import importlib
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from services.actions import api_tokens
from services.fields import index_phone, looks_like_phone
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from tests.conftest import World
from tests.factories import ExonereeFactory
from tests.test_api import api, v1
from tests.test_contact_fields import edit_data

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

PEOPLE = reverse("exoneree_list")
MARCUS_PHONE = "(312) 555-0150"
THOMAS_PHONE = "312-555-0177"


def give_phone(person: Exoneree, phone: str) -> Exoneree:
    """The number saved as an edit saves it (the index is derived on save)."""
    person.phone = phone
    person.save(update_fields=["phone"])
    return person


def found(client: Client, q: str) -> set[str]:
    response = client.get(PEOPLE, {"q": q, "case": "all"})
    assert response.status_code == 200
    return {person.legal_name for person in response.context["page"]}


@pytest.fixture
def phones(world: World) -> World:
    """Marcus (caseworker1's) and Thomas (caseworker2's) of Harbor Light have numbers; Anita of
    New Dawn has Marcus's number."""
    give_phone(world.marcus.exoneree, MARCUS_PHONE)
    give_phone(world.thomas.exoneree, THOMAS_PHONE)
    give_phone(world.anita.exoneree, MARCUS_PHONE)
    return world


@pytest.mark.parametrize(
    "written",
    ["+1 (555) 010-2030", "555-010-2030", "5550102030", "1 555 010 2030", "555.010.2030", "(555) 010-2030 ext. 12"],
)
def test_every_way_of_writing_a_us_number_is_indexed_alike(written):
    assert index_phone(written) == "5550102030"


@pytest.mark.parametrize("written", ["", "988", "555-01", "123456"])
def test_a_number_too_short_to_call_gets_no_index(written):
    assert index_phone(written) == ""
    assert Exoneree._meta.get_field("phone_index").candidates(written) == []


@pytest.mark.parametrize(
    ("q", "phone"),
    [
        ("555-0123", True),  # a local number, 7 digits
        ("+1 (312) 555-0150", True),
        ("312 555 0150 x12", True),
        ("900123456", True),  # nine digits, not written as an SSN is
        ("900-12-3456", False),  # an SSN as it is written: People does not search SSNs
        ("555-012", False),  # 6 digits
        ("Marcus 3125550150", False),  # a name with digits is a name search
        ("Marcus", False),
        ("", False),
    ],
)
def test_what_the_search_takes_for_a_phone_number(q, phone):
    assert looks_like_phone(q) is phone


@pytest.mark.parametrize(
    "q", [MARCUS_PHONE, "312-555-0150", "3125550150", "+1 312 555 0150", "1-312-555-0150", "(312)555.0150"]
)
def test_a_caseworker_finds_their_person_by_the_number_written_any_way(login, phones, q):
    assert found(login("caseworker1"), q) == {"Marcus Whitfield"}


def test_part_of_a_number_finds_nobody(login, phones):
    client = login("caseworker1")

    assert found(client, "555-0150") == set()  # the last seven digits only
    assert found(client, "312555015") == set()


def test_a_number_that_is_someone_elses_does_not_find_the_person(login, phones):
    director = login("director1")

    assert found(director, THOMAS_PHONE) == {"Thomas Okafor"}
    assert found(director, MARCUS_PHONE) == {"Marcus Whitfield"}
    assert found(director, "(312) 555-0199") == set()  # nobody's


def test_a_person_of_another_organization_with_the_same_number_is_not_found(login, phones):
    assert found(login("director1"), MARCUS_PHONE) == {"Marcus Whitfield"}
    assert found(login("director2"), MARCUS_PHONE) == {"Anita Ramirez"}
    assert found(login("caseworker3"), MARCUS_PHONE) == {"Anita Ramirez"}


def test_a_caseworker_does_not_find_a_person_they_may_not_see_by_their_number(login, phones):
    assert found(login("caseworker1"), THOMAS_PHONE) == set()  # caseworker2's person
    assert found(login("caseworker2"), THOMAS_PHONE) == {"Thomas Okafor"}


def test_an_ssn_typed_into_people_finds_nobody_by_it_and_nine_digits_are_a_phone(login, world):
    """The overlap: People does not search SSNs (a full SSN is shown only when asked, and
    looked up only by intake's and emergency access's logged checks). An SSN as it is written
    is not taken for a phone number; nine bare digits are one, and find only that phone."""
    ExonereeFactory(
        organization=world.org1, legal_name="Nina Nine", phone="900 123 456", caseworkers=[world.caseworker1]
    )
    client = login("caseworker1")

    assert world.marcus.exoneree.ssn == "900123456"
    assert found(client, "900-12-3456") == set()
    assert found(client, "900123456") == {"Nina Nine"}


def test_an_edit_of_the_phone_moves_the_index_to_the_new_number(login, phones):
    client = login("caseworker1")
    marcus = phones.marcus.exoneree

    response = client.post(
        reverse("exoneree_edit", args=[marcus.pk]), {**edit_data(client, marcus), "phone": "773.555.0101"}
    )

    assert response.status_code == 302, response.context["form"].errors
    assert Exoneree.objects.get(pk=marcus.pk).phone_index in Exoneree._meta.get_field("phone_index").candidates(
        "+1 773 555 0101"
    )
    assert found(client, "7735550101") == {"Marcus Whitfield"}
    assert found(client, MARCUS_PHONE) == set()


def test_a_phone_taken_away_takes_its_index_with_it(phones):
    marcus = give_phone(phones.marcus.exoneree, "")

    assert Exoneree.objects.values_list("phone_index", flat=True).get(pk=marcus.pk) == ""


def test_the_migration_fills_the_index_of_a_person_whose_index_is_empty(login, phones):
    migration = importlib.import_module("services.migrations.0053_phone_index")
    marcus = phones.marcus.exoneree
    no_number = ExonereeFactory(organization=phones.org1, legal_name="No Number")
    indexed = Exoneree.objects.values_list("phone_index", flat=True).get(pk=marcus.pk)
    Exoneree.objects.filter(pk=marcus.pk).update(phone_index="")  # as before the migration
    client = login("caseworker1")
    assert found(client, MARCUS_PHONE) == set()

    migration.index_phones(apps, None)

    assert Exoneree.objects.values_list("phone_index", flat=True).get(pk=marcus.pk) == indexed
    assert found(client, MARCUS_PHONE) == {"Marcus Whitfield"}
    assert Exoneree.objects.values_list("phone_index", flat=True).get(pk=no_number.pk) == ""


def test_the_api_search_finds_by_the_number_among_the_people_the_token_may_see(phones):
    def api_found(user, q: str) -> set[str]:
        _, key = api_tokens.token_create(by=user, name="phone search", scope="read")
        response = api(Client(), key, "GET", v1("people") + "?" + urlencode({"q": q, "case": "all"}))
        assert response.status_code == 200
        return {row["legal_name"] for row in response.json()["results"]}

    assert api_found(phones.caseworker1, "+1 312 555 0150") == {"Marcus Whitfield"}
    assert api_found(phones.caseworker1, THOMAS_PHONE) == set()
    assert api_found(phones.caseworker3, "3125550150") == {"Anita Ramirez"}


def test_a_search_by_phone_makes_no_access_log_entry_as_a_search_by_name_makes_none(login, phones):
    """Neither is an access-log entry: both look only among the people the searcher may open,
    and the words searched are blanked in every log line (services/lib/log_filters.py).
    Searches by SSN (intake, emergency access) are logged; People does not search SSNs."""
    client = login("caseworker1")
    before = AuditEvent.objects.count()

    found(client, MARCUS_PHONE)
    found(client, "Marcus")

    assert AuditEvent.objects.count() == before


def test_the_search_box_says_a_number_is_matched_whole(login, world):
    page = login("caseworker1").get(PEOPLE).content.decode()

    assert "Search by name or phone" in page
    assert "A phone number finds only the whole number" in page
