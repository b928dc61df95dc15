"""Back after a save does not save twice (services/static/services/once.js): a caseworker
saved a note, pressed the browser's Back, found the form with the words still in it (Chromium
puts typed words back) and pressed Save again: a second, identical note. The page came back
with a new key (`{% form_once %}`), so the double-send guard took it for another sending.
Now the same words sent again after Back are "already saved", and words changed after Back
are another sending, and save."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Model
from django.utils import timezone
from playwright.sync_api import expect

from services.models.casework import CaseNote
from services.models.follow_ups import FollowUp
from services.models.messages import Message
from services.models.needs import Need
from tests.browser.conftest import DESKTOP, authenticator, with_password

ALREADY_SAVED = "This was already saved."


def held(model: type[Model], field: str, words: str) -> int:
    """How many rows hold these words (encrypted: compared here, not by the database)."""
    return sum(1 for value in model.objects.values_list(field, flat=True) if value == words)


def note(page: Any, words: str) -> None:
    page.locator("textarea[name=text]").fill(words)


def follow_up(page: Any, words: str) -> None:
    page.get_by_label("What").fill(words)
    page.get_by_label("When").fill((timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT10:00"))


def need(page: Any, words: str) -> None:
    page.get_by_label("Kind of need").select_option(label="Housing")
    page.get_by_label("Description").fill(words)


def message(page: Any, words: str) -> None:
    page.locator("main form textarea").first.fill(words)


# Each create form a caseworker reaches from the person page: the link (None: the messages
# page is reached by its address), how to fill it, the box that holds the words, the button,
# and how many rows hold given words.
FORMS: list[tuple[str, str | None, Callable[[Any, str], None], str, str, Callable[[str], int]]] = [
    ("note", "+ Write a note", note, "textarea[name=text]", "Save", lambda w: held(CaseNote, "text", w)),
    (
        "follow-up",
        "+ Schedule a follow-up",
        follow_up,
        "input[name=title]",
        "Save",
        lambda w: held(FollowUp, "title", w),
    ),
    (
        "need",
        "+ Add a need",
        need,
        "textarea[name=description]",
        "Save",
        lambda w: held(Need, "description", w),
    ),
    ("message", None, message, "main form textarea", "Send", lambda w: held(Message, "text", w)),
]


@pytest.mark.parametrize(("name", "link", "fill", "box", "button", "saved"), FORMS, ids=[f[0] for f in FORMS])
def test_save_back_and_save_again_saves_once_and_changed_words_save(world, tabs, name, link, fill, box, button, saved):
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    person = f"/people/{world.marcus.exoneree.pk}/"
    if link:
        tab.goto(person)
        page.get_by_role("link", name=link).click()
    else:
        tab.goto(f"{person}messages/")
    tab.check()
    form_page = page.url
    words = f"Called the landlord about the {name}, no answer"
    fill(page, words)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    tab.check()
    assert saved(words) == 1

    page.go_back()
    tab.check()
    assert page.url == form_page
    expect(page.locator(box).first).to_have_value(words)  # Chromium put the words back
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    tab.check()
    expect(page.get_by_text(ALREADY_SAVED)).to_be_visible()
    assert saved(words) == 1

    # Back again, on purpose, and other words: another sending, saved.
    page.go_back()
    tab.check()
    assert page.url == form_page
    changed = words.replace("no answer", "left a message")
    page.locator(box).first.fill(changed)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    tab.check()
    expect(page.get_by_text(ALREADY_SAVED)).to_have_count(0)
    assert saved(words) == 1 and saved(changed) == 1


def test_a_form_opened_anew_has_a_key_of_its_own(world, tabs):
    """Only a page the browser opens again from its history takes up the key it was sent with:
    the same form opened from its link is a new form, and the same words in it save again."""
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    person = f"/people/{world.marcus.exoneree.pk}/"
    words = "Weekly call: all well"
    for _ in range(2):
        tab.goto(person)
        page.get_by_role("link", name="+ Write a note").click()
        tab.check()
        expect(page.locator("textarea[name=text]")).to_have_value("")
        note(page, words)
        with page.expect_navigation():
            page.get_by_role("button", name="Save", exact=True).click()
        tab.check()
        expect(page).to_have_url(re.compile(f"{person}#notes$"))
    assert held(CaseNote, "text", words) == 2
