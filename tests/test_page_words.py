"""Every page of the access table, as the persona it is for: no Django placeholder
("---------") in any list a person has to choose from (issue 21 #9), no label that starts
mid-sentence; and on the person's own pages no word only computer people use."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.test_access import PAGES, Page, row

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.parametrize("page", [p for p in PAGES if "GET" in p.methods], ids=lambda p: p.name)
def test_no_dashes_for_an_empty_choice(login, world, page: Page):
    if page.setup:
        page.setup(world)

    response = login(page.owner).get(page.url(world))

    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        assert "---------" not in response.content.decode()


LABEL = re.compile(r"<label\b[^>]*>(.*?)</label>", re.S)


@pytest.mark.parametrize("page", [p for p in PAGES if "GET" in p.methods], ids=lambda p: p.name)
def test_every_label_starts_as_a_sentence_does(login, world, page: Page):
    """A field's label begins with a capital ("They were there: show it on their plan"), as
    every other label on the page does."""
    if page.setup:
        page.setup(world)

    response = login(page.owner).get(page.url(world))

    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        words = [unescape(re.sub(r"<[^>]+>", "", label)).strip() for label in LABEL.findall(response.content.decode())]
        assert [w for w in words if w[:1].islower()] == []


# The pages an exoneree reads: their own, their account, and those before signing in (not the
# provider's page, which nobody signs in to either: a program's staff read it).
EVERYONE = row(200, 200, 200, 200, 200, 200, 200, 200)
PERSONS_PAGES = [
    *[p for p in PAGES if "GET" in p.methods and p.owner in ("exoneree1", "exoneree2")],
    Page("account", EVERYONE, owner="exoneree1"),
    Page("two_factor_setup", EVERYONE, owner="exoneree1"),
    Page("login", EVERYONE, owner="anonymous"),
    Page("password_reset", EVERYONE, owner="anonymous"),
]
# Names of file formats and "characters" (the walk of the product found "JPEG, PNG or HEIC",
# "(JSON)", "2000 characters"): a photo, a scan, letters and spaces.
HARD_WORDS = re.compile(r"\b(JSON|PDF|JPEG|PNG|HEIC|characters?|caracteres|carácter)\b", re.IGNORECASE)
# What a box's counter says (limits.js reads it from its script tag), on a page with such a box.
SCRIPT_WORDS = re.compile(r'data-(?:left|cut)="([^"]*)"')
COUNTED_BOX = re.compile(r"<textarea\b[^>]*\bmaxlength=")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("page", PERSONS_PAGES, ids=lambda p: f"{p.name}-{p.owner}")
def test_the_persons_pages_say_no_word_of_computer_people(login, world, page: Page, language: str):
    if page.setup:
        page.setup(world)
    client = login(page.owner)
    client.post(reverse("set_language"), {"language": language})

    response = client.get(page.url(world))

    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        shown = re.sub(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", " ", html, flags=re.S)
        counter = SCRIPT_WORDS.findall(html) if COUNTED_BOX.search(html) else []
        said = unescape(" ".join([shown, *counter]))
        assert HARD_WORDS.findall(said) == []
