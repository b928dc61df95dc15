"""A person's record handed to another member organization, with their consent (issue 23).

Proposed by whoever may change the person (or their director), for the parts chosen; the
receiving organization's director accepts or declines. On acceptance the chosen parts are
copied (never moved) into a new record there, through the same actions that write them by
hand, and the sending case closes as "transferred". The consent gate is the referrals' gate:
a current consent with the provider that is the receiving organization, naming the record's
transfer, and staff case notes too when they go.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import audit
from services.access import can_change_exoneree, is_director, organization_of
from services.actions.casework import note_save
from services.actions.documents import document_upload
from services.actions.enrolment import close_case, enrolment_open
from services.actions.legal import certificate_save, claim_create, clearance_save, legal_item_save, payment_create
from services.actions.needs import need_create
from services.choices import (
    ConsentCategory,
    ExitDestination,
    ExitReason,
    HousingAtExit,
    NoteVisibility,
    Role,
    TransferPart,
    TransferStatus,
)
from services.figures import figures_changed
from services.lib import file_crypto, vault
from services.lib.uploads import Cleaned
from services.lifecycle import REFERRAL_NOT_ON_PLAN
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.documents import Document
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.organizations import Organization, StaffMember
from services.models.people import EXONEREE_PROFILE_FIELDS, Exoneree
from services.models.referrals import Referral
from services.models.transfers import Transfer
from services.outcome_counts import outcome_counts_tracked_for
from services.selectors import coverage

# What a row copies: its own columns, never its id, its person or what the action sets.
NOT_COPIED = {"id", "exoneree", "organization", "created_by", "created_at", "updated_at"}


def consent_needed(parts: Iterable[str]) -> list[str]:
    """The consent categories a transfer of these parts carries."""
    staff_notes = TransferPart.STAFF_NOTES in set(parts)
    return [ConsentCategory.TRANSFER, *([ConsentCategory.STAFF_NOTES] if staff_notes else [])]


def _check_consent(
    exoneree: Exoneree, organization: Organization, parts: list[str], *, lock: bool, by: AbstractUser
) -> None:
    if missing := coverage.transfer_consent_missing(exoneree, organization, consent_needed(parts), lock=lock):
        director = is_director(by) and organization_of(by).pk == exoneree.organization_id
        message = coverage.transfer_consent_missing_message(exoneree, organization, missing, to_director=director)
        raise ValidationError({"to_organization": message})


@transaction.atomic
def transfer_propose(
    *, by: AbstractUser, exoneree: Exoneree, to_organization: Organization, parts: Iterable[str]
) -> Transfer:
    chosen = set(parts)
    if unknown := chosen - set(TransferPart.values):
        raise ValidationError({"parts": _("Unknown parts: %(names)s") % {"names": ", ".join(sorted(unknown))}})
    parts = [part for part in TransferPart.values if part in chosen]
    if not (is_director(by) or can_change_exoneree(by, exoneree)):
        raise ValidationError(_("Only the person's caseworkers or director can propose a transfer."))
    if organization_of(by).pk != exoneree.organization_id or to_organization.pk == exoneree.organization_id:
        raise ValidationError({"to_organization": _("Choose another organization.")})
    if not exoneree.case_is_open:
        raise ValidationError(_("The case is closed: reopen it before transferring it."))
    locked = Exoneree.objects.select_for_update().get(pk=exoneree.pk)  # one pending transfer at a time
    if Transfer.objects.filter(exoneree=locked, status=TransferStatus.PENDING).exists():
        raise ValidationError(_("A transfer of this person is already waiting for an answer."))
    _check_consent(exoneree, to_organization, parts, lock=False, by=by)
    transfer = Transfer.objects.create(
        exoneree=exoneree,
        from_organization_id=exoneree.organization_id,
        to_organization=to_organization,
        parts=parts,
        proposed_by=by,
    )
    changes = {"to": to_organization.name, "parts": parts}
    audit.record(
        AuditEvent.Action.TRANSFER_PROPOSED,
        actor=by,
        exoneree=exoneree,
        target=audit.describe(transfer),
        changes=changes,
    )
    # The receiving directors learn that one waits; not who (that is on the page, logged).
    directors = StaffMember.objects.filter(organization=to_organization, role=Role.DIRECTOR, user__is_active=True)
    text = _("A transfer from %(organization)s is waiting for your answer.") % {
        "organization": organization_of(by).name
    }
    url = reverse("transfer_answer", args=[transfer.pk])
    Notification.objects.bulk_create([Notification(user_id=d.user_id, text=text[:300], url=url) for d in directors])
    return transfer


def _check_answerable(by: AbstractUser, transfer: Transfer) -> Transfer:
    if not is_director(by) or organization_of(by).pk != transfer.to_organization_id:
        raise ValidationError(_("Only a director of the receiving organization can answer this transfer."))
    locked = Transfer.objects.select_for_update().select_related("exoneree", "from_organization").get(pk=transfer.pk)
    if locked.status != TransferStatus.PENDING:
        raise ValidationError(_("This transfer has been answered already."))
    return locked


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["transfer"].exoneree])
def transfer_accept(*, by: AbstractUser, transfer: Transfer) -> Exoneree:
    """A new record in the receiving organization, with the chosen parts copied, an open
    enrolment and nobody's caseload yet; the sending case closes as transferred."""
    for organization_id in sorted([transfer.from_organization_id, transfer.to_organization_id]):
        figures_changed(organization_id)  # first, in one order (the lock order of tracked actions)
    transfer = _check_answerable(by, transfer)
    person = transfer.exoneree
    # Checked again, locked: a consent revoked since the proposal stops the transfer here.
    _check_consent(person, transfer.to_organization, transfer.parts, lock=True, by=by)
    received = _receive(by=by, transfer=transfer, exoneree=_profile_copy(person, transfer.to_organization))
    _close_as_transferred(by, person)
    transfer.status, transfer.answered_by, transfer.answered_at = TransferStatus.ACCEPTED, by, timezone.now()
    transfer.received_as = received
    transfer.save(update_fields=["status", "answered_by", "answered_at", "received_as"])
    changes = {"from": transfer.from_organization.name, "to": transfer.to_organization.name, "parts": transfer.parts}
    for exoneree in (person, received):  # both organizations' logs
        audit.record(
            AuditEvent.Action.TRANSFER_ACCEPTED,
            actor=by,
            exoneree=exoneree,
            target=audit.describe(transfer),
            changes=changes,
        )
    _tell_proposer(transfer, _("Your transfer of a person to %(organization)s was accepted."))
    return received


