"""The provider's page at the widths a provider reads it on: its cards (contact details, what
the person shares, the referring caseworker) sit side by side only where each is wide enough,
and no word in them is broken across two lines (at 1280 px the three cards once left a value
column so narrow that "Whitfield" read "Whitfi / eld")."""

from __future__ import annotations

import pytest
from django.utils import timezone

from services.actions import referrals as referral_actions
from services.choices import ConsentCategory, ReferralStatus
from services.models.referrals import ReferralCategory
from services.referral_reminders import link_issue
from tests.browser.conftest import SIDEWAYS
from tests.factories import consent_for

WIDTHS = (1280, 1024, 768, 375)
# Every word of the cards' text, as "word (tag)", that the browser laid out over more than one
# line. A word is what lies between spaces and dashes: a line may end after a dash.
BROKEN_WORDS = """() => {
    const broken = [];
    const walker = document.createTreeWalker(document.querySelector('main .grid'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const word of node.data.matchAll(/[^\\s\\-\\u2013\\u2014]+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (lines.size > 1) broken.push(`${word[0]} (${node.parentElement.tagName.toLowerCase()})`);
        }
    }
    return broken;
}"""
CARD_WIDTHS = "els => els.map(e => Math.round(e.getBoundingClientRect().width))"


@pytest.fixture
def provider_page(world) -> str:
    """Marcus's referral sent under a consent to share his contact details and housing need,
    and the path of a working link to it, as the provider's email carries."""
    world.caseworker1.email = "casey.onewell@harborlight.org"  # as long as a real one
    world.caseworker1.save(update_fields=["email"])
    referral = world.marcus.referral
    referral.note = "He can start on a weekday morning; his transportation is arranged."
    referral.save(update_fields=["note"])
    ReferralCategory.objects.create(referral=referral, category=ConsentCategory.HOUSING)
    consent_for(world.marcus.exoneree, referral.resource.provider)
    referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.SENT)
    token, _ = link_issue(referral, now=timezone.now(), replace=False)
    return f"/p/{token}/"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_providers_cards_break_no_word_at_any_width(provider_page, tabs, width):
    tab = tabs({"width": width, "height": 900})
    assert tab.goto(provider_page).status == 200
    page = tab.page
    tab.screenshot(f"provider-page-{width}.png")

    cards = page.eval_on_selector_all("main .grid > .card", CARD_WIDTHS)
    assert len(cards) == 3
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate(SIDEWAYS) == []
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
