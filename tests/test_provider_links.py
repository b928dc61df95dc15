"""How long a provider's links work (after a walkthrough): the word that a question is answered
and the nudge each bring a new link without stopping the one the provider may have open; staff's
"Send again with a new link" and "Stop the provider's link" still stop every one; each link keeps
its own last day, and none works once the referral left the provider.

Marcus's referral is sent and its notice delivered as in tests/test_referral_loop.py.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services.actions import provider_answers
from services.actions import referrals as referral_actions
from services.choices import ProviderLinkEnd, ReferralStatus
from services.lib.provider_tokens import token_hash
from services.models.audit import AuditEvent
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from tests.conftest import World
from tests.test_referral_loop import LINK, deliver, moved_after_reading, narrow_consent, page, revoke_consent, send

pytestmark = pytest.mark.world_built_once

S = ReferralStatus

REPLACED = "Any link sent before this one no longer works."


def first_link(world: World) -> str:
    """The referral sent and its notice delivered: the token of the notice's link."""
    send(world)
    (token,) = deliver()
    return token


def answered(world: World, token: str, *, by_staff: Client | None = None) -> str:
    """The provider asks through `token`'s page, the caseworker answers, the word goes out:
    the token of the word's link."""
    assert Client().post(page(token), {"move": "question", "question": "Does he drive?"}).status_code == 302
    question = ProviderQuestion.objects.get(answered_at__isnull=True)
    if by_staff is None:
        provider_answers.provider_question_answer(by=world.caseworker1, question=question, text="Yes.")
    else:
        url = reverse("provider_question_answer", args=[question.referral_id, question.pk])
        assert by_staff.post(url, {"answer": "Yes."}).status_code == 302
    mail.outbox.clear()
    deliver()  # with whatever else is due (the nudge, when time travelled past it)
    (word,) = [m for m in mail.outbox if "has answered a question you asked" in m.body]
    (new,) = LINK.findall(word.body)
    return new


def body(message: mail.EmailMessage) -> str:
    return message.body + message.alternatives[0][0]


def test_the_provider_answers_from_the_page_they_had_open_after_the_caseworker_replied(world: World, login) -> None:
    """The word that a question is answered stopped the link in use: the provider's next press
    on the page they had open was "This link no longer works" (walk)."""
    old = first_link(world)
    provider = Client()
    assert provider.get(page(old)).status_code == 200

    new = answered(world, old, by_staff=login("caseworker1"))

    accepted = provider.post(page(old), {"move": "accept", "contact_person": "Ana"})
    assert accepted.status_code == 302
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.ACCEPTED
    assert provider.get(page(new)).status_code == 200  # the emailed one works as well
    assert not ProviderLink.objects.filter(revoked_at__isnull=False).exists()
    (word,) = mail.outbox
    assert page(new) in word.body and "no longer works" not in body(word)


def test_the_nudge_leaves_the_link_in_use_working(world: World) -> None:
    old = first_link(world)
    with time_machine.travel(timezone.now() + timedelta(days=world.org1.provider_response_days, minutes=1)):
        mail.outbox.clear()
        (new,) = deliver()
        (nudge,) = [m for m in mail.outbox if page(new) in m.body]
        assert "still waiting for your answer" in nudge.body and REPLACED not in body(nudge)
        assert Client().get(page(old)).status_code == 200
        assert Client().get(page(new)).status_code == 200


def test_stopping_the_link_stops_every_link_the_provider_was_sent(world: World, login) -> None:
    old = first_link(world)
    new = answered(world, old)
    staff = login("caseworker1")

    response = staff.post(reverse("referral_link_revoke", args=[world.marcus.referral.pk]))

    assert response.status_code == 302
    links = ProviderLink.objects.filter(referral=world.marcus.referral)
    assert set(links.values_list("revoked_reason", flat=True)) == {ProviderLinkEnd.STAFF}
    assert links.count() == 2
    provider = Client()
    for token in (old, new):
        assert provider.get(page(token)).status_code == 410
        assert provider.post(page(token), {"move": "accept", "contact_person": "Ana"}).status_code == 410
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.SENT


