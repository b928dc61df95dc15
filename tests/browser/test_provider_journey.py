"""The referral loop in the browser (issue 17): the caseworker sends a referral; a fresh
browser context with no cookies opens the emailed link from the outbox, accepts, then
completes; the caseworker sees both updates; the exoneree sees them on the phone and answers.
Every page passes axe (see conftest), the provider's page included."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from playwright.sync_api import expect

from services import reminders
from services.choices import ConsentCategory, ReferralStatus
from services.models.referrals import Referral, ReferralCategory
from tests.browser.conftest import DESKTOP, PHONE, authenticator, with_password
from tests.factories import consent_for


def test_the_provider_answers_from_the_email_and_everyone_sees_it(world, tabs):
    referral = world.marcus.referral
    provider = referral.resource.provider.name
    ReferralCategory.objects.create(referral=referral, category=ConsentCategory.HOUSING)
    consent_for(world.marcus.exoneree, referral.resource.provider)

    # The caseworker sends it.
    staff = tabs(DESKTOP)
    staff.sign_in("caseworker1", device=authenticator(with_password(world.caseworker1)))
    staff.goto(referral.get_absolute_url())
    staff.page.get_by_role("button", name="Send to the provider").click()
    staff.check()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT

    # The worker's part: the notice goes out; its link is in the outbox.
    for reminder_id in reminders.reminders_claim_due():
        reminders.reminder_send(reminder_id)
    (email,) = [m for m in mail.outbox if m.to == [referral.resource.intake_email]]
    link = urlsplit(re.search(r"https?://\S+/p/\S+/", email.body).group(0)).path

    # The provider: a fresh context, no cookies, no account.
    them = tabs(DESKTOP)
    response = them.goto(link)
    assert response.status == 200 and response.headers["cache-control"] == "no-store, private"
    page = them.page
    expect(page.get_by_role("heading", level=1)).to_contain_text("A referral from")
    expect(page.get_by_text(world.marcus.exoneree.legal_name)).to_be_visible()
    page.get_by_label("Who will be the person's contact with you?").fill("Ms. Lee")
    page.get_by_role("button", name="Accept").click()
    them.check()
    expect(page.get_by_text("Thank you. The caseworker has been told.")).to_be_visible()
    page.get_by_role("button", name="Mark in progress").click()
    them.check()
    page.get_by_label("Did the person get the service?").select_option(label="Yes")
    page.get_by_role("button", name="Mark completed").click()
    them.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert them.page.goto(link).status == 410

    # The caseworker sees both updates, by the provider.
    staff.goto(referral.get_absolute_url())
    history = staff.page.locator(".timeline")
    expect(history).to_contain_text(f"Accepted — by {provider}")
    expect(history).to_contain_text(f"Completed — by {provider}")

    # The person, on the phone: the news in plain words, and their own answer.
    phone = tabs(PHONE)
    with_password(world.exoneree1)
    phone.sign_in("exoneree1")
    phone.goto("/my-plan/")
    expect(phone.page.get_by_text(f"Your contact at {provider}: Ms. Lee.")).to_be_visible()
    answer = phone.page.locator("form.person-answer").filter(
        has=phone.page.get_by_role("group", name=re.compile("Did you get help from"))
    )
    answer.get_by_label("Yes").check()
    answer.get_by_role("button", name="Send my answer").click()
    phone.check()
    assert Referral.objects.get(pk=referral.pk).person_answer == "yes"
