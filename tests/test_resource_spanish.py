"""A resource's hours in Spanish (Resource.hours_es): the one text of a resource the person's
pages show in words. A person reading Spanish reads them there when staff typed them, else
the English ones; staff type them on the resource form, in a group of their own, and see a
mark on the resource's page; the API gives them; HSDS has no place for them."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from services.choices import ReferralStatus
from services.models.directory import Resource
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World
from tests.test_api import key_for, v1
from tests.test_cases import error_beside
from tests.test_hsds import CSV_EXAMPLE, EXAMPLE_SERVICE, copy_example, edit_csv, export, import_file
from tests.test_own_copy import copy_json

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

ENGLISH = "Weekdays 9 to 5"
SPANISH = "De lunes a viernes, de 9 a 17 h"


@pytest.fixture
def sent(world: World) -> World:
    """Marcus's referral is sent (so his plan shows where he was sent) to a resource open on
    weekdays, its hours typed in both languages."""
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.SENT)
    Resource.objects.filter(pk=world.marcus.resource.pk).update(hours=ENGLISH, hours_es=SPANISH)
    return world


def _reads(world: World, language: str) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)


def _plan(login: Any) -> str:
    response = login("exoneree1").get(reverse("my_plan"))
    assert response.status_code == 200
    return unescape(response.content.decode())


def _pdf_text(response: Any) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --- the person's pages -----------------------------------------------------------------------


def test_a_person_reading_spanish_reads_the_spanish_hours_on_their_plan(login, sent: World) -> None:
    _reads(sent, "es")

    html = _plan(login)

    assert f"Horario: {SPANISH}" in html
    assert ENGLISH not in html


def test_a_person_reading_english_reads_the_english_hours(login, sent: World) -> None:
    html = _plan(login)

    assert f"Open: {ENGLISH}" in html
    assert SPANISH not in html


def test_without_spanish_hours_a_person_reading_spanish_reads_the_english_never_a_blank(login, sent: World) -> None:
    _reads(sent, "es")
    Resource.objects.filter(pk=sent.marcus.resource.pk).update(hours_es="")

    assert f"Horario: {ENGLISH}" in _plan(login)


def test_hours_typed_only_in_spanish_are_shown_to_who_reads_spanish_only(login, sent: World) -> None:
    Resource.objects.filter(pk=sent.marcus.resource.pk).update(hours="")

    assert "Open:" not in _plan(login)
    _reads(sent, "es")
    assert f"Horario: {SPANISH}" in _plan(login)


def test_the_switch_to_english_on_the_plan_shows_the_english_hours(login, sent: World) -> None:
    _reads(sent, "es")
    client = login("exoneree1")

    client.post(reverse("set_language"), {"language": "en", "next": reverse("my_plan")})

    html = unescape(client.get(reverse("my_plan")).content.decode())
    assert f"Open: {ENGLISH}" in html and SPANISH not in html


@pytest.mark.parametrize("persona", ["exoneree1", "caseworker1"])
def test_the_printed_plan_and_the_own_copy_say_the_hours_in_the_persons_language(
    login, sent: World, persona: str
) -> None:
    """Staff who print or download them get them as the person reads them, in Spanish too."""
    _reads(sent, "es")
    client = login(persona)
    pk = sent.marcus.exoneree.pk
    mine = persona == "exoneree1"

    pdf = _pdf_text(client.get(reverse("my_plan_pdf") if mine else reverse("exoneree_plan_pdf", args=[pk])))
    data = copy_json(client.get(reverse("my_copy_json") if mine else reverse("exoneree_copy_json", args=[pk])))

    assert SPANISH in pdf and ENGLISH not in pdf
    (referral,) = [referral for need in data["needs"] for referral in need["referrals"]]
    assert referral["hours"] == SPANISH


# --- staff: the form and the resource's page ---------------------------------------------------

RESOURCE = {"name": "Housing Help", "domains": ["housing"], "status": "active", "hours": ENGLISH}


def _edit(login: Any, world: World, **data: str) -> Any:
    resource = world.marcus.resource
    form = {**RESOURCE, "provider": resource.provider_id, **data}
    return login("director1").post(reverse("resource_edit", args=[resource.pk]), form)


def test_the_form_has_the_spanish_words_in_a_labelled_group_of_their_own(login, world: World) -> None:
    html = login("director1").get(reverse("resource_edit", args=[world.marcus.resource.pk])).content.decode()

    legend = re.escape("<legend>In Spanish (shown to people who read Spanish)</legend>")
    group = re.search(rf"<fieldset>\s*{legend}(.*?)</fieldset>", html, re.S)
    assert group, "no group for the Spanish words"
    assert 'name="hours_es"' in group.group(1) and "Optional" in group.group(1)
    assert '<label for="id_hours_es">Hours, in Spanish</label>' in group.group(1)
    assert 'name="hours_es"' not in html.replace(group.group(0), "")  # once, in the group


def test_a_director_types_the_hours_in_spanish_and_staff_see_the_mark(login, world: World) -> None:
    resource = world.marcus.resource

    response = _edit(login, world, hours_es=f"  {SPANISH} ")

    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.hours, resource.hours_es) == (ENGLISH, SPANISH)
    page = unescape(login("caseworker1").get(resource.get_absolute_url()).content.decode())
    mark = '<span class="tag">also in Spanish</span> <span class="muted" lang="es">'
    assert f"<dd>{ENGLISH} {mark}{SPANISH}</span></dd>" in page


def test_without_spanish_hours_the_page_has_no_mark(login, world: World) -> None:
    _edit(login, world, hours_es="")

    page = login("caseworker1").get(world.marcus.resource.get_absolute_url()).content.decode()

    assert f"<dd>{ENGLISH}</dd>" in page and "also in Spanish" not in page


def test_spanish_hours_too_long_are_refused_beside_their_field(login, world: World) -> None:
    response = _edit(login, world, hours_es="x" * 201, name="Changed name")

    assert response.status_code == 400
    assert "Please keep this to 200 characters or fewer. You wrote 201." in error_beside(response, "hours_es")
    world.marcus.resource.refresh_from_db()
    assert world.marcus.resource.name != "Changed name"


# --- the API and HSDS ----------------------------------------------------------------------------


def test_the_api_gives_the_spanish_hours_beside_the_english(client, sent: World) -> None:
    key = key_for(sent, "caseworker1")

    response = client.get(v1("resource", sent.marcus.resource.pk), HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200
    assert (response.json()["hours"], response.json()["hours_es"]) == (ENGLISH, SPANISH)


def test_the_hsds_export_has_the_english_hours_only(login, sent: World) -> None:
    """HSDS 3.0 has no field in another language: a schedule's description is the English."""
    tables = export(login("director1"))

    assert ENGLISH in {row["description"] for row in tables["schedule"]}
    assert SPANISH not in str(tables)


def test_an_import_keeps_the_spanish_hours_until_the_hours_change(world: World, tmp_path) -> None:
    """Kept, Spanish hours the file has no word of would still say the old ones."""
    import_file(CSV_EXAMPLE, world.director1)
    imported = Resource.objects.filter(organization=world.org1, hsds_id=EXAMPLE_SERVICE)
    imported.update(hours_es=SPANISH)

    assert "0 added, 0 updated, 2 already up to date" in import_file(CSV_EXAMPLE, world.director1)
    assert imported.get().hours_es == SPANISH

    folder = copy_example(tmp_path)
    edit_csv(folder / "schedules.csv", 0, description="Evenings only")
    output = import_file(folder, world.director1)

    assert imported.values_list("hours", "hours_es").get() == ("Evenings only", "")
    assert "update Community Counselling: hours, hours, in Spanish" in output
