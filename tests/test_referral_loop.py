"""The referral loop (issue 17): the notice to the provider, the provider's page and its
answers, the 410s, the access log, the person's own word.

Marcus's draft referral (conftest) goes to "Marcus Housing Help"; `sent_link` sends it under
a consent and delivers the notice the way the worker does, returning the emailed token.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta
from html import unescape
from importlib import import_module

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from hypothesis import given
from hypothesis import strategies as st

from services import reminders
from services.actions import consent as consent_actions
from services.actions import provider_answers
from services.actions import referrals as referral_actions
from services.choices import (
    CATEGORY_FOR_DOMAIN,
    ConsentCategory,
    NeedDomain,
    NeedStatus,
    ReferralStatus,
    ReminderKind,
    ReminderStatus,
)
from services.lib.log_filters import RedactUrlSecrets
from services.lib.provider_tokens import redact, token_hash
from services.models.audit import AuditEvent
from services.models.needs import Need
from services.models.notifications import Notification, Reminder
from services.models.people import Exoneree
from services.models.referrals import ProviderLink, ProviderQuestion, Referral, ReferralCategory, ReferralEvent
from services.outcomes.referral_loop import _median_days
from services.outcomes.scope import OutcomeFilters, Scope
from services.selectors import provider_links
from services.selectors.audit_trail import record_openers
from tests.conftest import World
from tests.factories import NeedFactory, ReferralFactory, consent_for

LINK = re.compile(r"/p/([A-Za-z0-9_-]+)/")


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def deliver() -> list[str]:
    """Claim what is due and send it as the worker does; the tokens emailed, in order."""
    for reminder_id in reminders.reminders_claim_due():
        reminders.reminder_send(reminder_id)
    return [m for message in mail.outbox for m in LINK.findall(message.body)]


def send(world: World, categories: tuple[str, ...] = ("contact", "housing")) -> Referral:
    referral = world.marcus.referral
    ReferralCategory.objects.get_or_create(referral=referral, category=ConsentCategory.HOUSING)
    consent_for(world.marcus.exoneree, referral.resource.provider, categories)
    return referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.SENT)


@pytest.fixture
def sent_link(world: World) -> str:
    send(world)
    return deliver()[-1]


def page(token: str) -> str:
    return reverse("provider_referral", args=[token])


def moved_after_reading(monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    """The provider's page reads its link, then another hand (a second tab, a double tap) moves
    the referral to `status` before the answer takes the row lock: the page still reads the
    referral as it was."""
    read = provider_links.provider_link_for

    def read_then_moved(token: str) -> ProviderLink:
        link = read(token)
        Referral.objects.filter(pk=link.referral_id).update(status=status)
        return link

    monkeypatch.setattr(provider_links, "provider_link_for", read_then_moved)


def provider_entries(action: str = "") -> list[AuditEvent]:
    actions = [action] if action else [AuditEvent.Action.PROVIDER_OPENED, AuditEvent.Action.PROVIDER_UPDATED]
    return list(AuditEvent.objects.filter(action__in=actions))


# --- delivery -----------------------------------------------------------------------------------


def test_sending_queues_a_notice_that_names_nobody_and_carries_a_working_link(world: World) -> None:
    referral = send(world)
    notice = Reminder.objects.get(referral=referral, kind=ReminderKind.REFERRAL_NOTICE)
    assert notice.status == ReminderStatus.PENDING

    tokens = deliver()

    notice.refresh_from_db()
    assert notice.status == ReminderStatus.SENT
    (message,) = mail.outbox
    assert message.to == [referral.resource.intake_email]
    body = message.subject + message.body + message.alternatives[0][0]
    marcus = world.marcus.exoneree
    for secret in (marcus.legal_name, "Whitfield", "apartment", marcus.ssn[-4:], "1970", "Street", "housing"):
        assert secret not in body
    assert world.caseworker1.get_full_name() in body and world.org1.name in body
    (token,) = tokens
    assert len(token) >= 22  # ≥ 128 bits of URL-safe base64
    link = ProviderLink.objects.get(referral=referral)
    assert link.token_hash == token_hash(token) and token not in link.token_hash


def test_the_provider_email_is_used_when_the_resource_has_no_intake_address(world: World) -> None:
    resource = world.marcus.resource
    resource.intake_email = ""
    resource.save()
    resource.provider.email = "front-desk@example.org"
    resource.provider.save()
    send(world)
    deliver()
    assert mail.outbox[0].to == ["front-desk@example.org"]


def test_no_address_at_all_fails_visibly(world: World, login) -> None:
    resource = world.marcus.resource
    resource.intake_email = ""
    resource.save()
    referral = send(world)
    deliver()
    notice = Reminder.objects.get(referral=referral, kind=ReminderKind.REFERRAL_NOTICE)
    assert notice.status == ReminderStatus.FAILED and not mail.outbox
    client = login("caseworker1")
    assert "No intake email" in client.get(referral.get_absolute_url()).content.decode()
    assert "No intake email" in client.get(reverse("notification_list")).content.decode()


def test_the_referral_page_says_when_each_notice_went_or_is_to_go(world: World, login) -> None:
    """The nudge planned at the send showed the time it was planned, read as its time (walk)."""
    referral = send(world)
    deliver()
    nudge = Reminder.objects.get(referral=referral, kind=ReminderKind.PROVIDER_NUDGE)
    notice = Reminder.objects.get(referral=referral, kind=ReminderKind.REFERRAL_NOTICE)

    page = unescape(login("caseworker1").get(referral.get_absolute_url()).content.decode())

    def at(moment) -> str:
        return date_format(timezone.localtime(moment), "M j, Y g:i a")

    assert f"A reminder that it is unanswered:\n        goes out {at(nudge.send_at)}" in page
    assert f"The referral itself:\n        sent {at(notice.sent_at)}" in page
    assert nudge.send_at > notice.sent_at + timedelta(days=1)


def test_the_referral_page_lists_its_own_links_not_the_menu(world: World, login) -> None:
    """The header's menu was built `as links`, which took the page's name: a draft showed "Sent
    to the provider" with six rows "Made : works until", and a sent one never its real link (walk)."""
    staff = login("caseworker1")
    referral = world.marcus.referral

    draft = unescape(staff.get(referral.get_absolute_url()).content.decode())
    assert "Sent to the provider" not in draft and "works until" not in draft

    send(world)
    deliver()
    sent = unescape(staff.get(referral.get_absolute_url()).content.decode())
    link = ProviderLink.objects.get(referral=referral)
    made = date_format(timezone.localtime(link.created_at), "M j, Y g:i a")
    until = date_format(timezone.localtime(link.expires_at), "M j, Y")
    assert sent.count("works until") == 1
    assert f"Made {made}:" in sent and f"works until {until}" in sent


