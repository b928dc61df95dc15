"""Merging two records of one person, and the undo (issue 23).

The rows are made from the models' relations (`merges.relations()`): a model that points at a
person and has no maker in ROW_MAKERS fails `test_every_relation_has_a_row_maker`, so a new
model is merged (and undone) by these tests as soon as it exists.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm
from hypothesis import given
from hypothesis import strategies as st

from services.actions import merges
from services.actions.release_checks import RELEASE_CHECK_DAYS
from services.choices import ExitReason, RecordHolder, ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.enrolments import Enrolment
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.merges import Merge
from services.models.messages import Message
from services.models.notifications import Reminder
from services.models.people import Exoneree
from services.models.retention import LegalHold, RetentionReview
from services.models.transfers import Transfer
from services.selectors import records
from tests.conftest import World
from tests.factories import (
    AssessmentFactory,
    CaseNoteFactory,
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    UserFactory,
    consent_for,
)
from tests.sample_files import document_for

serial = itertools.count()


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def _users(n: int) -> list[Any]:
    return [UserFactory(username=f"merge-user-{next(serial)}") for _ in range(n)]


def _enrolments(w: World, person: Exoneree, n: int) -> None:
    """n enrolments, the last one open (a person has at most one open), in place of the one the
    factory opened."""
    Enrolment.objects.filter(exoneree=person).delete()
    start = date(2020, 1, 1)
    for i in range(n):
        opened = start + timedelta(days=30 * i)
        closed = None if i == n - 1 else opened + timedelta(days=10)
        Enrolment.objects.create(
            exoneree=person, opened_on=opened, closed_on=closed, exit_reason="other" * bool(closed)
        )


def _holds(w: World, person: Exoneree, n: int) -> None:
    for i in range(n):
        lifted = None if i == n - 1 else timezone.now()
        LegalHold.objects.create(exoneree=person, reason="Lawsuit pending", placed_by=w.director1, lifted_at=lifted)


def _reminders(w: World, person: Exoneree, n: int) -> None:
    # Sent ones: the planner that runs on merge and undo leaves sent reminders alone.
    for _ in range(n):
        Reminder.objects.create(
            organization=person.organization,
            kind=ReminderKind.DIGEST,
            key=f"test-merge-{next(serial)}",
            exoneree=person,
            send_at=timezone.now(),
            status=ReminderStatus.SENT,
        )


def _transfers(w: World, person: Exoneree, n: int, *, field: str = "exoneree") -> None:
    for _ in range(n):
        Transfer.objects.create(
            **{"exoneree": person, field: person},
            from_organization=w.org1,
            to_organization=w.org2,
            status="declined",
        )


Maker = Callable[[World, Exoneree, int], Any]

# One way to make n rows of each relation on a person; a relation whose rows are unique per
# person (one open enrolment, one clearance per holder) gets at most `LIMITS` of them.
ROW_MAKERS: dict[str, Maker] = {
    "services.Exoneree_caseworkers.exoneree": lambda w, p, n: p.caseworkers.add(*_users(n)),
    "services.ExonereeUserObjectPermission.content_object": lambda w, p, n: [
        assign_perm("view_exoneree", user, p) for user in _users(n)
    ],
    "services.ExonereeGroupObjectPermission.content_object": lambda w, p, n: [
        assign_perm("view_exoneree", Group.objects.create(name=f"group-{next(serial)}"), p) for _ in range(n)
    ],
    "services.CaseNote.exoneree": lambda w, p, n: CaseNoteFactory.create_batch(n, exoneree=p, author=w.caseworker1),
    "services.Assessment.exoneree": lambda w, p, n: AssessmentFactory.create_batch(
        n, exoneree=p, taken_by=w.caseworker1
    ),
    "services.Consent.exoneree": lambda w, p, n: [consent_for(p, w.marcus.resource.provider) for _ in range(n)],
    "services.EmergencyAccess.exoneree": lambda w, p, n: [
        EmergencyAccess.objects.create(
            user=w.caseworker2, exoneree=p, reason="In crisis", expires_at=timezone.now() + timedelta(hours=1)
        )
        for _ in range(n)
    ],
    "services.CompensationClaim.exoneree": lambda w, p, n: [
        CompensationClaim.objects.create(
            exoneree=p, organization=p.organization, jurisdiction="IL", trigger_event="pardon"
        )
        for _ in range(n)
    ],
    "services.InnocenceCertificate.exoneree": lambda w, p, n: [
        InnocenceCertificate.objects.create(exoneree=p, court="Cook County") for _ in range(n)
    ],
    "services.RecordClearance.exoneree": lambda w, p, n: [
        RecordClearance.objects.create(exoneree=p, organization=p.organization, holder=holder)
        for holder in RecordHolder.values[:n]
    ],
    "services.LegalItem.exoneree": lambda w, p, n: [
        LegalItem.objects.create(exoneree=p, kind="tax_relief") for _ in range(n)
    ],
    "services.Document.exoneree": lambda w, p, n: [document_for(p, w.caseworker1) for _ in range(n)],
    "services.Enrolment.exoneree": _enrolments,
    "services.Need.exoneree": lambda w, p, n: NeedFactory.create_batch(n, exoneree=p),
    # Check-ins after release, one of each per person: the kept record's 7-day one and the
    # duplicate's clash.
    "services.FollowUp.exoneree": lambda w, p, n: [
        FollowUpFactory(exoneree=p, assigned_to=w.caseworker1, release_check=RELEASE_CHECK_DAYS[i]) for i in range(n)
    ],
    "services.Message.exoneree": lambda w, p, n: [
        Message.objects.create(exoneree=p, organization=p.organization, author=w.caseworker1, text="Hello")
        for _ in range(n)
    ],
    "services.Reminder.exoneree": _reminders,
    "services.LegalHold.exoneree": _holds,
    "services.RetentionReview.exoneree": lambda w, p, n: [
        RetentionReview.objects.create(exoneree=p, case_closed_on=date(2015, 1, 1) + timedelta(days=i))
        for i in range(n)
    ],
    "services.Exoneree.merged_into": lambda w, p, n: ExonereeFactory.create_batch(
        n, organization=p.organization, merged_into=p, merged_at=timezone.now()
    ),
    "services.Transfer.exoneree": _transfers,
    "services.Transfer.received_as": lambda w, p, n: _transfers(w, p, n, field="received_as"),
}
LIMITS = {"services.RecordClearance.exoneree": len(RecordHolder.values)}
RELATIONS = merges.relations()


def pair(w: World) -> tuple[Exoneree, Exoneree]:
    """Two records of one person in org1, nobody's caseload."""
    kept = ExonereeFactory(organization=w.org1, legal_name="Nadia Keeper", phone="555-0100")
    duplicate = ExonereeFactory(organization=w.org1, legal_name="Nadia Keeper", pronouns="she/her")
    return kept, duplicate


