"""Legal remedies: claims and their deadlines, warnings planned from the computed deadline, the
Legal page and its forms, the person's plan in both languages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from io import BytesIO, StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from services import legal_rules, reminder_plans
from services.actions import legal
from services.choices import ClaimStage, ClearanceStatus, RecordHolder, ReminderKind, ReminderStatus
from services.lib import crypto
from services.lifecycle import TransitionNotAllowed
from services.models.audit import AuditEvent
from services.models.legal import ClaimPayment, CompensationClaim, RecordClearance
from services.models.notifications import Reminder
from services.models.people import Exoneree
from services.selectors import legal as legal_selectors
from tests.conftest import World
from tests.factories import ExonereeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.world_built_once]

COMP = reminder_plans.COMPENSATION_KINDS


def illinois_claim(w: World, **fields) -> CompensationClaim:
    fields = {"jurisdiction": "IL", "trigger_event": "vacatur_dismissal", "trigger_date": date(2026, 6, 1), **fields}
    claim = CompensationClaim(**fields)
    return legal.claim_create(by=w.caseworker1, exoneree=w.marcus.exoneree, claim=claim)


def warnings(claim: CompensationClaim, status: str = ReminderStatus.PENDING) -> list[tuple[str, str, datetime]]:
    rows = Reminder.objects.filter(compensation_claim=claim, status=status).select_related("recipient")
    return sorted((row.kind, row.recipient.username, row.send_at) for row in rows)


def eight_am(day: date) -> datetime:
    """The organizations' digest hour (8:00) in their zone (America/New_York), as UTC."""
    return datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


@pytest.mark.parametrize(
    ("days_before", "stage", "urgent"),
    [
        (legal_rules.URGENT_DAYS + 1, ClaimStage.ASSESSING, False),
        (legal_rules.URGENT_DAYS, ClaimStage.ASSESSING, True),
        (-1, ClaimStage.ATTORNEY_ENGAGED, True),
        (-1, ClaimStage.CLOSED, False),
    ],
)
def test_the_legal_page_and_the_plan_call_the_same_claims_urgent(world, time_machine, days_before, stage, urgent):
    """One rule (legal_rules.deadline_urgent) for the staff's row and the person's plan."""
    claim = illinois_claim(world)  # its deadline: June 1, 2028
    CompensationClaim.objects.filter(pk=claim.pk).update(stage=stage)
    today = claim.filing_deadline - timedelta(days=days_before)
    time_machine.move_to(datetime(today.year, today.month, today.day, 16, tzinfo=UTC), tick=False)

    [row] = legal_selectors.legal_page(world.marcus.exoneree, today=today)["claims"]
    plan = legal_selectors.legal_plan(world.marcus.exoneree)

    assert row.urgent is urgent
    assert [c.urgent for c in plan["legal_claims"]] == ([urgent] if stage != ClaimStage.CLOSED else [])
    assert plan["legal_urgent"] is urgent


def test_deadline_computed_from_the_rule_and_warned_to_caseworker_and_director(world):
    claim = illinois_claim(world)

    assert (claim.filing_deadline, claim.deadline_basis) == (date(2028, 6, 1), "statute")
    assert "735 ILCS 5/2-702" in claim.deadline_citation
    sends = {
        ReminderKind.COMPENSATION_90: eight_am(date(2028, 3, 3)),
        ReminderKind.COMPENSATION_30: eight_am(date(2028, 5, 2)),
        ReminderKind.COMPENSATION_7: eight_am(date(2028, 5, 25)),
        ReminderKind.COMPENSATION_0: eight_am(date(2028, 6, 1)),
    }
    assert warnings(claim) == sorted((k, who, at) for k, at in sends.items() for who in ("caseworker1", "director1"))


def test_warnings_follow_a_changed_trigger_date_and_an_override(world):
    claim = illinois_claim(world)
    claim.trigger_date = date(2026, 7, 1)
    legal.claim_update(by=world.caseworker1, claim=claim)
    assert {at for _, _, at in warnings(claim)} == {
        eight_am(date(2028, 7, 1)),
        eight_am(date(2028, 6, 1)),
        eight_am(date(2028, 6, 24)),
        eight_am(date(2028, 4, 2)),
    }
    assert len(warnings(claim, ReminderStatus.CANCELLED)) == 8  # the first deadline's

    claim.deadline_override, claim.override_reason = date(2027, 1, 15), "The lawyer counts from the order."
    legal.claim_update(by=world.caseworker1, claim=claim)
    claim.refresh_from_db()
    assert (claim.filing_deadline, claim.deadline_basis, claim.override_by) == (
        date(2027, 1, 15),
        "override",
        world.caseworker1,
    )
    assert claim.override_at is not None
    assert eight_am(date(2027, 1, 15)) in {at for _, _, at in warnings(claim)}