def test_a_closed_referrals_link_is_listed_as_stopped(world: World, sent_link: str, client: Client, login) -> None:
    """Completed, its link answered 410 and was still listed as "works until Jan 5, 2027"."""
    url = page(sent_link)
    client.post(url, {"move": "accept", "contact_person": "Ms. Lee"})
    client.post(url, {"move": "start"})
    client.post(url, {"move": "complete", "got_service": "yes"})
    assert client.get(url).status_code == 410

    html = unescape(login("caseworker1").get(world.marcus.referral.get_absolute_url()).content.decode())
    assert "works until" not in html and "stopped: the referral is closed (completed)" in html
    assert "Stop the provider's link" not in html


def test_resend_kills_the_old_link(world: World, sent_link: str, client: Client, login) -> None:
    staff = login("caseworker1")
    response = staff.post(reverse("referral_resend", args=[world.marcus.referral.pk]))
    assert response.status_code == 302
    new = deliver()[-1]
    staff.logout()
    assert new != sent_link
    assert client.get(page(sent_link)).status_code == 410
    assert client.get(page(new)).status_code == 200


def test_sent_again_once_accepted_the_email_does_not_ask_to_accept_it(
    world: World, sent_link: str, client: Client, login
) -> None:
    """The notice sent again ("Send again with a new link") on an accepted referral said "accept
    it, decline it or ask a question"."""
    assert "accept it, decline it" in mail.outbox[-1].body
    client.post(page(sent_link), {"move": "accept", "contact_person": "Ms. Lee"})
    mail.outbox.clear()
    login("caseworker1").post(reverse("referral_resend", args=[world.marcus.referral.pk]))
    deliver()
    notice = mail.outbox[-1]
    html = notice.alternatives[0][0]
    assert "accept it, decline it" not in notice.body and "accept it, decline it" not in html
    assert "the referral you accepted for" in notice.body and "the referral you accepted for" in html
    assert notice.subject.startswith("The referral you accepted from ")


@pytest.mark.parametrize(
    ("intake", "button", "help_text"),
    [
        ("intake@example.org", "Send to the provider", "The provider is emailed a link to the referral."),
        # A dead end for a new organization whose directory came from a file without emails: the
        # caseworker is told who can give the resource the address (they cannot).
        ("", "Mark as sent", 'ask your director to give <a href="/resources/{pk}/">this resource</a> its intake'),
    ],
)
def test_the_send_button_says_whether_it_emails_the_provider(
    world: World, login, intake: str, button: str, help_text: str
) -> None:
    """A draft's "Send it" had one button, "Mark as sent", though it emails the provider."""
    referral = world.marcus.referral
    referral.resource.intake_email = intake
    referral.resource.save()
    referral.resource.provider.email = ""
    referral.resource.provider.save()
    ReferralCategory.objects.get_or_create(referral=referral, category=ConsentCategory.HOUSING)
    consent_for(world.marcus.exoneree, referral.resource.provider, ("contact", "housing"))
    html = login("caseworker1").get(referral.get_absolute_url()).content.decode()
    assert f'<button type="submit" class="primary">{button}</button>' in html
    assert help_text.format(pk=referral.resource.pk) in html


# --- the page -----------------------------------------------------------------------------------


def test_the_page_shows_what_is_shared_and_never_the_ssn_birth_date_or_staff_notes(
    world: World, sent_link: str, client: Client
) -> None:
    response = client.get(page(sent_link))
    html = response.content.decode()
    assert response.status_code == 200
    assert world.marcus.exoneree.legal_name in html and "needs an apartment" in html
    ssn = world.marcus.exoneree.ssn
    for hidden in (ssn, ssn[-4:], "1970", "March 14", "Staff only", "Shared:"):
        assert hidden not in html
    assert world.caseworker1.email in html
    assert response["Cache-Control"] == "no-store, private"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"] and 'name="robots" content="noindex' in html


MARKERS = {
    NeedDomain.HOUSING: "marker-housing",
    NeedDomain.MEDICAL: "marker-medical",
    NeedDomain.MENTAL_HEALTH: "marker-mental",
    NeedDomain.SUBSTANCE_USE: "marker-substance",
    NeedDomain.LEGAL: "marker-legal",
}
OPTIONAL = [c for c in ConsentCategory.values if c != ConsentCategory.CONTACT]


@given(chosen=st.sets(st.sampled_from(OPTIONAL)))
def test_exactly_the_consented_categories_for_every_subset(world: World, chosen: set[str]) -> None:
    """Property: whatever categories the referral carries, the page shows those sections
    and the content of no other."""

    def run() -> None:
        marcus = world.marcus.exoneree
        for domain, marker in MARKERS.items():
            NeedFactory(exoneree=marcus, domain=domain, description=f"{marker} text")
        referral = world.marcus.referral
        ReferralCategory.objects.filter(referral=referral).delete()
        ReferralCategory.objects.bulk_create([ReferralCategory(referral=referral, category=c) for c in chosen])
        consent_for(marcus, referral.resource.provider, ConsentCategory.values)
        referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.SENT)
        mail.outbox.clear()
        html = Client().get(page(deliver()[-1])).content.decode()
        shown = set(re.findall(r'data-category="([a-z_]+)"', html))
        assert shown == {ConsentCategory.CONTACT, *chosen}
        for domain, marker in MARKERS.items():
            assert (marker in html) == (CATEGORY_FOR_DOMAIN[domain] in chosen), (marker, chosen)

    try:
        with transaction.atomic():  # each example undone: they share one `world`
            run()
            raise _Undo
    except _Undo:
        pass


