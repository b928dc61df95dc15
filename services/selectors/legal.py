"""Reads for a person's legal remedies: the staff's Legal page, and the plain-words part of the
exoneree's own plan. A fixed number of queries however many claims, payments or records."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services import legal_rules
from services.choices import ClaimStage, ClearanceStatus, LegalItemKind, RecordHolder, TriggerEvent
from services.legal_rules import DeadlineBasis
from services.lib.sql import instances, rows_per_row
from services.lifecycle import CLAIM_NOT_FILED
from services.models.documents import Document
from services.models.legal import ClaimPayment, CompensationClaim, LegalItem, RecordClearance
from services.models.people import Exoneree


@dataclass(frozen=True)
class ClaimRow:
    claim: CompensationClaim
    rule: legal_rules.Rule | None
    days_left: int | None  # to the filing deadline, while the claim is not filed
    urgent: bool  # legal_rules.deadline_urgent
    payments: list[ClaimPayment]
    paid_total: Decimal | None  # added up here: the amounts are encrypted in the database
    papers: list[Document] = field(default_factory=list)  # court orders, certificates attached

    @property
    def needs_lawyer(self) -> bool:
        """Not filed, and no deadline the table could give: someone must set it (the rule is
        legal_rules.Deadline.needs_lawyer)."""
        return self.claim.is_open_to_filing and self.claim.saved_deadline.needs_lawyer


def _claim_rows(claims: list[CompensationClaim], today: date) -> list[ClaimRow]:
    rows = []
    for claim in claims:
        payments = list(claim.payments.all())
        deadline = claim.filing_deadline if claim.is_open_to_filing else None
        rows.append(
            ClaimRow(
                claim=claim,
                rule=claim.rule,
                days_left=claim.days_to_deadline(today) if deadline is not None else None,
                urgent=legal_rules.deadline_urgent(deadline, today),
                payments=payments,
                paid_total=sum((p.amount for p in payments), Decimal(0)) if payments else None,
            )
        )
    return rows


def legal_page(exoneree: Exoneree, *, today: date) -> dict[str, Any]:
    """Six queries: claims, their payments, certificates, record holders, other items, and the
    papers attached to the claims and certificates."""
    claims = list(
        exoneree.compensation_claims.select_related("override_by").prefetch_related(
            Prefetch("payments", queryset=ClaimPayment.objects.order_by("received_on", "pk"))
        )
    )
    clearances = {row.holder: row for row in exoneree.record_clearances.all()}
    papers = _papers(exoneree)
    rows = [replace(row, papers=papers["claim"].get(row.claim.pk, [])) for row in _claim_rows(claims, today)]
    certificates = list(exoneree.innocence_certificates.all())
    for certificate in certificates:
        certificate.papers = papers["certificate"].get(certificate.pk, [])
    return {
        "claims": rows,
        "certificates": certificates,
        # Every holder, recorded or not: a holder never asked is a record that still shows.
        "holders": [(value, label, clearances.get(value)) for value, label in RecordHolder.choices],
        "items": list(exoneree.legal_items.all()),
    }


def _papers(exoneree: Exoneree) -> dict[str, dict[int, list[Document]]]:
    """The current documents attached to the person's claims and certificates (one query)."""
    found: dict[str, dict[int, list[Document]]] = {"claim": defaultdict(list), "certificate": defaultdict(list)}
    documents = (
        Document.objects.current()
        .filter(exoneree=exoneree)
        .filter(Q(claim__isnull=False) | Q(certificate__isnull=False))
        .only("kind", "uploaded_at", "claim_id", "certificate_id", "exoneree_id")
        .order_by("uploaded_at", "pk")
    )
    for document in documents:
        if document.claim_id:
            found["claim"][document.claim_id].append(document)
        if document.certificate_id:
            found["certificate"][document.certificate_id].append(document)
    return found


def clearance_for(exoneree: Exoneree, holder: str) -> RecordClearance:
    """The person's row for this record holder, or a new one (saved by the form's action)."""
    return RecordClearance.objects.filter(exoneree=exoneree, holder=holder).first() or RecordClearance(
        exoneree=exoneree, organization_id=exoneree.organization_id, holder=holder
    )


def claims_due(exoneree: Exoneree, *, today: date | None = None) -> list[CompensationClaim]:
    """For the banner on the person page: unfiled claims that have a deadline, nearest first,
    each with `days_left` and `urgent` (legal_rules.deadline_urgent). One query."""
    return claims_banner(exoneree, today=today)["claims_due"]


