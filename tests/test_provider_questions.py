"""The provider's questions answered (the referral loop, after a walkthrough): the provider asks
through its link, the person's caseworker answers on the referral's page, the provider reads
the answer on its own page and is emailed only that there is one. And the provider's page says
how the person wants to be reached.

Marcus's referral is sent and its notice delivered as in tests/test_referral_loop.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from services.actions import provider_answers
from services.actions import referrals as referral_actions
from services.choices import ContactPreference, ReferralStatus, ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.consent import Consent
from services.models.notifications import Reminder
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from tests.conftest import World
from tests.test_referral_loop import deliver, page, send

pytestmark = pytest.mark.world_built_once

QUESTION = "Does Marcus have a driver's license?"
ANSWER = "Yes: a class C license, valid until 2029."


@pytest.fixture
def asked(world: World) -> tuple[str, ProviderQuestion]:
    """The referral sent, and the provider's question sent through its link: (token, question)."""
    send(world)
    token = deliver()[-1]
    mail.outbox.clear()
    response = Client().post(page(token), {"move": "question", "question": QUESTION})
    assert response.status_code == 302
    return token, ProviderQuestion.objects.get()


def answer_url(question: ProviderQuestion) -> str:
    return reverse("provider_question_answer", args=[question.referral_id, question.pk])


def answer_it(question: ProviderQuestion, login) -> Client:
    """The person's caseworker answers the question on the referral's page; their client."""
    staff = login("caseworker1")
    assert staff.post(answer_url(question), {"answer": ANSWER}).status_code == 302
    return staff


def referral_html(client: Client, world: World) -> str:
    return unescape(client.get(world.marcus.referral.get_absolute_url()).content.decode())


# --- the caseworker answers ---------------------------------------------------------------------


