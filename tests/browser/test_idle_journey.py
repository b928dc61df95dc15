"""The idle sign-out warning in a real browser (issue 21 #7): it appears before the sign-out
with "Stay signed in", which keeps the session without leaving the page; axe finds nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, authenticator, with_password


def test_the_warning_appears_and_stay_signed_in_keeps_the_page(world, tabs, settings):
    # 2 min 4 s of idle time: the warning (two minutes before) shows 4 s after a page loads.
    settings.SESSION_IDLE_MINUTES_STAFF = 124 / 60
    tab = tabs(DESKTOP)
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    page = tab.page
    tab.goto(f"/people/{world.marcus.exoneree.pk}/needs/new/")
    page.get_by_label("Description").fill("Words typed before a long phone call")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()

    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_contain_text("signed out in two minutes")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    tab.check()
    page.get_by_role("button", name="Stay signed in").click()

    expect(warning).to_be_hidden()
    expect(page.get_by_label("Description")).to_have_value("Words typed before a long phone call")  # same page
    assert page.url.endswith("/needs/new/")
