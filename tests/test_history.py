"""A person's history also says what happened to their consents, papers, messages and legal
remedies: who and when, in a few words, never a message's words, a note or a paper's title;
and nothing of another person's."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from services.actions import casework, legal, merges
from services.actions import consent as consent_actions
from services.actions.documents import document_delete, document_upload
from services.actions.messages import message_send
from services.choices import ConsentCategory, ConsentSignedHow, NoteVisibility
from services.models.consent import Consent
from services.models.documents import Document, DocumentKind
from services.models.legal import CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.messages import Message
from services.selectors import history
from tests.factories import CaseNoteFactory, consent_for
from tests.sample_files import clean, document_for, pdf
from tests.test_merge import marcus_twin

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

SECRET = "Sealed words: the key is under the mat"


def history_of(client, person) -> tuple[list, str]:
    response = client.get(reverse("exoneree_history", args=[person.pk]))
    assert response.status_code == 200
    return list(response.context["page"]), unescape(response.content.decode())


def lines(entries: list, kind: str) -> list[tuple[object, str]]:
    """The entries of one kind, oldest first, as (when, text)."""
    return sorted(((entry.at, entry.text) for entry in entries if entry.kind == kind), key=lambda line: str(line[1]))


def test_consents_signed_withdrawn_and_run_out_with_who_and_when(login, world):
    marcus, provider = world.marcus.exoneree, world.marcus.resource.provider
    today = timezone.localdate()
    signed = Consent(
        provider=provider,
        purpose=SECRET,
        starts_on=today,
        ends_on=today + timedelta(days=90),
        signed_how=ConsentSignedHow.PAPER,
        signed_on=today,
    )
    consent_actions.consent_create(by=world.caseworker1, exoneree=marcus, consent=signed, categories=["housing"])
    consent_actions.consent_revoke(by=world.caseworker2, consent=signed, how="staff")
    # Signed long ago, valid until ten days ago: it ran out the day after its last day.
    old = consent_for(marcus, provider, starts_on=today - timedelta(days=100), ends_on=today - timedelta(days=10))
    # Withdrawn before its last day: it never ran out.
    early = consent_for(marcus, provider, starts_on=today - timedelta(days=50), ends_on=today - timedelta(days=5))
    Consent.objects.filter(pk=early.pk).update(revoked_at=timezone.now() - timedelta(days=20))
    consent_for(world.thomas.exoneree, world.thomas.resource.provider, ends_on=today - timedelta(days=1))
    signed.refresh_from_db()

    entries, page = history_of(login("caseworker1"), marcus)

    name, one, two = provider.name, world.caseworker1.get_full_name(), world.caseworker2.get_full_name()
    consents = lines(entries, "Consent")
    assert (signed.created_at, f"Consent to share with {name} signed, recorded by {one}") in consents
    assert (signed.revoked_at, f"Consent to share with {name} withdrawn, by {two}") in consents
    assert (old.signed_on, f"Consent to share with {name} signed") in consents
    assert (old.ends_on + timedelta(days=1), f"Consent to share with {name} ran out") in consents
    assert [text for _, text in consents].count(f"Consent to share with {name} ran out") == 1
    assert len(consents) == 6  # three signed, two withdrawn, one run out
    assert world.thomas.resource.provider.name not in page
    assert SECRET not in page


def test_papers_added_replaced_and_deleted_by_kind_who_and_when_never_their_title(login, world):
    marcus = world.marcus.exoneree
    first = document_for(marcus, world.caseworker1, kind=DocumentKind.STATE_ID, title=SECRET)
    newer = document_upload(
        by=world.exoneree1,
        exoneree=marcus,
        document=Document(kind=DocumentKind.STATE_ID, title=SECRET),
        content=clean(pdf()),
        replaces=first,
    )
    document_delete(by=world.caseworker2, document=newer)
    document_for(world.thomas.exoneree, world.caseworker2, kind=DocumentKind.PASSPORT)
    newer.refresh_from_db()

    entries, page = history_of(login("caseworker1"), marcus)

    assert lines(entries, "Paper") == sorted(
        [
            (first.uploaded_at, f"Paper added: State ID or driver's license, by {world.caseworker1.get_full_name()}"),
            (newer.uploaded_at, "New version of a paper: State ID or driver's license, by Marcus Whitfield"),
            (newer.deleted_at, f"Paper deleted: State ID or driver's license, by {world.caseworker2.get_full_name()}"),
        ],
        key=lambda line: line[1],
    )
    assert SECRET not in page
    assert "Passport" not in page  # Thomas's
    assert first.download_name not in page


def test_a_paper_whose_row_is_gone_is_told_from_the_access_log_and_one_that_moved_is_not(login, world):
    """A de-identified record's papers are gone, their entries in the log stay; a paper now on
    another person's record (a merge undone) is theirs, though its upload is in this log."""
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    gone = document_for(marcus, world.caseworker1, kind=DocumentKind.COURT_ORDER)
    document_delete(by=world.caseworker2, document=gone)
    Document.objects.filter(pk=gone.pk).delete()
    moved = document_for(marcus, world.caseworker1, kind=DocumentKind.PASSPORT)
    Document.objects.filter(pk=moved.pk).update(exoneree=thomas)

    entries, page = history_of(login("director1"), marcus)

    assert sorted(text for _, text in lines(entries, "Paper")) == [
        f"Paper added: Court order, by {world.caseworker1.get_full_name()}",
        f"Paper deleted: Court order, by {world.caseworker2.get_full_name()}",
    ]
    assert "Passport" not in page
    assert "Paper added: Passport" in history_of(login("director1"), thomas)[1]


