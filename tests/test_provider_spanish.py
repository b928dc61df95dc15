"""The provider's page in Spanish: a provider whose language is Spanish (Provider.language, the
one their emails are in: tests/test_provider_language.py) reads every word the app wrote in it:
the page in each status, its form errors and its notes, the thank-you, the stopped link and the
"too many requests" pages (that one knows no provider: it follows the browser).

Each page is opened twice, in English and in Spanish: any phrase of the catalog found on the
English page must not be on the Spanish one (what people typed — names, notes, questions — is
taken out first: it stays as typed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import cache
from html import unescape

import polib
import pytest
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from services.actions import provider_answers
from services.choices import ContactPreference, ReferralStatus
from services.forms.provider import ProviderAnswerForm
from services.models.directory import Provider
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, Referral
from tests.conftest import World
from tests.test_i18n import PO, _translated, _visible_text, translatable_strings
from tests.test_referral_loop import deliver, page, send

pytestmark = pytest.mark.world_built_once

S = ReferralStatus
PROVIDER_TEMPLATES = [
    "services/provider_referral.html",
    "services/_provider_reason_form.html",
    "services/provider_done.html",
    "services/provider_gone.html",
    "services/_provider_whom_to_contact.html",
    "services/_provider_caseworker_facts.html",
    "services/provider_limited.html",
    "services/_field.html",
    "services/_form_errors.html",
    "emails/referral_notice.html",
    "emails/referral_notice.txt",
    "emails/referral_notice_subject.txt",
    "emails/provider_reply.html",
    "emails/provider_reply.txt",
    "emails/provider_reply_subject.txt",
]
QUESTION, ANSWER = "¿Tiene lugar para una persona sola?", "Sí, desde el lunes."
# Words no Spanish sentence has: what the catalog lacks altogether (a phrase marked in the code and
# never added to it) shows up by them.
ENGLISH_WORDS = re.compile(
    r"\b(the|you|your|with|this|that|please|not|and|link|referral|caseworker|question|answer|thank)\b", re.IGNORECASE
)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
COUNT = re.compile(r"%\((?:count|counter|limit|n)\)[sd]|%\(\w+\)d|%d")


def _pattern(words: str) -> re.Pattern[str] | None:
    """A msgid's visible words as a pattern: a count matches a number, another placeholder
    anything. None when too few words are left to tell it from any text ("%(count)s person"
    would find "The person")."""
    literal = PLACEHOLDER.split(words)
    anything = bool(PLACEHOLDER.search(COUNT.sub("", words)))
    if len(re.findall(r"[A-Za-z]{2,}", " ".join(literal))) < (2 if anything else 1):
        return None
    holes = [r"\d[\d,]*" if COUNT.fullmatch(hole) else ".+?" for hole in PLACEHOLDER.findall(words)]
    pattern = re.escape(literal[0]) + "".join(
        hole + re.escape(piece) for hole, piece in zip(holes, literal[1:], strict=True)
    )
    start = r"\b" if re.match(r"\w", words) else ""
    end = r"\b" if re.search(r"\w$", words) else ""
    return re.compile(start + pattern + end)


@cache
def _phrases() -> list[tuple[str, re.Pattern[str]]]:
    """Each msgid (and plural) with a Spanish text of its own, as a pattern of its visible words
    (tags dropped, as the page's text drops them). A msgid whose Spanish is the same word could
    not tell the languages apart."""
    found = []
    for entry in polib.pofile(str(PO)):
        if entry.obsolete or entry.msgstr == entry.msgid:
            continue
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            pattern = _pattern(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", msgid)).strip())
            if pattern is not None:
                found.append((msgid, pattern))
    return found


def _text(html: str, typed: list[str]) -> str:
    text = unescape(_visible_text(html))
    for value in sorted(typed, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def _typed(world: World) -> list[str]:
    """What people typed or named, shown as it is in either language."""
    referral = Referral.objects.select_related("resource__provider", "created_by__staff").get(
        pk=world.marcus.referral.pk
    )
    person, caseworker = referral.need.exoneree, referral.created_by
    values = [person.display_name, person.legal_name, person.phone, person.email, person.address]
    values += [referral.organization.name, referral.resource.name, referral.resource.provider.name, referral.note]
    values += [caseworker.get_full_name(), caseworker.email, caseworker.username, caseworker.staff.phone]
    for need in person.needs.all():
        values += [need.description, need.own_words]
    return [value for value in values + [QUESTION, ANSWER, "Ana"] if value]


def assert_no_english_left(world: World, visit: Callable[[Client], str]) -> None:
    """None of the catalog's phrases `visit` shows in English is still there in Spanish."""
    typed = _typed(world)
    english = _text(_visit_in(world, "en", visit), typed)
    spanish = _text(_visit_in(world, "es", visit), typed)
    assert english != spanish
    left = sorted(msgid for msgid, pattern in _phrases() if pattern.search(english) and pattern.search(spanish))
    assert not left, f"English on the Spanish page: {left} in {spanish!r}"
    words = sorted({match.lower() for match in ENGLISH_WORDS.findall(spanish)})
    assert not words, f"English words on the Spanish page: {words} in {spanish!r}"


def _visit_in(world: World, language: str, visit: Callable[[Client], str]) -> str:
    """`visit` with the provider reading `language`, from a browser asking for it too."""
    Provider.objects.filter(pk=world.marcus.resource.provider_id).update(language=language)
    return visit(Client(HTTP_ACCEPT_LANGUAGE=language))


@pytest.fixture
def token(world: World) -> str:
    """Marcus's referral sent to the provider, with one question answered and one not."""
    send(world)
    (token,) = deliver()
    link_page = page(token)
    assert Client().post(link_page, {"move": "question", "question": QUESTION}).status_code == 302
    question = ProviderQuestion.objects.get()
    provider_answers.provider_question_answer(by=world.caseworker1, question=question, text=ANSWER)
    assert Client().post(link_page, {"move": "question", "question": QUESTION}).status_code == 302
    return token


def _at(world: World, status: str) -> None:
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=status)


