"""The README's pictures, taken from the demo a newcomer sees after `make run` (seed_demo's
people, not the test personas): each role's first page, the person page, the consent gate, the
second sign-in step, the director's pages, the plan on a phone in English and in Spanish.
Every page passes axe (see conftest); `make screenshots` saves them in docs/screenshots/.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from services.choices import ReferralStatus
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, current_code, demo_device


def test_the_readme_pictures_show_the_demo(demo, tabs, settings: Any):
    marcus = Exoneree.objects.get(legal_name="Marcus Webb")  # caseworker1 has him; he signs in as exoneree1
    referrals = Referral.objects.filter(need__exoneree=marcus)
    draft = referrals.get(status=ReferralStatus.DRAFT)
    completed = next(r for r in referrals.filter(status=ReferralStatus.COMPLETED) if r.feedback)  # encrypted

    # The second sign-in step as `make run` shows it (DEBUG: with the demo's hint).
    caseworker = tabs(DESKTOP)
    page = caseworker.page
    settings.DEBUG = True
    caseworker.goto("/accounts/login/")
    page.get_by_label("Username").fill("caseworker1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    caseworker.check()
    expect(page.locator(".demo-hint")).to_contain_text("demo_code caseworker1")
    caseworker.screenshot("sign-in-code.png")
    settings.DEBUG = False
    page.get_by_label("Code").fill(current_code(demo_device("caseworker1")))
    page.get_by_role("button", name="Continue").click()
    caseworker.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("My dashboard")
    caseworker.screenshot("caseworker-dashboard.png")

    caseworker.goto(marcus.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Marcus Webb")
    caseworker.screenshot("person-page.png", full_page=False)

    # A referral that cannot be sent until a consent covers it: the button says why.
    caseworker.goto(draft.get_absolute_url())
    expect(page.get_by_role("button", name="Send to the provider")).to_be_disabled()
    expect(page.locator("#send-why")).to_contain_text("once a consent covers what it shares")
    caseworker.screenshot("consent-gate.png", full_page=False)

    caseworker.goto(completed.get_absolute_url())
    expect(page.get_by_text(completed.feedback)).to_be_visible()
    caseworker.screenshot("caseworker-referral.png")

    director = tabs(DESKTOP)
    page = director.page
    nav = page.get_by_role("navigation", name="Main")
    director.sign_in("director1", device=demo_device("director1"))
    assert page.url.endswith("/director/")
    director.screenshot("director-dashboard.png")
    nav.get_by_role("link", name="Outcomes").click()
    director.check()
    director.screenshot("director-outcomes.png", full_page=False)
    nav.get_by_role("link", name="Access log").click()
    director.check()
    director.screenshot("director-access-log.png", full_page=False)

    # exoneree1 reads English; exoneree4 (Delia Ruiz) chose Spanish.
    for username, greeting, name in [
        ("exoneree1", "Hello, Marcus", "exoneree-plan.png"),
        ("exoneree4", "Hola, Delia", "exoneree-plan-es.png"),
    ]:
        person = tabs(PHONE, scale=1.25)
        person.sign_in(username)
        expect(person.page.get_by_role("heading", level=1)).to_have_text(greeting)
        person.screenshot(name, full_page=False)  # its first screen: the plan is many screens long