def rows_of(people: list[Exoneree]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every relation that points at these people, as stored."""
    return {
        relation.label: list(
            relation.model._base_manager.filter(**{f"{relation.field}__in": people}).order_by("pk").values()
        )
        for relation in RELATIONS
    }


def test_every_relation_has_a_row_maker():
    assert {relation.label for relation in RELATIONS} == set(ROW_MAKERS)


def test_the_access_log_and_the_merges_themselves_are_the_only_rows_not_moved():
    every = {
        f"{rel.related_model._meta.label}.{rel.field.name}"
        for rel in Exoneree._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and not rel.many_to_many
    }
    assert every - {relation.label for relation in RELATIONS} == merges.NOT_MOVED


@given(
    counts=st.fixed_dictionaries({label: st.integers(0, min(3, LIMITS.get(label, 3))) for label in ROW_MAKERS}),
    kept_too=st.sets(st.sampled_from(sorted(ROW_MAKERS))),
)
def test_merge_moves_every_row_and_undo_puts_every_row_back(world, counts, kept_too):
    kept, duplicate = pair(world)
    for label, count in counts.items():
        ROW_MAKERS[label](world, duplicate, count)
        if label in kept_too:  # clashes with the duplicate's unique rows, for the rules
            ROW_MAKERS[label](world, kept, 1)
    stored_before = rows_of([kept, duplicate])
    duplicate_rows = rows_of([duplicate])
    profile = {name: getattr(kept, name) for name in merges.MERGE_FIELDS}

    merge = merges.merge_people(by=world.director1, kept=kept, duplicate=duplicate, from_duplicate=["pronouns"])

    for relation in RELATIONS:
        for row in duplicate_rows[relation.label]:
            now = relation.model._base_manager.filter(pk=row["id"]).values_list(relation.field, flat=True).get()
            rule = merges.ON_CONFLICT.get(relation.label)
            assert now == kept.pk or (rule == merges.STAYS and now == duplicate.pk), (relation.label, row)
    kept.refresh_from_db()
    assert kept.pronouns == "she/her" and kept.phone == "555-0100"
    assert Exoneree.objects.get(pk=duplicate.pk).merged_into_id == kept.pk

    merges.merge_undo(by=world.director1, merge=merge)

    assert rows_of([kept, duplicate]) == stored_before
    kept.refresh_from_db()
    assert {name: getattr(kept, name) for name in merges.MERGE_FIELDS} == profile
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None


def test_unique_rows_follow_their_rule(world):
    kept, duplicate = pair(world)
    _enrolments(world, kept, 1)
    _enrolments(world, duplicate, 2)
    RecordClearance.objects.create(exoneree=kept, organization=world.org1, holder="fbi")
    theirs = RecordClearance.objects.create(exoneree=duplicate, organization=world.org1, holder="fbi")
    moved = RecordClearance.objects.create(exoneree=duplicate, organization=world.org1, holder="dmv")
    open_one = Enrolment.objects.get(exoneree=duplicate, closed_on__isnull=True)

    merges.merge_people(by=world.director1, kept=kept, duplicate=duplicate)

    open_one.refresh_from_db()
    assert (open_one.exoneree_id, open_one.exit_reason) == (kept.pk, ExitReason.MERGED)
    assert Enrolment.objects.filter(exoneree=kept, closed_on__isnull=True).count() == 1
    assert RecordClearance.objects.get(pk=theirs.pk).exoneree_id == duplicate.pk
    assert RecordClearance.objects.get(pk=moved.pk).exoneree_id == kept.pk


def test_a_check_in_after_release_the_kept_record_has_stays_with_the_duplicate(world):
    kept, duplicate = pair(world)
    FollowUpFactory(exoneree=kept, assigned_to=world.caseworker1, release_check=30)
    same = FollowUpFactory(exoneree=duplicate, assigned_to=world.caseworker1, release_check=30)
    other = FollowUpFactory(exoneree=duplicate, assigned_to=world.caseworker1, release_check=90)

    merges.merge_people(by=world.director1, kept=kept, duplicate=duplicate)

    assert FollowUp.objects.get(pk=same.pk).exoneree_id == duplicate.pk
    assert FollowUp.objects.get(pk=other.pk).exoneree_id == kept.pk


def test_every_relation_with_a_unique_key_has_a_rule():
    """A clash without a rule stops a merge with an error a director cannot settle: every
    relation that can clash (read from the models, so a new one is caught here) has a rule."""
    unruled = [r.label for r in RELATIONS if r.unique_keys() and r.label not in merges.ON_CONFLICT]
    assert unruled == []


def test_a_review_of_the_same_closing_stays_with_the_duplicate(world):
    kept, duplicate = pair(world)
    closing = date(2016, 3, 1)
    RetentionReview.objects.create(exoneree=kept, case_closed_on=closing)
    theirs = RetentionReview.objects.create(exoneree=duplicate, case_closed_on=closing)
    other = RetentionReview.objects.create(exoneree=duplicate, case_closed_on=closing + timedelta(days=1))

    merge = merges.merge_people(by=world.director1, kept=kept, duplicate=duplicate)

    assert RetentionReview.objects.get(pk=theirs.pk).exoneree_id == duplicate.pk
    assert RetentionReview.objects.get(pk=other.pk).exoneree_id == kept.pk
    merges.merge_undo(by=world.director1, merge=merge)
    assert RetentionReview.objects.get(pk=other.pk).exoneree_id == duplicate.pk


def test_a_clash_without_a_rule_stops_the_merge(world, monkeypatch):
    kept, duplicate = pair(world)
    _enrolments(world, kept, 1)
    _enrolments(world, duplicate, 1)
    monkeypatch.delitem(merges.ON_CONFLICT, "services.Enrolment.exoneree")

    with pytest.raises(merges.UnmovableRelation):
        merges.merge_people(by=world.director1, kept=kept, duplicate=duplicate)
    assert Exoneree.objects.get(pk=duplicate.pk).merged_into_id is None


def test_a_thousand_follow_ups_move_in_batches_and_back(world):
    kept, duplicate = pair(world)
    FollowUpFactory.create_batch(1001, exoneree=duplicate, assigned_to=world.caseworker1)
    seen = []

    merge = merges.merge_people(
        by=world.director1, kept=kept, duplicate=duplicate, progress=lambda label, n: seen.append((label, n))
    )

    assert ("services.FollowUp.exoneree", 1001) in seen
    assert [len(move.row_ids) for move in merge.moves.filter(model="services.FollowUp")] == [500, 500, 1]
    assert kept.follow_ups.count() == 1001
    merges.merge_undo(by=world.director1, merge=merge)
    assert duplicate.follow_ups.count() == 1001 and kept.follow_ups.count() == 0


# --- the pages ---------------------------------------------------------------------------------


# What a browser posts when the director keeps every field of the record kept.
KEEP_ALL = dict.fromkeys(merges.MERGE_FIELDS, "kept")


def marcus_twin(w: World) -> Exoneree:
    """A second record of Marcus (same SSN and birth date), made at another intake."""
    return ExonereeFactory(
        organization=w.org1, legal_name="Marcus Whitfield", ssn="900123456", date_of_birth=date(1970, 3, 14)
    )


def test_the_duplicate_check_proposes_the_twin(login, world):
    twin = marcus_twin(world)

    response = login("director1").get(reverse("merge_candidates", args=[world.marcus.exoneree.pk]))

    assert response.status_code == 200
    assert reverse("merge_people", args=[world.marcus.exoneree.pk, twin.pk]) in response.content.decode()


def test_fields_are_chosen_side_by_side(login, world):
    marcus = world.marcus.exoneree
    twin = marcus_twin(world)
    twin.pronouns, twin.address = "he/him", "99 Other Road"
    twin.save()
    need = NeedFactory(exoneree=twin, description="Bus pass")
    client = login("director1")
    url = reverse("merge_people", args=[marcus.pk, twin.pk])

    page = client.get(url).content.decode()
    assert "99 Other Road" in page and "he/him" in page and "900123456" not in page

    response = client.post(url, {**KEEP_ALL, "pronouns": "duplicate", "address": "kept"})

    assert response.status_code == 302 and response.url == marcus.get_absolute_url()
    marcus.refresh_from_db()
    assert (marcus.pronouns, marcus.address) == ("he/him", "12 Marcus Street, Houston TX")
    assert marcus.needs.filter(pk=need.pk).exists()
    entries = AuditEvent.objects.filter(action=AuditEvent.Action.RECORDS_MERGED)
    assert {entry.exoneree_id for entry in entries} == {marcus.pk, twin.pk}
    assert all(entry.changes["kept"] == marcus.pk and entry.changes["duplicate"] == twin.pk for entry in entries)


def test_a_bad_choice_is_shown_beside_the_field_and_merges_nothing(login, world):
    twin = marcus_twin(world)
    twin.pronouns = "he/him"
    twin.save()

    response = login("director1").post(
        reverse("merge_people", args=[world.marcus.exoneree.pk, twin.pk]), {"pronouns": "both"}
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Exoneree.objects.get(pk=twin.pk).merged_into_id is None


def test_a_merged_away_record_is_404_and_absent_from_lists_and_search(login, world):
    twin = marcus_twin(world)
    twin.legal_name = "Marcus Twinrecord"
    twin.save()
    merges.merge_people(by=world.director1, kept=world.marcus.exoneree, duplicate=twin)
    client = login("director1")

    assert client.get(twin.get_absolute_url()).status_code == 404
    listed = client.get(reverse("exoneree_list") + "?q=Twinrecord").content.decode()
    assert f'href="{twin.get_absolute_url()}"' not in listed
    page = client.get(reverse("merge_candidates", args=[world.marcus.exoneree.pk])).content.decode()
    assert reverse("merge_people", args=[world.marcus.exoneree.pk, twin.pk]) not in page


def test_a_name_taken_from_the_duplicate_is_what_search_finds_and_undo_puts_the_old_one_back(world):
    marcus = world.marcus.exoneree
    twin = marcus_twin(world)
    twin.legal_name = "Marcus Whitfield Núñez"
    twin.save()

    merge = merges.merge_people(by=world.director1, kept=marcus, duplicate=twin, from_duplicate=["legal_name"])

    assert list(records.exoneree_list(world.director1, q="nunez")) == [marcus]
    merges.merge_undo(by=world.director1, merge=merge)
    assert list(records.exoneree_list(world.director1, q="nunez")) == [twin]


def test_the_kept_persons_access_log_shows_the_duplicates_entries(login, world):
    twin = marcus_twin(world)
    client = login("director1")
    client.get(twin.get_absolute_url())  # an opening of the twin, logged under its id
    merges.merge_people(by=world.director1, kept=world.marcus.exoneree, duplicate=twin)

    page = client.get(reverse("exoneree_access_log", args=[world.marcus.exoneree.pk])).content.decode()

    assert AuditEvent.objects.filter(exoneree=twin, action=AuditEvent.Action.RECORD_VIEWED).exists()
    assert page.count("Merged two records") == 2


def test_undo_after_30_days_is_refused_with_the_reason(login, world):
    twin = marcus_twin(world)
    merge = merges.merge_people(by=world.director1, kept=world.marcus.exoneree, duplicate=twin)

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = login("director1").post(reverse("merge_undo", args=[merge.pk]))

    assert response.status_code == 400
    assert "within 30 days only" in response.content.decode()
    assert Exoneree.objects.get(pk=twin.pk).merged_into_id == world.marcus.exoneree.pk


def test_undo_within_30_days_splits_them(login, world):
    twin = marcus_twin(world)
    merge = merges.merge_people(by=world.director1, kept=world.marcus.exoneree, duplicate=twin)

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        response = login("director1").post(reverse("merge_undo", args=[merge.pk]))

    assert response.status_code == 302
    assert Merge.objects.get(pk=merge.pk).undone_at is not None
    assert login("director1").get(twin.get_absolute_url()).status_code == 200


def test_records_of_two_organizations_cannot_be_merged(login, world):
    anita = world.anita.exoneree  # org2

    assert login("director1").get(reverse("merge_people", args=[world.marcus.exoneree.pk, anita.pk])).status_code == 404
    response = login("director1").post(reverse("merge_people", args=[world.marcus.exoneree.pk, anita.pk]), {})
    assert response.status_code == 404
    assert Exoneree.objects.get(pk=anita.pk).merged_into_id is None


def test_only_directors_merge(login, world):
    twin = marcus_twin(world)
    url = reverse("merge_people", args=[world.marcus.exoneree.pk, twin.pk])

    assert login("caseworker1").post(url, {}).status_code == 403
    assert Exoneree.objects.get(pk=twin.pk).merged_into_id is None


def test_two_sign_ins_are_refused_with_a_reason(login, world):
    thomas = world.thomas.exoneree
    response = login("director1").post(reverse("merge_people", args=[world.marcus.exoneree.pk, thomas.pk]), {})

    assert response.status_code == 400
    assert "its own sign-in" in response.content.decode()
    assert Exoneree.objects.get(pk=thomas.pk).merged_into_id is None


def test_a_refused_merge_opened_says_why_on_the_page(login, world):
    """Opening the page of a merge that cannot be done (the same record twice, two sign-ins)
    said nothing and answered 500: the refusal went to a form never checked."""
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    director = login("director1")

    same = director.get(reverse("merge_people", args=[marcus.pk, marcus.pk]))
    both_sign_in = director.get(reverse("merge_people", args=[marcus.pk, thomas.pk]))

    assert same.status_code == 200
    assert same.context["refused"] and same.context["plan"] is None
    assert both_sign_in.status_code == 200
    assert "its own sign-in" in both_sign_in.content.decode()
    assert "Merge the records" not in both_sign_in.content.decode()


def test_the_duplicates_sign_in_moves_to_the_kept_record_and_back(world):
    kept, _ = pair(world)
    marcus = world.marcus.exoneree

    merge = merges.merge_people(by=world.director1, kept=kept, duplicate=marcus)
    kept.refresh_from_db()
    assert kept.user == world.exoneree1

    merges.merge_undo(by=world.director1, merge=merge)
    kept.refresh_from_db()
    marcus.refresh_from_db()
    assert (kept.user, marcus.user) == (None, world.exoneree1)


# --- the command -------------------------------------------------------------------------------


def test_the_command_merges_with_progress_and_undoes(world):
    kept, duplicate = pair(world)
    FollowUpFactory.create_batch(3, exoneree=duplicate, assigned_to=world.caseworker1)
    out = io.StringIO()

    call_command("merge_people", kept.pk, duplicate.pk, user="director1", from_duplicate=["pronouns"], stdout=out)

    assert "services.FollowUp.exoneree: 3 moved" in out.getvalue()
    merge = Merge.objects.get()
    assert kept.follow_ups.count() == 3
    call_command("merge_people", user="director1", undo=merge.pk, stdout=out)
    assert duplicate.follow_ups.count() == 3 and Merge.objects.get().undone_at is not None


def test_the_command_is_for_directors_of_the_organization(world):
    kept, duplicate = pair(world)

    with pytest.raises(CommandError, match="not an active director"):
        call_command("merge_people", kept.pk, duplicate.pk, user="caseworker1")
    with pytest.raises(CommandError, match="Name two records"):
        call_command("merge_people", kept.pk, duplicate.pk, user="director2")
    assert not Merge.objects.exists()