def claims_banner(
    exoneree: Exoneree, *, claims: list[CompensationClaim] | None = None, today: date | None = None
) -> dict[str, Any]:
    """The person page's banners on compensation, from their claims (one query, or none when
    the page loaded their `claims` with the record): `claims_due`, as above;
    `claim_unrecorded`, the statute of the state of conviction when no claim is recorded at all
    for an open case, with `deadline_from_exoneration` when its window is a length (counted
    from the exoneration date on file, if there is one)."""
    today = today or timezone.localdate()
    if claims is None:
        claims = list(
            exoneree.compensation_claims.only("exoneree", "jurisdiction", "stage", "filing_deadline", "filed_on")
        )
    due = sorted(
        (c for c in claims if c.is_open_to_filing and c.filing_deadline is not None),
        key=lambda c: (c.filing_deadline, c.pk),
    )
    for claim in due:
        claim.days_left = claim.days_to_deadline(today)
        claim.urgent = legal_rules.deadline_urgent(claim.filing_deadline, today)
    rule = legal_rules.rule_for(exoneree.conviction_state) if exoneree.conviction_state else None
    unrecorded = not claims and exoneree.case_is_open and rule is not None and rule.statute
    has_length = unrecorded and rule.window.kind == legal_rules.WindowKind.LENGTH
    # Counted from the exoneration only where the statute's window opens with it (a conviction
    # vacated, an acquittal, a pardon), not where it opens with a certificate yet to come.
    from_exoneration = has_length and exoneree.exoneration_date and EXONERATION_TRIGGERS & set(rule.triggers)
    estimate = rule.window.after(exoneree.exoneration_date) if from_exoneration else None
    return {
        "claims_due": due,
        "claim_unrecorded": rule if unrecorded else None,
        "claim_window": rule.window.describe() if has_length else "",
        "deadline_from_exoneration": estimate,
        "deadline_from_exoneration_passed": estimate is not None and estimate < today,
    }


# The events an exoneration date stands for, of those that open a compensation statute's window.
EXONERATION_TRIGGERS = {TriggerEvent.VACATUR_DISMISSAL, TriggerEvent.ACQUITTAL_RETRIAL, TriggerEvent.PARDON}


@dataclass(frozen=True)
class PlanClaim:
    """One claim on the person's plan, in plain words (the template words it by `step`)."""

    where: str
    stage: str
    deadline: date | None
    step: str  # what happens next: one of NEXT_STEPS' keys
    attorney: str
    filed_on: date | None
    hearing_on: date | None
    deadline_passed: bool = False  # the deadline to file is behind them: said so, not "you have until"
    urgent: bool = False  # legal_rules.deadline_urgent

    @property
    def happened(self) -> bool:
        """The step says what has happened (an award, a payment, a denial), not what comes
        next: labelled "Latest:", never "Next step:"."""
        return self.step in HAPPENED_STEPS


NEXT_STEPS = (
    "find_lawyer",
    "lawyer_files",
    "set_deadline",
    "no_statute",
    "wait_decision",
    "hearing",
    "payments",
    "paid",
    "appeal",
    "appealing",
    "not_eligible",
)
# The steps that tell of a decision already made; what to do about it follows in their words.
HAPPENED_STEPS = frozenset({"payments", "paid", "appeal", "not_eligible"})


def _next_step(claim: CompensationClaim) -> str:
    stage = claim.stage
    # The model's rule, not the stage alone: a claim with a filing date is filed, whatever its stage.
    if claim.is_open_to_filing:
        deadline = claim.saved_deadline
        if deadline.basis == DeadlineBasis.NO_STATUTE:
            return "no_statute"  # no deadline to check: there is no compensation law to file under
        if deadline.needs_lawyer:
            return "set_deadline"
        return "lawyer_files" if stage == ClaimStage.ATTORNEY_ENGAGED or claim.attorney else "find_lawyer"
    if stage in CLAIM_NOT_FILED:
        return "wait_decision"  # filed (it has a filing date) though its stage was not moved on
    return {
        ClaimStage.FILED: "wait_decision",
        ClaimStage.HEARING: "hearing",
        ClaimStage.AWARDED: "payments",
        ClaimStage.PAID: "paid",
        ClaimStage.DENIED: "appeal",
        ClaimStage.APPEAL: "appealing",
    }.get(stage, "not_eligible")


