"""A caseworker's day, in the browser: intake, two needs in the person's own words, a referral
taken from draft to completed with feedback, a follow-up seen on the dashboard and marked done.
Every page passes axe (see conftest)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from services.choices import ReferralStatus
from services.models.follow_ups import FollowUp
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.browser.conftest import DESKTOP, authenticator, with_password


def test_caseworker_takes_a_person_from_intake_to_a_completed_referral(world, tabs):
    device = authenticator(with_password(world.caseworker1))
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=device)
    expect(page.get_by_role("heading", level=1)).to_have_text("My dashboard")

    # Intake
    page.get_by_role("link", name="+ New person (intake)").click()
    tab.check()
    page.get_by_label("Legal name").fill("Jerome Castle")
    page.get_by_label("Social Security number").fill("900-55-1234")
    page.get_by_role("button", name=re.compile("Save|Create|Add")).click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jerome Castle")
    jerome = Exoneree.objects.get(legal_name="Jerome Castle")
    assert jerome.caseworkers.filter(pk=world.caseworker1.pk).exists()

    # Two needs, each in the person's own words
    for domain, description, words in [
        ("Housing", "Needs a place to live near his sister", "I just want a door that locks and is mine."),
        ("Transportation", "No car and no license yet", "The bus takes two hours to the clinic."),
    ]:
        page.get_by_role("link", name="+ Add a need").click()
        tab.check()
        page.get_by_label("Kind of need").select_option(label=domain)
        page.get_by_label("Description").fill(description)
        page.get_by_label("In their own words").fill(words)
        page.get_by_role("button", name=re.compile("Save|Add")).click()
        tab.check()
        expect(page.locator("blockquote", has_text=words)).to_be_visible()
    assert jerome.needs.count() == 2

    # The referral first: it cannot be sent until a consent covers it, and the consent is
    # recorded from the referral in one pass (the form opens prefilled and comes back).
    resource = world.marcus.resource
    housing = page.locator("article.need", has_text="Needs a place to live")
    housing.get_by_role("link", name="Refer to a resource").click()
    tab.check()
    page.get_by_label("Refer to").select_option(value=str(resource.pk))
    page.get_by_label("Note to the provider").fill("He prefers calls after 10 am.")
    page.get_by_role("button", name=re.compile("Save|Refer|Create")).click()
    tab.check()
    referral = Referral.objects.get(need__exoneree=jerome)
    assert referral.status == ReferralStatus.DRAFT
    expect(page.get_by_role("button", name="Send to the provider")).to_be_disabled()
    expect(page.locator("#send-why")).to_contain_text("once a consent covers what it shares")

    page.get_by_role("link", name="Record the consent").click()
    tab.check()
    expect(page.get_by_label("Shared with")).to_have_value(str(resource.provider_id))
    expect(page.get_by_label("Contact details")).to_be_checked()
    expect(page.get_by_label("Housing")).to_be_checked()
    expect(page.get_by_label("From")).to_have_value(timezone.localdate().isoformat())
    page.get_by_label(re.compile(r"^Signed \(")).select_option(label="On paper")
    page.get_by_role("button", name=re.compile("Save|Record")).click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Referral to {resource.name}")
    page.get_by_role("button", name="Send to the provider").click()
    tab.check()
    expect(page.get_by_role("status")).to_contain_text("Referral is now sent")

    for status in ("Accepted", "In progress"):
        page.get_by_label("New status").select_option(label=status)
        page.get_by_role("button", name="Save update").click()
        tab.check()
        expect(page.get_by_role("status")).to_contain_text(f"Referral is now {status.lower()}")
    page.get_by_label("New status").select_option(label="Completed")
    page.get_by_label("Did they get the service?").select_option(label="Yes")
    page.get_by_label("Did it help?").select_option(label="Yes")
    page.get_by_label("What did they say about it?").fill("They found him a one-bedroom; he moves in Monday.")
    page.get_by_role("button", name="Save update").click()
    tab.check()
    expect(page.get_by_text("They found him a one-bedroom; he moves in Monday.")).to_be_visible()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED
    assert referral.got_service is True and referral.helped is True

    # A follow-up, due tomorrow: on the dashboard, then done from there
    page.get_by_role("link", name="← Jerome Castle").click()
    tab.check()
    page.get_by_role("link", name="+ Schedule a follow-up").click()
    tab.check()
    due = timezone.localtime() + timedelta(days=1)
    page.get_by_label("What").fill("Moving-day check-in")
    page.get_by_label("When").fill(due.strftime("%Y-%m-%dT10:00"))
    page.get_by_label("Assigned to").select_option(label="Casey Onewell")
    page.get_by_label("Need", exact=True).select_option(label="Housing: Needs a place to live near his sister")
    page.get_by_label(re.compile("show it on their plan")).check()
    page.get_by_role("button", name=re.compile("Save|Schedule")).click()
    tab.check()
    follow_up = FollowUp.objects.get(exoneree=jerome)

    page.get_by_role("link", name="My dashboard").click()
    tab.check()
    row = page.locator(f"#follow-up-{follow_up.pk}")
    expect(row).to_contain_text("Moving-day check-in")
    expect(row).to_contain_text("Jerome Castle")
    row.get_by_role("button", name="Mark done").click()
    tab.check()
    expect(page).to_have_url(re.compile("/dashboard/$"))
    expect(page.locator(f"#follow-up-{follow_up.pk}")).to_have_count(0)
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


def test_mark_done_on_the_person_page_updates_what_needs_doing_without_a_reload(world, tabs):
    marcus = world.marcus.exoneree
    late = FollowUp.objects.create(
        exoneree=marcus,
        assigned_to=world.caseworker1,
        title="Call the landlord",
        due_at=timezone.now() - timedelta(days=2),
    )
    open_count = FollowUp.objects.filter(exoneree=marcus, done_at__isnull=True).count()
    device = authenticator(with_password(world.caseworker1))
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=device)
    tab.goto(marcus.get_absolute_url())
    tab.check()
    to_do = page.locator("#to-do")
    count = page.locator("#follow-ups-tab")
    expect(to_do).to_contain_text("Call the landlord")
    expect(count).to_have_text(f"Follow-ups ({open_count})")
    page.evaluate("window.notReloaded = true")

    page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Mark done").click()
    expect(page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Undo")).to_be_visible()
    # The row was replaced: focus stays on its button, not back at the top of the page.
    expect(page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Undo")).to_be_focused()
    tab.check()
    expect(to_do).not_to_contain_text("Call the landlord")
    expect(count).to_have_text(f"Follow-ups ({open_count - 1})")

    page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Undo").click()
    expect(page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Mark done")).to_be_visible()
    expect(page.locator(f"#follow-up-{late.pk}").get_by_role("button", name="Mark done")).to_be_focused()
    tab.check()
    expect(to_do).to_contain_text("Call the landlord")
    expect(count).to_have_text(f"Follow-ups ({open_count})")
    assert page.evaluate("window.notReloaded === true")


def test_why_it_was_declined_shows_only_once_declined_is_chosen(world, tabs):
    """The referral's update showed "Why was it declined?" before Declined was chosen."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)
    device = authenticator(with_password(world.caseworker1))
    tab = tabs(DESKTOP)
    page = tab.page
    tab.sign_in("caseworker1", device=device)
    tab.goto(referral.get_absolute_url())

    reason = page.get_by_label("Why was it declined?")
    help_line = page.get_by_text("“Why was it declined?” is needed when declined.")
    expect(reason).to_be_hidden()
    expect(help_line).to_be_hidden()
    page.get_by_label("New status").select_option(label="Declined")
    expect(reason).to_be_visible()
    expect(help_line).to_be_visible()
    tab.check()
    page.get_by_label("New status").select_option(label="Accepted")
    expect(reason).to_be_hidden()

    # Declined without a reason: sent back, the box shown with its message beside it.
    page.get_by_label("New status").select_option(label="Declined")
    page.get_by_role("button", name="Save update").click()
    tab.check()
    expect(reason).to_be_visible()
    expect(page.locator("#id_decline_reason_error")).to_contain_text("Say why the provider declined.")
    reason.fill("No beds left")
    page.get_by_role("button", name="Save update").click()
    tab.check()
    expect(page.get_by_role("status")).to_contain_text("Referral is now declined")
    assert Referral.objects.get(pk=referral.pk).decline_reason == "No beds left"
