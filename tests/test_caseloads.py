"""Directors move caseloads in bulk: several people, or everyone a caseworker carries, to
another caseworker in one step, with the permissions, one log entry per person, and notice."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import get_perms

from services import access
from services.actions import people as people_actions
from services.models.audit import AuditEvent
from services.models.notifications import Notification
from services.models.people import Exoneree
from tests.factories import ExonereeFactory, FollowUpFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.world_built_once]


def move(client, caseworker, **data):
    return client.post(reverse("caseload_move", args=[caseworker.pk]), data)


@pytest.fixture
def carried(world):
    """Marcus and two more people carried by caseworker1; one of them shared with caseworker2.
    Both have signed in (an invitation not taken up is said in the pickers)."""
    get_user_model().objects.filter(pk__in=[world.caseworker1.pk, world.caseworker2.pk]).update(
        last_login=timezone.now()
    )
    alone = ExonereeFactory(organization=world.org1, legal_name="Alma Alone", caseworkers=[world.caseworker1])
    shared = ExonereeFactory(
        organization=world.org1, legal_name="Sam Shared", caseworkers=[world.caseworker1, world.caseworker2]
    )
    return [world.marcus.exoneree, alone, shared]


def test_everyone_a_caseworker_carries_moves_in_one_step(login, world, carried):
    FollowUpFactory(exoneree=carried[1], assigned_to=world.caseworker1)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.CASELOAD_REASSIGNED).count()

    response = move(login("director1"), world.caseworker1, everyone="on", to_caseworker=world.caseworker2.pk)

    assert response.status_code == 302 and response.url == reverse("staff_list")
    assert not access.exonerees_visible_to(world.caseworker1).exists()
    visible = set(access.exonerees_visible_to(world.caseworker2))
    assert set(carried) <= visible
    for person in carried:
        assert access.can_change_exoneree(world.caseworker2, person)
        assert set(person.caseworkers.all()) == {world.caseworker2}
        assert not person.follow_ups.filter(assigned_to=world.caseworker1, done_at__isnull=True).exists()
    logged = AuditEvent.objects.filter(action=AuditEvent.Action.CASELOAD_REASSIGNED).count() - before
    assert logged == len(carried)  # one entry per person
    [notice] = Notification.objects.filter(user=world.caseworker2)
    assert "moved 3 people to your caseload" in notice.text


def test_only_the_ticked_people_move_and_their_other_caseworkers_stay(login, world, carried):
    marcus, alone, shared = carried
    response = move(login("director1"), world.caseworker1, people=[shared.pk], to_caseworker=world.caseworker2.pk)

    assert response.status_code == 302
    assert set(shared.caseworkers.all()) == {world.caseworker2}
    assert set(alone.caseworkers.all()) == {world.caseworker1}
    assert access.can_change_exoneree(world.caseworker1, marcus)


def test_nothing_ticked_is_refused_beside_the_field_and_nothing_moves(login, world, carried):
    response = move(login("director1"), world.caseworker1, to_caseworker=world.caseworker2.pk)

    assert response.status_code == 400
    assert "Tick the people to move" in response.content.decode()
    assert all(world.caseworker1 in person.caseworkers.all() for person in carried)
    assert not Notification.objects.filter(user=world.caseworker2).exists()


def test_a_move_or_a_change_left_blank_says_what_to_choose_beside_the_field(login, world, carried):
    """Both said "This field is required." beside a list of caseworkers."""
    director = login("director1")

    moved = move(director, world.caseworker1, everyone="on")
    changed = director.post(reverse("caseload_edit", args=[world.marcus.exoneree.pk]), {})

    assert moved.status_code == 400 and changed.status_code == 400
    assert moved.context["form"].errors["to_caseworker"] == ["Choose the caseworker to move them to."]
    assert changed.context["form"].errors["caseworkers"] == ["Tick at least one caseworker."]
    assert world.caseworker1 in world.marcus.exoneree.caseworkers.all()


@pytest.mark.parametrize("target", ["caseworker1", "caseworker3", "director1"])
def test_the_receiver_must_be_another_caseworker_of_the_organization(login, world, carried, target):
    response = move(login("director1"), world.caseworker1, everyone="on", to_caseworker=getattr(world, target).pk)

    assert response.status_code == 400
    assert all(world.caseworker1 in person.caseworkers.all() for person in carried)


def test_the_move_is_one_transaction(login, world, carried, monkeypatch):
    real = people_actions.caseload_assign
    calls = []

    def fail_on_the_third(**kwargs):
        calls.append(kwargs["exoneree"])
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(people_actions, "caseload_assign", fail_on_the_third)
    with pytest.raises(RuntimeError):
        move(login("director1"), world.caseworker1, everyone="on", to_caseworker=world.caseworker2.pk)

    assert all(set(p.caseworkers.all()) >= {world.caseworker1} for p in carried)
    assert access.exonerees_visible_to(world.caseworker1).count() == 3


def test_a_reassignment_moves_the_permissions_in_three_queries(world, carried):
    alone = carried[1]

    with CaptureQueriesContext(connection) as queries:
        people_actions.caseload_assign(by=world.director1, exoneree=alone, caseworkers=[world.caseworker2])

    grants = [q["sql"] for q in queries if "objectpermission" in q["sql"] or "auth_permission" in q["sql"]]
    assert len(grants) <= 3, grants  # guardian's remove_perm and assign_perm, one call a permission: 8
    assert sorted(get_perms(world.caseworker2, alone)) == sorted(access.CASEWORKER_PERMS)
    assert get_perms(world.caseworker1, alone) == []
    assert list(access.exonerees_visible_to(world.caseworker1).filter(pk=alone.pk)) == []


def test_the_forms_show_each_caseworkers_caseload_size(login, world, carried):
    client = login("director1")
    page = client.get(reverse("caseload_move", args=[world.caseworker1.pk])).content.decode()
    assert "Chris Twofold (2 people)" in page  # Thomas and Sam
    assert "All of Casey Onewell&#x27;s people (3)" in page or "All of Casey Onewell's people (3)" in page

    single = client.get(reverse("caseload_edit", args=[world.marcus.exoneree.pk])).content.decode()
    assert "Casey Onewell (3 people)" in single


def test_colleagues_who_share_a_name_are_told_apart_by_their_username_in_every_picker(login, world, carried):
    twin = StaffFactory(
        organization=world.org1,
        user__username="conewell2@org1",
        user__first_name="Casey",
        user__last_name="Onewell",
        user__last_login=timezone.now(),
    ).user
    world.marcus.exoneree.caseworkers.add(twin)  # on his follow-up form's list too
    client = login("director1")

    single = client.get(reverse("caseload_edit", args=[world.marcus.exoneree.pk])).content.decode()
    move = client.get(reverse("caseload_move", args=[world.caseworker2.pk])).content.decode()
    log = client.get(reverse("audit_log")).content.decode()
    follow_up = login("caseworker1").get(reverse("follow_up_create", args=[world.marcus.exoneree.pk])).content.decode()

    one, two = f"Casey Onewell ({world.caseworker1.username})", "Casey Onewell (conewell2@org1)"
    assert f"{one} (3 people)" in single and f"{two} (1 person)" in single
    assert f"{one} (3 people)" in move and f"{two} (1 person)" in move
    assert one in log and two in log
    assert one in follow_up and two in follow_up
    assert "Chris Twofold (2 people)" in single  # a name nobody shares stays as it is
    assert f"Chris Twofold ({world.caseworker2.username})" not in log


def test_the_staff_list_links_each_caseworker_to_moving_their_people(login, world):
    page = login("director1").get(reverse("staff_list")).content.decode()
    assert reverse("caseload_move", args=[world.caseworker1.pk]) in page
    assert reverse("caseload_move", args=[world.director1.pk]) not in page


def test_a_caseworker_who_carries_nobody_is_not_offered_a_move_that_can_only_fail(login, world):
    """Nobody, or only a record merged into another (its caseworker rows stay; it is no one's case)."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(merged_into=world.thomas.exoneree)

    page = login("director1").get(reverse("staff_list")).content.decode()

    assert reverse("caseload_move", args=[world.caseworker1.pk]) not in page and "carries nobody" in page
    assert reverse("caseload_move", args=[world.caseworker2.pk]) in page


def test_the_message_says_who_was_told_what(login, world, carried):
    """It said "they were told": the receiver has a notice; the people and the giver were not told."""
    response = move(login("director1"), world.caseworker1, people=[carried[1].pk], to_caseworker=world.caseworker2.pk)

    said = [str(message) for message in response.wsgi_request._messages]
    assert said == [
        "1 person moved to Chris Twofold. Chris Twofold has a notice in the app saying you moved them; "
        "the person and the caseworker they came from were not told."
    ]


def test_people_moved_to_a_caseworker_who_has_not_signed_in_yet_are_moved_with_a_warning(login, world, carried):
    """An invitation not taken up (walk): the newcomer may take over from their first day, so the
    move goes ahead; the picker and the message say they have not signed in yet, and what to do."""
    newcomer = StaffFactory(organization=world.org1, user__first_name="Bo", user__last_name="Chen").user
    client = login("director1")
    untouched = client.post(
        reverse("caseload_edit", args=[world.marcus.exoneree.pk]), {"caseworkers": [world.caseworker1.pk]}
    )

    picker = client.get(reverse("caseload_move", args=[world.caseworker1.pk])).content.decode()
    response = move(client, world.caseworker1, people=[carried[1].pk], to_caseworker=newcomer.pk)
    single = client.get(reverse("caseload_edit", args=[world.thomas.exoneree.pk])).content.decode()
    edited = client.post(
        reverse("caseload_edit", args=[world.thomas.exoneree.pk]), {"caseworkers": [world.caseworker2.pk, newcomer.pk]}
    )

    assert "Bo Chen (0 people; invited, has not signed in yet)" in picker
    assert "Chris Twofold (2 people)" in picker
    assert "Bo Chen (1 person; invited, has not signed in yet)" in single
    assert response.status_code == 302 and list(carried[1].caseworkers.all()) == [newcomer]
    for answer in (response, edited):
        warnings = [str(m) for m in answer.wsgi_request._messages if m.level_tag == "warning"]
        assert warnings == [
            "Bo Chen has not signed in yet: they see these people only once they choose a password "
            "from their invitation. If it was lost, send it again from Staff."
        ]
    assert set(world.thomas.exoneree.caseworkers.all()) == {world.caseworker2, newcomer}
    assert not [m for m in untouched.wsgi_request._messages if m.level_tag == "warning"]  # nobody new to warn of
