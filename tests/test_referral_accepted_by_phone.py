"""A provider that accepts by phone or email rather than through its link: the caseworker who
marks the referral accepted can note the contact and the start day the provider gave, as the
provider's own page would have taken them, and the person's plan names them the same way.
Only an acceptance keeps them; a day that is a slip of the year is refused beside its box."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from services.choices import ReferralStatus
from services.models.referrals import Referral
from tests.conftest import World
from tests.test_api import api, key_for, v1
from tests.test_cases import error_beside

pytestmark = pytest.mark.world_built_once


def sent(world: World) -> Referral:
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)
    return Referral.objects.get(pk=referral.pk)


def move(login, referral: Referral, **data: str):
    return login("caseworker1").post(reverse("referral_transition", args=[referral.pk]), data)


def test_the_contact_and_start_day_a_provider_phoned_in_are_kept_and_on_the_persons_plan(login, world):
    referral = sent(world)
    start = timezone.localdate() + timedelta(days=6)

    response = move(login, referral, status="accepted", provider_contact=" Ms. Lee ", expected_on=start.isoformat())

    assert response.status_code == 302, response.content.decode()[:2000]
    referral.refresh_from_db()
    assert (referral.status, referral.provider_contact, referral.expected_on) == ("accepted", "Ms. Lee", start)
    plan = unescape(login("exoneree1").get(reverse("my_plan")).content.decode())
    provider = referral.resource.provider.name
    assert f"Your contact at {provider}: Ms. Lee." in plan
    # The person's pages give the year only when it is not this year's (services/lib/days.py).
    day = date_format(start, "F j" if start.year == timezone.localdate().year else "F j, Y")
    assert f"They plan to start on {day}." in plan


def test_the_form_offers_them_only_while_accepting_is_a_move_left(login, world):
    referral = sent(world)
    offered = login("caseworker1").get(referral.get_absolute_url()).content.decode()
    assert 'name="provider_contact"' in offered and 'name="expected_on"' in offered
    assert 'data-shown-for="accepted"' in offered

    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.IN_PROGRESS)
    later = login("caseworker1").get(referral.get_absolute_url()).content.decode()
    assert 'name="provider_contact"' not in later and 'name="expected_on"' not in later


@pytest.mark.parametrize(
    ("days", "message"),
    [(-400, "more than a year ago: check the year"), (3 * 365 + 5, "more than three years ahead: check the year")],
    ids=["a-year-back", "years-ahead"],
)
def test_a_start_day_that_is_a_slip_of_the_year_is_refused_beside_its_box(login, world, days, message):
    referral = sent(world)
    day = timezone.localdate() + timedelta(days=days)

    response = move(login, referral, status="accepted", provider_contact="Ms. Lee", expected_on=day.isoformat())

    assert response.status_code == 400
    assert message in error_beside(response, "expected_on")
    assert 'value="Ms. Lee"' in response.content.decode()  # what was typed stays
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_only_an_acceptance_keeps_them(login, world):
    referral = sent(world)

    response = move(
        login,
        referral,
        status="declined",
        decline_reason="No beds left",
        provider_contact="Ms. Lee",
        expected_on=timezone.localdate().isoformat(),
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.provider_contact, referral.expected_on) == ("declined", "", None)


def test_the_api_takes_and_returns_them(world):
    referral = sent(world)
    start = timezone.localdate() + timedelta(days=3)

    moved = api(
        Client(),
        key_for(world, "caseworker1"),
        "POST",
        v1("referral-transition", referral.pk),
        {"status": "accepted", "provider_contact": "Ms. Lee", "expected_on": start.isoformat()},
    )

    assert moved.status_code == 200, moved.content
    assert (moved.json()["provider_contact"], moved.json()["expected_on"]) == ("Ms. Lee", start.isoformat())