def test_sending_again_replaces_every_link_and_says_so(world: World, login) -> None:
    """Staff's "Send again with a new link" is pressed when the first email may have gone astray:
    its link is the only one that works, and only its email says the others stopped."""
    old = first_link(world)
    assert REPLACED not in body(mail.outbox[0])  # the first notice: nothing to replace
    kept = answered(world, old)
    staff = login("caseworker1")

    response = staff.post(reverse("referral_resend", args=[world.marcus.referral.pk]), follow=True)

    assert "the links sent before stop working" in response.content.decode()
    mail.outbox.clear()
    (new,) = deliver()
    assert REPLACED in body(mail.outbox[0])
    provider = Client()
    assert [provider.get(page(token)).status_code for token in (old, kept, new)] == [410, 410, 200]
    assert "sent a newer one in its place" in provider.get(page(old)).content.decode()


def test_each_link_keeps_its_own_last_day(world: World) -> None:
    """A link kept by a later email is not lengthened by it: it stops on its own last day."""
    start = timezone.now()
    old = first_link(world)
    with time_machine.travel(start + timedelta(days=10)):
        new = answered(world, old)
    with time_machine.travel(start + timedelta(days=world.org1.provider_link_days, minutes=1)):
        assert Client().get(page(old)).status_code == 410
        assert Client().get(page(new)).status_code == 200
    with time_machine.travel(start + timedelta(days=10 + world.org1.provider_link_days, minutes=1)):
        assert Client().get(page(new)).status_code == 410


def test_no_link_works_once_the_referral_left_the_provider(world: World) -> None:
    old = first_link(world)
    new = answered(world, old)

    declined = Client().post(page(new), {"move": "decline", "decline_code": "no_capacity"})

    assert declined.status_code == 200  # the thank-you page
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.DECLINED
    for token in (old, new):
        assert Client().get(page(token)).status_code == 410


def test_stopping_the_link_leaves_an_expired_one_reading_expired(world: World, login) -> None:
    """ "Stop the provider's link" marked a link already past its last day "Revoked by staff":
    only the live ones stop; the expired one still reads "expired" on the referral's page."""
    start = timezone.now()
    old = first_link(world)
    with time_machine.travel(start + timedelta(days=10)):
        new = answered(world, old)
    with time_machine.travel(start + timedelta(days=world.org1.provider_link_days, minutes=1)):
        staff = login("caseworker1")
        url = world.marcus.referral.get_absolute_url()

        response = staff.post(reverse("referral_link_revoke", args=[world.marcus.referral.pk]), follow=True)

        html = unescape(response.content.decode())
        assert "The provider's link no longer works." in html
        expired = ProviderLink.objects.get(token_hash=token_hash(old))
        assert (expired.revoked_at, expired.revoked_reason) == (None, "")
        stopped = ProviderLink.objects.exclude(pk=expired.pk)  # the answer's link (and the nudge's)
        assert token_hash(new) in stopped.values_list("token_hash", flat=True)
        assert set(stopped.values_list("revoked_reason", flat=True)) == {ProviderLinkEnd.STAFF}
        assert html.count("Revoked by staff") == stopped.count() and html.count("expired") == 1
        assert staff.get(url).status_code == 200


def test_stopping_only_expired_links_says_there_was_none_working(world: World, login) -> None:
    first_link(world)
    with time_machine.travel(timezone.now() + timedelta(days=world.org1.provider_link_days, minutes=1)):
        response = login("caseworker1").post(
            reverse("referral_link_revoke", args=[world.marcus.referral.pk]), follow=True
        )

        assert "There was no working link to stop." in unescape(response.content.decode())
        assert not ProviderLink.objects.filter(revoked_at__isnull=False).exists()


def test_at_most_three_links_work_and_the_newest_keep_working(world: World) -> None:
    """Every answered question brought one more live link and none stopped: a provider who asked
    ten questions held ten ways in. A fourth stops the oldest (replaced); the page the provider
    has open, on one of the newest, keeps working, and the email does not say the others stopped."""
    tokens = [first_link(world)]
    for _ in range(4):
        tokens.append(answered(world, tokens[-1]))
        (word,) = mail.outbox
        assert REPLACED not in body(word)

    links = ProviderLink.objects.filter(referral=world.marcus.referral)
    assert links.live(timezone.now()).count() == 3
    assert [Client().get(page(token)).status_code for token in tokens] == [410, 410, 200, 200, 200]
    oldest = links.filter(token_hash__in=[token_hash(token) for token in tokens[:2]])
    assert set(oldest.values_list("revoked_reason", flat=True)) == {ProviderLinkEnd.REPLACED}
    accepted = Client().post(page(tokens[2]), {"move": "accept", "contact_person": "Ana"})
    assert accepted.status_code == 302
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == ReferralStatus.ACCEPTED