def test_messages_say_from_whom_or_to_the_person_by_whom_never_their_words(login, world):
    marcus = world.marcus.exoneree
    asked = message_send(by=world.exoneree1, exoneree=marcus, text=SECRET, from_person=True)
    answered = message_send(by=world.caseworker1, exoneree=marcus, text=SECRET + " too", from_person=False)
    message_send(by=world.caseworker2, exoneree=world.thomas.exoneree, text="Hello Thomas", from_person=False)

    entries, page = history_of(login("caseworker1"), marcus)

    assert lines(entries, "Message") == [
        (asked.created_at, f"Message from {marcus.display_name}"),
        (answered.created_at, f"Message to the person, by {world.caseworker1.get_full_name()}"),
    ]
    assert {entry.url for entry in entries if entry.kind == "Message"} == {
        reverse("exoneree_messages", args=[marcus.pk])
    }
    assert SECRET not in page
    assert Message.objects.filter(exoneree=marcus).count() == 2
    assert world.caseworker2.get_full_name() not in page  # Thomas's caseworker wrote only to him


def test_legal_steps_with_the_dates_they_hold_and_who_moved_a_claim(login, world, time_machine):
    marcus = world.marcus.exoneree
    now = timezone.now().replace(microsecond=0)
    time_machine.move_to(now, tick=False)
    today = timezone.localdate()
    claim = CompensationClaim(jurisdiction="IL", notes=SECRET)
    legal.claim_create(by=world.caseworker1, exoneree=marcus, claim=claim)
    claim.stage, claim.filed_on = "filed", today - timedelta(days=3)
    legal.claim_update(by=world.caseworker2, claim=claim)
    certificate = InnocenceCertificate(
        court="Cook County",
        status="granted",
        applied_on=today - timedelta(days=40),
        decided_on=today - timedelta(days=9),
    )
    legal.certificate_save(by=world.caseworker1, exoneree=marcus, certificate=certificate)
    clearance = RecordClearance(holder="fbi", status="requested", requested_on=today - timedelta(days=20), notes=SECRET)
    legal.clearance_save(by=world.caseworker1, exoneree=marcus, clearance=clearance)
    suit = LegalItem(kind="civil_rights_suit", status="done", started_on=today - timedelta(days=300), done_on=today)
    legal.legal_item_save(by=world.caseworker1, exoneree=marcus, item=suit)
    # Planned for next month: it has not happened.
    legal.legal_item_save(
        by=world.caseworker1, exoneree=marcus, item=LegalItem(kind="tax_relief", started_on=today + timedelta(days=30))
    )
    other = CompensationClaim(jurisdiction="TX")
    legal.claim_create(by=world.caseworker2, exoneree=world.thomas.exoneree, claim=other)

    entries, page = history_of(login("caseworker1"), marcus)

    one, two = world.caseworker1.get_full_name(), world.caseworker2.get_full_name()
    expected = {
        (now, f"Compensation claim started (Illinois): Assessing eligibility, by {one}"),
        (now, f"Compensation claim (Illinois): Filed, by {two}"),
        (today - timedelta(days=3), "Compensation claim filed (Illinois)"),
        (today - timedelta(days=40), "Certificate of innocence applied for"),
        (today - timedelta(days=9), "Certificate of innocence: Granted"),
        (today - timedelta(days=20), "Record clearance asked of FBI (national criminal history)"),
        (today - timedelta(days=300), "Civil-rights suit: started"),
        (today, "Civil-rights suit: Done"),
    }
    assert set(lines(entries, "Legal")) == expected
    assert {entry.url for entry in entries if entry.kind == "Legal"} == {reverse("exoneree_legal", args=[marcus.pk])}
    assert "Tax relief" not in page
    assert "Texas" not in page
    assert SECRET not in page


