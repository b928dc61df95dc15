"""A form sent back with errors puts the focus on the first field that has one (first_error.js),
so a screen reader reads that field and its message and a phone shows it; an error about the
whole form gets the focus itself. A page without errors keeps its own focus."""

from __future__ import annotations

from tests.browser.conftest import DESKTOP, PHONE, authenticator, with_password

ACTIVE = "() => { const el = document.activeElement; return [el.id, el.getAttribute('aria-invalid')]; }"


def test_the_first_field_with_an_error_has_the_focus_after_sending(world, tabs):
    tab = tabs(PHONE)
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    page = tab.page
    tab.goto("/people/new/")
    page.get_by_label("Legal name").fill("Fran Focus")
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Date of birth").fill("the thirty-first of February")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    tab.check()

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
    tab = tabs({"width": 1024, "height": DESKTOP["height"]})
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    page = tab.page
    tab.goto("/people/new/")
    page.get_by_label("Legal name").fill("Nadia Newcomer")
    page.get_by_label("Social Security number").fill("900-12-3456")  # Marcus Whitfield's
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    tab.check()

    assert page.evaluate(ACTIVE) == ["id_confirm_new", "true"]
    warning = page.locator("#id_confirm_new_error")
    box = warning.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= DESKTOP["height"], box
    assert "Marcus Whitfield" in warning.inner_text()