@pytest.mark.parametrize(
    ("stage", "extra"),
    [(ClaimStage.FILED, {"filed_on": date(2026, 9, 1)}), (ClaimStage.CLOSED, {}), (ClaimStage.NOT_ELIGIBLE, {})],
)
def test_a_claim_filed_or_closed_cancels_its_warnings(world, stage, extra):
    claim = illinois_claim(world)
    claim.stage = stage
    for name, value in extra.items():
        setattr(claim, name, value)
    legal.claim_update(by=world.caseworker1, claim=claim)

    assert warnings(claim) == []
    assert len(warnings(claim, ReminderStatus.CANCELLED)) == 8


def test_no_deadline_no_warnings_and_the_page_asks_for_one(world, login):
    claim = illinois_claim(world, trigger_date=None)
    assert claim.filing_deadline is None and claim.deadline_basis == "no_trigger_date"
    assert warnings(claim) == []
    page = login("caseworker1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()
    assert "give the date of the event that starts the window" in page
    assert "not legal advice" in page


@pytest.mark.parametrize(
    ("fields", "update", "needs_lawyer"),
    [
        ({"trigger_date": None}, {}, True),
        ({"trigger_date": None}, {"stage": ClaimStage.FILED, "filed_on": date(2026, 7, 1)}, False),
        ({}, {}, False),
    ],
)
def test_the_legal_page_row_asks_for_a_lawyers_deadline_as_the_rules_do(world, fields, update, needs_lawyer):
    """One rule (legal_rules.Deadline.needs_lawyer), asked of a claim still to be filed."""
    claim = illinois_claim(world, **fields)
    CompensationClaim.objects.filter(pk=claim.pk).update(**update)

    [row] = legal_selectors.legal_page(world.marcus.exoneree, today=date(2026, 8, 1))["claims"]

    assert row.needs_lawyer is needs_lawyer


def test_how_a_rule_was_checked_is_folded_away_and_the_lawyer_is_named(world, login):
    """The compiler's research note ("IA, older, said …") sat in the rule's line (found by a walk)."""
    illinois_claim(world)
    rule = legal_rules.rule_for("IL")

    page = login("caseworker1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()

    rule_line = page.split("<dt>Rule</dt>")[1].split("<details")[0]
    assert "confirm with the lawyer" in rule_line and escape(rule.verification) not in rule_line
    assert f"<summary>How this rule was checked</summary><p>{escape(rule.verification)}</p>" in page


def test_stage_moves_are_checked_and_a_denial_needs_its_reason(world):
    claim = illinois_claim(world)
    claim.stage = ClaimStage.PAID
    with pytest.raises(TransitionNotAllowed):
        legal.claim_update(by=world.caseworker1, claim=claim)
    claim.stage, claim.filed_on = ClaimStage.FILED, date(2026, 9, 1)
    legal.claim_update(by=world.caseworker1, claim=claim)
    claim.stage = ClaimStage.DENIED
    with pytest.raises(ValidationError) as refused:
        legal.claim_update(by=world.caseworker1, claim=claim)
    assert "denial_reason" in refused.value.error_dict


def test_amounts_and_notes_are_encrypted_and_not_in_the_log(world):
    claim = illinois_claim(world, notes="Prior record question", award_total=Decimal("199150.00"))
    payment = legal.payment_create(
        by=world.caseworker1,
        claim=claim,
        payment=ClaimPayment(received_on=date(2026, 12, 1), amount=Decimal("50000.00")),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT award_total, notes FROM services_compensationclaim WHERE id = %s", [claim.pk])
        stored = cursor.fetchone()
        cursor.execute("SELECT amount FROM services_claimpayment WHERE id = %s", [payment.pk])
        stored += cursor.fetchone()
    assert all(value.startswith(f"{crypto.TOKEN_VERSION}$") for value in stored), stored
    assert not any("199150" in value or "50000" in value or "Prior" in value for value in stored)
    assert CompensationClaim.objects.get(pk=claim.pk).award_total == Decimal("199150.00")
    logged = str(list(AuditEvent.objects.values_list("changes", flat=True)))
    assert "199150" not in logged and "Prior record" not in logged


def test_money_reads_as_people_write_it(login, world):
    illinois_claim(world, award_total=Decimal("199150.00"), award_per_year=Decimal("1234.50"))

    page = login("caseworker1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()

    assert "$199,150" in page and "$1,234.50" in page


def test_record_confirmed_clear_plans_a_recheck_six_months_later_for_caseworkers(world):
    clearance = legal.clearance_save(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        clearance=RecordClearance(
            holder=RecordHolder.FBI,
            status=ClearanceStatus.CONFIRMED_CLEAR,
            requested_on=date(2026, 8, 1),
            confirmed_on=date(2026, 8, 31),
        ),
    )
    rows = Reminder.objects.filter(record_clearance=clearance, status=ReminderStatus.PENDING)
    assert [(r.kind, r.recipient.username, r.send_at) for r in rows] == [
        (ReminderKind.RECORD_RECHECK, "caseworker1", eight_am(date(2027, 2, 28)))  # six months on; no 31 Feb
    ]
    clearance.status = ClearanceStatus.STILL_SHOWING
    legal.clearance_save(by=world.caseworker1, exoneree=world.marcus.exoneree, clearance=clearance)
    assert not Reminder.objects.filter(record_clearance=clearance, status=ReminderStatus.PENDING).exists()


# --- pages ----------------------------------------------------------------------------------------


def test_forms_put_errors_beside_fields_and_save_nothing(world, login):
    client = login("caseworker1")
    url = reverse("claim_create", args=[world.marcus.exoneree.pk])
    response = client.post(
        url,
        {
            "jurisdiction": "ME",  # Maine counts only from a pardon
            "trigger_event": "vacatur_dismissal",
            "trigger_date": "2026-06-01",
            "deadline_override": "2027-01-01",  # and no reason
            "stage": "assessing",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Maine's statute counts from: pardon." in errors["trigger_event"]
    assert "override_reason" in errors
    assert not CompensationClaim.objects.exists()

    response = client.post(
        url,
        {
            "jurisdiction": "IL",
            "trigger_event": "vacatur_dismissal",
            "trigger_date": "2026-06-01",
            "stage": "assessing",
        },
    )
    assert response.status_code == 302
    claim = CompensationClaim.objects.get()
    assert claim.filing_deadline == date(2028, 6, 1)

    # Only the stage's allowed moves are offered; another is refused beside the field.
    edit = client.post(reverse("claim_edit", args=[claim.pk]), {"jurisdiction": "IL", "stage": "paid"})
    assert edit.status_code == 400 and "stage" in edit.context["form"].errors

    wrong_holder = client.get(reverse("clearance_edit", args=[world.marcus.exoneree.pk, "moon"]))
    assert wrong_holder.status_code == 404


def test_the_legal_page_shows_rule_citation_payments_and_record_holders(world, login):
    claim = illinois_claim(world, attorney="Example Clinic")
    legal.payment_create(
        by=world.caseworker1,
        claim=claim,
        payment=ClaimPayment(received_on=date(2026, 12, 1), amount=Decimal("100.50")),
    )
    legal.payment_create(
        by=world.caseworker1,
        claim=claim,
        payment=ClaimPayment(received_on=date(2026, 12, 2), amount=Decimal("200.25")),
    )
    page = login("director1").get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).content.decode()
    assert "Jun 1, 2028" in page and "2 years from the conviction vacated and charges dismissed" in page
    assert "735 ILCS 5/2-702" in page and "$300.75 in all" in page
    assert "FBI (national criminal history)" in page and "Not recorded" in page
    assert reverse("claim_edit", args=[claim.pk]) not in page  # the director reads only


def test_a_payment_received_on_a_day_that_has_not_come_is_refused(world):
    claim = illinois_claim(world)
    later = timezone.localdate() + timedelta(days=30)

    with pytest.raises(ValidationError) as refused:
        legal.payment_create(
            by=world.caseworker1, claim=claim, payment=ClaimPayment(received_on=later, amount=Decimal("1500.00"))
        )

    assert "This date is in the future." in str(refused.value.message_dict["received_on"])
    assert not ClaimPayment.objects.exists()


def test_a_payment_typed_wrong_is_corrected_and_one_recorded_twice_removed(world, login):
    claim = illinois_claim(world)
    first, twice = (
        legal.payment_create(
            by=world.caseworker1,
            claim=claim,
            payment=ClaimPayment(received_on=date(2026, 12, 1), amount=Decimal("5000.00")),
        )
        for _ in range(2)
    )
    client = login("caseworker1")
    legal_url = reverse("exoneree_legal", args=[world.marcus.exoneree.pk])
    assert reverse("payment_edit", args=[first.pk]) in client.get(legal_url).content.decode()

    form = client.get(reverse("payment_edit", args=[first.pk])).content.decode()
    assert "Remove this payment" in form and reverse("payment_remove", args=[first.pk]) in form
    refused = client.post(reverse("payment_edit", args=[first.pk]), {"received_on": "2026-12-01", "amount": "-5"})
    assert refused.status_code == 400 and "amount" in refused.context["form"].errors
    assert ClaimPayment.objects.get(pk=first.pk).amount == Decimal("5000.00")  # nothing lost

    client.post(reverse("payment_edit", args=[first.pk]), {"received_on": "2026-12-02", "amount": "5500.00"})
    removed = client.post(reverse("payment_remove", args=[twice.pk]))

    assert removed.url == legal_url + "#claims"
    assert [(p.received_on, p.amount) for p in claim.payments.all()] == [(date(2026, 12, 2), Decimal("5500.00"))]
    assert "$5,500 in all" in client.get(legal_url).content.decode()  # as people write money
    entries = AuditEvent.objects.filter(actor=world.caseworker1, action=AuditEvent.Action.RECORD_CHANGED)
    changes = [entry.changes for entry in entries.order_by("pk") if entry.target.startswith("Claim payment")]
    assert changes == [
        {"received_on": ["2026-12-01", "2026-12-02"], "amount": "changed"},
        {"removed": "the payment received on 2026-12-01"},
    ]
    assert "5500" not in str(changes) and "5000" not in str(changes)


def test_person_page_banner_names_the_claim_and_links_to_legal(world, login):
    claim = illinois_claim(world, deadline_override=date(2026, 12, 20), override_reason="Lawyer's")
    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert "Illinois compensation claim not yet filed — deadline Dec 20, 2026" in page
    assert reverse("exoneree_legal", args=[claim.exoneree_id]) in page


@pytest.mark.parametrize(
    ("days_before", "alert"), [(legal_rules.URGENT_DAYS, True), (legal_rules.URGENT_DAYS + 1, False)]
)
def test_person_page_banner_is_an_alert_when_the_legal_page_calls_the_claim_urgent(
    world, login, time_machine, days_before, alert
):
    """One rule (legal_rules.deadline_urgent) for the banner, the Legal page and the plan."""
    claim = illinois_claim(world)  # its deadline: June 1, 2028
    today = claim.filing_deadline - timedelta(days=days_before)
    time_machine.move_to(datetime(today.year, today.month, today.day, 16, tzinfo=UTC), tick=False)

    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()

    banner = '<p class="banner alert" role="note">Illinois compensation claim not yet filed'
    assert (banner in page) is alert
    assert "Illinois compensation claim not yet filed — deadline Jun 1, 2028" in page


@pytest.mark.parametrize(
    ("language", "claim_words", "records_words"),
    [
        (
            "en",
            "Your claim for compensation in Illinois: you have until June 1, 2028 to file. "
            "<strong>Next step:</strong> talk with",
            "Your conviction may still show on background checks at: FBI (national criminal history).",
        ),
        (
            "es",
            "Su reclamo de compensación en Illinois: tiene hasta el 1 de junio de 2028 para presentarlo. "
            "<strong>Próximo paso:</strong> hable con",
            "Su condena puede seguir apareciendo en las verificaciones de antecedentes en: "
            "FBI (antecedentes penales nacionales).",
        ),
    ],
)
def test_the_plan_says_the_claim_and_the_records_in_plain_words(world, login, language, claim_words, records_words):
    illinois_claim(world)
    legal.clearance_save(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        clearance=RecordClearance(
            holder=RecordHolder.FBI, status=ClearanceStatus.REQUESTED, requested_on=date(2026, 9, 1)
        ),
    )
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    page = " ".join(client.get(reverse("my_plan")).content.decode().split())
    assert claim_words in page
    assert records_words in page
    assert "735 ILCS" not in page  # citations and notes are for the person and their lawyer together


@pytest.mark.parametrize(
    ("language", "passed", "until"),
    [
        ("en", "the deadline to file was June 1, 2022. Talk with your caseworker and a lawyer soon", "you have until"),
        ("es", "el plazo para presentarlo venció el 1 de junio de 2022. Hable pronto con su", "tiene hasta"),
    ],
)
def test_the_plan_says_a_filing_deadline_has_passed_not_that_there_is_time(world, login, language, passed, until):
    claim = illinois_claim(world, trigger_date=date(2020, 6, 1))
    assert claim.filing_deadline == date(2022, 6, 1) < date.today()
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    page = " ".join(client.get(reverse("my_plan")).content.decode().split())
    assert passed in page
    assert until not in page


@pytest.mark.parametrize(
    ("language", "stage", "said", "not_said"),
    [
        ("en", ClaimStage.AWARDED, "<strong>Latest:</strong> you were awarded compensation.", "Next step:"),
        ("es", ClaimStage.AWARDED, "<strong>Lo más reciente:</strong> le otorgaron la compensación.", "Próximo paso:"),
        ("en", ClaimStage.PAID, "<strong>Latest:</strong> your compensation has been paid.", "Next step:"),
        ("es", ClaimStage.PAID, "<strong>Lo más reciente:</strong> su compensación ya se pagó.", "Próximo paso:"),
        ("en", ClaimStage.FILED, "<strong>Next step:</strong> wait for the decision", "Latest:"),
    ],
)
def test_the_plan_says_a_decision_made_is_the_latest_not_a_next_step(world, login, language, stage, said, not_said):
    claim = illinois_claim(world)
    CompensationClaim.objects.filter(pk=claim.pk).update(stage=stage, filed_on=date(2026, 9, 1))
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    page = " ".join(client.get(reverse("my_plan")).content.decode().split())
    assert said in page
    assert not_said not in page


@pytest.mark.parametrize("pdf", ["my_plan_pdf", "my_copy_pdf"])
@pytest.mark.parametrize(
    ("language", "stage", "said", "not_said"),
    [
        ("en", ClaimStage.AWARDED, "Latest: you were awarded compensation.", "Next step:"),
        ("es", ClaimStage.AWARDED, "Lo más reciente: le otorgaron la compensación.", "Próximo paso:"),
        ("en", ClaimStage.FILED, "Next step: wait for the decision", "Latest:"),
    ],
)
def test_the_printed_plan_and_the_copy_say_a_decision_made_is_the_latest(
    world, login, pdf, language, stage, said, not_said
):
    """The person's own copy printed "Next step: you were awarded compensation." (its claims
    are the JSON's, which did not say whether the step had happened)."""
    claim = illinois_claim(world)
    CompensationClaim.objects.filter(pk=claim.pk).update(stage=stage, filed_on=date(2026, 9, 1))
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    response = client.get(reverse(pdf))
    assert response.status_code == 200
    pages = PdfReader(BytesIO(response.content)).pages
    text = " ".join(" ".join((page.extract_text() or "") for page in pages).split())
    assert said in text
    assert not_said not in text


def test_a_corrected_rule_moves_deadlines_and_warnings_but_not_a_lawyers(world, monkeypatch):
    computed = illinois_claim(world)
    overridden = illinois_claim(world, deadline_override=date(2027, 9, 1), override_reason="The lawyer's")
    rules = dict(legal_rules.rules())
    rules["IL"] = dataclasses.replace(rules["IL"], window=legal_rules.Window.parse("3y"))
    monkeypatch.setattr(legal_rules, "rules", lambda: rules)

    out = StringIO()
    call_command("recompute_claim_deadlines", stdout=out)
    call_command("recompute_claim_deadlines", stdout=out)

    assert out.getvalue() == "1 claim deadline changed.\n0 claim deadlines changed.\n"
    computed.refresh_from_db()
    overridden.refresh_from_db()
    assert (computed.filing_deadline, overridden.filing_deadline) == (date(2029, 6, 1), date(2027, 9, 1))
    assert eight_am(date(2029, 6, 1)) in {at for _, _, at in warnings(computed)}
    assert eight_am(date(2028, 6, 1)) not in {at for _, _, at in warnings(computed)}


def person_page_of(login, world, state: str) -> tuple[Any, Any, str]:
    """A person of caseworker1's convicted in `state`, exonerated on Nov 18, 2026, no claim
    recorded: them, the caseworker's client and their page's words."""
    person = ExonereeFactory(
        organization=world.org1,
        caseworkers=[world.caseworker1],
        conviction_state=state,
        exoneration_date=date(2026, 11, 18),
    )
    client = login("caseworker1")
    return person, client, unescape(client.get(person.get_absolute_url()).content.decode())


def test_the_person_page_says_no_claim_is_recorded_where_the_state_compensates(login, world):
    person, client, page = person_page_of(login, world, "IL")

    assert "No compensation claim is recorded. Illinois compensates the wrongfully convicted" in page
    assert "A claim must be filed within 2 years of the event that opens the window." in page
    assert "Counted from the exoneration date on file, that is by Nov 18, 2028." in page
    assert reverse("claim_create", args=[person.pk]) in page
    Exoneree.objects.filter(pk=person.pk).update(conviction_state="AK")  # no statute
    assert "No compensation claim is recorded" not in client.get(person.get_absolute_url()).content.decode()
    Exoneree.objects.filter(pk=person.pk).update(conviction_state="IL")
    claim = CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=date(2026, 11, 18))
    legal.claim_create(by=world.caseworker1, exoneree=person, claim=claim)
    assert "No compensation claim is recorded" not in client.get(person.get_absolute_url()).content.decode()


def test_the_unrecorded_claims_day_is_counted_from_the_exoneration_only_where_it_opens_the_window(login, world):
    person, client, page = person_page_of(login, world, "OH")

    assert "No compensation claim is recorded. Ohio compensates" in page
    assert "Counted from the exoneration date" not in page  # Ohio's window opens with the certificate
    Exoneree.objects.filter(pk=person.pk).update(conviction_state="IL", exoneration_date=date(2020, 1, 6))
    page = unescape(client.get(person.get_absolute_url()).content.decode())
    assert "that was Jan 6, 2022, which has passed: ask a lawyer now" in page


@pytest.mark.parametrize(
    "emptied",
    [{"jurisdiction": ""}, {"trigger_event": "", "trigger_date": ""}, {"trigger_date": ""}, {}],
    ids=["jurisdiction", "event", "date", "everything"],
)
def test_a_claim_to_be_filed_keeps_its_deadline_when_its_fields_are_emptied(world, login, emptied):
    """Emptying what the deadline is computed from took the deadline and its warnings away
    without a word (found by a walk): refused at the top of the form, what was typed kept."""
    claim = illinois_claim(world, attorney="Example Clinic")
    client = login("caseworker1")
    posted = {
        "jurisdiction": "IL",
        "trigger_event": "vacatur_dismissal",
        "trigger_date": "2026-06-01",
        "stage": "assessing",
        "notes": "Call the clinic back",
    }
    posted = {**posted, **emptied} if emptied else {"stage": "assessing", "notes": "Call the clinic back"}

    response = client.post(reverse("claim_edit", args=[claim.pk]), posted)

    assert response.status_code == 400
    [error] = response.context["form"].non_field_errors()
    assert "take away the filing deadline (June 1, 2028)" in error
    assert "Call the clinic back" in response.content.decode()
    claim.refresh_from_db()
    assert claim.filing_deadline == date(2028, 6, 1) and warnings(claim)


@pytest.mark.parametrize(
    "change",
    [
        {"jurisdiction": "IL", "trigger_event": "vacatur_dismissal", "trigger_date": "2026-06-01", "stage": "closed"},
        {"jurisdiction": "", "stage": "not_eligible"},
        {"jurisdiction": "IL", "trigger_event": "", "trigger_date": "", "stage": "filed", "filed_on": "2026-07-01"},
    ],
    ids=["closed", "not-eligible", "filed"],
)
def test_a_claim_that_will_not_be_filed_or_is_filed_may_lose_its_deadline(world, login, change):
    claim = illinois_claim(world)
    client = login("caseworker1")

    response = client.post(reverse("claim_edit", args=[claim.pk]), change)

    assert response.status_code == 302, response.context["form"].errors
    claim.refresh_from_db()
    assert claim.stage == change["stage"]
