"""The person's other legal items (a civil-rights suit, tax relief, an official apology) on their
own plan and their copy, in plain words: where each stands, never the staff's notes on it, never
another person's; the section shows for them alone; My plan's queries do not grow with them.
And each claim's next step there, as the claim's own rules give it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import unescape
from io import BytesIO
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape, strip_tags
from pypdf import PdfReader

from services.actions import legal
from services.choices import ClaimStage, ClearanceStatus, LegalItemKind, LegalItemStatus, RecordHolder
from services.legal_rules import DeadlineBasis
from services.models.legal import CompensationClaim, LegalItem, RecordClearance
from services.models.people import Exoneree
from services.selectors.legal import legal_plan
from tests.conftest import World
from tests.test_legal import illinois_claim
from tests.test_my_plan_phone import Sections
from tests.test_queries import PAGES, measure

pytestmark = [pytest.mark.django_db, pytest.mark.world_built_once]

NOTE = "QZXsettlement talks at two million"  # what staff wrote about the suit: theirs alone


def item_for(world: World, exoneree: Exoneree, kind: str, status: str, **dates: date) -> LegalItem:
    item = LegalItem(kind=kind, status=status, notes=NOTE, **dates)
    return legal.legal_item_save(by=world.caseworker1, exoneree=exoneree, item=item)


def every_status(world: World) -> None:
    """Marcus's items: one in each status, of each kind, each with the staff's note."""
    marcus = world.marcus.exoneree
    item_for(world, marcus, LegalItemKind.CIVIL_RIGHTS_SUIT, LegalItemStatus.CONSIDERING)
    item_for(world, marcus, LegalItemKind.TAX_RELIEF, LegalItemStatus.IN_PROGRESS, started_on=date(2026, 3, 3))
    item_for(world, marcus, LegalItemKind.ACKNOWLEDGMENT, LegalItemStatus.DONE, done_on=date(2026, 10, 1))
    item_for(world, marcus, LegalItemKind.ACKNOWLEDGMENT, LegalItemStatus.DROPPED, done_on=date(2026, 11, 2))
    item_for(world, marcus, LegalItemKind.TAX_RELIEF, LegalItemStatus.IN_PROGRESS)


SAID = {
    "en": [
        "A civil-rights suit: being looked into with your lawyer.",
        "Help with taxes on your compensation: under way since March 3, 2026.",
        "Help with taxes on your compensation: under way.",
        "An official apology or acknowledgment: done on October 1, 2026.",
        "An official apology or acknowledgment: not going ahead.",
        "This is information to go over with your lawyer, not legal advice.",
    ],
    "es": [
        "Una demanda por derechos civiles: se está estudiando con su abogado.",
        "Ayuda con los impuestos de su compensación: en marcha desde el 3 de marzo de 2026.",
        "Ayuda con los impuestos de su compensación: en marcha.",
        "Una disculpa o un reconocimiento oficial: terminó el 1 de octubre de 2026.",
        "Una disculpa o un reconocimiento oficial: no va a seguir adelante.",
        "Esta es información para revisar con su abogado, no es asesoría legal.",
    ],
}


# The plan read in a later year, where each of these days says its year (the plan writes a day of
# this year without it: tests/test_plain_days.py); the PDFs always say it.
A_LATER_YEAR = datetime(2027, 3, 1, 16, tzinfo=UTC)


def words(html: str) -> str:
    return " ".join(html.split())


def pdf_words(content: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "") for page in PdfReader(BytesIO(content)).pages).split())


def in_language(login, language: str) -> Any:
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    return client


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_plan_says_each_item_and_where_it_stands_in_plain_words(world, login, time_machine, language):
    every_status(world)
    time_machine.move_to(A_LATER_YEAR, tick=False)

    page = words(in_language(login, language).get(reverse("my_plan")).content.decode())

    for said in SAID[language]:
        assert escape(said) in page
    assert NOTE not in page


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [
        ("en", "A civil-rights suit: starting January 15, 2027.", "under way since"),
        ("es", "Una demanda por derechos civiles: empieza el 15 de enero de 2027.", "en marcha desde"),
    ],
)
def test_an_item_under_way_from_a_day_still_to_come_says_when_it_starts(
    world, login, time_machine, language, said, not_said
):
    time_machine.move_to(datetime(2026, 12, 1, 16, tzinfo=UTC), tick=False)
    marcus = world.marcus.exoneree
    item_for(world, marcus, LegalItemKind.CIVIL_RIGHTS_SUIT, LegalItemStatus.IN_PROGRESS, started_on=date(2027, 1, 15))

    page = words(in_language(login, language).get(reverse("my_plan")).content.decode())

    assert escape(said) in page
    assert not_said not in page


@pytest.mark.parametrize("pdf", ["my_plan_pdf", "my_copy_pdf"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_printed_plan_and_the_copy_say_them_as_the_page_does(world, login, language, pdf):
    every_status(world)

    response = in_language(login, language).get(reverse(pdf))

    assert response.status_code == 200
    text = pdf_words(response.content)
    for said in SAID[language]:
        assert said in text
    assert NOTE not in text


# A claim's "Next step:" as the claim's rules give it (what is said, what must not be), once wrong:
# a state without a compensation law was "checking the filing deadline"; a claim with a filing
# date whose stage was never moved on was still to file.
STEPS = {
    ("no_statute", "en"): (
        "Next step: this state has no law that pays compensation. Talk with your caseworker and a lawyer about "
        "other ways: a civil-rights suit, or a special bill in the state legislature.",
        "checking the filing deadline",
    ),
    ("no_statute", "es"): (
        "Próximo paso: este estado no tiene una ley que pague compensación. Hable con su trabajador social y con "
        "un abogado sobre otros caminos: una demanda por derechos civiles, o un proyecto de ley especial en la "
        "legislatura del estado.",
        "confirmando la fecha límite",
    ),
    ("filed", "en"): ("it was filed on September 1, 2026. Next step: wait for the decision", "finding a lawyer"),
    ("filed", "es"): (
        "se presentó el 1 de septiembre de 2026. Próximo paso: esperar la decisión",
        "encontrar un abogado",
    ),
}


def claim_for(world: World, case: str) -> CompensationClaim:
    if case == "no_statute":  # Alaska has no compensation statute
        claim = CompensationClaim(jurisdiction="AK", stage=ClaimStage.ATTORNEY_ENGAGED, attorney="Ana Ruiz")
        return legal.claim_create(by=world.caseworker1, exoneree=world.marcus.exoneree, claim=claim)
    claim = illinois_claim(world)
    CompensationClaim.objects.filter(pk=claim.pk).update(filed_on=date(2026, 9, 1))  # stage still "assessing"
    return claim


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("case", ["no_statute", "filed"])
def test_the_plan_says_the_claims_next_step_as_its_rules_give_it(world, login, time_machine, case, language):
    claim_for(world, case)
    time_machine.move_to(A_LATER_YEAR, tick=False)
    said, not_said = STEPS[case, language]

    html = in_language(login, language).get(reverse("my_plan")).content.decode()
    page = words(unescape(strip_tags(html)))

    assert said in page
    assert not_said not in page


@pytest.mark.parametrize("pdf", ["my_plan_pdf", "my_copy_pdf"])
@pytest.mark.parametrize("case", ["no_statute", "filed"])
def test_the_printed_plan_and_the_copy_say_the_same_next_step(world, login, case, pdf):
    claim_for(world, case)
    said, not_said = STEPS[case, "en"]
    client = login("exoneree1")

    text = pdf_words(client.get(reverse(pdf)).content)

    assert said in text
    assert not_said not in text
    step = {"no_statute": "no_statute", "filed": "wait_decision"}[case]
    assert [c["step"] for c in client.get(reverse("my_copy_json")).json()["legal"]["claims"]] == [step]


@pytest.mark.parametrize(
    ("jurisdiction", "basis", "step"),
    [
        ("AK", DeadlineBasis.NO_STATUTE, "no_statute"),  # nothing to check: no deadline, no statute
        ("DC", DeadlineBasis.NO_WINDOW, "find_lawyer"),  # a statute without a time limit
        ("", DeadlineBasis.NO_JURISDICTION, "set_deadline"),  # legal_rules.Deadline.needs_lawyer
        ("IL", DeadlineBasis.TRIGGER_NOT_IN_RULE, "set_deadline"),  # no event given to count from
    ],
)
def test_a_claim_without_a_deadline_asks_the_rule_whether_a_lawyer_must_set_one(world, jurisdiction, basis, step):
    claim = CompensationClaim(jurisdiction=jurisdiction)
    claim = legal.claim_create(by=world.caseworker1, exoneree=world.marcus.exoneree, claim=claim)

    assert (claim.deadline_basis, claim.filing_deadline) == (basis, None)
    assert claim.saved_deadline.needs_lawyer is (step == "set_deadline")
    assert [c.step for c in legal_plan(world.marcus.exoneree)["legal_claims"]] == [step]


def test_the_copys_json_has_the_items_and_never_their_notes(world, login):
    every_status(world)

    response = login("exoneree1").get(reverse("my_copy_json"))

    assert response.status_code == 200
    assert NOTE not in response.content.decode()
    items = response.json()["legal"]["items"]
    # In the order of the kinds (the suit, tax relief, the apology), the newest of a kind first.
    assert [(i["kind"], i["status"], i["started_on"], i["done_on"]) for i in items] == [
        ("civil_rights_suit", "considering", None, None),
        ("tax_relief", "in_progress", None, None),
        ("tax_relief", "in_progress", "2026-03-03", None),
        ("acknowledgment", "dropped", None, "2026-11-02"),
        ("acknowledgment", "done", None, "2026-10-01"),
    ]
    assert items[0]["what"] == "A civil-rights suit"


def test_another_persons_items_never_appear(world, login):
    thomas = world.thomas.exoneree
    item_for(world, thomas, LegalItemKind.CIVIL_RIGHTS_SUIT, LegalItemStatus.IN_PROGRESS, started_on=date(2026, 2, 2))

    client = login("exoneree1")
    page = client.get(reverse("my_plan")).content.decode()
    copy = pdf_words(client.get(reverse("my_copy_pdf")).content)

    assert legal_plan(world.marcus.exoneree)["legal_items"] == []
    assert [i.what for i in legal_plan(thomas)["legal_items"]] == ["A civil-rights suit"]
    for text in (page, copy):
        assert "civil-rights suit:" not in text and "February 2, 2026" not in text
    assert 'id="legal-h"' not in page  # nothing of his own to show: no section at all


def gist(client: Any) -> str:
    return Sections(client.get(reverse("my_plan")).content.decode()).summaries["legal-h"]


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Compensation and your record (1 other legal matter)"),
        ("es", "La compensación y sus antecedentes (1 asunto legal más)"),
    ],
)
def test_a_person_with_only_legal_items_sees_the_section(world, login, language, said):
    item_for(world, world.marcus.exoneree, LegalItemKind.ACKNOWLEDGMENT, LegalItemStatus.CONSIDERING)

    assert gist(in_language(login, language)) == said


def test_the_gist_counts_the_claims_the_items_and_the_places_still_to_clear(world, login):
    marcus = world.marcus.exoneree
    illinois_claim(world)
    item_for(world, marcus, LegalItemKind.CIVIL_RIGHTS_SUIT, LegalItemStatus.IN_PROGRESS)
    item_for(world, marcus, LegalItemKind.TAX_RELIEF, LegalItemStatus.DONE)
    holder = RecordClearance(holder=RecordHolder.FBI, status=ClearanceStatus.REQUESTED, requested_on=date(2026, 9, 1))
    legal.clearance_save(by=world.caseworker1, exoneree=marcus, clearance=holder)

    assert gist(login("exoneree1")) == (
        "Compensation and your record (1 claim, 2 other legal matters, 1 place still to clear)"
    )


def test_the_spanish_gist_names_what_is_still_to_clear(world, login):
    """It said "falta borrarla en 1 lugar": "la" stood for a conviction the sentence never named."""
    illinois_claim(world)
    holder = RecordClearance(holder=RecordHolder.FBI, status=ClearanceStatus.REQUESTED, requested_on=date(2026, 9, 1))
    legal.clearance_save(by=world.caseworker1, exoneree=world.marcus.exoneree, clearance=holder)

    assert gist(in_language(login, "es")) == (
        "La compensación y sus antecedentes (1 reclamo, falta borrar la condena en 1 lugar)"
    )


def test_a_cleared_record_is_not_called_cleared_beside_items_still_open(world, login):
    """The gist's "cleared" alone says all is settled; with an item still open it is not."""
    marcus = world.marcus.exoneree
    item_for(world, marcus, LegalItemKind.CIVIL_RIGHTS_SUIT, LegalItemStatus.CONSIDERING)
    holder = RecordClearance(
        holder=RecordHolder.FBI, status=ClearanceStatus.CONFIRMED_CLEAR, confirmed_on=date(2026, 9, 1)
    )
    legal.clearance_save(by=world.caseworker1, exoneree=marcus, clearance=holder)

    assert gist(login("exoneree1")) == "Compensation and your record (1 other legal matter)"


