"""The lists a caseworker and a director read on a phone (390 px): People, Staff, the access log,
the legal holds and the API tokens. None scrolls sideways, neither the page nor a table's
wrapper: each row is a block of lines there, each line named by its column, as on the overview."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from services.actions.api_tokens import token_create
from services.actions.messages import message_send
from services.actions.retention import legal_hold_place
from services.models.directory import Resource
from services.models.people import Exoneree
from tests.browser.conftest import DESKTOP, FILE_BUTTON_HEIGHTS, PHONE, SIDEWAYS, demo_device
from tests.sample_files import document_for

LABELS = "els => els.map(td => getComputedStyle(td, '::before').content)"
# A value's lines that start in its label's column (the left 30% of its line), with the label:
# a value that wrapped back under its label ("Title  Reentry / caseworker").
UNDER_LABEL = """els => els.flatMap(td => {
    const cell = td.getBoundingClientRect(), range = document.createRange();
    range.selectNodeContents(td);
    const under = [...range.getClientRects()].filter(r => r.width > 0 && r.left < cell.left + 0.3 * cell.width);
    return under.length ? [`${td.dataset.label}: ${td.textContent.trim()}`] : [];
})"""


def test_the_people_staff_access_log_and_legal_holds_fit_a_phone(demo, tabs):
    director = get_user_model().objects.get(username="director1")
    person = Exoneree.objects.filter(organization=director.staff.organization).order_by("pk").first()
    legal_hold_place(
        by=director,
        exoneree=person,
        reason="Civil-rights suit against the county, case 2:24-cv-01234-ABC-DEF, discovery still open",
    )
    tab = tabs(PHONE)
    tab.sign_in("director1", device=demo_device("director1"))
    page = tab.page
    pages = [
        "/people/",
        "/director/staff/",
        "/director/audit/",
        f"/people/{person.pk}/access/",
        "/director/retention/holds/",
    ]
    for path in pages:
        tab.goto(path)
        assert page.locator("main table tbody tr").count(), path
        assert page.evaluate(SIDEWAYS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), path
        # Each line of a row says which column it is.
        labels = page.eval_on_selector_all("main table tbody td[data-label]", LABELS)
        assert labels and "none" not in labels, path
        # Label and value are two columns: a long value wraps in its own.
        assert page.eval_on_selector_all("main table tbody td[data-label]", UNDER_LABEL) == [], path

    page.set_viewport_size(DESKTOP)  # on a desktop a row is a table row still
    rows = page.eval_on_selector_all(
        "main table tbody tr", "els => [...new Set(els.map(tr => getComputedStyle(tr).display))]"
    )
    assert rows == ["table-row"]


def test_a_caseworkers_tables_fit_a_phone(demo, tabs):
    """The tables a caseworker works from on a phone: the dashboard's caseload, Open needs,
    Messages, a person's documents and record clearance, and "Refer someone to" a resource.
    Their last columns ("Refer …", "Update", "Delete", a compensation deadline) were out of
    sight to the right, in a box that scrolled sideways; each row is a block of named lines."""
    caseworker = get_user_model().objects.get(username="caseworker1")
    person = Exoneree.objects.filter(caseworkers=caseworker).order_by("pk").first()
    # A title pasted from a file name has no space to break at: it ran off the screen.
    document_for(person, caseworker, title="Cook_County_birth_certificate_certified_copy_2019-CR-0012345_scan.pdf")
    message_send(by=person.user, exoneree=person, text="Can we talk on Friday?", from_person=True)
    resource = Resource.objects.filter(provider__organization=person.organization).order_by("pk").first()
    tab = tabs(PHONE)
    tab.sign_in("caseworker1", device=demo_device("caseworker1"))
    page = tab.page
    tables = {
        "/dashboard/": "#caseload-h ~ .table-wrap table",
        "/needs/": "main table",
        "/messages/": "main table",
        f"/people/{person.pk}/": "table.documents",
        f"/people/{person.pk}/legal/": "#records table",
        f"/resources/{resource.pk}/refer/": "main table",
    }
    for path, table in tables.items():
        tab.goto(path)
        assert page.locator(f"{table} tbody tr").count(), path
        assert page.evaluate(SIDEWAYS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), path
        labels = page.eval_on_selector_all(f"{table} tbody td[data-label]", LABELS)
        assert labels and "none" not in labels, path
        # Every link and button of the table is on the screen, none out to the right.
        right = page.eval_on_selector_all(
            f"{table} tbody :is(a, button)", "els => els.map(e => e.getBoundingClientRect().right)"
        )
        assert right and max(right) <= PHONE["width"], path


def test_a_caseworkers_forms_fit_a_phone(demo, tabs):
    """The assessment form's score rows are a question over its answer on a phone, not two
    columns of 10rem each that pushed the page sideways; the upload's "Choose File" is a
    target a thumb can take (44 px tall), not the browser's 21 px."""
    caseworker = get_user_model().objects.get(username="caseworker1")
    person = Exoneree.objects.filter(caseworkers=caseworker).order_by("pk").first()
    tab = tabs(PHONE)
    tab.sign_in("caseworker1", device=demo_device("caseworker1"))
    page = tab.page
    tab.goto(f"/people/{person.pk}/assessments/new/")
    assert page.locator("main .scores .field").count()
    assert page.evaluate(SIDEWAYS) == []
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    tab.goto(f"/people/{person.pk}/documents/new/")
    assert page.evaluate(SIDEWAYS) == []
    assert page.eval_on_selector_all("main input[type=file]", FILE_BUTTON_HEIGHTS) == [[44, 44]]


def test_the_api_tokens_fit_a_phone(demo, tabs):
    """Your tokens and the organization's: seven or eight columns, and the "Revoke" beside each
    token out of sight to the right in a box that scrolled sideways; each token is a block of
    named lines now, its "Revoke" on the screen, and on a desktop a row still."""
    director = get_user_model().objects.get(username="director1")
    caseworker = get_user_model().objects.get(username="caseworker1")
    token_create(by=director, name="Monthly report for the board", scope="read")
    token_create(by=caseworker, name="CRM sync", scope="write")
    tab = tabs(PHONE)
    tab.sign_in("director1", device=demo_device("director1"))
    page = tab.page
    for path in ("/account/api-tokens/", "/director/api-tokens/"):
        tab.goto(path)
        assert page.locator("main table tbody tr").count(), path
        assert page.evaluate(SIDEWAYS) == [], path
        labels = page.eval_on_selector_all("main table tbody [data-label]", LABELS)
        assert {'"May"', '"Ends"', '"State"'} <= set(labels), path
        right = page.eval_on_selector_all(
            "main table tbody button", "els => els.map(e => e.getBoundingClientRect().right)"
        )
        assert right and max(right) <= PHONE["width"], path

    page.set_viewport_size(DESKTOP)
    rows = page.eval_on_selector_all(
        "main table tbody tr", "els => [...new Set(els.map(tr => getComputedStyle(tr).display))]"
    )
    assert rows == ["table-row"]
