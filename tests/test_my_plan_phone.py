"""My plan on a phone (it was 9,000 px tall at 375 px wide): an answer given folds to one line,
one still to give stands open with its words folded, a refused one opens with its reason; and
the ask's area icons are drawings every browser shows, not emoji (empty boxes without a font)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services.actions import legal
from services.choices import ReferralStatus
from services.document_reminders import DAYS_BEFORE
from services.legal_rules import URGENT_DAYS
from services.models.consent import Consent
from services.models.documents import DocumentKind
from services.models.legal import CompensationClaim
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors.legal import legal_plan
from services.selectors.plans import SHARING_ENDS_DAYS
from tests.conftest import World
from tests.factories import consent_for
from tests.sample_files import document_for

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
        ("en", "Did you get help from {provider}? You said “Not yet” on"),
        ("es", "¿Recibió ayuda de {provider}? Usted dijo «Todavía no» el"),
    ],
)
def test_an_answered_referral_folds_to_the_answer(world, referral, marcus, language, said):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    marcus.post(referral_url(referral), {"answer": "not_yet", "words": "They never called"})

    folds = Folds(plan(marcus), referral_url(referral))

    assert folds.fold is not None and "open" not in folds.fold
    # The question as the form asks it, the answer as the radio reads.
    assert folds.summary.startswith(said.format(provider=referral.resource.provider.name))
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
    assert folds.summary.startswith(f"Did you get help from {referral.resource.provider.name}? You said “Yes” on")
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


class Sections(HTMLParser):
    """The plan's folded sections by their heading's id: `folds[id]` is the <details> around the
    heading (its attributes) and `summaries[id]` the words of that <details>' summary."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.details: list[dict[str, str | None]] = []
        self.summary: list[str] | None = None  # the words of the summary being read
        self.heading = ""  # the id of the heading in that summary
        self.folds: dict[str, dict[str, str | None]] = {}
        self.summaries: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self.details.append(dict(attrs))
        elif tag == "summary":
            self.summary, self.heading = [], ""
        elif tag == "h2" and self.summary is not None:
            self.heading = dict(attrs).get("id") or ""
            self.folds[self.heading] = self.details[-1]

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.details.pop()
        elif tag == "summary" and self.summary is not None:
            if self.heading:
                self.summaries[self.heading] = " ".join("".join(self.summary).split())
            self.summary = None

    def handle_data(self, data: str) -> None:
        if self.summary is not None:
            self.summary.append(data)


LOWER = ["legal-h", "notes-h", "sharing-h", "documents-h", "openers-h", "print-h"]


def lower_sections(world: World, *, ends_on: date, expires_on: date, deadline: date) -> None:
    """Marcus's plan with a sharing, a paper and a claim (besides his shared note), each due so."""
    person = world.marcus.exoneree
    Consent.objects.filter(exoneree=person).delete()
    consent_for(person, world.marcus.referral.resource.provider, ends_on=ends_on)
    document_for(person, world.caseworker1, kind=DocumentKind.STATE_ID, expires_on=expires_on)
    claim = CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=date(2026, 6, 1))
    legal.claim_create(by=world.caseworker1, exoneree=person, claim=claim)
    CompensationClaim.objects.filter(pk=claim.pk).update(filing_deadline=deadline)


@pytest.mark.parametrize(
    ("language", "gists"),
    [
        (
            "en",
            {
                "legal-h": "Compensation and your record (1 claim)",
                "notes-h": "Notes from your caseworker (last: ",
                "sharing-h": "Who we share your information with (1 provider)",
                "documents-h": "Your papers (1 paper)",
                "openers-h": "Who has looked at your file (",
                "print-h": "Keep a copy (print or download)",
            },
        ),
        (
            "es",
            {
                "legal-h": "La compensación y sus antecedentes (1 reclamo)",
                "notes-h": "Notas de su trabajador social (la última: ",
                "sharing-h": "Con quién compartimos su información (1 proveedor)",
                "documents-h": "Sus papeles (1 papel)",
                "openers-h": "Quién ha visto su expediente (",
                "print-h": "Guarde una copia (imprimir o descargar)",
            },
        ),
    ],
)
def test_the_lower_sections_fold_to_their_heading_and_a_gist(world, marcus, language, gists):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    today = timezone.localdate()
    far = today + timedelta(days=365)
    lower_sections(world, ends_on=far, expires_on=far, deadline=far)

    sections = Sections(plan(marcus))

    for heading, gist in gists.items():
        assert "open" not in sections.folds[heading], heading
        assert sections.summaries[heading].startswith(gist), sections.summaries[heading]


