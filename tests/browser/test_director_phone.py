"""The director's overview and outcomes on a small phone (375 px): nothing to scroll sideways,
neither the page nor a table in it; each table row is a block of labelled lines there, its
numbers still links a finger can take, and on a desktop the tables are tables as before; and
the records behind each number, the HSDS import's preview and the merge of two records."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from services.actions import hsds as hsds_actions
from services.lib import hsds
from services.models.people import Exoneree
from tests.browser.conftest import DESKTOP, SIDEWAYS, Tab, demo_device
from tests.test_hsds import CSV_EXAMPLE

SMALL_PHONE = {"width": 375, "height": 800}
# A number that links to its list: [text, width, height].
COUNTS = "els => els.map(a => [a.textContent, a.getBoundingClientRect().width, a.getBoundingClientRect().height])"
LABELS = "els => els.map(td => getComputedStyle(td, '::before').content)"
ROW_DISPLAY = "els => [...new Set(els.map(tr => getComputedStyle(tr).display))]"


def director_on_a_phone(tabs: Any) -> Tab:
    tab = tabs(SMALL_PHONE)
    tab.sign_in("director1", device=demo_device("director1"))
    return tab


def test_the_overview_fits_a_phone_with_its_numbers_still_links(demo, tabs):
    tab = director_on_a_phone(tabs)
    page = tab.page
    tab.goto("/director/")

    assert page.evaluate(SIDEWAYS) == []
    counts = page.eval_on_selector_all("main table a.count", COUNTS)
    assert counts  # the caseloads and the needs by domain
    for text, width, height in counts:
        assert text.isdigit() and width >= 28 and height >= 28, (text, width, height)
    # Each number says what it counts, by its column's name.
    labels = page.eval_on_selector_all("main table.stack td:has(> a.count)", LABELS)
    assert {'"Open cases"', '"Recorded"', '"Still open"', '"Met"'} <= set(labels)
    assert set(labels) <= {'"Open cases"', '"Overdue follow-ups"', '"Recorded"', '"Still open"', '"Met"'}

    page.set_viewport_size(DESKTOP)  # the desktop's tables are unchanged: rows, not blocks
    assert page.eval_on_selector_all("main table tbody tr", ROW_DISPLAY) == ["table-row"]
    assert page.eval_on_selector_all("main table thead", "els => els.map(e => e.getBoundingClientRect().height > 1)")[0]


def test_the_outcomes_fit_a_phone(demo, tabs):
    tab = director_on_a_phone(tabs)
    page = tab.page
    tab.goto("/director/outcomes/")

    assert page.evaluate(SIDEWAYS) == []
    assert page.locator("main table td.num a").count()  # numbers linked to their records, still


# Each chart label as drawn: [its text, how far it starts left of its chart, how far it ends
# right of it, its font's size on the screen in px].
CHART_LABELS = """els => els.map(e => {
    const svg = e.ownerSVGElement, label = e.getBoundingClientRect(), chart = svg.getBoundingClientRect();
    const size = parseFloat(getComputedStyle(e).fontSize) * chart.width / svg.viewBox.baseVal.width;
    return [e.textContent, chart.left - label.left, label.right - chart.right, size];
})"""


def test_the_charts_labels_are_whole_and_readable_on_a_desktop_and_a_phone(demo, tabs):
    """Each label on its own line above its bar: none starts before its chart's left edge (long
    ones did, right-aligned in a fixed column), none runs past its right edge, and a phone
    draws them no smaller than a desktop does (they were 7px there)."""
    tab = tabs(DESKTOP)
    tab.sign_in("director1", device=demo_device("director1"))  # once: a code is good once
    tab.goto("/director/outcomes/")
    for viewport in (DESKTOP, SMALL_PHONE):
        tab.page.set_viewport_size(viewport)
        labels = tab.page.eval_on_selector_all("svg.chart-svg text.chart-label", CHART_LABELS)
        assert any(len(text) > 34 for text, *_ in labels), labels  # the long ones that were cut
        for text, before, after, size in labels:
            assert before <= 2 and after <= 2 and size >= 11.5, (viewport, text, before, after, size)


def test_an_hsds_preview_of_a_file_with_a_long_name_fits_a_phone(demo, tabs):
    """The heading "Check the import of <the file's name>" kept a long name whole, and the page
    scrolled sideways on a phone; it breaks inside the name now, the rest of the page unmoved."""
    director = get_user_model().objects.get(username="director1")
    name = "county-211-directory-export-2026-12-01-full-with-taxonomy.json"
    upload = hsds_actions.hsds_upload(by=director, file_name=name, tables=hsds.read_path(CSV_EXAMPLE))
    tab = director_on_a_phone(tabs)
    tab.goto(f"/resources/hsds/import/{upload.pk}/")

    assert name in tab.page.locator("main h1").inner_text()
    assert tab.page.evaluate(SIDEWAYS) == []
    # The caption of the table of what is added, as wide as its table, not a column of words.
    widths = tab.page.eval_on_selector_all(
        "main table.stack caption", "els => els.map(e => [e.offsetWidth, e.closest('table').offsetWidth])"
    )
    assert widths and all(caption >= table - 1 for caption, table in widths), widths


FIGURE_OF = "els => els.map(a => [new URL(a.href).searchParams.get('figure'), a.getAttribute('href')])"


def test_the_records_behind_the_outcomes_fit_a_phone(demo, tabs):
    """The list behind each number (referrals, needs, follow-ups, scores, claims, record holders,
    people): five or six columns in a box that scrolled sideways, each row a block of named lines
    now, as on the outcomes page itself."""
    tab = director_on_a_phone(tabs)
    page = tab.page
    tab.goto("/director/outcomes/")
    first_of_each = dict(reversed(page.eval_on_selector_all("main a[href*='/outcomes/records/']", FIGURE_OF)))
    assert len(first_of_each) >= 8, first_of_each

    for figure, href in first_of_each.items():
        tab.goto(href)
        assert page.evaluate(SIDEWAYS) == [], figure
        labels = page.eval_on_selector_all("main table tbody td[data-label]", LABELS)
        assert "none" not in labels, figure


def test_the_merge_of_two_records_fits_a_phone(demo, tabs):
    """The two records side by side were three columns in a box that scrolled sideways, the
    other record's values out of sight; each field is a block there now, its two values named
    "This record" and "The other record", each a radio a thumb can reach."""
    kept = Exoneree.objects.get(legal_name="Delia Ruiz")
    duplicate = Exoneree.objects.get(legal_name="Ray Castillo")
    tab = director_on_a_phone(tabs)
    page = tab.page
    tab.goto(f"/people/{kept.pk}/merge/{duplicate.pk}/")

    assert page.evaluate(SIDEWAYS) == []
    labels = page.eval_on_selector_all("main table tbody td[data-label]", LABELS)
    assert labels and set(labels) == {'"This record"', '"The other record"'}
    right = page.eval_on_selector_all(
        "main table input[type=radio]", "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert right and max(right) <= SMALL_PHONE["width"]
