"""Legal remedies: compensation claims (and their payments), certificates of innocence, record
clearance, other legal items. Every write validates, saves, replans the person's legal
reminders, tells the directors' figures, and is recorded in the access log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from services import audit
from services.figures import figures_changed
from services.lifecycle import check_claim_transition
from services.models.audit import AuditEvent
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.people import Exoneree
from services.reminder_plans import reminders_plan_for_exoneree

CLAIM_FIELDS = [
    "jurisdiction",
    "trigger_event",
    "trigger_date",
    "deadline_override",
    "override_reason",
    "stage",
    "attorney",
    "filed_on",
    "hearing_on",
    "decided_on",
    "denial_reason",
    "appeal_filed_on",
    "award_per_year",
    "award_total",
    "payment_schedule",
    "notes",
]
# What a claim's save writes: the form's fields and what is derived from them.
CLAIM_SAVED = [
    *CLAIM_FIELDS,
    "filing_deadline",
    "deadline_basis",
    "deadline_citation",
    "override_by",
    "override_at",
    "updated_at",
]


def _derive(claim: CompensationClaim, *, by: AbstractUser, override_before: object) -> None:
    """The deadline from the rules table (or the lawyer's), and who set an override, when."""
    if claim.deadline_override is None:
        claim.override_reason = ""
        claim.override_by, claim.override_at = None, None
    elif claim.deadline_override != override_before or claim.override_by_id is None:
        claim.override_by, claim.override_at = by, timezone.now()
    deadline = claim.compute_deadline()
    claim.filing_deadline = deadline.on
    claim.deadline_basis = deadline.basis
    claim.deadline_citation = deadline.citation[:300]


@transaction.atomic
def claim_create(*, by: AbstractUser, exoneree: Exoneree, claim: CompensationClaim) -> CompensationClaim:
    figures_changed(exoneree.organization_id)  # first (the lock order of tracked actions)
    claim.exoneree = exoneree
    claim.organization_id = exoneree.organization_id
    claim.full_clean()
    _derive(claim, by=by, override_before=None)
    claim.save()
    reminders_plan_for_exoneree(exoneree)  # the deadline warnings
    audit.record_change(by, claim, {}, exoneree=exoneree)
    return claim


@transaction.atomic
def claim_update(*, by: AbstractUser, claim: CompensationClaim) -> CompensationClaim:
    figures_changed(claim.organization_id)
    # The stage is checked against the stored one under a lock, not a copy read before
    # someone else moved the claim.
    stored = CompensationClaim.objects.select_for_update(no_key=True).get(pk=claim.pk)
    check_claim_transition(stored.stage, claim.stage)
    claim.full_clean()
    before = audit.snapshot(stored)
    _derive(claim, by=by, override_before=stored.deadline_override)
    claim.save(update_fields=CLAIM_SAVED)
    reminders_plan_for_exoneree(claim.exoneree)  # filed or closed: the warnings are cancelled
    audit.record_change(by, claim, before, exoneree=claim.exoneree, fields=CLAIM_SAVED)
    return claim


@transaction.atomic
def claims_recompute(*, organization_id: int | None = None) -> int:
    """Compute every claim's deadline again from the rules table (after a rule was corrected)
    and replan the warnings; a lawyer's override stays. Returns how many deadlines changed."""
    claims = CompensationClaim.objects.select_related("exoneree").order_by("pk")
    if organization_id is not None:
        claims = claims.filter(organization_id=organization_id)
    changed = 0
    for claim in claims:
        deadline = claim.compute_deadline()
        if (claim.filing_deadline, claim.deadline_basis, claim.deadline_citation) == (
            deadline.on,
            deadline.basis,
            deadline.citation[:300],
        ):
            continue
        figures_changed(claim.organization_id)
        CompensationClaim.objects.filter(pk=claim.pk).update(
            filing_deadline=deadline.on, deadline_basis=deadline.basis, deadline_citation=deadline.citation[:300]
        )
        reminders_plan_for_exoneree(claim.exoneree)
        changed += 1
    return changed


@transaction.atomic
def payment_create(*, by: AbstractUser, claim: CompensationClaim, payment: ClaimPayment) -> ClaimPayment:
    payment.claim = claim
    payment.full_clean()
    payment.save()
    audit.record_change(by, payment, {}, exoneree=claim.exoneree)
    return payment


@transaction.atomic
def payment_update(*, by: AbstractUser, payment: ClaimPayment) -> ClaimPayment:
    """A payment typed wrong is corrected; the log says which fields changed (never the amount)."""
    payment.full_clean()
    before = audit.stored(payment)
    payment.save()
    audit.record_change(by, payment, before, exoneree=payment.claim.exoneree)
    return payment


@transaction.atomic
def payment_remove(*, by: AbstractUser, payment: ClaimPayment) -> None:
    """A payment recorded by mistake (twice, or on the wrong claim) goes; the log keeps that it
    was there, on which date, and who removed it, without its amount."""
    exoneree = payment.claim.exoneree
    target = audit.describe(payment)
    if ClaimPayment.objects.filter(pk=payment.pk).delete()[0]:
        audit.record(
            AuditEvent.Action.RECORD_CHANGED,
            actor=by,
            exoneree=exoneree,
            target=target,
            changes={"removed": f"the payment received on {payment.received_on.isoformat()}"},
        )


@transaction.atomic
def certificate_save(
    *, by: AbstractUser, exoneree: Exoneree, certificate: InnocenceCertificate
) -> InnocenceCertificate:
    certificate.exoneree = exoneree
    certificate.full_clean()
    before = audit.stored(certificate) if certificate.pk else {}
    certificate.save()
    audit.record_change(by, certificate, before, exoneree=exoneree)
    return certificate


@transaction.atomic
def clearance_save(*, by: AbstractUser, exoneree: Exoneree, clearance: RecordClearance) -> RecordClearance:
    """One row per record holder (the unique constraint refuses a second one, beside the field)."""
    figures_changed(exoneree.organization_id)
    clearance.exoneree = exoneree
    clearance.organization_id = exoneree.organization_id
    clearance.full_clean()
    before = audit.stored(clearance) if clearance.pk else {}
    clearance.save()
    reminders_plan_for_exoneree(exoneree)  # the re-check six months after "confirmed clear"
    audit.record_change(by, clearance, before, exoneree=exoneree)
    return clearance


@transaction.atomic
def legal_item_save(*, by: AbstractUser, exoneree: Exoneree, item: LegalItem) -> LegalItem:
    item.exoneree = exoneree
    item.full_clean()
    before = audit.stored(item) if item.pk else {}
    item.save()
    audit.record_change(by, item, before, exoneree=exoneree)
    return item