def test_a_section_that_needs_the_person_now_stands_open(world, marcus):
    """A sharing ending within 30 days, an ID expiring within 60 (its reminder links here), a
    filing deadline within 90: open; the others stay folded."""
    today = timezone.localdate()
    lower_sections(
        world,
        ends_on=today + timedelta(days=SHARING_ENDS_DAYS),
        expires_on=today + timedelta(days=DAYS_BEFORE),
        deadline=today + timedelta(days=URGENT_DAYS),
    )

    sections = Sections(plan(marcus))

    assert [h for h in LOWER if "open" in sections.folds[h]] == ["legal-h", "sharing-h", "documents-h"]


def test_a_day_further_each_folds_again(world, marcus):
    today = timezone.localdate()
    lower_sections(
        world,
        ends_on=today + timedelta(days=SHARING_ENDS_DAYS + 1),
        expires_on=today + timedelta(days=DAYS_BEFORE + 1),
        deadline=today + timedelta(days=URGENT_DAYS + 1),
    )

    sections = Sections(plan(marcus))

    assert [h for h in LOWER if "open" in sections.folds[h]] == []


@pytest.mark.parametrize(
    ("opened", "heading"),
    [("documents", "documents-h"), ("visits", "openers-h"), ("sharing", "sharing-h"), ("notes", "notes-h")],
)
def test_a_link_to_a_folded_section_opens_it(world, marcus, opened, heading):
    """The ID reminder's "?open=documents#documents", the visits page's way back: a fragment
    alone cannot open a <details> without a script."""
    sections = Sections(marcus.get(reverse("my_plan"), {"open": opened}).content.decode())

    assert [h for h in LOWER if h in sections.folds and "open" in sections.folds[h]] == [heading]


def test_an_unknown_section_to_open_is_ignored(world, marcus):
    response = marcus.get(reverse("my_plan"), {"open": "<script>"})

    assert response.status_code == 200
    sections = Sections(response.content.decode())
    assert not [h for h in sections.folds if "open" in sections.folds[h]]


def test_the_printed_plan_keeps_its_legal_part_whole(world, marcus):
    far = timezone.localdate() + timedelta(days=365)
    lower_sections(world, ends_on=far, expires_on=far, deadline=far)

    html = render_to_string(
        "services/_plan_legal.html", {"legal_claims": legal_plan(world.marcus.exoneree)["legal_claims"]}
    )

    assert "Your claim for compensation" in html and "<details" not in html and "<summary" not in html


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_papers_note_names_the_section_where_openings_show(world, marcus, language):
    """Spanish sent the person to "quién ha mirado su expediente" below, a section headed
    "Quién ha visto su expediente": a reader looking for those words found none."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)
    page = unescape(plan(marcus))

    heading = re.search(r'<h2 id="openers-h">([^<]+)</h2>', page).group(1)
    note = re.search(r'id="documents".*?<p class="muted">([^<]+)</p>', page, re.S).group(1)
    assert heading.lower() in note.lower()


def test_each_copy_to_download_is_its_own_tap_target(world, marcus):
    """The two PDFs were words in a sentence, the second beside the JSON link with a "·" between
    them on one line: on a phone a thumb could take the one the person did not mean."""
    section = plan(marcus).split('id="copy"')[1].split("</section>")[0]

    buttons = re.findall(r'<p><a class="button secondary" href="([^"]+)">', section)
    assert buttons == [reverse("my_plan_pdf"), reverse("my_copy_pdf")]
    assert f'<p class="link-line"><a href="{reverse("my_copy_json")}">' in section  # a line's height to tap
    assert "·" not in section
