"""A save that goes back to a part of the person page (#notes, a follow-up's row, a need's card)
shows its message there, in view: "Note saved." was at the top of the page while the browser
showed the notes, far below (found by a walk at 1280×800). The server says it at its place
(`{% said_here %}`, services.lib.said_here), so it is there on a 375 px phone and with scripts
off too; a message of something else stays at the top."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from services.models.follow_ups import FollowUp
from tests.browser.conftest import DESKTOP, authenticator, with_password

SMALL_PHONE = {"width": 375, "height": 667}
VIEWS = [
    pytest.param(SMALL_PHONE, True, id="375"),
    pytest.param(DESKTOP, True, id="1280"),
    pytest.param(SMALL_PHONE, False, id="375-no-script"),
]


def on_marcuss_page(world, tabs, viewport: dict[str, int], link: str, *, javascript: bool = True):
    """caseworker1 on Marcus's page, following one of its links to a form."""
    tab = tabs(viewport, javascript=javascript)
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    tab.goto(f"/people/{world.marcus.exoneree.pk}/")
    tab.page.get_by_role("link", name=link).click()
    return tab


def save(tab, button: str = "Save") -> None:
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name=button, exact=True).click()
    tab.check()


@pytest.mark.parametrize(("viewport", "javascript"), VIEWS)
def test_a_saved_notes_message_is_in_view_at_the_notes(world, tabs, viewport, javascript):
    tab = on_marcuss_page(world, tabs, viewport, "+ Write a note", javascript=javascript)
    page = tab.page
    page.locator("textarea[name=text]").fill("Called him: the room is fine.")
    save(tab)

    assert page.url.endswith("#notes")
    said = page.locator("#notes .said-here")
    expect(said).to_have_text("Note saved.")
    expect(said).to_be_in_viewport()
    expect(page.locator("#notes").get_by_role("heading", name="Case notes")).to_be_in_viewport()
    expect(page.locator("main > .messages")).to_have_count(0)  # not said again at the top


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["375", "1280"])
def test_a_saved_follow_ups_message_is_in_view_at_its_row(world, tabs, viewport):
    tab = on_marcuss_page(world, tabs, viewport, "+ Schedule a follow-up")
    page = tab.page
    page.get_by_label("What").fill("Housing visit")
    page.get_by_label("When").fill((timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT10:00"))
    save(tab)

    place = f"follow-up-{FollowUp.objects.get(title='Housing visit').pk}"
    assert page.url.endswith(f"#{place}")
    row = page.locator(f"#{place}")
    expect(row.locator(".said-here")).to_contain_text("Follow-up saved: “Housing visit”")
    expect(row.locator(".said-here")).to_be_in_viewport()
    expect(row.locator("strong", has_text="Housing visit")).to_be_in_viewport()


def test_a_message_of_something_else_stays_at_the_top(world, tabs):
    """A follow-up marked done meanwhile (another tab's button, its message waiting with its Undo),
    then a note saved here: the note's word at the notes, the other at the top. The script that
    moved the top's block took both to the notes."""
    follow_up = world.marcus.follow_up
    tab = on_marcuss_page(world, tabs, DESKTOP, "+ Write a note")
    page = tab.page
    token = next(cookie["value"] for cookie in tab.context.cookies() if cookie["name"] == "csrftoken")
    done = tab.context.request.post(
        reverse("follow_up_done", args=[follow_up.pk]),
        form={"csrfmiddlewaretoken": token, "outcome": "Called"},
        max_redirects=0,  # the page it goes back to is not opened: its message waits
    )
    assert done.status == 302
    page.locator("textarea[name=text]").fill("Spoke again.")
    save(tab)

    expect(page.locator("#notes .said-here")).to_have_text("Note saved.")
    top = page.locator("main > .messages")
    expect(top).to_contain_text(f"Marked done: {follow_up.title}.")
    expect(top.get_by_role("button", name="Undo")).to_be_visible()
    expect(page.locator("#notes")).not_to_contain_text("Marked done")
