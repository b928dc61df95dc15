"""Transferring a person's record to another organization (issue 23).

Marcus (org1, caseworker1's) is transferred to org2 ("New Dawn"), whose director is
director2. org1's directory has a provider that is org2, for the consent.
"""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from services.actions import transfers
from services.actions.documents import document_download
from services.choices import ConsentCategory, ExitReason, NoteVisibility, TransferStatus
from services.lib import vault
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.consent import Consent
from services.models.directory import Provider
from services.models.documents import Document
from services.models.enrolments import Enrolment
from services.models.legal import LegalItem
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.models.transfers import Transfer
from services.selectors.documents import documents_page
from tests.conftest import World
from tests.factories import ProviderFactory, consent_for
from tests.sample_files import document_for

TRANSFER = [ConsentCategory.TRANSFER]
WITH_NOTES = [ConsentCategory.TRANSFER, ConsentCategory.STAFF_NOTES]


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def org2_as_provider(w: World) -> Provider:
    """org1's directory entry for org2, linked to it as a member organization."""
    return ProviderFactory(organization=w.org1, name=w.org2.name, member_organization=w.org2)


def consent_to_transfer(w: World, categories: list[str] = TRANSFER) -> Consent:
    return consent_for(w.marcus.exoneree, org2_as_provider(w), categories)


def propose(w: World, parts: list[str]) -> Transfer:
    return transfers.transfer_propose(by=w.caseworker1, exoneree=w.marcus.exoneree, to_organization=w.org2, parts=parts)


def received(transfer: Transfer) -> Exoneree:
    transfer.refresh_from_db()
    return transfer.received_as


def test_without_consent_the_proposal_is_refused_like_a_referral(login, world):
    org2_as_provider(world)
    url = reverse("transfer_propose", args=[world.marcus.exoneree.pk])

    response = login("caseworker1").post(url, {"to_organization": world.org2.pk, "parts": ["needs"]})

    assert response.status_code == 400
    assert "No current consent for New Dawn covering: transfer of the record." in response.content.decode()
    assert not Transfer.objects.exists()


def test_without_a_provider_for_the_organization_the_refusal_says_who_can_add_it(login, world):
    """ "Record one on Marcus's page" was a dead end: no consent could name the organization (walk)."""
    url = reverse("transfer_propose", args=[world.marcus.exoneree.pk])

    response = login("caseworker1").post(url, {"to_organization": world.org2.pk, "parts": ["needs"]})

    assert response.status_code == 400
    said = unescape(response.content.decode())
    assert "No provider in your directory is linked to New Dawn yet, so no consent can name it." in said
    assert "Ask your director to have one linked, then record Marcus's consent with it." in said
    assert "administrator" not in said
    assert not Transfer.objects.exists()


def test_a_director_without_a_provider_for_the_organization_is_told_what_to_do_not_to_ask_themselves(login, world):
    """It said "Ask your administrator" to the director, who is that in many organizations (walk):
    marking a provider as a member organization is the site's operators' (/admin/), said so, with
    the director's own steps."""
    url = reverse("transfer_propose", args=[world.marcus.exoneree.pk])

    response = login("director1").post(url, {"to_organization": world.org2.pk, "parts": ["needs"]})

    assert response.status_code == 400
    said = " ".join(unescape(response.content.decode()).split())
    assert "No provider in your directory is linked to New Dawn yet, so no consent can name it." in said
    assert "Ask the people who run this Reentry site to link one" in said
    assert "add a provider named New Dawn under Resources first if there is none" in said
    assert "then record Marcus's consent with it." in said
    assert "administrator" not in said and "Ask your director" not in said
    assert not Transfer.objects.exists()