def _plan_claim(claim: CompensationClaim, today: date) -> PlanClaim:
    deadline = claim.filing_deadline if claim.is_open_to_filing else None
    return PlanClaim(
        where=claim.jurisdiction_name,
        stage=claim.stage,
        deadline=deadline,
        step=_next_step(claim),
        attorney=claim.attorney,
        filed_on=claim.filed_on,
        hearing_on=claim.hearing_on,
        deadline_passed=deadline is not None and deadline < today,
        urgent=legal_rules.deadline_urgent(deadline, today),
    )


# What each other legal item is, as the person's plan says it (the template says where it stands).
ITEM_PLAIN = {
    LegalItemKind.CIVIL_RIGHTS_SUIT: _("A civil-rights suit"),
    LegalItemKind.TAX_RELIEF: _("Help with taxes on your compensation"),
    LegalItemKind.ACKNOWLEDGMENT: _("An official apology or acknowledgment"),
}


# A record holder as the person's plan names it, where staff's word is jargon to someone out of
# prison after decades; the others read the same on both sides.
HOLDER_PLAIN = {
    RecordHolder.STATE_REPOSITORY: _("The state office that keeps criminal records"),
}


def _plain_holders(holders: set[str]) -> list[str]:
    """These record holders in the person's words, in the order the holders are listed."""
    return [str(HOLDER_PLAIN.get(value, label)) for value, label in RecordHolder.choices if value in holders]


@dataclass(frozen=True)
class PlanItem:
    """One other legal item on the person's plan (a civil-rights suit, tax relief, an apology):
    what it is and where it stands. Never its notes: those are for staff."""

    kind: str
    status: str
    started_on: date | None
    done_on: date | None
    starts_later: bool = False  # its start date is still to come: "starting …", not "under way since …"

    @property
    def what(self) -> str:
        return str(ITEM_PLAIN[self.kind])


def legal_plan(exoneree: Exoneree) -> dict[str, Any]:
    """The exoneree's own view: their claims, the records that still show the conviction and
    their other legal items. Two queries however many of each: the claims; the record holders
    and the items, as two short lists read with the person's row (services.lib.sql.rows_per_row).
    No notes, amounts, reasons or citations: those are for them and their lawyer to go through
    together."""
    # The citation is read with the basis (CompensationClaim.saved_deadline, which the next step
    # asks), never shown.
    claims = exoneree.compensation_claims.exclude(stage=ClaimStage.CLOSED).only(
        "exoneree",
        "jurisdiction",
        "stage",
        "filing_deadline",
        "deadline_basis",
        "deadline_citation",
        "attorney",
        "filed_on",
        "hearing_on",
    )
    folded = (
        Exoneree.objects.filter(pk=exoneree.pk)
        .annotate(
            clearance_rows=rows_per_row(RecordClearance.objects.all(), "exoneree", "holder", "status"),
            # Plain columns only: the notes are encrypted, and staff-only.
            item_rows=rows_per_row(
                LegalItem.objects.all(), "exoneree", "id", "kind", "status", "started_on", "done_on"
            ),
        )
        .values("clearance_rows", "item_rows")
        .get()
    )
    statuses = {row["holder"]: row["status"] for row in folded["clearance_rows"] or []}
    cleared = {holder for holder, status in statuses.items() if status == ClearanceStatus.CONFIRMED_CLEAR}
    # In the order the kinds are listed, the newest of a kind first.
    kinds = list(LegalItemKind.values)
    items = sorted(instances(LegalItem, folded["item_rows"]), key=lambda i: (kinds.index(i.kind), -i.pk))
    today = timezone.localdate()
    plan_claims = [_plan_claim(claim, today) for claim in claims]
    return {
        "legal_claims": plan_claims,
        "legal_urgent": any(claim.urgent for claim in plan_claims),  # their plan shows the part open
        # The holders recorded for them and not confirmed clear: the conviction may still show there.
        "records_showing": _plain_holders(statuses.keys() - cleared),
        "records_cleared": _plain_holders(cleared),
        "legal_items": [
            PlanItem(i.kind, i.status, i.started_on, i.done_on, starts_later=(i.started_on or today) > today)
            for i in items
        ],
    }
