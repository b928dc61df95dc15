"""Every page of the access table, as the persona it is for: no Django placeholder
("---------") in any list a person has to choose from (issue 21 #9)."""

from __future__ import annotations

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
