"""The exoneree's pages on a 360×740 phone, tap by tap: My plan and every page it leads to
(messages, how to reach me, the papers, asks, visits, stopping a share, the account, the password,
the sign-in code), in English (Marcus) and in Spanish (Delia), as the demo shows them. Each link,
button, fold and choice is a target of 24×24 px at least (WCAG 2.2, 2.5.8), none over another;
the phone numbers, the email address and "Change your password" were 21 px tall. On a desktop the
same links keep to their line's 27 px."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from services.models.people import Exoneree
from tests.browser.conftest import DESKTOP
from tests.sample_files import document_for

SMALL_PHONE = {"width": 360, "height": 740}
# Every target in the page, its sections unfolded: a radio or a checkbox inside its label is
# the label (a tap on the words picks it). Boxes in page coordinates, to tell overlaps.
TARGETS = """() => {
    document.querySelectorAll('main details').forEach(fold => { fold.open = true; });
    const targets = [];
    for (const e of document.querySelectorAll(
            'main a[href], main button, main summary, main select, main textarea, main input:not([type=hidden])')) {
        if (!e.checkVisibility()) continue;
        const inLabel = ['radio', 'checkbox'].includes(e.type) && e.labels.length && e.labels[0].contains(e);
        const box = (inLabel ? e.labels[0] : e).getBoundingClientRect();
        const words = (e.textContent || e.name || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
        targets.push({
            name: `${e.tagName.toLowerCase()} ${words}`,
            left: box.left + scrollX, top: box.top + scrollY, width: box.width, height: box.height,
        });
    }
    return targets;
}"""
# Not pages: files the browser saves.
DOWNLOADS = re.compile(r"\.(pdf|ics|json)$|/my-plan/documents/\d+/$")


def small(targets: list[dict]) -> list[tuple[str, int, int]]:
    return [(t["name"], round(t["width"]), round(t["height"])) for t in targets if t["width"] < 24 or t["height"] < 24]


def overlapping(targets: list[dict]) -> list[tuple[str, str]]:
    """Pairs of targets whose boxes cross by more than a pixel (a tap could take either)."""

    def cross(a: dict, b: dict) -> bool:
        wide = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
        tall = min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"])
        return wide > 1 and tall > 1

    return [(a["name"], b["name"]) for i, a in enumerate(targets) for b in targets[i + 1 :] if cross(a, b)]


@pytest.mark.parametrize("username", ["exoneree1", "exoneree4"])
def test_every_target_on_the_persons_pages_is_easy_to_tap_on_a_small_phone(demo, tabs, username):
    user = get_user_model().objects.get(username=username)
    person = Exoneree.objects.get(user=user)
    caseworker = person.caseworkers.order_by("pk").first()
    document_for(person, caseworker, title="Birth certificate, certified copy")  # a paper to download
    tab = tabs(SMALL_PHONE, touch=True)
    tab.sign_in(username)
    page = tab.page
    assert page.url.endswith("/my-plan/")
    language = "es" if person.preferred_language == "es" else "en"
    assert page.locator("html").get_attribute("lang") == language

    to_visit, seen = ["/my-plan/", "/account/"], set()
    while to_visit:
        path = to_visit.pop(0)
        if path in seen:
            continue
        seen.add(path)
        tab.goto(path)
        targets = page.evaluate(TARGETS)
        assert targets, path
        assert small(targets) == [], path
        assert overlapping(targets) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"], path
        for href in page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.getAttribute('href'))"):
            href = href.split("#")[0].split("?")[0]
            if not DOWNLOADS.search(href) and href not in seen:
                to_visit.append(href)
    # The plan's every way on: the messages, the asks, the papers, a share, the account's pages.
    ways_on = ("/my-plan/messages/", "/my-plan/reach-me/", "/my-plan/documents/new/", "/accounts/password_change/")
    assert set(ways_on) <= seen, sorted(seen)
    assert any(path.startswith("/my-plan/sharing/") for path in seen), sorted(seen)

    # A desktop keeps its look: the same links, as tall as their line.
    page.set_viewport_size(DESKTOP)
    for path in ("/my-plan/", "/account/"):
        tab.goto(path)
        assert small(page.evaluate(TARGETS)) == [], path


# The small buttons in the page (the height each one takes up, in whole px).
SMALL_BUTTONS = """() => [...document.querySelectorAll('main :is(button.small, .button.small, a.small)')]
    .filter(e => e.checkVisibility())
    .map(e => [e.textContent.trim(), Math.round(e.getBoundingClientRect().height)])"""


@pytest.mark.parametrize("username", ["exoneree1", "exoneree4"])
def test_stop_sharing_is_as_tall_as_the_plans_other_buttons_on_a_phone(demo, tabs, username):
    """ "Stop sharing" ("Dejar de compartir"), at the end of each sharing on My plan, was 40 px tall
    on a phone where the plan's other buttons and folds are 44 (a walk at 375 px). 24 px is WCAG
    2.2's least (2.5.8); 44 is what this site gives a thumb on a touch screen."""
    tab = tabs(SMALL_PHONE, touch=True)
    tab.sign_in(username)
    tab.goto("/my-plan/?open=sharing")

    heights = tab.page.evaluate(SMALL_BUTTONS)

    assert heights and all(height >= 44 for _, height in heights), heights
