"""An exoneree on a phone (390×844), in the browser: their plan, what is coming up and whom to
call, then the same plan in Spanish. Every page passes axe (see conftest)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.models.organizations import StaffMember
from tests.browser.conftest import PHONE, with_password


@pytest.fixture
def marcus(world):
    """exoneree1 (Marcus) with a password, and a caseworker phone number to call."""
    StaffMember.objects.filter(user=world.caseworker1).update(title="Reentry caseworker", phone="(713) 555-0142")
    return with_password(world.exoneree1)


def test_exoneree_reads_their_plan_on_a_phone(world, marcus, tabs):
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    assert page.url.endswith("/my-plan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Marcus")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    call = page.get_by_role("region", name="Who to call")
    expect(call).to_contain_text("Casey Onewell")
    expect(call.get_by_role("link", name="(713) 555-0142")).to_have_attribute("href", "tel:7135550142")
    coming = page.get_by_role("region", name="Coming up")
    expect(coming).to_contain_text("Visit Marcus at home")
    help_ = page.get_by_role("region", name="What you asked us to help with")
    expect(help_).to_contain_text("Marcus needs an apartment")
    # Staff-only notes never reach the plan.
    expect(page.locator("main")).not_to_contain_text("wary of phones")
    tab.screenshot("exoneree-plan.png")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_exoneree_switches_their_plan_to_spanish(world, marcus, tabs):
    tab = tabs(PHONE, scale=1.25)
    page = tab.page
    tab.sign_in("exoneree1")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switch = page.locator("form.language-switch")
    switch.get_by_role("button", name="Español").click()
    tab.check()
    assert page.url.endswith("/my-plan/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Marcus")
    tab.screenshot("exoneree-plan-es.png")

    # The choice stays on the next page load, and can be switched back.
    page.reload()
    tab.check()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.locator("form.language-switch").get_by_role("button", name="English").click()
    tab.check()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Marcus")
