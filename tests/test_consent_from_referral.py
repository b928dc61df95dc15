"""Consent fixed in one pass from a referral that cannot be sent (issue 21 #1): the consent
form opens prefilled from the referral and comes back to it; sending is a button, disabled
with its reason while consent is missing; drafts waiting for consent are tagged."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from services.choices import ConsentCategory as C
from services.choices import ReferralStatus
from services.models.consent import Consent
from services.models.referrals import Referral, ReferralCategory
from services.selectors import coverage
from tests.factories import ReferralFactory, consent_for

TODAY = date(2026, 12, 2)


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def draft(world, time_machine):
    """Marcus's draft referral to a provider, carrying mental health beyond a contact-only consent."""
    time_machine.move_to("2026-12-02 15:00Z", tick=False)
    referral = world.marcus.referral
    assert referral.status == ReferralStatus.DRAFT
    ReferralCategory.objects.create(referral=referral, category=C.MENTAL_HEALTH)
    consent_for(world.marcus.exoneree, referral.resource.provider, [C.CONTACT])
    return referral


def consent_url(world, referral) -> str:
    return reverse("consent_create", args=[world.marcus.exoneree.pk]) + f"?referral={referral.pk}"


def test_the_send_button_is_disabled_with_its_reason_while_consent_is_missing(login, world, draft):
    page = login("caseworker1").get(draft.get_absolute_url()).content.decode()

    button = '<button type="button" class="primary" disabled aria-describedby="send-why">Send to the provider</button>'
    assert button in page
    assert "It can be sent once a consent covers what it shares." in page
    assert f'href="{consent_url(world, draft)}"' in page
    assert '<option value="sent"' not in page  # not a status to pick from the list


def test_the_consent_form_opens_with_the_provider_the_missing_kinds_and_the_dates(login, world, draft):
    form = login("caseworker1").get(consent_url(world, draft)).context["form"]

    assert form.initial["provider"] == draft.resource.provider_id
    assert form.initial["categories"] == [C.MENTAL_HEALTH]
    assert (form.initial["starts_on"], form.initial["ends_on"], form.initial["signed_on"]) == (
        TODAY,
        date(2027, 12, 2),
        TODAY,
    )


def test_saving_the_consent_returns_to_the_referral_which_can_then_be_sent(login, world, draft):
    caseworker = login("caseworker1")
    form = caseworker.get(consent_url(world, draft)).context["form"]
    data = {name: form.initial[name] for name in ("provider", "purpose", "starts_on", "ends_on", "signed_on")}

    saved = caseworker.post(consent_url(world, draft), {**data, "categories": [C.MENTAL_HEALTH], "signed_how": "paper"})

    assert (saved.status_code, saved.url) == (302, draft.get_absolute_url())
    assert Consent.objects.filter(exoneree=world.marcus.exoneree, provider=draft.resource.provider).count() == 2
    page = caseworker.get(draft.get_absolute_url()).content.decode()
    assert '<input type="hidden" name="status" value="sent">' in page
    assert "disabled" not in page[page.index('id="send-h"') :]
    sent = caseworker.post(reverse("referral_transition", args=[draft.pk]), {"status": "sent"})
    draft.refresh_from_db()
    assert sent.status_code == 302 and draft.status == ReferralStatus.SENT


def test_a_consent_form_for_someone_elses_referral_or_garbage_is_404(login, world, draft):
    thomas_referral = world.thomas.referral
    caseworker = login("caseworker1")

    assert caseworker.get(consent_url(world, thomas_referral)).status_code == 404
    assert caseworker.get(consent_url(world, draft).replace(str(draft.pk), "x1")).status_code == 404
    other = ReferralFactory(need__exoneree=world.thomas.exoneree)
    assert caseworker.post(consent_url(world, other), {}).status_code == 404


def test_drafts_waiting_for_consent_are_tagged_on_the_dashboard_and_the_person_page(login, world, draft):
    caseworker = login("caseworker1")
    for url in (reverse("dashboard"), world.marcus.exoneree.get_absolute_url()):
        assert "Waiting for consent" in caseworker.get(url).content.decode()

    consent_for(world.marcus.exoneree, draft.resource.provider, [C.CONTACT, C.MENTAL_HEALTH])

    for url in (reverse("dashboard"), world.marcus.exoneree.get_absolute_url()):
        assert "Waiting for consent" not in caseworker.get(url).content.decode()


def test_waiting_for_consent_agrees_with_consent_missing_for_every_referral(world, draft):
    covered = ReferralFactory(need=world.marcus.need, resource=draft.resource)
    elsewhere = ReferralFactory(need=world.thomas.need)
    consent_for(world.thomas.exoneree, elsewhere.resource.provider, [C.CONTACT, C.HOUSING])
    sent = ReferralFactory(need=world.marcus.need, resource=draft.resource, status=ReferralStatus.SENT)
    ReferralCategory.objects.create(referral=sent, category=C.LEGAL)
    revoked = ReferralFactory(need=world.thomas.need, resource=elsewhere.resource)
    ReferralCategory.objects.create(referral=revoked, category=C.LEGAL)
    consent_for(world.thomas.exoneree, elsewhere.resource.provider, [C.LEGAL], revoked=True)
    referrals = Referral.objects.annotate(waiting=coverage.waiting_for_consent())

    waiting = {r.pk for r in referrals if r.waiting}

    assert waiting == {r.pk for r in referrals if r.status == ReferralStatus.DRAFT and coverage.consent_missing(r)}
    assert {draft.pk, revoked.pk} <= waiting
    assert not {covered.pk, elsewhere.pk, sent.pk} & waiting
