"""Rules the write layer (services/actions/) keeps, whatever a form or a forged POST says.

Personas come from tests/conftest.py: Marcus is caseworker1's, Thomas is caseworker2's.
"""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from smtplib import SMTPException

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from services.actions import needs, people, referrals
from services.choices import NeedDomain, ReferralStatus, Role
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from tests.factories import ExonereeFactory, FollowUpFactory, ReferralFactory

User = get_user_model()


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def url(name: str, obj) -> str:
    return reverse(name, args=[obj.pk])


# --- staff roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"role": Role.DIRECTOR, "is_active": "on"}, {"role": Role.DIRECTOR}],  # promote; promote and switch off
    ids=["promote", "promote-and-deactivate"],
)
def test_a_caseworker_who_still_carries_people_keeps_their_role(login, world, change):
    member = world.caseworker1.staff

    response = login("director1").post(
        url("staff_edit", member),
        {"first_name": "Test", "last_name": "Colleague", "email": member.user.email, "title": "", **change},
    )

    assert response.status_code == 400
    assert "Reassign them first" in response.content.decode()
    member.refresh_from_db()
    world.caseworker1.refresh_from_db()
    assert (member.role, world.caseworker1.is_active) == (Role.CASEWORKER, True)


def test_a_caseworker_with_an_empty_caseload_can_be_promoted(login, world):
    member = world.caseworker1.staff
    people.caseload_assign(by=world.director1, exoneree=world.marcus.exoneree, caseworkers=[world.caseworker2])

    response = login("director1").post(
        url("staff_edit", member),
        {
            "first_name": "Test",
            "last_name": "Colleague",
            "email": member.user.email,
            "role": Role.DIRECTOR,
            "title": "Deputy",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.role, member.title) == (Role.DIRECTOR, "Deputy")


# --- follow-ups and caseloads ------------------------------------------------------------------


@pytest.mark.parametrize("assignee", ["director1", "caseworker2"])
def test_a_follow_up_goes_only_to_one_of_the_persons_caseworkers(login, world, assignee):
    marcus = world.marcus.exoneree
    data = {"title": "Check in", "due_at": "2030-01-02T10:00", "assigned_to": getattr(world, assignee).pk}

    response = login("caseworker1").post(url("follow_up_create", marcus), data)

    assert response.status_code == 400
    assert not FollowUp.objects.filter(title="Check in").exists()


def test_reassignment_moves_open_follow_ups_with_the_person(login, world):
    marcus = world.marcus.exoneree
    open_one = world.marcus.follow_up
    done_one = FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, done_at=timezone.now())

    response = login("director1").post(url("caseload_edit", marcus), {"caseworkers": [world.caseworker2.pk]})

    assert response.status_code == 302
    open_one.refresh_from_db()
    done_one.refresh_from_db()
    assert open_one.assigned_to == world.caseworker2  # someone who can see Marcus
    assert done_one.assigned_to == world.caseworker1  # history stays as it happened
    dashboard = login("caseworker2").get(reverse("dashboard")).content.decode()
    assert open_one.title in dashboard


def test_a_person_always_keeps_a_caseworker(login, world):
    marcus = world.marcus.exoneree

    response = login("director1").post(url("caseload_edit", marcus), {"caseworkers": []})

    assert response.status_code == 400
    assert list(marcus.caseworkers.all()) == [world.caseworker1]


# --- sensitive input ---------------------------------------------------------------------------