def _get(token: str, expected: int = 200) -> Callable[[Client], str]:
    def visit(client: Client) -> str:
        response = client.get(page(token))
        assert response.status_code == expected
        return response.content.decode()

    return visit


def _posted(token: str, data: dict[str, str], expected: int = 400) -> Callable[[Client], str]:
    """A post the page refuses (or one it takes and answers with a note on the next page)."""

    def visit(client: Client) -> str:
        response = client.post(page(token), data, follow=expected == 200)
        assert response.status_code == expected
        return response.content.decode()

    return visit


@pytest.mark.parametrize("status", [S.SENT, S.ACCEPTED, S.IN_PROGRESS])
def test_the_page_in_each_status_the_provider_works_in_is_all_spanish(world: World, token: str, status: str) -> None:
    _at(world, status)
    assert_no_english_left(world, _get(token))


def test_the_contact_and_start_date_given_are_said_in_spanish(world: World, token: str) -> None:
    Referral.objects.filter(pk=world.marcus.referral.pk).update(
        status=S.ACCEPTED, provider_contact="Ana", expected_on=date.today()
    )
    assert_no_english_left(world, _get(token))


@pytest.mark.parametrize(
    "wishes",
    [{"contact_preference": ContactPreference.DO_NOT_CONTACT}, {"ok_to_leave_message": True}],
)
def test_how_to_reach_the_person_is_in_spanish(world: World, token: str, wishes: dict[str, object]) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(**wishes)
    assert_no_english_left(world, _get(token))


FORM_ERRORS = {
    S.SENT: [
        {"move": "accept", "contact_person": "Ana", "expected_on": "2001-01-01"},
        {"move": "accept", "expected_on": "2999-01-01"},
        {"move": "accept", "expected_on": "not a day"},
        {"move": "decline"},
        {"move": "decline", "decline_code": "other"},
        {"move": "question", "question": "\u200b"},
        {"move": "question", "question": "x" * 2001},
        {"move": "question"},
        {"move": "nothing"},
    ],
    S.IN_PROGRESS: [
        {"move": "complete"},
        {"move": "unresolved"},
        {"move": "unresolved", "unresolved_code": "other"},
    ],
}


