"""The provider's page once the referral is accepted (after a walkthrough): the provider can
still say it could not be done (the referral ends unresolved, with a reason from a short list);
an answer come too late (a page left open, a second tab) is told plainly that the referral
moved on, and a repeated acceptance with another contact says it was not saved. The page says
the contact and start date given, and its phone numbers and emails open the phone and the mail.

Marcus's referral is sent and its notice delivered as in tests/test_referral_loop.py.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.formats import date_format

from services import outcome_counts
from services.choices import ReferralStatus
from services.models.audit import AuditEvent
from services.models.notifications import Notification
from services.models.referrals import Referral
from tests.conftest import World
from tests.test_referral_loop import deliver, in_six_weeks, moved_after_reading, page, send

pytestmark = pytest.mark.world_built_once

ACCEPT = {"move": "accept", "contact_person": "Ms. Lee"}
COULD_NOT_BE_DONE = "It could not be done"


@pytest.fixture
def accepted(world: World, client: Client) -> str:
    """The referral sent, its notice delivered, accepted through the link: the page's address."""
    send(world)
    url = page(deliver()[-1])
    assert client.post(url, ACCEPT).status_code == 302
    return url


def referral(world: World) -> Referral:
    return Referral.objects.get(pk=world.marcus.referral.pk)


def provider_updates() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PROVIDER_UPDATED).count()


@pytest.mark.parametrize("started", [False, True], ids=["accepted", "in-progress"])
def test_after_accepting_the_provider_can_say_it_could_not_be_done(
    world: World, accepted: str, client: Client, login, started: bool
) -> None:
    if started:
        assert client.post(accepted, {"move": "start"}).status_code == 302
    outcome_counts.recount(world.org1)
    offered = client.get(accepted).content.decode()
    assert COULD_NOT_BE_DONE in offered and 'name="unresolved_code"' in offered
    assert "Decline the referral" not in offered

    done = client.post(accepted, {"move": "unresolved", "unresolved_code": "unreachable"})

    assert done.status_code == 200 and "Thank you" in done.content.decode()
    moved = referral(world)
    assert (moved.status, moved.decline_code) == (ReferralStatus.UNRESOLVED, "unreachable")
    assert moved.decline_reason == "We could not reach the person"
    assert moved.events.last().by_provider == world.marcus.resource.provider
    assert Notification.objects.filter(user=world.caseworker1, text__contains="unresolved").exists()
    assert provider_updates() == (3 if started else 2)
    assert outcome_counts.stored(world.org1) == outcome_counts.counted(world.org1)
    staff_html = unescape(login("caseworker1").get(moved.get_absolute_url()).content.decode())
    assert "<dt>Why it could not be done</dt><dd>We could not reach the person</dd>" in staff_html
    assert client.get(accepted).status_code == 410  # closed: the link is done too


def test_another_reason_it_could_not_be_done_is_kept_in_words(world: World, accepted: str, client: Client) -> None:
    client.post(accepted, {"move": "unresolved", "unresolved_code": "other", "unresolved_text": "He moved away"})

    moved = referral(world)
    assert (moved.status, moved.decline_code, moved.decline_reason) == (
        ReferralStatus.UNRESOLVED,
        "other",
        "He moved away",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "unresolved_code", "Choose a reason."),
        ({"unresolved_code": "no_capacity"}, "unresolved_code", "Select a valid choice."),
        ({"unresolved_code": "other"}, "unresolved_text", "You chose “Another reason”: write the reason here."),
        ({"unresolved_code": "other", "unresolved_text": "\u200b"}, "unresolved_text", "write the reason here"),
    ],
)
def test_could_not_be_done_without_its_reason_is_refused_beside_the_field(
    world: World, accepted: str, client: Client, data, field, message
) -> None:
    response = client.post(accepted, {"move": "unresolved", **data})

    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert f'id="id_{field}_error' in html and message in html
    assert referral(world).status == ReferralStatus.ACCEPTED


@pytest.mark.parametrize(
    "stale",
    [
        {"move": "decline"},
        {"move": "decline", "decline_code": "no_capacity", "decline_text": "Full"},
    ],
    ids=["from-a-page-whose-reason-was-left-empty", "with-its-reason"],
)
def test_a_decline_sent_after_accepting_says_the_referral_moved_on(
    world: World, accepted: str, client: Client, stale
) -> None:
    """A page opened before accepting answered 400 "Please correct the 1 field marked below."
    with no field marked (the decline form is no longer on the page)."""
    updates = provider_updates()

    response = client.post(accepted, stale, follow=True)

    assert response.redirect_chain == [(accepted, 302)]
    html = response.content.decode()
    assert "This referral is already accepted, so this answer was not saved." in html
    assert "Please correct" not in html
    assert referral(world).status == ReferralStatus.ACCEPTED and provider_updates() == updates


def test_an_acceptance_sent_once_in_progress_says_the_referral_moved_on(
    world: World, accepted: str, client: Client
) -> None:
    client.post(accepted, {"move": "start"})

    response = client.post(accepted, ACCEPT, follow=True)

    assert "This referral is already in progress, so this answer was not saved." in response.content.decode()
    assert referral(world).status == ReferralStatus.IN_PROGRESS