@transaction.atomic
def transfer_decline(*, by: AbstractUser, transfer: Transfer, reason: str) -> Transfer:
    """Nothing is copied; the sender is told, with the reason."""
    transfer = _check_answerable(by, transfer)
    transfer.status, transfer.answered_by, transfer.answered_at = TransferStatus.DECLINED, by, timezone.now()
    transfer.decline_reason = reason
    transfer.full_clean()
    transfer.save(update_fields=["status", "answered_by", "answered_at", "decline_reason"])
    target = audit.describe(transfer)
    changes = {"from": transfer.from_organization.name, "to": transfer.to_organization.name}
    declined = AuditEvent.Action.TRANSFER_DECLINED
    audit.record(declined, actor=by, exoneree=transfer.exoneree, target=target, changes=changes)
    audit.record(declined, actor=by, organization_id=transfer.to_organization_id, target=target, changes=changes)
    _tell_proposer(transfer, _("Your transfer of a person to %(organization)s was declined."))
    return transfer


def _tell_proposer(transfer: Transfer, text: str) -> None:
    if transfer.proposed_by_id:
        text %= {"organization": transfer.to_organization.name}
        url = transfer.exoneree.get_absolute_url()
        Notification.objects.create(user_id=transfer.proposed_by_id, text=text[:300], url=url)


def _profile_copy(person: Exoneree, organization: Organization) -> Exoneree:
    fields = {name: getattr(person, Exoneree._meta.get_field(name).attname) for name in EXONEREE_PROFILE_FIELDS}
    return Exoneree(organization=organization, **fields)


def _copy(row: models.Model, **values: Any) -> Any:
    """A new, unsaved row with the columns of `row` (not its id, person or stamps) and `values`."""
    columns = {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.name not in NOT_COPIED and field.editable
    }
    return type(row)(**{**columns, **values})