def test_a_typed_ssn_is_not_written_back_into_a_refused_form(login, world):
    marcus = world.marcus.exoneree
    data = {
        "legal_name": marcus.legal_name,
        "preferred_language": "en",
        "contact_preference": "phone",
        "reminder_channel": "email",
        "ssn": "900-44-5566",
        "conviction_state": "Texas",  # refused: not a two-letter code
    }

    response = login("caseworker1").post(url("exoneree_edit", marcus), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "900-44-5566" not in body and "900445566" not in body
    marcus.refresh_from_db()
    assert marcus.ssn != "900445566"


def test_an_ssn_takes_only_ascii_digits(login, world):
    marcus = world.marcus.exoneree
    data = {
        "legal_name": marcus.legal_name,
        "preferred_language": "en",
        "contact_preference": "phone",
        "reminder_channel": "email",
        "ssn": "９００１２３４５６",  # full-width digits
    }

    response = login("caseworker1").post(url("exoneree_edit", marcus), data)

    assert response.status_code == 400
    marcus.refresh_from_db()
    assert marcus.ssn != "９００１２３４５６"


@pytest.mark.parametrize(
    ("due_at", "said"),
    [
        ("9999-12-31T23:00", "This is more than 10 years ahead: check the year."),
        ("2099-05-05T10:00", "This is more than 10 years ahead: check the year."),
        ("0001-01-01T00:30", "This is more than 30 days ago: check the year."),
        ("1850-05-05T10:00", "This is more than 30 days ago: check the year."),
    ],
)
def test_a_follow_up_date_at_the_ends_of_the_calendar_is_said_as_any_slip_of_the_year(login, world, due_at, said):
    """2099 was "more than 10 years ahead" and 9999 "Enter a date between 1900 and 2200": the
    model's calendar bounds spoke before the form's rule, in other words."""
    data = {"title": "Far away", "due_at": due_at, "assigned_to": world.caseworker1.pk}

    response = login("caseworker1").post(url("follow_up_create", world.marcus.exoneree), data)

    assert response.status_code == 400
    errors = response.context["form"].errors["due_at"]
    assert len(errors) == 1 and unescape(errors[0]).startswith(said)
    assert not FollowUp.objects.filter(title="Far away").exists()


def test_a_follow_up_set_long_past_is_refused_beside_its_day_but_an_old_one_stays_editable(login, world):
    client = login("caseworker1")
    typo = (timezone.localtime() - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M")
    late = (timezone.localtime() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = {"title": "Housing visit", "assigned_to": world.caseworker1.pk}

    refused = client.post(url("follow_up_create", world.marcus.exoneree), {**data, "due_at": typo})
    accepted = client.post(url("follow_up_create", world.marcus.exoneree), {**data, "due_at": late})

    assert refused.status_code == 400
    assert "more than 30 days ago: check the year" in unescape(str(refused.context["form"].errors["due_at"]))
    assert accepted.status_code == 302  # entered a few days late: still one to do
    old = FollowUp.objects.get(title="Housing visit")
    # Long overdue, at noon in New York: 400 days before some hours falls in the hour a clock
    # change makes twice (1:34 a.m. on Nov 2, 2025), which the form rightly asks to choose.
    long_ago = (timezone.now() - timedelta(days=400)).replace(hour=17, minute=0, second=0, microsecond=0)
    FollowUp.objects.filter(pk=old.pk).update(due_at=long_ago)
    old.refresh_from_db()
    kept_day = timezone.localtime(old.due_at).strftime("%Y-%m-%dT%H:%M")
    edited = client.post(url("follow_up_edit", old), {**data, "title": "Housing visit, late", "due_at": kept_day})
    assert edited.status_code == 302
    assert FollowUp.objects.filter(title="Housing visit, late").exists()


def test_a_follow_up_set_far_ahead_is_refused_beside_its_day_but_a_claims_deadline_is_not(login, world):
    client = login("caseworker1")
    data = {"title": "Claim deadline", "assigned_to": world.caseworker1.pk}
    deadline = (timezone.localtime() + timedelta(days=6 * 366)).strftime("%Y-%m-%dT%H:%M")  # a six-year window

    refused = client.post(url("follow_up_create", world.marcus.exoneree), {**data, "due_at": "2199-01-01T10:00"})
    accepted = client.post(url("follow_up_create", world.marcus.exoneree), {**data, "due_at": deadline})

    assert refused.status_code == 400
    assert "more than 10 years ahead: check the year" in str(refused.context["form"].errors["due_at"])
    assert accepted.status_code == 302
    assert FollowUp.objects.filter(title="Claim deadline").count() == 1


# --- the plan ----------------------------------------------------------------------------------


def test_the_plan_never_names_the_provider_of_a_draft_or_cancelled_referral(login, world):
    marcus = world.marcus.exoneree
    draft = world.marcus.referral
    assert draft.status == ReferralStatus.DRAFT
    cancelled = ReferralFactory(need=world.marcus.need, resource__name="Quiet Cancelled Place")
    referrals.referral_transition(by=world.caseworker1, referral=cancelled, status=ReferralStatus.CANCELLED)
    for referral in (draft, cancelled):
        FollowUpFactory(exoneree=marcus, referral=referral, assigned_to=world.caseworker1, shared_with_exoneree=True)

    plan = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert draft.resource.name not in plan
    assert "Quiet Cancelled Place" not in plan


# --- invitations -------------------------------------------------------------------------------


def test_an_exonerees_invitation_does_not_name_the_organization(login, world, django_capture_on_commit_callbacks):
    person = ExonereeFactory(organization=world.org1, legal_name="Nia Example", caseworkers=[world.caseworker1])

    with django_capture_on_commit_callbacks(execute=True):
        login("caseworker1").post(url("exoneree_invite", person), {"username": "nia", "email": "nia@example.org"})

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    for part in (message.subject, message.body, message.alternatives[0][0]):
        assert world.org1.name not in part


def test_a_failing_mail_server_does_not_undo_or_break_the_save(
    login, world, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(**kwargs):
        raise SMTPException("mail server down")

    monkeypatch.setattr("services.tasks.send_templated_email", refuse)
    data = {"first_name": "Nia", "last_name": "Hire", "email": "nia@example.org", "username": "niahire"}

    with django_capture_on_commit_callbacks(execute=True):
        response = login("director1").post(reverse("staff_create"), {**data, "role": Role.CASEWORKER})

    assert response.status_code == 302
    assert StaffMember.objects.filter(user__username=f"niahire@{world.org1.code}", organization=world.org1).exists()
    assert mail.outbox == []


def test_a_double_invitation_leaves_one_login(world):
    person = ExonereeFactory(organization=world.org1, legal_name="Nia Example", caseworkers=[world.caseworker1])
    stale = Exoneree.objects.get(pk=person.pk)  # a copy read before the first invitation
    people.exoneree_invite(by=world.caseworker1, exoneree=person, username="nia1", email="nia@example.org")

    with pytest.raises(ValidationError):
        people.exoneree_invite(by=world.caseworker1, exoneree=stale, username="nia2", email="nia@example.org")

    person.refresh_from_db()
    assert person.user.username == f"nia1@{world.org1.code}"
    assert not User.objects.filter(username__startswith="nia2").exists()


def test_a_broker_that_is_down_does_not_turn_a_saved_invitation_into_an_error(
    login, world, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr("services.tasks.send_invitation.delay", broker_down)
    person = ExonereeFactory(organization=world.org1, legal_name="Nia Example", caseworkers=[world.caseworker1])

    with django_capture_on_commit_callbacks(execute=True):
        response = login("caseworker1").post(
            url("exoneree_invite", person), {"username": "nia", "email": "nia@example.org"}
        )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.user.username == f"nia@{world.org1.code}"


# --- what the pages say when something cannot be done ----------------------------------------


def test_a_refused_intake_asks_for_the_ssn_again_beside_its_box(login, world):
    data = {
        "legal_name": "Nia Example",
        "preferred_language": "en",
        "contact_preference": "in_person",
        "reminder_channel": "email",
        "ssn": "900-44-5566",
        "conviction_date": "2000-01-01",
        "release_date": "1999-01-01",  # refused: before conviction
    }

    response = login("caseworker1").post(reverse("exoneree_create"), data)

    assert response.status_code == 400
    body = response.content.decode()
    assert "please type it again" in body
    assert "Release cannot be before conviction" in body
    # One mistake: the number is marked to be typed again, but not counted as a second one.
    assert "Please correct the 1 field marked below." in body
    assert not Exoneree.objects.filter(legal_name="Nia Example").exists()


def test_a_closed_referral_offers_no_status_change(login, world):
    referral = world.marcus.referral
    referrals.referral_transition(by=world.caseworker1, referral=referral, status=ReferralStatus.CANCELLED)

    body = login("caseworker1").get(url("referral_detail", referral)).content.decode()

    assert "This referral is closed." in body
    assert reverse("referral_transition", args=[referral.pk]) not in body


def test_needs_and_referrals_carry_their_persons_organization(world):
    """The director's counts read Need.organization and Referral.organization alone."""
    person = world.marcus.exoneree
    need = Need(domain=NeedDomain.BASIC, description="Groceries")

    needs.need_create(by=world.caseworker1, exoneree=person, need=need)
    referral = referrals.referral_create(by=world.caseworker1, need=need, resource=world.marcus.resource)

    need.refresh_from_db()
    referral.refresh_from_db()
    assert need.organization_id == referral.organization_id == person.organization_id == world.org1.pk