def test_the_caseworker_answers_on_the_referral_page_and_the_provider_reads_it(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    token, question = asked
    staff = login("caseworker1")
    html = referral_html(staff, world)
    assert QUESTION in html and "Not answered yet." in html
    assert f'action="{answer_url(question)}"' in html

    response = staff.post(answer_url(question), {"answer": f"  {ANSWER}  "})

    assert response.status_code == 302
    assert response["Location"] == f"{world.marcus.referral.get_absolute_url()}#question-{question.pk}"
    question.refresh_from_db()
    assert (question.answer, question.answered_by) == (ANSWER, world.caseworker1)
    assert question.answered_at is not None
    html = referral_html(staff, world)
    assert ANSWER in html and "Answered by Casey Onewell" in html
    assert f'action="{answer_url(question)}"' not in html  # answered once
    # The provider's page, still open on the old link until the word goes out, shows it.
    provider_html = unescape(Client().get(page(token)).content.decode())
    assert QUESTION in provider_html and ANSWER in provider_html and "Not answered yet." not in provider_html


def test_the_provider_is_emailed_that_there_is_an_answer_and_never_the_answer(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    old_token, question = asked
    answer_it(question, login)
    word = Reminder.objects.get(referral=world.marcus.referral, kind=ReminderKind.PROVIDER_REPLY)
    assert word.status == ReminderStatus.PENDING

    (token,) = deliver()

    word.refresh_from_db()
    assert word.status == ReminderStatus.SENT
    (message,) = mail.outbox
    assert message.to == [world.marcus.resource.intake_email]
    body = message.subject + message.body + message.alternatives[0][0]
    assert "has answered a question you asked" in body and page(token) in body
    marcus = world.marcus.exoneree
    for secret in ("class C", "license", "driver", marcus.legal_name, "Whitfield", "apartment"):
        assert secret not in body
    # A new link (its token was never stored), the one the provider may have open kept working.
    assert Client().get(page(old_token)).status_code == 200
    assert ANSWER in unescape(Client().get(page(token)).content.decode())


def test_answers_given_before_the_word_goes_out_share_one_email(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    token, first = asked
    Client().post(page(token), {"move": "question", "question": "Can he come on Monday?"})
    second = ProviderQuestion.objects.exclude(pk=first.pk).get()
    staff = answer_it(first, login)
    staff.post(answer_url(second), {"answer": "Yes, in the morning."})

    assert len(deliver()) == 1
    assert Reminder.objects.filter(kind=ReminderKind.PROVIDER_REPLY).count() == 1


def test_the_answer_is_in_the_access_log_without_its_words(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    answer_it(asked[1], login)
    target = f"Provider question {asked[1].pk}"
    entry = AuditEvent.objects.get(action=AuditEvent.Action.RECORD_CHANGED, target=target)
    assert (entry.actor, entry.exoneree_id) == (world.caseworker1, world.marcus.exoneree.pk)
    assert set(entry.changes) == {"answer", "answered_at", "answered_by"}
    assert "class C" not in str(entry.changes)


def test_the_question_and_its_answer_are_in_the_persons_history(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    staff = answer_it(asked[1], login)
    html = unescape(staff.get(reverse("exoneree_history", args=[world.marcus.exoneree.pk])).content.decode())
    provider, resource = world.marcus.resource.provider.name, world.marcus.resource.name
    assert f"Question from {provider} about the referral to {resource}" in html
    assert f"Answered the question from {provider} about the referral to {resource}, by Casey Onewell" in html
    assert QUESTION not in html and ANSWER not in html  # the words stay on the referral's page


# --- refused answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("   ", "Write your answer."),
        # Zero-width spaces were taken as an answer, and the question locked with it unseen.
        ("\u200b \u200b", "Write your answer."),
        ("x" * 2001, "Please keep this to 2000 characters or fewer. You wrote 2001."),
    ],
)
def test_an_empty_or_too_long_answer_is_a_message_beside_the_field(
    world: World, asked: tuple[str, ProviderQuestion], login, answer: str, words: str
) -> None:
    _, question = asked
    response = login("caseworker1").post(answer_url(question), {"answer": answer})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert f'id="id_q{question.pk}_answer_error"' in html and words in html
    question.refresh_from_db()
    assert question.answered_at is None and not Reminder.objects.filter(kind=ReminderKind.PROVIDER_REPLY).exists()


def test_an_invisible_answer_is_refused_by_the_action_too(world: World, asked: tuple[str, ProviderQuestion]) -> None:
    _, question = asked
    with pytest.raises(ValidationError, match="Write your answer."):
        provider_answers.provider_question_answer(by=world.caseworker1, question=question, text="\u200b\u2060 ")
    question.refresh_from_db()
    assert question.answered_at is None


def test_answering_an_answered_question_is_a_message_beside_the_field(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    """Two caseworkers, or two tabs: the first answer stands, the second is told, kept in its box."""
    _, question = asked
    staff = answer_it(question, login)

    again = staff.post(answer_url(question), {"answer": "No license."})

    assert again.status_code == 409
    html = unescape(again.content.decode())
    assert f'id="id_q{question.pk}_answer_error"' in html and "answered already" in html
    assert "No license.</textarea>" in html
    question.refresh_from_db()
    assert question.answer == ANSWER


def test_no_answer_once_the_referral_left_the_provider(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    """Its page no longer works, so an answer could reach nobody: no form, and a POST is told."""
    _, question = asked
    referral_actions.referral_transition(
        by=world.caseworker1, referral=world.marcus.referral, status=ReferralStatus.CANCELLED
    )
    staff = login("caseworker1")
    assert f'action="{answer_url(question)}"' not in referral_html(staff, world)

    response = staff.post(answer_url(question), {"answer": ANSWER})

    assert response.status_code == 409 and "no longer with the provider" in response.content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_a_director_reads_the_questions_and_answers_none(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    answer_it(asked[1], login)
    Client().post(page(asked[0]), {"move": "question", "question": "And a car?"})
    director = login("director1")
    html = referral_html(director, world)
    assert ANSWER in html and "And a car?" in html and "Not answered yet." in html
    assert "/answer/" not in html
    unanswered = ProviderQuestion.objects.get(answered_at__isnull=True)
    assert director.post(answer_url(unanswered), {"answer": "No."}).status_code == 403


def test_the_provider_sees_its_question_after_sending_it(world: World, asked: tuple[str, ProviderQuestion]) -> None:
    token, _ = asked
    html = unescape(Client().get(page(token)).content.decode())
    assert QUESTION in html and "Not answered yet." in html


def test_the_provider_page_shows_times_in_the_organizations_zone(
    world: World, asked: tuple[str, ProviderQuestion], login
) -> None:
    """Nobody is signed in on the provider's page: its times are still the organization's
    (Chicago here), not the server's (New York)."""
    token, question = asked
    answer_it(question, login)
    Organization.objects.filter(pk=world.org1.pk).update(timezone="America/Chicago")
    # The consent started "today" in New York: between 05:00 and 06:00 UTC, Chicago's today
    # is still the day before, when it had not started (the page then said the link stopped).
    Consent.objects.filter(exoneree=world.marcus.exoneree).update(starts_on=F("starts_on") - timedelta(days=1))
    chicago, new_york = ZoneInfo("America/Chicago"), ZoneInfo("America/New_York")
    asked_at = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    answered_at = datetime(2026, 3, 5, 4, 30, tzinfo=UTC)  # March 4 in Chicago, March 5 in New York
    ProviderQuestion.objects.filter(pk=question.pk).update(at=asked_at, answered_at=answered_at)
    # The link's last moment: an hour at which the two cities are on different days.
    day = (timezone.now() + timedelta(days=20)).replace(minute=30, second=0, microsecond=0)
    until = next(
        moment
        for moment in (day + timedelta(hours=h) for h in range(24))
        if moment.astimezone(chicago).date() != moment.astimezone(new_york).date()
    )
    ProviderLink.objects.filter(referral=world.marcus.referral, revoked_at__isnull=True).update(expires_at=until)

    html = " ".join(unescape(Client().get(page(token)).content.decode()).split())

    def shown(moment: datetime, zone: ZoneInfo, form: str = "M j, Y g:i a") -> str:
        return date_format(moment.astimezone(zone), form)

    assert f"You asked on {shown(asked_at, chicago)}:" in html
    assert f"The caseworker's answer ({shown(answered_at, chicago)}):" in html
    assert f"This link works until {shown(until, chicago, 'M j, Y')}." in html
    for moment, form in ((asked_at, "M j, Y g:i a"), (answered_at, "M j, Y g:i a"), (until, "M j, Y")):
        assert shown(moment, new_york, form) not in html


# --- how the person wants to be reached ---------------------------------------------------------


@pytest.mark.parametrize(
    ("preference", "ok_to_leave_message", "said"),
    [
        (ContactPreference.TEXT, False, "Prefers: Text message. Please do not leave a voicemail or a message."),
        (ContactPreference.PHONE, True, "Prefers: Phone call. You may leave a message."),
        (ContactPreference.DO_NOT_CONTACT, True, "They asked not to be contacted directly."),
    ],
)
def test_the_provider_page_says_how_the_person_wants_to_be_reached_and_not_their_notes(
    world: World, preference: str, ok_to_leave_message: bool, said: str
) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(
        contact_preference=preference, ok_to_leave_message=ok_to_leave_message
    )
    marcus = Exoneree.objects.get(pk=world.marcus.exoneree.pk)
    marcus.contact_notes = "Call after 6pm; his sister Dana answers"
    marcus.save(update_fields=["contact_notes"])
    send(world)
    html = " ".join(unescape(Client().get(page(deliver()[-1])).content.decode()).split())
    assert said in html
    assert "after 6pm" not in html and "Dana" not in html


def test_the_page_of_a_link_that_stopped_says_nothing_of_how_to_reach_the_person(world: World) -> None:
    send(world)
    token = deliver()[-1]
    referral_actions.referral_transition(
        by=world.caseworker1, referral=Referral.objects.get(pk=world.marcus.referral.pk), status="cancelled"
    )
    response = Client().get(page(token))
    assert response.status_code == 410 and "Prefers" not in response.content.decode()
