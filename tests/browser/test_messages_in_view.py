"""A save that goes back to a part of the person page (#notes, a follow-up's row) shows its
message there, in view (services/static/services/messages_at_target.js): "Note saved. Marked
done: …" was at the top of the page while the browser showed the notes, far below (found by a
walk at 1280×800)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, authenticator, with_password

SMALL_DESKTOP = {"width": 1024, "height": 768}


def on_marcuss_page(world, tabs, viewport: dict[str, int], link: str):
    """caseworker1 on Marcus's page, following one of its links to a form."""
    tab = tabs(viewport)
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    tab.goto(f"/people/{world.marcus.exoneree.pk}/")
    tab.page.get_by_role("link", name=link).click()
    return tab


def save(tab) -> None:
    with tab.page.expect_navigation():
        tab.page.get_by_role("button", name="Save", exact=True).click()
    tab.check()


@pytest.mark.parametrize("viewport", [DESKTOP, SMALL_DESKTOP], ids=["1280", "1024"])
def test_a_saved_notes_message_is_in_view_at_the_notes(world, tabs, viewport):
    tab = on_marcuss_page(world, tabs, viewport, "+ Write a note")
    page = tab.page
    page.locator("textarea[name=text]").fill("Called him: the room is fine.")
    save(tab)

    assert page.url.endswith("#notes")
    expect(page.get_by_text("Note saved.")).to_be_in_viewport()
    expect(page.locator("#notes").get_by_role("heading", name="Case notes")).to_be_in_viewport()


def test_a_saved_follow_ups_message_is_in_view_at_its_row(world, tabs):
    tab = on_marcuss_page(world, tabs, DESKTOP, "+ Schedule a follow-up")
    page = tab.page
    page.get_by_label("What").fill("Housing visit")
    page.get_by_label("When").fill((timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT10:00"))
    save(tab)

    assert "#follow-up-" in page.url
    expect(page.locator("main .messages")).to_be_in_viewport()
    row = page.locator(f"#{page.url.split('#')[1]}")
    expect(row.locator(".messages")).to_be_in_viewport()  # at the start of the row
    expect(row.locator("strong", has_text="Housing visit")).to_be_in_viewport()