def test_sending_again_leaves_an_expired_link_reading_expired(world: World, login) -> None:
    old = first_link(world)
    with time_machine.travel(timezone.now() + timedelta(days=world.org1.provider_link_days, minutes=1)):
        login("caseworker1").post(reverse("referral_resend", args=[world.marcus.referral.pk]))
        mail.outbox.clear()
        new = deliver()[-1]  # the notice's link (after the nudge's, due by now too)

        expired = ProviderLink.objects.get(token_hash=token_hash(old))
        assert (expired.revoked_at, expired.revoked_reason) == (None, "")
        assert Client().get(page(new)).status_code == 200


def consent_ends(w: World) -> None:
    """Marcus's consent ends on its last day: the test looks the day after it."""
    w.marcus.exoneree.consents.update(ends_on=timezone.localdate() - timedelta(days=1))


@pytest.mark.parametrize(
    ("stop", "kinds"),
    [
        (revoke_consent, "contact details, housing"),
        (narrow_consent, "housing"),
        (consent_ends, "contact details, housing"),
    ],
)
def test_a_link_that_consent_no_longer_covers_is_listed_as_stopped_and_why(world: World, login, stop, kinds) -> None:
    """Its page answered 410 (link_gone checks consent) while the referral's page still read
    "works until Jan 5, 2027" and the caseworker took the provider to have what they need."""
    token = first_link(world)
    stop(world)
    assert Client().get(page(token)).status_code == 410

    html = unescape(login("caseworker1").get(world.marcus.referral.get_absolute_url()).content.decode())

    assert "works until" not in html
    assert (
        f"stopped: {world.marcus.exoneree.first_name}'s consent no longer covers what this referral shares ({kinds})"
        in html
    )
    assert "Stop the provider's link" in html  # a new consent would start it again: it can be stopped for good


# --- an answer sent to a link that stopped --------------------------------------------------------

NOT_SAVED = "What you just sent was not saved."
DECLINE = {"move": "decline", "decline_code": "no_capacity"}


def _provider_updates() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PROVIDER_UPDATED).count()


@pytest.mark.parametrize(
    ("before", "closing"),
    [
        ([], DECLINE),
        ([{"move": "accept"}, {"move": "start"}], {"move": "complete", "got_service": "yes"}),
        ([{"move": "accept"}], {"move": "unresolved", "unresolved_code": "unreachable"}),
    ],
    ids=["declined", "completed", "could-not-be-done"],
)
def test_the_closing_answer_sent_twice_is_thanked_again(world: World, client: Client, before, closing) -> None:
    """A double tap or a phone sending again on a bad connection: the second sending found the
    link closed by the first and read "This link no longer works", the answer in doubt."""
    url = page(first_link(world))
    for move in [*before, closing]:
        assert client.post(url, move).status_code in (200, 302)
    status, updates = Referral.objects.get(pk=world.marcus.referral.pk).status, _provider_updates()

    again = client.post(url, closing)

    html = again.content.decode()
    assert again.status_code == 200 and "We have this answer already." in html
    assert world.marcus.exoneree.legal_name not in html and again["Cache-Control"] == "no-store, private"
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == status and _provider_updates() == updates


def test_the_same_answer_racing_its_double_is_thanked_again(world: World, client: Client, monkeypatch) -> None:
    """The second sending read the link as working, and found it closed under the row lock."""
    url = page(first_link(world))
    moved_after_reading(monkeypatch, ReferralStatus.DECLINED)  # by the first sending

    again = client.post(url, DECLINE)

    assert again.status_code == 200 and "We have this answer already." in again.content.decode()


def _could_not_be_done(w: World, url: str) -> None:
    Client().post(url, {"move": "unresolved", "unresolved_code": "unreachable"})


def _stopped_then_completed_by_staff(w: World, url: str) -> None:
    provider_answers.referral_link_revoke(by=w.caseworker1, referral=w.marcus.referral)
    referral_actions.referral_transition(
        by=w.caseworker1, referral=Referral.objects.get(pk=w.marcus.referral.pk), status=S.COMPLETED, got_service=True
    )