@pytest.mark.parametrize(
    ("status", "data"), [(status, data) for status, posts in FORM_ERRORS.items() for data in posts]
)
def test_every_form_error_is_said_in_spanish(world: World, token: str, status: str, data: dict[str, str]) -> None:
    _at(world, status)
    assert_no_english_left(world, _posted(token, data))


@pytest.mark.parametrize(
    ("status", "data"),
    [
        (S.SENT, {"move": "question", "question": QUESTION}),  # "Thank you. The caseworker has been told."
        (S.ACCEPTED, {"move": "accept"}),  # the first answer stands
        (S.ACCEPTED, {"move": "accept", "contact_person": "Ana"}),  # …and a new contact is not saved
        (S.IN_PROGRESS, {"move": "decline", "decline_code": "no_capacity"}),  # come too late
    ],
)
def test_the_notes_after_an_answer_are_in_spanish(world: World, token: str, status: str, data: dict[str, str]) -> None:
    _at(world, status)
    assert_no_english_left(world, _posted(token, data, expected=200))


@pytest.mark.parametrize("status", [S.COMPLETED, S.DECLINED, S.UNRESOLVED, S.CANCELLED])
def test_the_page_of_a_closed_referral_is_in_spanish(world: World, token: str, status: str) -> None:
    _at(world, status)
    assert_no_english_left(world, _get(token, expected=410))


@pytest.mark.parametrize(
    "data",
    [
        {"move": "decline", "decline_code": "not_eligible"},
        {"move": "unresolved", "unresolved_code": "unreachable"},
        {"move": "complete", "got_service": "yes"},
    ],
)
def test_the_thank_you_page_is_in_spanish(world: World, token: str, data: dict[str, str]) -> None:
    status = S.SENT if data["move"] == "decline" else S.IN_PROGRESS

    def visit(client: Client) -> str:
        _at(world, status)
        response = client.post(page(token), data)
        assert response.status_code == 200 and "services/provider_done.html" in [t.name for t in response.templates]
        return response.content.decode()

    assert_no_english_left(world, visit)


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"move": "decline", "decline_code": "not_eligible"}, 200), ({"move": "complete", "got_service": "yes"}, 410)],
    ids=["the-same-answer-again", "another-answer"],
)
def test_an_answer_to_a_closed_referral_is_told_in_spanish(
    world: World, token: str, data: dict[str, str], expected: int
) -> None:
    _at(world, S.DECLINED)
    assert_no_english_left(world, _posted(token, data, expected=expected))


def test_the_too_many_requests_page_is_in_spanish(world: World, token: str, settings) -> None:
    settings.PROVIDER_RATE_PER_TOKEN = 0
    assert_no_english_left(world, _get(token, expected=429))


@pytest.mark.parametrize("name", PROVIDER_TEMPLATES)
def test_every_phrase_of_the_provider_templates_has_spanish(name: str) -> None:
    entries = {entry.msgid: entry for entry in polib.pofile(str(PO)) if not entry.obsolete}
    missing = sorted(s for s in translatable_strings(name) if s not in entries or not _translated(entries[s]))
    assert not missing, f"{name}: no Spanish for {missing}"


def test_every_label_and_choice_of_the_provider_form_has_spanish() -> None:
    words: list[Promise] = []
    for field in ProviderAnswerForm.base_fields.values():
        words += [field.label, field.help_text, *(label for _value, label in getattr(field, "choices", []))]
    with translation.override("en"):
        english = [str(word) for word in words if word]
    with translation.override("es"):
        spanish = [str(word) for word in words if word]
    same = sorted({en for en, es in zip(english, spanish, strict=True) if en == es and en != "No"})
    assert not same, f"no Spanish for {same}"
