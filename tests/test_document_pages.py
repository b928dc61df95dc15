"""The documents pages as their users meet them: a stale Replace link, the person's list of
papers, the early word on a file too large (found walking the feature in a browser)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils.html import strip_tags

from services.actions import documents
from services.lib import uploads
from services.models.documents import Document, DocumentKind
from services.models.people import Exoneree
from tests import sample_files

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def add_document(world, kind: str = DocumentKind.STATE_ID, replaces: Document | None = None) -> Document:
    return documents.document_upload(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        document=Document(kind=kind, shown_on_plan=True),
        content=uploads.clean(sample_files.pdf()),
        replaces=replaces,
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_replacing_a_version_already_replaced_says_so_with_the_way_back_not_the_form_again(login, world, method):
    """A second tab, or a colleague, replaced it first: the form would refuse every save with
    "Reload the page", and reloading showed the same form: a dead end."""
    old = add_document(world)
    newest = add_document(world, replaces=old)
    client = login("caseworker1")
    data = {"kind": "state_id", "file": sample_files.upload(sample_files.photo())} if method == "post" else None

    response = getattr(client, method)(reverse("document_replace", args=[old.pk]), data)

    assert response.status_code == 409
    page = response.content.decode()
    assert "This document was replaced meanwhile" in page
    assert 'name="file"' not in page  # no form to fill in again
    assert world.marcus.exoneree.get_absolute_url() in page
    assert Document.objects.current().get() == newest


@pytest.mark.parametrize(
    ("language", "older", "newer"),
    [
        ("en", "added on March 2, 2026", "added on March 4, 2026"),
        ("es", "agregado el 2 de marzo de 2026", "agregado el 4 de marzo de 2026"),
    ],
)
def test_the_persons_papers_say_when_each_was_added(login, world, language, older, newer):
    """A person who sent their ID again (the plan has no Replace) read two identical lines,
    "State ID or driver's license" twice, with no way to tell the new one from the old."""
    with time_machine.travel(datetime(2026, 3, 2, 18, tzinfo=UTC)):
        add_document(world)
    with time_machine.travel(datetime(2026, 3, 4, 18, tzinfo=UTC)):
        add_document(world)
    with time_machine.travel(datetime(2027, 1, 5, 18, tzinfo=UTC)):  # read a year later: each day says its year
        client = login("exoneree1")
        client.post(reverse("set_language"), {"language": language})
        page = client.get(reverse("my_plan")).content.decode()

    papers = page[page.index('id="documents"') :]
    assert papers.index(newer) < papers.index(older)  # the newest first


@pytest.mark.parametrize(("persona", "page"), [("caseworker1", "document_upload"), ("exoneree1", "my_document_upload")])
def test_the_early_word_on_a_file_too_large_names_the_limit_beside_the_field(login, world, settings, persona, page):
    """The script said "This file is too large. Choose a smaller one." under the last field, by
    the Save button, far from the file on a phone, and without the limit the server names."""
    settings.DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
    args = [world.marcus.exoneree.pk] if page == "document_upload" else []

    html = login(persona).get(reverse(page, args=args)).content.decode()

    zone = html[html.index("data-drop-zone") : html.index("data-drop-hint")]
    assert 'data-too-large="This file is too large. The limit is 2\xa0MB."' in zone


@pytest.mark.parametrize(
    ("persona", "language", "name"),
    [
        ("exoneree1", "es", "identificacion-estatal-o-licencia-de-conducir-2026-03-02.pdf"),
        ("exoneree1", "en", "state-id-or-drivers-license-2026-03-02.pdf"),
        ("caseworker1", "es", "state-id-or-drivers-license-2026-03-02.pdf"),  # staff's pages are English
    ],
)
def test_the_download_is_named_in_the_language_of_the_page(login, world, persona, language, name):
    """A person reading My plan in Spanish saved "state-id-2026-03-02.pdf": English words in
    their download folder for a paper their page called "Identificación estatal"."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    with time_machine.travel(datetime(2026, 3, 2, 18, tzinfo=UTC)):
        document = add_document(world)
    url = (
        reverse("my_document_download", args=[document.pk])
        if persona == "exoneree1"
        else reverse("document_download", args=[document.pk])
    )

    response = login(persona).get(url)

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'


def test_a_paper_without_dates_says_a_dash_not_an_empty_dates_line(login, world):
    """On a phone the table stacks, each cell under its column's name: a paper with neither
    an issue nor an expiry date showed "Dates" and nothing beside it."""
    undated = add_document(world, kind=DocumentKind.BIRTH_CERTIFICATE)
    dated = documents.document_upload(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        document=Document(kind=DocumentKind.STATE_ID, expires_on=date(2031, 5, 1)),
        content=uploads.clean(sample_files.pdf()),
    )

    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()

    def dates_cell(document: Document) -> str:
        row = page[page.index(f'id="document-{document.pk}"') :]
        cell = row[row.index('data-label="Dates">') :]
        return cell[: cell.index("</td>")]

    assert dates_cell(undated) == 'data-label="Dates">—'
    assert dates_cell(dated) == 'data-label="Dates">Expires May 1, 2031'


@pytest.mark.parametrize(
    ("language", "button", "saved", "not_said"),
    [
        ("en", "Save the paper", "The paper is saved.", "document"),
        ("es", "Guardar el papel", "El papel está guardado.", "documento"),
    ],
)
def test_the_persons_papers_are_papers_from_the_plan_to_the_saved_one(login, world, language, button, saved, not_said):
    """Their plan says "Your papers" and "Send us a paper"; the page it opens ended in "Save the
    document", said "The document is saved." and, in Spanish, the plan's list was "Sus documentos
    clave" under "Sus papeles". Staff keep their "document"."""
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    form = client.get(reverse("my_document_upload")).content.decode()
    assert f'<button type="submit" class="primary">{button}</button>' in form
    photo = sample_files.upload(sample_files.photo())
    sent = client.post(reverse("my_document_upload"), {"kind": DocumentKind.STATE_ID, "file": photo}, follow=True)
    page = sent.content.decode()
    assert saved in page
    section = page.rindex("<section", 0, page.index('id="documents"'))
    papers = strip_tags(page[section : page.index("</section>", section)])
    assert not_said not in papers.lower()

    staff = login("caseworker1").get(reverse("document_upload", args=[world.marcus.exoneree.pk])).content.decode()
    assert '<button type="submit" class="primary">Save the document</button>' in staff
