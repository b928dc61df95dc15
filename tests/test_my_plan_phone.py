"""My plan on a phone (it was 9,000 px tall at 375 px wide): an answer given folds to one line,
one still to give stands open with its words folded, a refused one opens with its reason; and
the ask's area icons are drawings every browser shows, not emoji (empty boxes without a font)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from services.choices import ReferralStatus
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

# Emoji and the symbols a browser draws from an emoji font: pictographs, dingbats, the
# miscellaneous symbols, and the variation selector that asks for the emoji form.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


class Folds(HTMLParser):
    """Where the form posting to `action` stands: `fold` is the <details> around it (None when
    the form is not folded at all) and `summary` its summary's words; `words` is the <details>
    around its "Tell us more" box."""

    def __init__(self, html: str, action: str) -> None:
        super().__init__()
        self.action = action
        self.details: list[dict[str, str | None]] = []
        self.summaries: list[str] = []
        self.in_summary = False
        self.in_form = False
        self.fold: dict[str, str | None] | None = None
        self.summary = ""
        self.words: dict[str, str | None] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self.details.append(dict(attrs))
            self.summaries.append("")
        elif tag == "summary":
            self.in_summary = True
        elif tag == "form" and dict(attrs).get("action") == self.action:
            self.in_form = True
            self.fold = self.details[-1] if self.details else None
            self.summary = " ".join(self.summaries[-1].split()) if self.details else ""
        elif tag == "textarea" and self.in_form:
            self.words = self.details[-1]

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.details.pop()
            self.summaries.pop()
        elif tag == "summary":
            self.in_summary = False
        elif tag == "form":
            self.in_form = False

    def handle_data(self, data: str) -> None:
        if self.in_summary:
            self.summaries[-1] += data


def referral_url(referral: Referral) -> str:
    return reverse("my_referral_answer", args=[referral.pk])


def appointment_url(world: World) -> str:
    return reverse("my_appointment_answer", args=[world.marcus.follow_up.pk])


@pytest.fixture
def referral(world: World) -> Referral:
    """Marcus's referral, sent: his plan asks whether he got help."""
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.SENT)
    return world.marcus.referral


@pytest.fixture
def marcus(login) -> Client:
    return login("exoneree1")


def plan(client: Client) -> str:
    return client.get(reverse("my_plan")).content.decode()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Did you get help? You said “not yet” on"),
        ("es", "¿Recibió ayuda? Usted dijo «todavía no» el"),
    ],
)
def test_an_answered_referral_folds_to_the_answer(world, referral, marcus, language, said):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    marcus.post(referral_url(referral), {"answer": "not_yet", "words": "They never called"})

    folds = Folds(plan(marcus), referral_url(referral))

    assert folds.fold is not None and "open" not in folds.fold
    assert folds.summary.startswith(said)
    assert folds.summary.endswith({"en": "Change", "es": "Cambiar"}[language])
    assert folds.words is not None and "open" in folds.words  # their words, when they open it


def test_a_referral_not_answered_yet_stands_open_with_its_words_folded(referral, marcus):
    folds = Folds(plan(marcus), referral_url(referral))

    assert folds.fold is None  # the question itself, not behind a fold
    assert folds.words is not None and "open" not in folds.words


def test_a_refused_answer_to_a_referral_opens_with_its_reason(referral, marcus):
    marcus.post(referral_url(referral), {"answer": "yes", "words": ""})

    response = marcus.post(referral_url(referral), {"answer": "maybe", "words": "It went well"})

    assert response.status_code == 400
    folds = Folds(response.content.decode(), referral_url(referral))
    assert folds.fold is not None and "open" in folds.fold
    assert folds.summary.startswith("Did you get help? You said “yes” on")
    assert folds.words is not None and "open" in folds.words
    assert f'id="id_r{referral.pk}_answer_error"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Will you be there? You said “I need another time” on"),
        ("es", "¿Va a ir? Usted dijo «Necesito otra hora» el"),
    ],
)
def test_an_answered_appointment_folds_to_the_answer(world, marcus, language, said):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    marcus.post(appointment_url(world), {"answer": "another_time", "words": ""})

    folds = Folds(plan(marcus), appointment_url(world))

    assert folds.fold is not None and "open" not in folds.fold
    assert folds.summary.startswith(said)
    assert folds.words is not None and "open" not in folds.words  # no words were sent


def test_an_appointment_not_answered_yet_stands_open_with_its_words_folded(world, marcus):
    folds = Folds(plan(marcus), appointment_url(world))

    assert folds.fold is None
    assert folds.words is not None and "open" not in folds.words


def test_a_refused_answer_to_an_appointment_opens_with_its_reason(world, marcus):
    marcus.post(appointment_url(world), {"answer": "coming", "words": ""})

    response = marcus.post(appointment_url(world), {"words": "Mornings are hard"})

    assert response.status_code == 400
    folds = Folds(response.content.decode(), appointment_url(world))
    assert folds.fold is not None and "open" in folds.fold
    assert folds.summary.startswith("Will you be there? You said “I'll be there” on")
    assert "Choose one answer." in response.content.decode()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_plan_draws_no_emoji(world, referral, marcus, language):
    """The ask's areas had emoji icons, boxes on a phone without an emoji font: now inline SVG."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    refused = marcus.post(reverse("my_ask"), {"words": ""})  # the ask form open, with its areas

    for html in (plan(marcus), refused.content.decode()):
        assert not EMOJI.findall(html)
        assert '<svg class="icon"' in html
