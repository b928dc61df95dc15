"""The duplicate warning at intake, and the recorded "Show full number" of an SSN.

Marcus (SSN 900123456, born 1970-03-14) is caseworker1's; caseworker2 is in the same
organization but cannot open his record; caseworker3 is in another organization.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from services.actions import restriction
from services.choices import Role
from services.lib import crypto
from services.models.audit import AuditEvent
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from tests.factories import ExonereeFactory
from tests.test_cases import error_beside, url

INTAKE = {
    "legal_name": "Nadia Newcomer",
    "preferred_language": "en",
    "contact_preference": "in_person",
    "reminder_channel": "email",
}
MARCUS_SSN = ("900123456", "900-12-3456", "900 12 3456")
WORLD_SSNS = (*MARCUS_SSN, "900234567", "900-23-4567", "900345678", "900-34-5678")
ON_FILE = "This may be someone already on file"
CANNOT_SEE = "may already have a record for this person, on a caseload you cannot see"
RETYPE = "please type it again"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def intake(client, **data):
    return client.post(url("exoneree_create"), {**INTAKE, **data})


def reveals():
    """The recorded showings of a full SSN (other kinds of audit entries are not counted)."""
    return AuditEvent.objects.filter(action=AuditEvent.Action.SSN_REVEALED)


def has_box(response) -> bool:
    return 'name="confirm_new"' in response.content.decode()


# --- the warning -------------------------------------------------------------------------------


def test_blank_intake_form_has_no_confirmation_box(login, world):
    response = login("caseworker1").get(url("exoneree_create"))

    assert response.status_code == 200
    assert not has_box(response)


def test_same_ssn_typed_with_dashes_warns_with_the_name_and_saves_nothing(login, world):
    people = Exoneree.objects.count()

    response = intake(login("caseworker1"), ssn="900-12-3456")

    assert response.status_code == 400
    assert Exoneree.objects.count() == people
    assert has_box(response)
    warning = error_beside(response, "confirm_new")
    assert ON_FILE in warning
    assert "Marcus Whitfield" in warning
    assert RETYPE in error_beside(response, "ssn")
    page = response.content.decode()
    for number in MARCUS_SSN:
        assert number not in page


def test_the_question_comes_first_on_the_form_sent_back_and_stays_first_until_answered(login, world):
    """Walkthrough: the warning was under the last of twenty boxes, out of sight, while the
    page said "Please correct the 1 field marked below" and the number to retype was marked."""
    client = login("caseworker1")

    for response in (intake(client, ssn="900-12-3456"), intake(client, ssn="", confirm_offered="1", ssn_typed="1")):
        page = response.content.decode()
        assert page.index('name="confirm_new"') < page.index('name="legal_name"')


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"ssn": "900-12-3456"}, "(same Social Security number)"),
        ({"legal_name": "marcus whitfield", "date_of_birth": "1970-03-14"}, "(same date of birth and name)"),
        (
            {"legal_name": "Marcus Whitfield", "date_of_birth": "1970-03-14", "ssn": "900123456"},
            "(same Social Security number, date of birth and name)",
        ),
    ],
    ids=["ssn", "name and birth date", "both"],
)
def test_the_warning_says_why_it_matched_and_never_the_number_or_the_date(login, world, data, why):
    response = intake(login("caseworker1"), **data)

    warning = " ".join(re.sub(r"<[^>]+>", "", error_beside(response, "confirm_new")).split())
    assert f"Marcus Whitfield {why}." in warning
    for detail in (*MARCUS_SSN, "3456", "1970", "March 14"):
        assert detail not in warning, detail


def test_the_warning_uses_the_preferred_name(login, world):
    marcus = world.marcus.exoneree
    marcus.preferred_name = "Marc"
    marcus.save()

    response = intake(login("caseworker1"), ssn="900123456")

    assert response.status_code == 400
    assert "Marc (Marcus Whitfield)" in error_beside(response, "confirm_new")


def test_the_warning_links_to_the_match_and_says_when_its_case_is_closed(login, world):
    """People opens on open cases: a closed match named but not linked could not be found."""
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(case_closed_on=timezone.localdate())

    response = intake(login("caseworker1"), ssn="900123456")

    page = response.content.decode()
    assert f'<a href="{marcus.get_absolute_url()}">Marcus Whitfield</a> (case closed)' in page


def test_a_colleague_who_cannot_see_the_match_is_warned_without_any_of_its_details(login, world):
    marcus = world.marcus.exoneree
    people = Exoneree.objects.count()

    response = intake(login("caseworker2"), ssn="900-12-3456")

    assert response.status_code == 400
    assert Exoneree.objects.count() == people
    assert CANNOT_SEE in error_beside(response, "confirm_new")
    page = unescape(response.content.decode())
    assert has_box(response)
    for detail in ("Marcus", "Whitfield", f"/people/{marcus.pk}/", "Houston", "1970", "3456", *MARCUS_SSN):
        assert detail not in page, detail


def test_another_organization_gets_no_warning_and_the_person_is_created(login, world):
    response = intake(login("caseworker3"), ssn="900-12-3456")

    nadia = Exoneree.objects.get(legal_name="Nadia Newcomer")
    assert response.status_code == 302
    assert response.url == nadia.get_absolute_url()
    assert nadia.organization == world.org2
    assert nadia.ssn == "900123456"


@pytest.mark.parametrize("typed", ["marcus whitfield", "  MARCUS   Whitfield ", "Márcus Whitfíeld"])
def test_same_name_and_birth_date_warns(login, world, typed):
    response = intake(login("caseworker1"), legal_name=typed, date_of_birth="1970-03-14")

    assert response.status_code == 400
    assert "Marcus Whitfield" in error_beside(response, "confirm_new")


def test_accented_name_on_file_matches_the_plain_spelling(login, world):
    ExonereeFactory(
        organization=world.org1,
        legal_name="José  Álvarez",
        date_of_birth=date(1981, 11, 2),
        caseworkers=[world.caseworker1],
    )

    response = intake(login("caseworker1"), legal_name="jose alvarez", date_of_birth="1981-11-02")

    assert response.status_code == 400
    assert "José  Álvarez" in error_beside(response, "confirm_new")


@pytest.mark.parametrize(
    "data",
    [
        {"legal_name": "Marcus Whitfield", "date_of_birth": "1970-03-15"},
        {"legal_name": "Marcus Whitfield", "ssn": "900-12-3457"},
        {"legal_name": "Marcia Whitfield", "date_of_birth": "1970-03-14"},
        {"legal_name": "Marcia Whitfield"},
    ],
    ids=["other birth date", "other ssn", "other name", "other name alone"],
)
def test_a_near_miss_is_not_a_duplicate(login, world, data):
    people = Exoneree.objects.count()

    response = intake(login("caseworker1"), **data)

    assert response.status_code == 302
    assert Exoneree.objects.count() == people + 1


def test_an_ssn_changed_on_edit_is_what_the_warning_looks_for(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    edited = client.post(
        url("exoneree_edit", marcus), {**INTAKE, "legal_name": marcus.legal_name, "ssn": "900-88-7777"}
    )
    assert edited.status_code == 302

    old = intake(client, ssn="900123456")
    new = intake(client, legal_name="Second Try", ssn="900887777")

    assert old.status_code == 302
    assert new.status_code == 400
    assert "Marcus Whitfield" in error_beside(new, "confirm_new")


def test_the_warning_still_finds_records_indexed_under_the_previous_index_key(settings, login, world):
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]

    response = intake(login("caseworker1"), ssn="900-12-3456")

    assert response.status_code == 400
    assert "Marcus Whitfield" in error_beside(response, "confirm_new")


# --- the same name alone ----------------------------------------------------------------------
# Neither SSN nor birth date found anyone: a record under the same name (folded as the People
# search folds it) is still worth a question, unless what both hold tells them apart.

SAME_NAME = "There is already someone named"
CANNOT_SEE_NAME = "already has someone by this name, on a caseload you cannot see"


def test_the_same_name_alone_warns_with_a_link_and_when_the_record_was_opened(login, world):
    marcus = world.marcus.exoneree
    people = Exoneree.objects.count()

    response = intake(login("caseworker1"), legal_name="  marcus   WHITFIELD ", pronouns="he/him")

    assert response.status_code == 400
    assert Exoneree.objects.count() == people
    assert has_box(response)
    opened = date_format(timezone.localdate(marcus.created_at), "F j, Y")
    warning = error_beside(response, "confirm_new")
    assert SAME_NAME in warning and "Is this the same person?" in warning
    assert f'<a href="{marcus.get_absolute_url()}">Marcus Whitfield</a> (opened {opened})' in response.content.decode()
    assert 'value="he/him"' in response.content.decode()  # what was typed stays


@pytest.mark.parametrize(
    ("on_file", "preferred", "typed", "named"),
    [
        ("Délia Ruiz", "", "Delia Ruiz", "Délia Ruiz"),
        ("Ana Munoz", "", "Ana Muñoz", "Ana Munoz"),
        ("Anthony Reyes Cruz", "Tony Reyes", "Tony Reyes", "Tony Reyes (Anthony Reyes Cruz)"),
    ],
    ids=["accent typed away", "accent typed", "the name they go by"],
)
def test_the_same_name_is_found_however_it_is_accented_and_by_the_name_they_go_by(
    login, world, on_file, preferred, typed, named
):
    ExonereeFactory(
        organization=world.org1, legal_name=on_file, preferred_name=preferred, caseworkers=[world.caseworker1]
    )

    response = intake(login("caseworker1"), legal_name=typed)

    assert response.status_code == 400
    assert SAME_NAME in error_beside(response, "confirm_new")
    assert named in unescape(error_beside(response, "confirm_new"))


def test_a_same_name_with_no_birth_date_on_file_warns_even_when_one_is_typed(login, world):
    """Nothing to compare the typed date with: the name alone is the question."""
    ExonereeFactory(organization=world.org1, legal_name="Ruth Nodate", caseworkers=[world.caseworker1])

    response = intake(login("caseworker1"), legal_name="Ruth Nodate", date_of_birth="1960-01-01")

    assert response.status_code == 400
    assert SAME_NAME in error_beside(response, "confirm_new")


def test_ticking_the_box_after_a_same_name_warning_creates_the_second_record(login, world):
    client = login("caseworker1")
    warned = intake(client, legal_name="Marcus Whitfield")
    assert warned.status_code == 400 and has_box(warned)

    response = intake(client, legal_name="Marcus Whitfield", confirm_new="on", confirm_offered="1")

    assert response.status_code == 302
    created = Exoneree.objects.exclude(pk=world.marcus.exoneree.pk).get(legal_name="Marcus Whitfield")
    assert response.url == created.get_absolute_url()
    assert list(created.caseworkers.all()) == [world.caseworker1]


def test_a_same_name_warning_with_an_ssn_typed_asks_for_it_again(login, world):
    """The number is never echoed, as after any duplicate warning."""
    ExonereeFactory(organization=world.org1, legal_name="Omar Nossn", caseworkers=[world.caseworker1])

    response = intake(login("caseworker1"), legal_name="Omar Nossn", ssn="900-55-1234")

    assert response.status_code == 400
    assert SAME_NAME in error_beside(response, "confirm_new")
    assert RETYPE in error_beside(response, "ssn")
    assert "1234" not in response.content.decode()


def test_a_colleague_who_cannot_see_the_namesake_is_told_only_that_one_exists(login, world):
    marcus = world.marcus.exoneree

    response = intake(login("caseworker2"), legal_name="Marcus Whitfield")

    assert response.status_code == 400
    assert CANNOT_SEE_NAME in error_beside(response, "confirm_new")
    page = unescape(response.content.decode())
    assert f"/people/{marcus.pk}/" not in page and "opened" not in page
    warned = AuditEvent.objects.filter(action=AuditEvent.Action.DUPLICATE_WARNING, actor=world.caseworker2)
    assert [entry.exoneree_id for entry in warned] == [marcus.pk]


def test_a_restricted_namesake_the_user_does_not_see_is_not_revealed(login, world):
    restriction.restriction_set(by=world.director1, exoneree=world.marcus.exoneree, restricted=True, reason="Safety")

    response = intake(login("caseworker2"), legal_name="Marcus Whitfield")

    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DUPLICATE_WARNING).exists()
    # Their own caseworker, who sees them, is still asked.
    assert intake(login("caseworker1"), legal_name="Marcus Whitfield").status_code == 400


def test_a_namesake_in_another_organization_is_not_a_question(login, world):
    response = intake(login("caseworker3"), legal_name="Marcus Whitfield")

    assert response.status_code == 302


# --- answering it ------------------------------------------------------------------------------


def test_ticking_the_box_with_the_ssn_retyped_creates_the_record(login, world):
    client = login("caseworker1")
    warned = intake(client, ssn="900-12-3456")
    assert warned.status_code == 400
    assert 'name="confirm_offered" value="1"' in warned.content.decode()

    response = intake(client, ssn="900-12-3456", confirm_new="on", confirm_offered="1")

    nadia = Exoneree.objects.get(legal_name="Nadia Newcomer")
    assert response.status_code == 302
    assert response.url == nadia.get_absolute_url()
    assert nadia.ssn == "900123456"
    assert nadia.ssn_index == world.marcus.exoneree.ssn_index
    assert list(nadia.caseworkers.all()) == [world.caseworker1]
    page = client.get(response.url).content.decode()
    assert ON_FILE not in page
    assert "Nadia Newcomer was added to your caseload." in page


def test_ticking_the_box_without_retyping_the_ssn_asks_for_it_and_saves_nothing(login, world):
    client = login("caseworker1")
    warned = intake(client, ssn="900-12-3456")
    assert 'name="ssn_typed" value="1"' in warned.content.decode()
    people = Exoneree.objects.count()

    response = intake(client, ssn="", confirm_new="on", confirm_offered="1", ssn_typed="1")

    assert response.status_code == 400
    assert "again" in error_beside(response, "ssn")
    assert Exoneree.objects.count() == people


def test_sending_the_form_again_without_ticking_the_box_warns_again(login, world):
    people = Exoneree.objects.count()

    response = intake(login("caseworker1"), ssn="900-12-3456", confirm_offered="1")

    assert response.status_code == 400
    assert "Marcus Whitfield" in error_beside(response, "confirm_new")
    assert Exoneree.objects.count() == people


def test_a_tick_sent_before_any_warning_does_not_skip_the_check(login, world):
    people = Exoneree.objects.count()

    response = intake(login("caseworker1"), ssn="900-12-3456", confirm_new="on")

    assert response.status_code == 400
    assert "Marcus Whitfield" in error_beside(response, "confirm_new")
    assert Exoneree.objects.count() == people


def test_other_mistakes_are_shown_with_the_warning(login, world):
    response = intake(login("caseworker1"), ssn="900-12-3456", conviction_state="TEX")

    assert response.status_code == 400
    assert "Use the two-letter state code" in error_beside(response, "conviction_state")
    assert RETYPE in error_beside(response, "ssn")


# --- showing the full SSN ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["caseworker1", "director1"])
def test_show_full_number_shows_it_once_recorded_and_uncached(login, world, persona):
    marcus = world.marcus.exoneree

    response = login(persona).post(url("exoneree_ssn_reveal", marcus))

    assert response.status_code == 200
    page = response.content.decode()
    assert "900-12-3456" in page
    assert "<html" in page  # without htmx: a page of its own, with a way back
    assert marcus.get_absolute_url() in page
    assert {"no-store", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    event = reveals().get()
    assert event.actor == world.user(persona)
    assert event.exoneree == marcus
    assert event.action == AuditEvent.Action.SSN_REVEALED
    assert event.ip_address == "127.0.0.1"


def test_show_full_number_with_htmx_returns_only_the_number(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(url("exoneree_ssn_reveal", marcus), headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "900-12-3456" in page
    assert "<html" not in page and "<h1" not in page
    assert "no-store" in response["Cache-Control"]
    assert reveals().count() == 1


def test_each_showing_is_recorded_with_who_asked(login, world):
    marcus = world.marcus.exoneree
    login("caseworker1").post(url("exoneree_ssn_reveal", marcus))
    login("director1").post(url("exoneree_ssn_reveal", marcus), REMOTE_ADDR="203.0.113.9")

    events = reveals().order_by("pk").values_list("actor__username", "exoneree", "ip_address")

    assert list(events) == [("caseworker1", marcus.pk, "127.0.0.1"), ("director1", marcus.pk, "203.0.113.9")]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("caseworker2", 404), ("director2", 404), ("caseworker3", 404), ("exoneree1", 403)],
)
def test_show_full_number_refused_shows_nothing_and_records_nothing(login, world, persona, status):
    response = login(persona).post(url("exoneree_ssn_reveal", world.marcus.exoneree))

    assert response.status_code == status
    assert "3456" not in response.content.decode()
    assert not reveals().exists()


def test_show_full_number_of_nobody_is_404(login, world):
    assert login("caseworker1").post(reverse("exoneree_ssn_reveal", args=[999_999])).status_code == 404


def test_show_full_number_for_someone_with_no_ssn_is_404_and_records_nothing(login, world):
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(ssn="", ssn_index="")
    before = reveals().count()

    response = login("caseworker1").post(url("exoneree_ssn_reveal", marcus))

    assert response.status_code == 404
    assert reveals().count() == before


def test_show_full_number_by_get_is_405(login, world):
    response = login("caseworker1").get(url("exoneree_ssn_reveal", world.marcus.exoneree))

    assert response.status_code == 405
    assert "900-12-3456" not in response.content.decode()
    assert not reveals().exists()


def test_no_ordinary_page_shows_a_full_ssn(login, world):
    marcus, thomas, anita = world.marcus.exoneree, world.thomas.exoneree, world.anita.exoneree
    caseworker1 = StaffMember.objects.get(user=world.caseworker1, role=Role.CASEWORKER)
    pages = [
        ("caseworker1", marcus.get_absolute_url()),
        ("caseworker1", url("exoneree_edit", marcus)),
        ("caseworker1", url("exoneree_list")),
        ("caseworker1", url("exoneree_list") + "?q=Marcus"),
        ("caseworker1", url("dashboard")),
        ("caseworker2", thomas.get_absolute_url()),
        ("caseworker3", anita.get_absolute_url()),
        ("director1", marcus.get_absolute_url()),
        ("director1", thomas.get_absolute_url()),
        ("director1", url("exoneree_list")),
        ("director1", url("director_dashboard")),
        ("director1", url("staff_list")),
        ("director1", url("staff_edit", caseworker1)),
        ("director1", url("caseload_edit", marcus)),
        ("director2", anita.get_absolute_url()),
        ("exoneree1", url("my_plan")),
    ]

    for persona, path in pages:
        response = login(persona).get(path)
        assert response.status_code == 200, path
        page = unescape(response.content.decode())
        for number in WORLD_SSNS:
            assert number not in page, f"{number} on {path} for {persona}"
    masked = unescape(login("caseworker1").get(marcus.get_absolute_url()).content.decode())
    assert "•••-••-3456" in masked
    assert "Show full number" in masked
    assert not reveals().exists()  # looking at the record is not showing the number


def test_a_wrong_ssn_after_another_mistake_is_counted_among_the_fields_to_correct(login, world):
    """The "type it again" note goes on the box before the number's own check runs; the count
    above the form still counts the box once the number itself is wrong."""
    response = intake(login("caseworker1"), legal_name="", ssn="123")

    assert response.status_code == 400
    assert "Enter the 9 digits" in error_beside(response, "ssn")
    assert "Please correct the 2 fields marked below." in response.content.decode()


def test_the_ssn_only_to_be_typed_again_is_not_counted(login, world):
    response = intake(login("caseworker1"), legal_name="", ssn="900-55-1234")

    assert response.status_code == 400
    assert RETYPE in error_beside(response, "ssn")
    assert "Please correct the 1 field marked below." in response.content.decode()
