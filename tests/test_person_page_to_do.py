"""The person page starts with what needs doing (issue 21 #3), each with its one action, from
what the page loads anyway (its query budget is in tests/test_queries.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.choices import ConsentCategory as C
from services.choices import Priority
from services.models.referrals import ReferralCategory
from tests.factories import FollowUpFactory, NeedFactory, consent_for

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def section(page: str) -> str:
    start = page.index('id="todo-h"')
    return page[start : page.index("</section>", start)]


def test_the_page_starts_with_what_needs_doing_each_with_its_action(login, world):
    marcus = world.marcus.exoneree
    late = FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))
    FollowUpFactory(exoneree=marcus, title="Next week's visit", due_at=timezone.now() + timedelta(days=7))
    ReferralCategory.objects.create(referral=world.marcus.referral, category=C.MENTAL_HEALTH)
    urgent = NeedFactory(exoneree=marcus, priority=Priority.URGENT)

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()
    todo = section(page)

    assert page.index('id="todo-h"') < page.index('id="profile-h"')
    assert "Call the landlord" in todo and "Next week" not in todo
    assert f'href="#follow-up-{late.pk}">Mark it done' in todo
    consent = reverse("consent_create", args=[marcus.pk]) + f"?referral={world.marcus.referral.pk}"
    assert f'href="{consent}">Record the consent' in todo
    assert f'href="{reverse("referral_create", args=[urgent.pk])}">Refer to a resource' in todo


def test_nothing_to_do_shows_no_section(login, world):
    marcus = world.marcus.exoneree
    consent_for(marcus, world.marcus.resource.provider, C.values)

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()

    assert 'id="todo-h"' not in page


def test_a_director_sees_it_without_the_caseworkers_actions(login, world):
    marcus = world.marcus.exoneree
    FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))

    todo = section(login("director1").get(marcus.get_absolute_url()).content.decode())

    assert "Call the landlord" in todo and "Mark it done" not in todo and "See it" in todo


def test_the_profile_is_a_short_card_with_more_details_one_click_away(login, world):
    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()
    profile = page[page.index('id="profile-h"') : page.index("</section>", page.index('id="profile-h"'))]
    short, more = profile.split("<summary>More details</summary>")

    for label in ("Phone", "How to reach them", "Language", "Caseworkers"):
        assert f"<dt>{label}</dt>" in short
    for label in ("Legal name", "Date of birth", "SSN", "Address", "Exonerated"):
        assert f"<dt>{label}</dt>" in more and f"<dt>{label}</dt>" not in short