def test_the_page_says_the_contact_and_start_date_the_provider_gave(world: World, client: Client) -> None:
    """Told "the contact or the date you gave was not saved", the provider could not see which
    were kept."""
    send(world)
    url = page(deliver()[-1])
    assert "The contact you gave" not in client.get(url).content.decode()
    client.post(url, {**ACCEPT, "expected_on": in_six_weeks()})

    html = client.get(url).content.decode()

    day = date_format(date.fromisoformat(in_six_weeks()), "M j, Y")
    assert "The contact you gave: Ms. Lee." in html and f"The start date you gave: {day}." in html


def test_the_phone_numbers_and_email_on_the_page_open_the_phone_and_the_mail(world: World, client: Client) -> None:
    """On a phone, the person's number and the caseworker's were text to copy by hand."""
    person, staff = world.marcus.exoneree, world.marcus.referral.created_by.staff
    person.phone, person.email, staff.phone = "(312) 555-0150", "marcus@example.org", "+1 312 555 0161"
    person.save()
    staff.save()
    send(world)

    html = client.get(page(deliver()[-1])).content.decode()

    assert '<a href="tel:3125550150">(312) 555-0150</a>' in html
    assert '<a href="tel:+13125550161">+1 312 555 0161</a>' in html
    assert '<a href="mailto:marcus@example.org">marcus@example.org</a>' in html


def test_accepting_again_with_another_contact_says_it_was_not_saved(
    world: World, accepted: str, client: Client
) -> None:
    """The new name was dropped without a word, under "We have this answer already"."""
    updates = provider_updates()

    response = client.post(accepted, {"move": "accept", "contact_person": "Mr. Kim"}, follow=True)

    html = response.content.decode()
    assert "This referral is already accepted, so the contact or the date you gave was not saved." in html
    assert "We have this answer already" not in html
    assert referral(world).provider_contact == "Ms. Lee" and provider_updates() == updates


def test_marking_in_progress_again_with_a_note_says_the_note_was_not_saved(
    world: World, accepted: str, client: Client
) -> None:
    """A second "Mark in progress" carrying a note said "We have this answer already" and
    dropped the note without a word."""
    assert client.post(accepted, {"move": "start"}).status_code == 302
    updates = provider_updates()

    again = client.post(accepted, {"move": "start", "start_note": "We met him on Monday."}, follow=True)
    plain = client.post(accepted, {"move": "start"}, follow=True)

    assert "This referral is already in progress, so your note was not saved." in unescape(again.content.decode())
    assert "We have this answer already" in unescape(plain.content.decode())
    assert provider_updates() == updates


def test_a_decline_racing_an_acceptance_from_another_tab_says_the_referral_moved_on(
    world: World, client: Client, monkeypatch
) -> None:
    """The page read the referral as sent; another tab accepted it before the decline took the
    row lock: the lifecycle refuses, and the page says what happened rather than "Cannot change
    status from Accepted to Declined"."""
    send(world)
    url = page(deliver()[-1])
    moved_after_reading(monkeypatch, ReferralStatus.ACCEPTED)

    response = client.post(url, {"move": "decline", "decline_code": "no_capacity"}, follow=True)

    assert response.redirect_chain == [(url, 302)]
    assert "This referral is already accepted, so this answer was not saved." in response.content.decode()
    assert referral(world).status == ReferralStatus.ACCEPTED and provider_updates() == 0


@pytest.mark.parametrize(
    ("moves", "contact", "start"),
    [
        ([], True, True),
        ([{"move": "start"}], True, False),
        ([{"move": "start"}, {"move": "complete", "got_service": "yes"}], True, False),
        ([{"move": "unresolved", "unresolved_code": "unreachable"}], False, False),
    ],
    ids=["accepted", "in-progress", "completed", "could-not-be-done"],
)
def test_the_plan_names_the_contact_and_start_day_only_while_they_hold(
    world: World, client: Client, login, moves, contact: bool, start: bool
) -> None:
    """The plan read "It did not work out." and then "Your contact at …: Ms. Lee. They plan to
    start on …", and "They are helping you." beside a start day gone by."""
    send(world)
    url = page(deliver()[-1])
    client.post(url, {**ACCEPT, "expected_on": in_six_weeks()})
    for move in moves:
        assert client.post(url, move).status_code in (200, 302)

    html = login("exoneree1").get(reverse("my_plan")).content.decode()

    provider = world.marcus.resource.provider.name
    assert (f"Your contact at {provider}: Ms. Lee." in html) is contact
    assert ("They plan to start on" in html) is start


@pytest.mark.parametrize(
    ("moves", "shown"),
    [
        ([], True),
        ([{"move": "start"}], True),
        ([{"move": "start"}, {"move": "complete", "got_service": "yes"}], False),
        ([{"move": "unresolved", "unresolved_code": "unreachable"}], False),
    ],
    ids=["accepted", "in-progress", "completed", "could-not-be-done"],
)
def test_the_person_page_names_the_contact_and_start_day_while_the_provider_works(
    world: World, client: Client, login, moves, shown: bool
) -> None:
    """The person page said "Referral: … Accepted" and no more: the contact and the start day
    the provider gave were on the referral's own page and on the person's plan only."""
    send(world)
    url = page(deliver()[-1])
    client.post(url, {**ACCEPT, "expected_on": in_six_weeks()})
    for move in moves:
        assert client.post(url, move).status_code in (200, 302)

    html = login("caseworker1").get(reverse("exoneree_detail", args=[world.marcus.exoneree.pk])).content.decode()

    day = date_format(date.fromisoformat(in_six_weeks()), "M j, Y")
    assert ("Contact at the provider: Ms. Lee" in html) is shown
    assert (f"Start day: {day}" in html) is shown