@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def _receive(*, by: AbstractUser, transfer: Transfer, exoneree: Exoneree) -> Exoneree:
    person = transfer.exoneree
    exoneree.full_clean()
    exoneree.save()
    enrolment_open(by=by, exoneree=exoneree)
    audit.record_change(by, exoneree, {}, exoneree=exoneree, extra={"transferred from": person.organization.name})
    parts = set(transfer.parts)
    if TransferPart.NEEDS in parts:
        for need in Need.objects.filter(exoneree=person).order_by("pk"):
            need_create(
                by=by, exoneree=exoneree, need=_copy(need, ask_state="", ask_handled_at=None, papers=need.papers)
            )
    if TransferPart.REFERRALS in parts:
        _copy_referral_history(by, person, exoneree)
    if TransferPart.LEGAL in parts:
        _copy_legal(by, person, exoneree)
    if TransferPart.STAFF_NOTES in parts:  # the consent naming them was checked
        notes = CaseNote.objects.filter(exoneree=person, visibility=NoteVisibility.STAFF).select_related("author")
        for note in notes.order_by("created_at", "pk"):
            heading = _("From %(organization)s, by %(author)s, %(date)s:") % {
                "organization": person.organization.name,
                "author": note.author.get_full_name() or note.author.get_username(),
                "date": note.created_at.date().isoformat(),
            }
            text = f"{heading}\n{note.text}"[: CaseNote._meta.get_field("text").max_length]
            note_save(by=by, exoneree=exoneree, note=CaseNote(text=text, visibility=NoteVisibility.STAFF))
    if TransferPart.DOCUMENTS in parts:
        documents = list(Document.objects.current().filter(exoneree=person).order_by("pk"))
        for document in documents:  # every file checked before the first copy is sealed
            _plaintext(document, check_only=True)
        for document in documents:
            content = _plaintext(document)
            # Its links point at the sender's rows: the copy stands alone.
            copy = _copy(document, consent_id=None, claim_id=None, certificate_id=None, replaces_id=None)
            document_upload(by=by, exoneree=exoneree, document=copy, content=Cleaned(content, document.content_type))
    return exoneree


@sensitive_variables("arguments")
def _plaintext(document: Document, *, check_only: bool = False) -> bytes:
    """A document's file, whole (one at a time: the upload re-seals it whole anyway)."""
    arguments = {
        "data_key": document.data_key,
        "context": document.encryption_context,
        "name": f"Document {document.pk}",
    }
    try:
        if check_only:
            vault.verify(document.storage_name, **arguments)
            return b""
        return b"".join(vault.read(document.storage_name, **arguments))
    except (file_crypto.FileDecryptionError, OSError):
        raise ValidationError(
            _(
                "A document of this record cannot be read (%(title)s): ask the sender to replace it, "
                "or to send the record without documents."
            )
            % {"title": document.get_kind_display()}
        ) from None


def _copy_referral_history(by: AbstractUser, person: Exoneree, exoneree: Exoneree) -> None:
    """The sender's directory is not the receiver's: the history is a note of where the person
    was referred and what came of it (no staff note texts, no provider's answers)."""
    referrals = (
        Referral.objects.filter(need__exoneree=person)
        .exclude(status__in=REFERRAL_NOT_ON_PLAN)
        .select_related("resource__provider", "need")
        .order_by("created_at", "pk")
    )
    lines = [
        f"{referral.created_at.date().isoformat()}: {referral.resource.name} ({referral.resource.provider.name}), "
        f"{referral.need.get_domain_display()}: {referral.get_status_display()}"
        for referral in referrals
    ]
    if lines:
        heading = _("Referrals made by %(organization)s:") % {"organization": person.organization.name}
        text = "\n".join([heading, *lines])[: CaseNote._meta.get_field("text").max_length]
        note_save(by=by, exoneree=exoneree, note=CaseNote(text=text, visibility=NoteVisibility.STAFF))


def _copy_legal(by: AbstractUser, person: Exoneree, exoneree: Exoneree) -> None:
    for claim in CompensationClaim.objects.filter(exoneree=person).order_by("pk"):
        copy = claim_create(by=by, exoneree=exoneree, claim=_copy(claim, override_by_id=None))
        for payment in ClaimPayment.objects.filter(claim=claim).order_by("pk"):
            payment_create(by=by, claim=copy, payment=_copy(payment, claim_id=None))
    for certificate in InnocenceCertificate.objects.filter(exoneree=person).order_by("pk"):
        certificate_save(by=by, exoneree=exoneree, certificate=_copy(certificate))
    for clearance in RecordClearance.objects.filter(exoneree=person).order_by("pk"):
        clearance_save(by=by, exoneree=exoneree, clearance=_copy(clearance))
    for item in LegalItem.objects.filter(exoneree=person).order_by("pk"):
        legal_item_save(by=by, exoneree=exoneree, item=_copy(item))


def _close_as_transferred(by: AbstractUser, person: Exoneree) -> None:
    """The sending case closes today, as transferred, as any case closes (its reminders
    cancelled, its open needs and referrals closed with the reason)."""
    close_case(
        by,
        person,
        closed_on=timezone.localdate(),
        reason=ExitReason.TRANSFERRED,
        destination=ExitDestination.NOT_COLLECTED,
        housing_at_exit=HousingAtExit.UNKNOWN,
    )