def test_a_consent_naming_the_transfer_is_recorded_on_the_persons_page_and_lets_it_be_proposed(login, world):
    """The consent form offers "Transfer of the record" and "Staff case notes", and the action
    refused both as unknown kinds (only a referral's were known): no transfer could be consented."""
    provider = org2_as_provider(world)
    client = login("caseworker1")
    consent = {
        "provider": provider.pk,
        "categories": ["contact", "transfer", "staff_notes"],
        "purpose": "So that New Dawn can take over the case",
        "starts_on": "2026-01-01",
        "ends_on": "2030-01-01",
        "signed_how": "paper",
        "signed_on": "2026-01-01",
    }

    recorded = client.post(reverse("consent_create", args=[world.marcus.exoneree.pk]), consent)

    assert recorded.status_code == 302, unescape(recorded.content.decode())[:2000]
    assert Consent.objects.get(provider=provider).categories == ["contact", "transfer", "staff_notes"]
    url = reverse("transfer_propose", args=[world.marcus.exoneree.pk])
    assert client.post(url, {"to_organization": world.org2.pk, "parts": ["staff_notes"]}).status_code == 302
    assert Transfer.objects.get().parts == ["staff_notes"]


def test_staff_notes_need_a_consent_that_names_them(world):
    consent_to_transfer(world)

    with pytest.raises(Exception, match="staff case notes"):
        propose(world, ["needs", "staff_notes"])
    assert not Transfer.objects.exists()


def test_the_proposal_through_the_page_tells_the_receiving_director(login, world):
    consent_to_transfer(world)
    url = reverse("transfer_propose", args=[world.marcus.exoneree.pk])

    response = login("caseworker1").post(url, {"to_organization": world.org2.pk, "parts": ["needs", "legal"]})

    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.parts) == (TransferStatus.PENDING, ["needs", "legal"])
    assert Notification.objects.get(user=world.director2).url == reverse("transfer_answer", args=[transfer.pk])


def test_accept_copies_exactly_the_chosen_parts_and_never_staff_notes(login, world):
    marcus = world.marcus.exoneree
    LegalItem.objects.create(exoneree=marcus, kind="tax_relief")
    document_for(marcus, world.caseworker1)
    consent_to_transfer(world, WITH_NOTES)  # even consented, notes go only when chosen
    transfer = propose(world, ["needs", "legal"])

    response = login("director2").post(reverse("transfer_answer", args=[transfer.pk]), {"decision": "accept"})

    new = received(transfer)
    assert response.status_code == 302 and response.url == new.get_absolute_url()
    assert (new.organization, new.legal_name, new.ssn) == (world.org2, "Marcus Whitfield", "900123456")
    assert [n.description for n in Need.objects.filter(exoneree=new)] == [world.marcus.need.description]
    assert Need.objects.filter(exoneree=new).get().organization == world.org2
    assert LegalItem.objects.filter(exoneree=new).count() == 1
    assert not CaseNote.objects.filter(exoneree=new).exists()
    assert not Document.objects.filter(exoneree=new).exists()
    assert not new.caseworkers.exists() and new.user is None
    assert Enrolment.objects.get(exoneree=new).is_open
    # copied, not moved
    assert Need.objects.filter(exoneree=marcus).count() == 1 and LegalItem.objects.filter(exoneree=marcus).exists()


def test_a_need_for_key_papers_still_names_them_in_the_new_organization(login, world):
    """The receiving checklist finds the need for a paper however staff worded it, as the
    sending one did: the copy keeps the papers it is for."""
    marcus = world.marcus.exoneree
    Need.objects.filter(pk=world.marcus.need.pk).update(domain="identification", papers=["state_id"])
    consent_to_transfer(world)
    transfer = propose(world, ["needs"])

    login("director2").post(reverse("transfer_answer", args=[transfer.pk]), {"decision": "accept"})

    new = received(transfer)
    assert Need.objects.get(exoneree=new).papers == ["state_id"]
    rows = {row["kind"]: row for row in documents_page(new)["document_checklist"]}
    assert rows["state_id"]["need_open"] and not rows["birth_certificate"]["need_open"]
    assert Need.objects.get(exoneree=marcus).papers == ["state_id"]


def test_the_sending_record_closes_as_transferred_and_both_logs_say_so(world):
    marcus = world.marcus.exoneree
    consent_to_transfer(world)
    transfer = propose(world, [])

    transfers.transfer_accept(by=world.director2, transfer=transfer)

    marcus.refresh_from_db()
    assert marcus.case_closed_on is not None
    assert Enrolment.objects.get(exoneree=marcus).exit_reason == ExitReason.TRANSFERRED
    accepted = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSFER_ACCEPTED)
    assert {entry.organization_id for entry in accepted} == {world.org1.pk, world.org2.pk}
    assert Notification.objects.filter(user=world.caseworker1, text__contains="accepted").exists()


