"""Keyboard only: the sign-in pages and a form are reached with Tab, show where the focus is,
submit with Enter, and announce their errors beside the fields. And axe itself is checked to
catch a violation, so a clean report means something."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, authenticator, current_code, with_password


def focused(page) -> dict:
    """What has the focus, and whether it is drawn: a visible box with an outline."""
    return page.evaluate(
        """() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return {
            tag: el.tagName.toLowerCase(), name: el.getAttribute('name'), text: el.textContent.trim(),
            focusVisible: el.matches(':focus-visible'),
            outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
            onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0,
        };
    }"""
    )


def enter_and_load(tab) -> None:
    """Press Enter on a form field or link, and check the page it loads."""
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")
    tab.check()


def tab_to(page, predicate, limit: int = 25) -> dict:
    """Press Tab until predicate(focused) holds (it may already: autofocus); every stop on the
    way must show its focus."""
    now = focused(page)
    if now["tag"] != "body" and predicate(now):
        assert now["focusVisible"] and now["outline"], f"focus not visible on {now}"
        return now
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["focusVisible"] and now["outline"] and now["onScreen"], f"focus not visible on {now}"
        if predicate(now):
            return now
    raise AssertionError(f"Tab never reached the element ({limit} presses)")


def test_sign_in_and_a_form_by_keyboard_alone(world, tabs):
    device = authenticator(with_password(world.caseworker1))
    tab = tabs(DESKTOP)
    page = tab.page
    tab.goto("/accounts/login/")

    # The username box has the focus when the page opens.
    assert focused(page)["name"] == "username"
    page.keyboard.type("caseworker1")
    tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type("not the password")
    enter_and_load(tab)
    expect(page.get_by_role("alert")).to_contain_text("The username or the password is not right")

    tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type("a browser-test passphrase")
    enter_and_load(tab)
    assert "/accounts/two-factor/" in page.url
    tab_to(page, lambda f: f["tag"] == "input" and f["name"] not in (None, "csrfmiddlewaretoken", "next"))
    page.keyboard.type(current_code(device))
    enter_and_load(tab)
    expect(page.get_by_role("heading", level=1)).to_have_text("My dashboard")

    # The first Tab stop is the skip link, shown while it has the focus; Enter goes to main.
    skip = tab_to(page, lambda f: True, limit=1)
    assert skip["text"] == "Skip to main content", skip
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # The intake form, sent empty with Enter: the error is beside the field and announced.
    page.get_by_role("link", name="+ New person (intake)").focus()
    enter_and_load(tab)
    legal_name = page.get_by_label("Legal name")
    tab_to(page, lambda f: f["name"] == "legal_name")
    enter_and_load(tab)
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(legal_name).to_have_attribute("aria-invalid", "true")
    described = legal_name.get_attribute("aria-describedby") or ""
    error = page.locator(f"#{described.split()[0]}") if described else None
    assert error is not None and "legal name" in error.inner_text().lower(), described
    assert error.get_attribute("role") == "alert"

    # Typing the name and pressing Enter saves the person.
    legal_name.focus()
    page.keyboard.type("Keyboard Kendall")
    enter_and_load(tab)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Keyboard Kendall")


def test_axe_reports_a_violation_when_there_is_one(world, tabs):
    tab = tabs(DESKTOP)
    tab.goto("/accounts/login/")
    tab.page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    with pytest.raises(AssertionError, match="label"):
        tab.check()