COMPLETE = {"move": "complete", "got_service": "yes"}


@pytest.mark.parametrize(
    ("close", "data"),
    [
        (_could_not_be_done, COMPLETE),
        (_could_not_be_done, {"move": "question", "question": "Is he still looking?"}),
        (_stopped_then_completed_by_staff, COMPLETE),
    ],
    ids=["another-answer-came-first", "a-question-once-closed", "a-stopped-link-sending-the-closing-answer"],
)
def test_an_answer_to_a_stopped_link_says_it_was_not_saved(world: World, client: Client, close, data) -> None:
    """A page left open (a second tab said it could not be done): "Mark completed" read only
    "This link no longer works", and the provider could not tell whether it was recorded. A link
    staff stopped is told so whatever it sends, so trying answers tells nothing of the referral."""
    url = page(first_link(world))
    client.post(url, {"move": "accept"})
    client.post(url, {"move": "start"})
    close(world, url)
    status, updates = Referral.objects.get(pk=world.marcus.referral.pk).status, _provider_updates()

    response = client.post(url, data)

    html = response.content.decode()
    assert response.status_code == 410 and NOT_SAVED in html and "no longer works" in html
    assert "We have this answer already" not in html
    assert Referral.objects.get(pk=world.marcus.referral.pk).status == status and _provider_updates() == updates
    assert NOT_SAVED not in client.get(url).content.decode()  # only what was sent is told so


# --- whom to contact once the link stops -------------------------------------------------------


def cancelled(world: World) -> None:
    referral_actions.referral_transition(by=world.caseworker1, referral=world.marcus.referral, status=S.CANCELLED)


def stopped_by_staff(world: World) -> None:
    provider_answers.referral_link_revoke(by=world.caseworker1, referral=world.marcus.referral)


def whom_to_contact(html: str) -> str:
    """The page's "Whom to contact" card, as text."""
    card = unescape(html).split('id="contact-h"', 1)[1].split("</section>", 1)[0]
    return " ".join(card.replace("<", " <").split())


@pytest.mark.parametrize("stop", [cancelled, stopped_by_staff, revoke_consent])
def test_a_stopped_link_says_whom_to_reach_and_nothing_of_the_person(world: World, stop) -> None:
    """The 410 told a provider only to "use the contact you already have", without naming the
    organization or the caseworker: one who came back after a cancellation had nobody to call."""
    token = first_link(world)
    world.caseworker1.staff.__class__.objects.filter(user=world.caseworker1).update(phone="(312) 555-0161")
    stop(world)
    for response in (Client().get(page(token)), Client().post(page(token), {"move": "accept"})):
        assert response.status_code == 410
        card = whom_to_contact(response.content.decode())
        assert "Casey Onewell" in card and "Harbor Light" in card
        assert world.caseworker1.email in card and "(312) 555-0161" in card
        assert world.marcus.exoneree.legal_name not in response.content.decode()


def test_an_expired_link_says_whom_to_reach(world: World) -> None:
    token = first_link(world)
    with time_machine.travel(timezone.now() + timedelta(days=world.org1.provider_link_days, minutes=1)):
        response = Client().get(page(token))
    assert response.status_code == 410 and "Casey Onewell" in whom_to_contact(response.content.decode())


def test_the_thank_you_page_says_whom_to_tell_more(world: World) -> None:
    token = first_link(world)
    declined = {"move": "decline", "decline_code": "no_capacity", "decline_text": ""}
    for response in (Client().post(page(token), declined), Client().post(page(token), declined)):  # and sent again
        assert response.status_code == 200 and "Thank you" in response.content.decode()
        assert "Casey Onewell" in whom_to_contact(response.content.decode())


def test_a_caseworker_who_left_is_not_offered_but_the_organization_is(world: World) -> None:
    token = first_link(world)
    world.caseworker1.__class__.objects.filter(pk=world.caseworker1.pk).update(is_active=False)
    stopped_by_staff(world)
    card = whom_to_contact(Client().get(page(token)).content.decode())
    assert "Casey Onewell" not in card and world.caseworker1.email not in card
    assert "has left Harbor Light. Call or write to Harbor Light" in card