class _Undo(Exception):
    pass


def test_a_wrong_or_tampered_token_is_a_404(world: World, sent_link: str, client: Client) -> None:
    tampered = sent_link[:-1] + ("A" if sent_link[-1] != "A" else "B")
    for token in ("x", "0" * 43, tampered, sent_link + "x"):
        assert client.get(page(token)).status_code == 404
    assert not provider_entries()


def test_each_opening_is_one_access_log_entry_as_the_provider(world: World, sent_link: str, client: Client) -> None:
    client.get(page(sent_link))
    client.get(page(sent_link))
    entries = provider_entries(AuditEvent.Action.PROVIDER_OPENED)
    provider = world.marcus.resource.provider
    assert len(entries) == 2
    who = {(e.username, e.actor_id, e.exoneree_id) for e in entries}
    assert who == {(provider.name, None, world.marcus.exoneree.pk)}
    assert all(sent_link not in str(e.changes) + e.target for e in entries)
    openers = record_openers(world.marcus.exoneree)
    assert [(o["name"], o["times"]) for o in openers if o["is_provider"]] == [(provider.name, 2)]


def test_the_person_sees_the_provider_among_who_looked(world: World, sent_link: str, client: Client, login) -> None:
    client.get(page(sent_link))
    html = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert f"<strong>{world.marcus.resource.provider.name}</strong> saw what you agreed to share" in html


# --- 410 ----------------------------------------------------------------------------------------


def revoke_consent(w: World) -> None:
    consent = w.marcus.exoneree.consents.get()
    consent_actions.consent_revoke(by=w.caseworker1, consent=consent, how="staff")


def narrow_consent(w: World) -> None:
    consent = w.marcus.exoneree.consents.get()
    consent_actions.consent_narrow(by=w.caseworker1, consent=consent, categories=["contact"], ends_on=consent.ends_on)


def cancel(w: World) -> None:
    referral_actions.referral_transition(by=w.caseworker1, referral=w.marcus.referral, status=ReferralStatus.CANCELLED)


def staff_revoke(w: World) -> None:
    provider_answers.referral_link_revoke(by=w.caseworker1, referral=w.marcus.referral)


@pytest.mark.parametrize("stop", [revoke_consent, narrow_consent, cancel, staff_revoke])
def test_the_link_stops_at_once_and_shows_nothing(world: World, sent_link: str, client: Client, stop) -> None:
    assert client.get(page(sent_link)).status_code == 200
    stop(world)
    for response in (client.get(page(sent_link)), client.post(page(sent_link), {"move": "accept"})):
        html = response.content.decode()
        assert response.status_code == 410
        assert "no longer works" in html
        assert world.marcus.exoneree.legal_name not in html and "apartment" not in html
        assert response["Cache-Control"] == "no-store, private"
    assert Referral.objects.get(pk=world.marcus.referral.pk).status != ReferralStatus.ACCEPTED


def test_the_link_expires(world: World, sent_link: str, client: Client) -> None:
    with time_machine.travel(timezone.now() + timedelta(days=world.org1.provider_link_days, minutes=1)):
        assert client.get(page(sent_link)).status_code == 410


# --- answers ------------------------------------------------------------------------------------


def in_six_weeks() -> str:
    """A start date the provider may give: the form takes one within a year back and three
    years ahead of today (a fixed date, 2027-01-15, was refused from 2028-01-16 on)."""
    return (timezone.localdate() + timedelta(days=42)).isoformat()


def test_accept_then_start_then_complete(world: World, sent_link: str, client: Client, login) -> None:
    url = page(sent_link)
    response = client.post(url, {"move": "accept", "contact_person": "Ms. Lee", "expected_on": in_six_weeks()})
    assert response.status_code == 302 and response["Location"] == url
    referral = Referral.objects.get(pk=world.marcus.referral.pk)
    assert (referral.status, referral.provider_contact) == (ReferralStatus.ACCEPTED, "Ms. Lee")
    event = referral.events.last()
    assert event.by is None and event.by_provider == world.marcus.resource.provider
    assert Notification.objects.filter(user=world.caseworker1, url=referral.get_absolute_url()).count() == 1
    assert len(provider_entries(AuditEvent.Action.PROVIDER_UPDATED)) == 1

    assert client.post(url, {"move": "start", "start_note": "First visit booked"}).status_code == 302
    done = client.post(url, {"move": "complete", "got_service": "yes", "completion_note": "Moved in"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    assert world.marcus.exoneree.legal_name not in done.content.decode()
    referral.refresh_from_db()
    assert (referral.status, referral.got_service, referral.feedback) == (ReferralStatus.COMPLETED, True, "Moved in")
    assert len(provider_entries(AuditEvent.Action.PROVIDER_UPDATED)) == 3
    # Completed: the link is done too.
    assert client.get(url).status_code == 410

    staff_html = login("caseworker1").get(referral.get_absolute_url()).content.decode()
    assert f"by {world.marcus.resource.provider.name}" in staff_html and "Ms. Lee" in staff_html
    # The provider's own words, not "Feedback", the word for what the person said about it.
    assert "<dt>The provider's note when completing</dt><dd>Moved in</dd>" in unescape(staff_html)
    assert "<dt>Feedback</dt>" not in staff_html


def test_what_the_person_said_recorded_by_the_caseworker_reads_as_feedback(world: World, login) -> None:
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.COMPLETED, feedback="It helped a lot")
    ReferralEvent.objects.create(
        referral=referral,
        from_status=ReferralStatus.IN_PROGRESS,
        to_status=ReferralStatus.COMPLETED,
        by=world.caseworker1,
    )

    staff_html = login("caseworker1").get(referral.get_absolute_url()).content.decode()

    assert "<dt>Feedback</dt><dd>It helped a lot</dd>" in staff_html
    assert "The provider's note when completing" not in unescape(staff_html)


def test_an_answer_pressed_twice_is_taken_once_and_said_so(world: World, sent_link: str, client: Client, login) -> None:
    """A second tab, the back button: the first answer stands and the second is thanked, not
    refused with "Cannot change status from Accepted to Accepted"."""
    url = page(sent_link)
    client.post(url, {"move": "accept", "contact_person": "Ms. Lee"})

    again = client.post(url, {"move": "accept", "contact_person": "Ms. Lee"}, follow=True)

    assert again.redirect_chain == [(url, 302)]
    assert "We have this answer already" in again.content.decode()
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.ACCEPTED
    assert len(provider_entries(AuditEvent.Action.PROVIDER_UPDATED)) == 1


def test_staff_marking_a_move_twice_are_told_it_is_done_already(world: World, login) -> None:
    referral = world.marcus.referral
    client = login("caseworker1")
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)
    events = referral.events.count()

    again = client.post(reverse("referral_transition", args=[referral.pk]), {"status": "sent"}, follow=True)

    assert again.redirect_chain == [(referral.get_absolute_url(), 302)]
    assert "It is sent already." in again.content.decode()
    assert referral.events.count() == events


