"""The staff header on a phone: its links fold behind "Menu", so the page's own content is on the
first screen (the header was 315 px tall at 375 px wide); "Menu" opens without a script, by
touch or by keyboard, and its links are full-size targets that work. On a desktop nothing is
folded. Every page passes axe (see conftest)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.models.notifications import Notification
from tests.browser.conftest import DESKTOP, authenticator, with_password
from tests.browser.test_keyboard import tab_to

SMALL_PHONE = {"width": 375, "height": 800}
HEADER_HEIGHT = "document.querySelector('header').getBoundingClientRect().height"
# The header's lines, each as the texts of what it holds (the site's name, the links, "Sign out"),
# left to right: boxes of different heights (a link, a button) on one line share their middle.
HEADER_LINES = """() => {
    const lines = new Map();
    for (const el of document.querySelectorAll('header .brand, header nav a, header nav button')) {
        const b = el.getBoundingClientRect();
        if (!b.height) continue;
        const middle = Math.round(b.top + b.height / 2);
        const line = [...lines.keys()].find(m => Math.abs(m - middle) <= 4) ?? middle;
        lines.set(line, [...(lines.get(line) || []), [b.left, el.textContent.trim()]]);
    }
    return [...lines.entries()].sort((a, b) => a[0] - b[0])
        .map(([, items]) => items.sort((a, b) => a[0] - b[0]).map(([, text]) => text));
}"""
# Where each role's first page is, a link of its menu, and the page that link opens.
STAFF = {
    "caseworker1": ("My dashboard", "People", "/people/"),
    "director1": ("Overview", "Staff", "/director/staff/"),
}


def signed_in(world, tabs, username: str, viewport: dict[str, int], *, javascript: bool = True):
    tab = tabs(viewport, javascript=javascript)
    tab.sign_in(username, device=authenticator(with_password(world.user(username))))
    return tab


def box(locator) -> dict:
    return locator.evaluate("el => { const b = el.getBoundingClientRect(); return {w: b.width, h: b.height}; }")


@pytest.mark.parametrize("username", list(STAFF))
def test_on_a_phone_the_links_fold_behind_menu_which_opens_without_a_script(world, tabs, username):
    first, link, address = STAFF[username]
    Notification.objects.create(user=world.user(username), text="A follow-up is due.", url="/")
    tab = signed_in(world, tabs, username, SMALL_PHONE, javascript=False)
    page = tab.page
    assert not page.evaluate("typeof window.htmx !== 'undefined'")  # no script ran
    nav = page.get_by_role("navigation", name="Main")
    menu = page.locator("header summary")

    # Shut: the name and "Menu" (with what waits behind it), and the page's heading in sight.
    assert page.evaluate(HEADER_HEIGHT) <= 100
    expect(menu).to_have_text("Menu 1 unread")
    expect(nav.get_by_role("link", name=link)).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    assert box(menu)["w"] >= 44 and box(menu)["h"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]

    # Open: every link and "Sign out" is shown, one a line, each at least 44×44 px to tap; the
    # page being shown is marked as such.
    menu.click()
    targets = nav.locator("a, button")
    assert targets.count() >= 8
    for target in targets.all():
        expect(target).to_be_visible()
        size = box(target)
        assert size["w"] >= 44 and size["h"] >= 44, (target.text_content(), size)
    expect(nav.get_by_role("link", name=first)).to_have_attribute("aria-current", "page")
    assert nav.locator("[aria-current]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    tab.check()

    # A link works, and the page it opens is marked current, with its menu shut again.
    nav.get_by_role("link", name=link).click()
    tab.check()
    assert page.url.endswith(address), page.url
    expect(nav.get_by_role("link", name=link)).to_be_hidden()
    menu.click()
    expect(nav.get_by_role("link", name=link)).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name=first)).not_to_have_attribute("aria-current", "page")


def test_on_a_phone_the_menu_opens_and_is_followed_by_keyboard(world, tabs):
    tab = signed_in(world, tabs, "caseworker1", SMALL_PHONE)
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")

    # Tab reaches "Menu" right after the site's name, its focus drawn; Enter opens it, and the
    # next Tab stop is its first link, in sight with its focus drawn too.
    tab_to(page, lambda f: f["tag"] == "summary")
    page.keyboard.press("Enter")
    expect(nav.get_by_role("link", name="My follow-ups")).to_be_visible()
    tab_to(page, lambda f: f["text"] == "My follow-ups", limit=2)
    tab.check()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab.check()
    assert page.url.endswith("/follow-ups/"), page.url


@pytest.mark.parametrize("username", list(STAFF))
def test_on_a_desktop_the_links_are_in_sight_without_a_menu(world, tabs, username):
    first, link, address = STAFF[username]
    tab = signed_in(world, tabs, username, DESKTOP)
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")

    expect(page.locator("header summary")).to_be_hidden()
    for target in nav.locator("a, button").all():
        expect(target).to_be_visible()
    expect(nav.get_by_role("link", name=first)).to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name=link).click()
    tab.check()
    assert page.url.endswith(address), page.url
    expect(nav.get_by_role("link", name=link)).to_have_attribute("aria-current", "page")


@pytest.mark.parametrize("width", [1280, 1024])
@pytest.mark.parametrize("username", list(STAFF))
def test_on_a_desktop_the_header_takes_two_lines_the_name_and_the_links(world, tabs, username, width):
    """At 1280 px a caseworker's "Sign out (caseworker1)" fell to a third line, alone. Now the
    name's line ends with the person's own links, and the work's links take the next."""
    tab = signed_in(world, tabs, username, {"width": width, "height": 800})
    lines = tab.page.evaluate(HEADER_LINES)
    assert len(lines) == 2, lines
    name_line, links = lines
    assert name_line == ["Reentry", "Notifications", "Account", f"Sign out ({username})"], lines
    assert links[0] == STAFF[username][0] and STAFF[username][1] in links, lines
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= width