def test_my_plans_queries_are_the_same_with_one_item_or_five(world, login):
    budget = next(page[4] for page in PAGES if page[0] == "my-plan")
    client = login("exoneree1")
    measure(client, reverse("my_plan"))  # warm-up
    marcus = world.marcus.exoneree
    kinds = list(LegalItemKind.values)

    item_for(world, marcus, kinds[0], LegalItemStatus.CONSIDERING)
    one = measure(client, reverse("my_plan"))
    for i in range(4):
        item_for(world, marcus, kinds[i % len(kinds)], LegalItemStatus.IN_PROGRESS, started_on=date(2026, 1, 1 + i))
    five = measure(client, reverse("my_plan"))

    assert len(legal_plan(marcus)["legal_items"]) == 5
    assert len(one) == len(five) == budget, "\n".join(five)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "background checks at: The state office that keeps criminal records."),
        ("es", "verificaciones de antecedentes en: Registro estatal de antecedentes penales."),
    ],
)
def test_the_plan_names_the_state_records_office_in_plain_words_and_staff_keep_theirs(world, login, language, said):
    """ "State criminal records repository" is staff's word: someone out after decades reads it
    as jargon. The Legal page, for staff, keeps it."""
    marcus = world.marcus.exoneree
    holder = RecordClearance(
        holder=RecordHolder.STATE_REPOSITORY, status=ClearanceStatus.REQUESTED, requested_on=date(2026, 9, 1)
    )
    legal.clearance_save(by=world.caseworker1, exoneree=marcus, clearance=holder)

    plan = " ".join(in_language(login, language).get(reverse("my_plan")).content.decode().split())
    staff = login("caseworker1").get(reverse("exoneree_legal", args=[marcus.pk])).content.decode()

    assert said in plan and "repository" not in plan
    assert "State criminal records repository" in staff