def test_an_illegal_move_is_refused_and_changes_nothing(world: World, sent_link: str, client: Client) -> None:
    response = client.post(page(sent_link), {"move": "complete", "got_service": "yes"})
    assert response.status_code == 409
    assert "Cannot change status" in response.content.decode()
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.SENT
    assert not provider_entries(AuditEvent.Action.PROVIDER_UPDATED)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"move": "decline"}, "decline_code"),
        ({"move": "decline", "decline_code": "bogus"}, "decline_code"),
        ({"move": "decline", "decline_code": "other"}, "decline_text"),
        ({"move": "decline", "decline_code": "other", "decline_text": " \u200b "}, "decline_text"),
        ({"move": "accept", "expected_on": "2026-02-31"}, "expected_on"),
        ({"move": "question", "question": "   "}, "question"),
        ({"move": "question", "question": "\u200b"}, "question"),
        ({"move": "question", "question": " \u200b \u200b "}, "question"),
    ],
)
def test_bad_input_is_a_message_beside_the_field(world: World, sent_link: str, client: Client, data, field) -> None:
    response = client.post(page(sent_link), data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.SENT


@pytest.mark.parametrize("move", ["fly", "", None])
def test_an_answer_the_page_does_not_offer_is_said_at_the_top_and_keeps_what_was_typed(
    world: World, sent_link: str, client: Client, move
) -> None:
    """The move is each button's hidden value: never a field marked below that is not there."""
    data = {"question": "Can we call her on Tuesday?"} | ({"move": move} if move is not None else {})

    response = client.post(page(sent_link), data)

    html = response.content.decode()
    top = re.search(r'<div class="errorlist form-errors" role="alert">(.*?)</div>', html, re.S)
    assert response.status_code == 400
    assert top and "That answer is not one this page offers." in unescape(top.group(1))
    assert "marked below" not in html and 'id="id_move_error"' not in html
    assert "Can we call her on Tuesday?</textarea>" in html
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.SENT
    assert not ProviderQuestion.objects.exists()


@pytest.mark.parametrize(
    ("years", "message"),
    [
        (-2, "This is more than a year ago: check the year."),
        (4, "This is more than three years ahead: check the year."),
    ],
)
def test_a_start_date_far_off_says_which_way(world: World, sent_link: str, client: Client, years, message) -> None:
    """A start in 2019 was told "Give a date within the next three years"."""
    far_off = timezone.localdate() + timedelta(days=365 * years)

    response = client.post(page(sent_link), {"move": "accept", "contact_person": "Ms. Lee", "expected_on": far_off})

    assert response.status_code == 400
    assert response.context["form"].errors["expected_on"] == [message]


def test_decline_with_a_reason(world: World, sent_link: str, client: Client) -> None:
    response = client.post(page(sent_link), {"move": "decline", "decline_code": "no_capacity", "decline_text": ""})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    referral = Referral.objects.get(pk=world.marcus.referral.pk)
    assert referral.status == ReferralStatus.DECLINED and referral.decline_code == "no_capacity"
    assert referral.decline_reason == "No space or capacity right now"


def test_an_invisible_question_is_refused_like_an_empty_box(world: World, sent_link: str, client: Client) -> None:
    """Zero-width spaces alone were thanked for ("The caseworker has been told") and kept."""
    response = client.post(page(sent_link), {"move": "question", "question": "\u200b \u200b"})
    assert response.status_code == 400 and "Write your question." in response.content.decode()
    assert not ProviderQuestion.objects.exists()
    with pytest.raises(ValidationError):
        provider_answers.provider_ask(link=ProviderLink.objects.get(), text="\u200b\u200b")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"move": "question", "question": "x" * 2001}, "question"),
        ({"move": "decline", "decline_code": "other", "decline_text": "x" * 2001}, "decline_text"),
        ({"move": "accept", "contact_person": "x" * 201}, "contact_person"),
    ],
)
def test_a_text_too_long_on_the_providers_page_is_told_once_in_plain_words(
    world: World, sent_link: str, client: Client, data: dict[str, str], field: str
) -> None:
    """A question of 2,001 characters was told "Ensure this value has at most 2000 characters
    (it has 2001).Write your question.": Django's words, and an order to write what was written."""
    limit = len(data[field]) - 1

    response = client.post(page(sent_link), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [
        f"Please keep this to {limit} characters or fewer. You wrote {limit + 1}."
    ]
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.SENT
    assert not ProviderQuestion.objects.exists()


def test_invisible_notes_from_the_provider_count_as_none(world: World, sent_link: str, client: Client) -> None:
    """A decline "reason" or a completion note of zero-width spaces is no note: the reason is
    the one chosen, and no blank note shows on the referral."""
    url = page(sent_link)
    assert client.post(url, {"move": "accept", "contact_person": "\u200b"}).status_code == 302
    assert client.post(url, {"move": "start", "start_note": "\u200b \u200b"}).status_code == 302
    referral = Referral.objects.get(pk=world.marcus.referral.pk)
    assert referral.provider_contact == "" and referral.events.last().note == ""
    client.post(url, {"move": "complete", "got_service": "yes", "completion_note": " \u200b\u200b "})
    referral.refresh_from_db()
    assert (referral.status, referral.feedback) == (ReferralStatus.COMPLETED, "")


def test_an_invisible_decline_text_leaves_the_reason_chosen(world: World, sent_link: str, client: Client) -> None:
    client.post(page(sent_link), {"move": "decline", "decline_code": "no_capacity", "decline_text": "\u200b"})
    referral = Referral.objects.get(pk=world.marcus.referral.pk)
    assert referral.decline_reason == "No space or capacity right now"


def test_another_reason_needs_its_words(world: World, sent_link: str, client: Client, login) -> None:
    """Declined for "Another reason" and no words, the referral read "Why declined: Another
    reason / Reason given: Another reason"."""
    refused = client.post(page(sent_link), {"move": "decline", "decline_code": "other"})
    assert "You chose “Another reason”: write the reason here." in refused.content.decode()
    with pytest.raises(ValidationError):
        provider_answers.provider_answer(link=ProviderLink.objects.get(), move="decline", decline_code="other")

    client.post(page(sent_link), {"move": "decline", "decline_code": "other", "decline_text": "We are moving offices"})
    referral = Referral.objects.get(pk=world.marcus.referral.pk)
    assert (referral.status, referral.decline_reason) == (ReferralStatus.DECLINED, "We are moving offices")


def test_a_question_reaches_the_caseworker(world: World, sent_link: str, client: Client, login) -> None:
    assert client.post(page(sent_link), {"move": "question", "question": "Does he have a pet?"}).status_code == 302
    assert ProviderQuestion.objects.get().text == "Does he have a pet?"
    assert Notification.objects.filter(user=world.caseworker1, text__contains="asked a question").exists()
    assert "Does he have a pet?" in login("caseworker1").get(world.marcus.referral.get_absolute_url()).content.decode()


def test_rate_limited_per_token(world: World, sent_link: str, client: Client, settings) -> None:
    settings.PROVIDER_RATE_PER_TOKEN = 3
    statuses = [client.get(page(sent_link)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_rate_limited_per_address_whatever_the_token(world: World, client: Client, settings) -> None:
    settings.PROVIDER_RATE_PER_ADDRESS = 3
    statuses = [client.get(page(f"guess{i}")).status_code for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_the_limit_is_counted_for_every_process_not_in_one_processs_memory(
    world: World, sent_link: str, client: Client, settings
) -> None:
    """Each server process has its own "default" cache: counted there, five workers would allow
    five times the limit. Here that cache keeps nothing, as another process's would not."""
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.PROVIDER_RATE_PER_TOKEN = 3
    statuses = [client.get(page(sent_link)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_someone_trying_tokens_cannot_cull_their_own_count_from_the_shared_files(
    world: World, client: Client, settings, tmp_path
) -> None:
    """Without Redis the shared cache is files, kept to MAX_ENTRIES: Django's own culling
    deleted a random third of them, the address's count among them, so guessing went on."""
    folder = tmp_path / "cache"
    options = {"MAX_ENTRIES": 20}
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "services.lib.file_cache.FileCache", "LOCATION": str(folder), "OPTIONS": options},
    }
    settings.PROVIDER_RATE_PER_ADDRESS = 5
    statuses = [client.get(page(f"guess{i}")).status_code for i in range(150)]

    assert statuses == [404] * 5 + [429] * 145
    assert len([f for f in folder.iterdir() if f.suffix != ".lock"]) <= 20


def _switches(html: str) -> list[str]:
    return re.findall(r'<form[^>]*class="language-switch"[^>]*>', html)


def test_the_providers_page_has_a_language_switch_of_its_own(world: World, sent_link: str, client: Client) -> None:
    """Signed-out pages show the site's Español/English switch, posted to set_language; the
    provider's page is sent with no-referrer, under which a browser posts that with Origin: null
    and the CSRF check refuses it. Its own switch posts to the page itself (no action)."""
    (site_switch,) = _switches(client.get(reverse("login")).content.decode())
    assert f'action="{reverse("set_language")}"' in site_switch
    (own,) = _switches(client.get(page(sent_link)).content.decode())
    assert "action=" not in own
    cancel(world)
    (own,) = _switches(client.get(page(sent_link)).content.decode())  # the 410's page
    assert "action=" not in own


def test_the_token_stays_out_of_the_logs(world: World, sent_link: str, client: Client) -> None:
    """Through the console handler settings.LOGGING configures (its stream swapped for a buffer)."""
    handlers = logging.getLogger().handlers
    (handler,) = [h for h in handlers if any(isinstance(f, RedactUrlSecrets) for f in h.filters)]
    buffer = io.StringIO()
    stream = handler.setStream(buffer)
    try:
        exercise_logs(world, sent_link, client)
    finally:
        handler.setStream(stream)
    assert sent_link not in buffer.getvalue()
    assert "Not Found: /p/…/" in buffer.getvalue() and "Gone: /p/…/" in buffer.getvalue()
    assert redact(f"GET /p/{sent_link}/ HTTP/1.1") == "GET /p/…/ HTTP/1.1"


def test_a_name_searched_for_stays_out_of_the_logs() -> None:
    """The walkthrough: the People search is a GET, so runserver's request lines (and any
    proxy's) carried "GET /people/?q=Delia+Ruiz". The name typed is blanked, the rest kept."""
    handlers = logging.getLogger().handlers
    (handler,) = [h for h in handlers if any(isinstance(f, RedactUrlSecrets) for f in h.filters)]
    buffer = io.StringIO()
    stream = handler.setStream(buffer)
    try:
        server = logging.getLogger("django.server")
        server.info('"GET %s HTTP/1.1" 200 1234', "/people/?q=Delia+Ruiz&case=open&page=2")
        server.info('"GET %s HTTP/1.1" 200 99', "/director/audit/?action=record_viewed&person=Ruiz")
    finally:
        handler.setStream(stream)
    lines = buffer.getvalue()
    assert "Delia" not in lines and "Ruiz" not in lines
    assert "/people/?q=…&case=open&page=2" in lines and "&person=…" in lines


def exercise_logs(world: World, sent_link: str, client: Client) -> None:
    client.get(page(sent_link + "x"))  # Django logs a warning for the 404, with the path
    client.get(page(sent_link))
    cancel(world)
    client.get(page(sent_link))  # and for the 410
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 1234', page(sent_link))


# --- the person's own word ----------------------------------------------------------------------


def test_the_person_answers_and_the_caseworker_sees_it(world: World, sent_link: str, login) -> None:
    referral = world.marcus.referral
    client = login("exoneree1")
    html = client.get(reverse("my_plan")).content.decode()
    assert f"Did you get help from {referral.resource.provider.name}?" in html
    url = reverse("my_referral_answer", args=[referral.pk])
    bad = client.post(url, {"answer": "maybe"})
    assert bad.status_code == 400 and f'id="id_r{referral.pk}_answer_error"' in bad.content.decode()
    assert client.post(url, {"answer": "not_yet", "words": "They never called back"}).status_code == 302
    referral.refresh_from_db()
    assert referral.person_answer == "not_yet" and referral.person_words == "They never called back"
    assert Notification.objects.filter(user=world.caseworker1, text__contains="not yet").exists()
    staff = login("caseworker1")
    assert "They never called back" in staff.get(referral.get_absolute_url()).content.decode()
    dashboard = staff.get(reverse("dashboard")).content.decode()
    assert "They never called back" in dashboard and "They say: Not yet" in dashboard


def test_the_plan_shows_the_saved_answer_chosen(world: World, sent_link: str, login) -> None:
    """The plan said "You said “yes”… You can change it" above a choice back on "Choose…": the saved
    answer is the one chosen (a radio each, as "Will you be there?" has)."""
    referral = world.marcus.referral
    client = login("exoneree1")
    client.post(reverse("my_referral_answer", args=[referral.pk]), {"answer": "yes", "words": ""})
    html = client.get(reverse("my_plan")).content.decode()
    assert "You said “Yes”" in html
    assert f'<input type="radio" name="answer" value="yes" id="id_r{referral.pk}_yes" checked>' in html
    assert f'<input type="radio" name="answer" value="not_yet" id="id_r{referral.pk}_not_yet">' in html


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "They could not help, so there is nothing to answer."), ("es", "No pudieron ayudarle")],
)
def test_the_person_is_not_asked_if_they_got_help_the_provider_declined(
    world: World, sent_link: str, client: Client, login, language: str, words: str
) -> None:
    """The plan said "They could not help." above "Did you get help from …?"."""
    referral = world.marcus.referral
    url = reverse("my_referral_answer", args=[referral.pk])
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    person = login("exoneree1")
    person_page = person.get(reverse("my_plan"))  # opened before the provider declines
    assert f'action="{url}"' in person_page.content.decode()
    client.post(page(sent_link), {"move": "decline", "decline_code": "no_capacity"})

    html = person.get(reverse("my_plan")).content.decode()
    assert f'id="referral-{referral.pk}"' in html and f'action="{url}"' not in html
    sent = person.post(url, {"answer": "yes", "words": ""}, follow=True)
    assert words in sent.content.decode()
    referral.refresh_from_db()
    assert referral.person_answer == "" and not Notification.objects.filter(text__contains="answered").exists()


NOT_ASKED_NOW = "Your plan does not ask about this one now, so your answer was not sent."
# Once it ended without the service, the person who did get help is told where to say so.
DID_NOT_WORK_OUT = (
    "They told us it did not work out, so your answer was not sent. If you did get help from them,"
    " tell your caseworker in “Messages with my caseworker”."
)


@pytest.mark.parametrize(
    ("status", "need_status", "asked", "said"),
    [
        (ReferralStatus.IN_PROGRESS, NeedStatus.IN_PROGRESS, True, ""),
        (ReferralStatus.COMPLETED, NeedStatus.IN_PROGRESS, True, ""),  # "Finished": the person's yes confirms it
        # "It did not work out" above "Did you get help?"
        (ReferralStatus.UNRESOLVED, NeedStatus.IN_PROGRESS, False, DID_NOT_WORK_OUT),
        (ReferralStatus.COMPLETED, NeedStatus.MET, False, NOT_ASKED_NOW),  # a met need is one line under "Done"
    ],
)
def test_the_person_is_asked_if_they_got_help_only_where_the_plan_asks(
    world: World, login, status: str, need_status: str, asked: bool, said: str
) -> None:
    """An answer was taken (and the caseworker told) for a completed referral of a met need,
    which the plan shows no form for."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=status)
    Need.objects.filter(pk=referral.need_id).update(status=need_status)
    url = reverse("my_referral_answer", args=[referral.pk])
    person = login("exoneree1")

    offered = f'action="{url}"' in person.get(reverse("my_plan")).content.decode()
    sent = person.post(url, {"answer": "yes", "words": "All good"}, follow=True)

    referral.refresh_from_db()
    told = Notification.objects.filter(text__contains="did you get help from").exists()
    assert offered is asked and (referral.person_answer == "yes") is asked and told is asked
    if not asked:
        assert said in unescape(sent.content.decode())
        assert referral.person_words == "" and referral.person_answered_at is None


def test_an_answer_from_the_spanish_pages_is_told_to_the_caseworker_in_english(
    world: World, sent_link: str, login
) -> None:
    """The notice named the answer in the person's language: answered “todavía no”."""
    referral = world.marcus.referral
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")

    login("exoneree1").post(reverse("my_referral_answer", args=[referral.pk]), {"answer": "not_yet", "words": ""})

    told = Notification.objects.get(user=world.caseworker1, url=referral.get_absolute_url())
    assert "answered “not yet” to: did you get help from" in told.text


def test_words_sent_without_an_answer_come_back_in_spanish_and_are_not_lost(
    world: World, sent_link: str, login
) -> None:
    referral = world.marcus.referral
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    client = login("exoneree1")

    response = client.post(reverse("my_referral_answer", args=[referral.pk]), {"answer": "", "words": "Nadie me llamó"})

    assert response.status_code == 400
    html = response.content.decode()
    assert ">Nadie me llamó</textarea>" in html
    assert "Elija una respuesta." in html and "Su respuesta no se envió." in html
    assert f'<a href="#referral-{referral.pk}">' in html
    referral.refresh_from_db()
    assert referral.person_words == ""


def test_provider_updates_show_on_the_plan_in_spanish(world: World, sent_link: str, client: Client, login) -> None:
    accept = {"move": "accept", "contact_person": "Ms. Lee", "expected_on": in_six_weeks()}
    assert client.post(page(sent_link), accept).status_code == 302
    marcus = world.marcus.exoneree
    marcus.preferred_language = "es"
    marcus.save()
    html = login("exoneree1").get(reverse("my_plan")).content.decode()
    provider = world.marcus.resource.provider.name
    assert f"Su contacto en {provider}: Ms. Lee." in html
    assert f"¿Recibió ayuda de {provider}?" in html
    assert "Did you get help" not in html


# --- outcomes -----------------------------------------------------------------------------------


def test_the_loop_figure_counts_answers_speed_confirmations_and_stalls(world: World, login) -> None:
    """Marcus's referral answered by its provider two days after sending, completed and
    confirmed by him; Thomas's never answered (stalled after the 5 response days)."""
    start = timezone.now() - timedelta(days=6)
    thomas = world.thomas
    ReferralCategory.objects.create(referral=thomas.referral, category=ConsentCategory.HOUSING)
    with time_machine.travel(start, tick=False):
        consent_for(thomas.exoneree, thomas.resource.provider)
        marcus_referral = send(world)
        referral_actions.referral_transition(by=world.caseworker2, referral=thomas.referral, status=ReferralStatus.SENT)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        expires_at = timezone.now() + timedelta(days=30)
        link = ProviderLink.objects.create(referral=marcus_referral, token_hash="x" * 64, expires_at=expires_at)
        for move in ("accept", "start", "complete"):
            provider_answers.provider_answer(link=link, move=move, got_service=True)
    provider_answers.referral_person_answer(by=world.exoneree1, referral=marcus_referral, answer="yes")

    client = login("director1")
    response = client.get(reverse("outcome_dashboard"))
    (figure,) = [f for f in response.context["figures"] if f.name == "referral_loop"]
    values = {row.key: [cell.value for cell in row.cells] for row in figure.rows}
    assert values == {
        "sent": [2, None],
        "answered": [1, 50],
        "completed": [1, None],
        "confirmed": [1, 100],
        "median": [2.0, None],
        "unanswered": [1, None],
        "not_completed": [0, None],
    }
    for row in figure.rows:
        if row.cells[0].href:
            listed = client.get(row.cells[0].href).context["page"].paginator.count
            assert listed == row.cells[0].value, row.key


def test_the_stalled_list_behind_the_figure_uses_the_organizations_own_limit(world: World, login) -> None:
    """An organization that gives providers 10 days: a referral sent 6 days ago is not
    stalled, on the figure or in the list behind it (which once used the default 5 days)."""
    world.org1.provider_response_days = 10
    world.org1.save(update_fields=["provider_response_days"])
    thomas = world.thomas
    ReferralCategory.objects.create(referral=thomas.referral, category=ConsentCategory.HOUSING)
    with time_machine.travel(timezone.now() - timedelta(days=6), tick=False):
        consent_for(thomas.exoneree, thomas.resource.provider)
        referral_actions.referral_transition(by=world.caseworker2, referral=thomas.referral, status=ReferralStatus.SENT)

    client = login("director1")
    (figure,) = [f for f in client.get(reverse("outcome_dashboard")).context["figures"] if f.name == "referral_loop"]
    (unanswered,) = [row for row in figure.rows if row.key == "unanswered"]
    assert unanswered.cells[0].value == 0
    assert client.get(unanswered.cells[0].href).context["page"].paginator.count == 0


def test_stalled_counts_are_those_of_their_lists_whatever_the_domain(world: World, login) -> None:
    """Marcus's referral accepted 35 days ago and in progress since (not completed in the 30
    days), Thomas's sent 6 days ago (unanswered after 5): each counted once, under its need's
    domain only, and on its caseworker's caseload only (the whole organization is counted by
    the referrals' organization, a caseload through its people's needs), and the list behind
    each cell holds what the cell counts."""
    now = timezone.now()
    thomas = world.thomas
    thomas.referral.need.domain = NeedDomain.EMPLOYMENT
    thomas.referral.need.save(update_fields=["domain"])
    ReferralCategory.objects.create(referral=thomas.referral, category=ConsentCategory.HOUSING)
    with time_machine.travel(now - timedelta(days=40), tick=False):
        marcus_referral = send(world)
    for days_ago, status in ((35, ReferralStatus.ACCEPTED), (10, ReferralStatus.IN_PROGRESS)):
        with time_machine.travel(now - timedelta(days=days_ago), tick=False):
            referral_actions.referral_transition(by=world.caseworker1, referral=marcus_referral, status=status)
    with time_machine.travel(now - timedelta(days=6), tick=False):
        consent_for(thomas.exoneree, thomas.resource.provider)
        referral_actions.referral_transition(by=world.caseworker2, referral=thomas.referral, status=ReferralStatus.SENT)

    client = login("director1")
    domains = {NeedDomain.HOUSING: (0, 1), NeedDomain.EMPLOYMENT: (1, 0), NeedDomain.LEGAL: (0, 0)}
    caseloads = {world.caseworker1.pk: (0, 1), world.caseworker2.pk: (1, 0)}
    asked = [({}, (1, 1)), *(({"domain": d}, expected) for d, expected in domains.items())]
    asked += [({"caseworker": str(pk)}, expected) for pk, expected in caseloads.items()]
    asked += [({"caseworker": str(world.caseworker1.pk), "domain": NeedDomain.HOUSING}, (0, 1))]
    for params, expected in asked:
        response = client.get(reverse("outcome_dashboard"), params)
        (figure,) = [f for f in response.context["figures"] if f.name == "referral_loop"]
        cells = {row.key: row.cells[0] for row in figure.rows if row.key in ("unanswered", "not_completed")}
        assert (cells["unanswered"].value, cells["not_completed"].value) == expected, params
        for cell in cells.values():
            assert client.get(cell.href).context["page"].paginator.count == cell.value, params


def test_the_forms_work_under_no_referrer_where_browsers_send_origin_null(world: World, sent_link: str) -> None:
    """No CSRF cookie or token: the token in the address is the secret (see the view)."""
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(page(sent_link), {"move": "accept", "contact_person": "Ana"}, HTTP_ORIGIN="null")
    assert response.status_code == 302
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.ACCEPTED


def run_backfill(migration: str) -> None:
    """Run a migration's one RunSQL (its filling of a new column from the history) here."""
    operations = import_module(f"services.migrations.{migration}").Migration.operations
    (backfill,) = [op for op in operations if op.__class__.__name__ == "RunSQL"]
    with connection.cursor() as cursor:
        cursor.execute(backfill.sql)


def assert_the_migration_fills(
    migration: str, field: str, referral: Referral, value: datetime, untouched: Referral
) -> None:
    """Emptied, the referral's `field` is filled again with `value` by the migration's SQL from
    its history; a referral without that event in its history keeps none."""
    Referral.objects.filter(pk=referral.pk).update(**{field: None})
    run_backfill(migration)
    assert getattr(Referral.objects.get(pk=referral.pk), field) == value
    assert getattr(Referral.objects.get(pk=untouched.pk), field) is None


def test_a_referral_keeps_when_its_provider_first_answered_and_the_migration_fills_it(world: World) -> None:
    """The loop's counts read Referral.provider_answered_at: set by the first answer through the
    link (not a caseworker's move, not a later answer), and filled for old referrals by
    migration 0033 from their history (its SQL, run here on this suite's database)."""
    referral = send(world)
    assert Referral.objects.get(pk=referral.pk).provider_answered_at is None
    link = ProviderLink.objects.create(
        referral=referral, token_hash="y" * 64, expires_at=timezone.now() + timedelta(days=30)
    )
    first = timezone.now() + timedelta(hours=3)
    with time_machine.travel(first, tick=False):
        provider_answers.provider_answer(link=link, move="accept")
    with time_machine.travel(first + timedelta(days=1), tick=False):
        provider_answers.provider_answer(link=link, move="start")
    assert Referral.objects.get(pk=referral.pk).provider_answered_at == first

    untouched = world.thomas.referral  # never answered by its provider
    assert_the_migration_fills("0033_provider_answered_at", "provider_answered_at", referral, first, untouched)


def test_a_referral_keeps_when_it_was_sent_and_the_migration_fills_it(world: World) -> None:
    """The loop's median reads Referral.sent_at: set by sending (the time of its sent event),
    and filled for old referrals by migration 0034 from their history (its SQL, run here)."""
    sent = timezone.now() - timedelta(days=3)
    with time_machine.travel(sent, tick=False):
        referral = send(world)
    assert referral.events.get(to_status=ReferralStatus.SENT).at == sent
    assert Referral.objects.get(pk=referral.pk).sent_at == sent

    draft = world.thomas.referral  # never sent
    assert_the_migration_fills("0034_referral_sent_at", "sent_at", referral, sent, draft)


def test_a_referral_keeps_when_it_was_accepted_and_the_migration_fills_it(world: World) -> None:
    """The stalled-now count reads Referral.accepted_at: set by the acceptance (the time of its
    event, whoever accepts), kept when the work starts, and filled for old referrals by
    migration 0035 from their history (its SQL, run here)."""
    referral = send(world)
    accepted = timezone.now() - timedelta(days=2)
    with time_machine.travel(accepted, tick=False):
        referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.ACCEPTED)
    referral_actions.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.IN_PROGRESS)
    assert referral.events.get(to_status=ReferralStatus.ACCEPTED).at == accepted
    assert Referral.objects.get(pk=referral.pk).accepted_at == accepted

    never = world.thomas.referral  # never accepted
    assert_the_migration_fills("0035_referral_accepted_at", "accepted_at", referral, accepted, never)


@pytest.mark.parametrize("waits, expected", [([1, 2, 4, 10], 3.0), ([0.25, 5, 9], 5.0), ([], None)])
def test_the_median_wait_is_the_same_on_every_database(world: World, waits, expected) -> None:
    """PostgreSQL computes the median (PERCENTILE_CONT), SQLite reads the times: both halve an
    even count between its two middle waits, as statistics.median does."""
    marcus = world.marcus.exoneree
    sent = timezone.now() - timedelta(days=30)
    for days in waits:
        referral = ReferralFactory(need=NeedFactory(exoneree=marcus), status=ReferralStatus.ACCEPTED)
        referral.events.create(from_status=ReferralStatus.DRAFT, to_status=ReferralStatus.SENT, at=sent)
        Referral.objects.filter(pk=referral.pk).update(sent_at=sent, provider_answered_at=sent + timedelta(days=days))
    today = timezone.localdate()
    people = Exoneree.objects.filter(organization=world.org1)
    scope = Scope(
        people, OutcomeFilters(start=today - timedelta(days=90), end=today), timezone.now(), organization=world.org1
    )

    assert _median_days(scope) == expected
