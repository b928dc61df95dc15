"""A form sent back with errors puts the focus on the first field that has one (first_error.js),
so a screen reader reads that field and its message and a phone shows it; an error about the
whole form gets the focus itself. A page without errors keeps its own focus."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import DESKTOP, PHONE, authenticator, with_password

ACTIVE = "() => { const el = document.activeElement; return [el.id, el.getAttribute('aria-invalid')]; }"
NARROW_DESKTOP = {"width": 1024, "height": DESKTOP["height"]}


def intake_sent_back(world: Any, tabs: Any, viewport: dict[str, int], typed: dict[str, str]) -> Any:
    """caseworker1's intake form, each box (by its label) given its text and sent: the page."""
    tab = tabs(viewport)
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    page = tab.page
    tab.goto("/people/new/")
    for label, text in typed.items():
        page.get_by_label(label).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    tab.check()
    return page


def test_the_first_field_with_an_error_has_the_focus_after_sending(world, tabs):
    typed = {"Legal name": "Fran Focus", "Email": "not an email", "Date of birth": "the thirty-first of February"}
    page = intake_sent_back(world, tabs, PHONE, typed)

    assert page.evaluate(ACTIVE) == ["id_email", "true"]  # the first of the two wrong ones
    box = page.locator("#id_email").bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"]  # in sight, not below the fold


def test_an_error_about_the_whole_form_has_the_focus_and_no_error_none(world, tabs):
    with_password(world.caseworker1)
    tab = tabs(PHONE)
    page = tab.page
    tab.goto("/accounts/login/")
    assert page.evaluate("document.activeElement.name") == "username"  # its own focus, kept

    page.get_by_label("Username").fill("caseworker1")
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    tab.check()

    focused = page.evaluate("() => [document.activeElement.getAttribute('role'), document.activeElement.textContent]")
    assert focused[0] == "alert" and "not right" in focused[1], focused


def test_the_question_of_a_possible_duplicate_has_the_focus_in_sight(world, tabs):
    """Walkthrough: an intake matching someone on file came back with the focus on the number to
    type again, and the question itself below the last box, out of sight at 1024 px."""
    typed = {"Legal name": "Nadia Newcomer", "Social Security number": "900-12-3456"}  # Marcus Whitfield's
    page = intake_sent_back(world, tabs, NARROW_DESKTOP, typed)

    assert page.evaluate(ACTIVE) == ["id_confirm_new", "true"]
    warning = page.locator("#id_confirm_new_error")
    box = warning.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= DESKTOP["height"], box
    assert "Marcus Whitfield" in warning.inner_text()


def test_the_number_to_type_again_leaves_the_focus_to_the_mistake_below_it(world, tabs):
    """Walkthrough: a wrong state code under the Social Security number came back with the focus
    on the number ("please type it again", no mistake of its own), and the page's "Please correct
    the 1 field marked below" meant the state, further down."""
    typed = {"Legal name": "Fran Focus", "Social Security number": "900-77-1234", "State of conviction": "T1"}
    page = intake_sent_back(world, tabs, NARROW_DESKTOP, typed)

    assert page.evaluate(ACTIVE) == ["id_conviction_state", "true"]
    assert page.locator("#id_ssn").get_attribute("aria-invalid") == "true"  # still marked, to type again
    assert page.locator("[data-retype-only] #id_ssn").count() == 1