def test_staff_notes_chosen_and_consented_are_copied_with_their_origin(world):
    consent_to_transfer(world, WITH_NOTES)
    transfer = propose(world, ["staff_notes"])

    transfers.transfer_accept(by=world.director2, transfer=transfer)

    notes = list(CaseNote.objects.filter(exoneree=received(transfer)))
    assert len(notes) == 1 and notes[0].visibility == NoteVisibility.STAFF
    assert notes[0].text.endswith("Staff only: Marcus is wary of phones")
    assert notes[0].text.startswith("From Harbor Light, by Casey Onewell")
    assert "bring two proofs" not in notes[0].text  # the shared note is not a staff note


def test_documents_chosen_are_copied_file_and_all(world):
    document = document_for(world.marcus.exoneree, world.caseworker1, title="Birth certificate")
    consent_to_transfer(world)
    transfer = propose(world, ["documents"])

    transfers.transfer_accept(by=world.director2, transfer=transfer)

    copy = Document.objects.get(exoneree=received(transfer))
    assert copy.storage_name != document.storage_name and copy.title == "Birth certificate"
    original = b"".join(document_download(by=world.director1, document_id=document.pk)[1])
    assert b"".join(document_download(by=world.director2, document_id=copy.pk)[1]) == original


def test_a_consent_revoked_before_the_answer_stops_the_transfer(world):
    consent = consent_to_transfer(world)
    transfer = propose(world, ["needs"])
    Consent.objects.filter(pk=consent.pk).update(revoked_at=consent.created_at)

    with pytest.raises(Exception, match="No current consent"):
        transfers.transfer_accept(by=world.director2, transfer=transfer)
    assert Exoneree.objects.filter(organization=world.org2).count() == 1  # Anita only


def test_decline_copies_nothing_and_tells_the_sender(login, world):
    consent_to_transfer(world)
    transfer = propose(world, ["needs", "legal", "documents"])
    people = Exoneree.objects.count()

    response = login("director2").post(
        reverse("transfer_answer", args=[transfer.pk]), {"decision": "decline", "reason": "No space"}
    )

    assert response.status_code == 302 and response.url == reverse("transfer_list")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decline_reason, transfer.received_as) == ("declined", "No space", None)
    assert Exoneree.objects.count() == people
    assert world.marcus.exoneree.case_is_open
    assert Notification.objects.filter(user=world.caseworker1, text__contains="declined").exists()
    declined = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSFER_DECLINED)
    assert {entry.organization_id for entry in declined} == {world.org1.pk, world.org2.pk}


@pytest.mark.parametrize(("persona", "status"), [("director1", 404), ("caseworker3", 403), ("caseworker1", 403)])
def test_only_the_receiving_director_sees_a_pending_transfer(login, world, persona, status):
    consent_to_transfer(world)
    transfer = propose(world, ["needs"])
    client = login(persona)

    assert client.get(reverse("transfer_answer", args=[transfer.pk])).status_code == status
    listed: Any = client.get(reverse("transfer_list"))
    assert reverse("transfer_answer", args=[transfer.pk]) not in listed.content.decode()
    assert login("director2").get(reverse("transfer_list")).content.decode().count("Marcus Whitfield") == 1


def test_a_second_pending_transfer_is_refused(world):
    consent_to_transfer(world)
    propose(world, ["needs"])

    with pytest.raises(Exception, match="already waiting"):
        propose(world, ["needs"])


def test_an_unreadable_document_refuses_the_acceptance_and_copies_nothing(world):
    document = document_for(world.marcus.exoneree, world.caseworker1)
    vault.storage().delete(document.storage_name)
    consent_to_transfer(world)
    transfer = propose(world, ["needs", "documents"])
    people, files = Exoneree.objects.count(), Document.objects.count()

    with pytest.raises(ValidationError, match="cannot be read"):
        transfers.transfer_accept(by=world.director2, transfer=transfer)
    assert (Exoneree.objects.count(), Document.objects.count()) == (people, files)