def test_the_new_lines_are_in_the_spanish_catalog(world):
    marcus, provider = world.marcus.exoneree, world.marcus.resource.provider
    consent_for(marcus, provider, [ConsentCategory.MEDICAL])
    message_send(by=world.exoneree1, exoneree=marcus, text=SECRET, from_person=True)

    with translation.override("es"):
        entries = history.consents(marcus) + history.messages(marcus)

    assert [(entry.kind, entry.text) for entry in entries] == [
        ("Consentimiento", f"Consentimiento para compartir con {provider.name} firmado"),
        ("Mensaje", f"Mensaje de {marcus.display_name}"),
    ]


def test_a_merged_in_claim_keeps_its_moves_and_loses_them_when_the_merge_is_undone(login, world):
    """The log keeps a merged duplicate's entries under its own id (services/actions/merges.py),
    and the kept person's log includes them: so does their history, for the claim that came
    with the duplicate; once the merge is undone, the claim and its moves are the twin's again."""
    marcus = world.marcus.exoneree
    twin = marcus_twin(world)
    claim = CompensationClaim(jurisdiction="IL")
    legal.claim_create(by=world.caseworker1, exoneree=twin, claim=claim)
    claim.stage, claim.filed_on = "filed", timezone.localdate()
    legal.claim_update(by=world.caseworker2, claim=claim)
    merge = merges.merge_people(by=world.director1, kept=marcus, duplicate=twin)

    moved = f"Compensation claim (Illinois): Filed, by {world.caseworker2.get_full_name()}"
    assert moved in [text for _, text in lines(history_of(login("director1"), marcus)[0], "Legal")]

    merges.merge_undo(by=world.director1, merge=merge)
    assert moved not in [text for _, text in lines(history_of(login("director1"), marcus)[0], "Legal")]


def test_a_merged_in_note_keeps_who_stopped_sharing_it_and_loses_it_when_the_merge_is_undone(login, world):
    """The same for the sharing lines: who stopped sharing the duplicate's note with the person
    is in the duplicate's log, and so in the kept person's history, until the merge is undone."""
    marcus = world.marcus.exoneree
    twin = marcus_twin(world)
    note = CaseNoteFactory(exoneree=twin, author=world.caseworker1, visibility=NoteVisibility.SHARED)
    note.visibility = NoteVisibility.STAFF
    casework.note_save(by=world.caseworker2, exoneree=twin, note=note)
    merge = merges.merge_people(by=world.director1, kept=marcus, duplicate=twin)

    day = date_format(timezone.localtime(note.created_at), "M j, Y")
    stopped = f"Stopped sharing with the person: Note of {day}, by {world.caseworker2.get_full_name()}"
    assert [text for _, text in lines(history_of(login("director1"), marcus)[0], "Sharing")] == [stopped]

    merges.merge_undo(by=world.director1, merge=merge)
    assert stopped not in [text for _, text in lines(history_of(login("director1"), marcus)[0], "Sharing")]
