"""Every page of the access table, as the persona it is for: no Django placeholder
("---------") in any list a person has to choose from (issue 21 #9), no label that starts
mid-sentence."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.test_access import PAGES, Page

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
