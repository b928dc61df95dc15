"""A director, in the browser: the overview and the outcomes, then a person moved from one
caseworker to another; the old caseworker's open page answers 404 on the next load. Every
page passes axe (see conftest)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, authenticator, with_password


def test_director_reassigns_a_person_and_the_old_caseworker_loses_access(world, tabs):
    marcus = world.marcus.exoneree
    record = f"/people/{marcus.pk}/"

    # Casey (caseworker1) has Marcus's record open.
    casey = tabs(DESKTOP)
    casey.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    assert casey.goto(record).status == 200
    expect(casey.page.get_by_role("heading", level=1)).to_contain_text("Marcus Whitfield")
    # She shows his full SSN (an htmx swap, checked by axe as swapped): the access log has it.
    casey.page.get_by_text("More details").click()  # the profile's short card opens onto the rest
    casey.page.get_by_role("button", name="Show full number").click()
    expect(casey.page.locator("#ssn")).to_contain_text("900-12-3456")
    casey.check()

    director = tabs(DESKTOP)
    page = director.page
    nav = page.get_by_role("navigation", name="Main")
    director.sign_in("director1", device=authenticator(with_password(world.director1)))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith("/director/")

    nav.get_by_role("link", name="Outcomes").click()
    director.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outcomes")

    nav.get_by_role("link", name="Access log").click()
    director.check()
    expect(page.locator("main")).to_contain_text("Marcus Whitfield")
    expect(page.locator("main")).to_contain_text("full SSN")

    nav.get_by_role("link", name="People").click()
    director.check()
    page.get_by_role("link", name="Marcus Whitfield").first.click()
    director.check()
    page.get_by_role("link", name="Change caseworkers").click()
    director.check()
    page.get_by_label("Casey Onewell").uncheck()
    page.get_by_label("Chris Twofold").check()
    page.get_by_role("button", name=re.compile("Save")).click()
    director.check()
    expect(page.get_by_role("status")).to_contain_text("caseworkers were updated")
    expect(page.locator("#profile")).to_contain_text("Chris Twofold")
    assert list(marcus.caseworkers.all()) == [world.caseworker2]

    # Casey's next load of the same page: 404, and the person is gone from her list.
    response = casey.page.reload()
    casey.check()
    assert response.status == 404
    expect(casey.page.locator("main")).not_to_contain_text("Marcus")
    casey.goto("/people/")
    expect(casey.page.get_by_role("link", name="Marcus Whitfield")).to_have_count(0)
