"""A member organization joining: an operator sets it up with its first director from a shell
(`manage.py add_organization`), and the director takes it up from a printed set-password link;
its directory, empty at first, says how to fill it.

Before, the only way was /admin/: an organization, a user, a staff role, each by hand, and a
password the operator chose and passed on; a director made there without a password could
never get one (the reset page sends nothing to an account without a usable password)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from services import access
from services.models.audit import AuditEvent
from services.models.organizations import Organization, StaffMember
from tests.conftest import verify_second_factor
from tests.factories import StaffFactory

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

NAME = "Prairie Innocence Reentry"


def add(*args: str) -> str:
    out = StringIO()
    call_command("add_organization", *args, stdout=out)
    return out.getvalue()


def link_in(printed: str) -> str:
    match = re.search(r"https?://\S+/accounts/invite/\S+/\S+/", printed)
    assert match, printed
    return match.group(0).removeprefix(settings.SITE_URL)


def test_an_operator_sets_up_an_organization_whose_director_chooses_a_password_from_the_printed_link(world):
    printed = add(NAME, "JLee", "jlee@example.org", "--timezone", "America/Chicago", "--first-name", "Jo")

    organization = Organization.objects.get(name=NAME)
    director = StaffMember.objects.get(organization=organization).user
    assert (organization.code, organization.timezone) == ("pir", "America/Chicago")
    assert (director.username, director.email, director.first_name) == ("jlee@pir", "jlee@example.org", "Jo")
    assert access.role_of(director) == "director" and not director.has_usable_password()
    assert "jlee@pir is its director" in printed and mail.outbox == []  # handed over, never emailed
    entry = AuditEvent.objects.get(target="Staff account jlee@pir")
    assert (entry.organization_id, entry.changes["role"]) == (organization.pk, [None, "director"])

    client = Client()
    page = client.get(link_in(printed), follow=True)
    password = "a long first passphrase"
    chosen = client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})

    assert chosen.status_code == 302
    director.refresh_from_db()
    assert director.check_password(password)


def test_run_again_before_the_password_it_prints_the_link_again_and_makes_nothing_twice(world):
    add(NAME, "jlee", "jlee@example.org")
    again = add(NAME, "jlee@pir", "jlee@example.org")

    assert "jlee@pir is its director" in again and link_in(again)
    assert Organization.objects.filter(name=NAME).count() == 1
    assert StaffMember.objects.filter(user__username="jlee@pir").count() == 1


def test_a_second_director_joins_an_organization_that_exists_which_keeps_its_settings(world):
    add(world.org1.name, "second", "second@example.org", "--timezone", "Pacific/Auckland")

    organization = Organization.objects.get(pk=world.org1.pk)
    member = StaffMember.objects.get(user__username=f"second@{organization.code}")
    assert (member.organization_id, member.role) == (world.org1.pk, "director")
    assert organization.timezone == world.org1.timezone


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["jl", "jl@example.org"], "3-40 letters"),
        (["jlee", "not an address"], "valid email"),
        (["jlee", "jlee@example.org", "--timezone", "Mars/Base"], "not a known timezone"),
    ],
)
def test_a_mistake_is_said_and_nothing_is_made(world, args, said):
    with pytest.raises(CommandError, match=said):
        add(NAME, *args)

    assert not Organization.objects.filter(name=NAME).exists()


def test_a_username_already_taken_up_is_refused(world):
    add(NAME, "jlee", "jlee@example.org")
    director = StaffMember.objects.get(user__username="jlee@pir").user
    director.set_password("a long first passphrase")
    director.save()

    with pytest.raises(CommandError, match="jlee@pir is taken"):
        add(NAME, "jlee", "other@example.org")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def test_an_empty_directory_says_how_to_fill_it_not_that_nothing_matches(world):
    add(NAME, "jlee", "jlee@example.org")
    director = StaffMember.objects.get(user__username="jlee@pir")
    caseworker = StaffFactory(organization=director.organization)

    for_director = signed_in(director.user).get(reverse("resource_list")).content.decode()
    for_caseworker = signed_in(caseworker.user).get(reverse("resource_list"), HTTP_HX_REQUEST="true")

    assert "Your directory has no resources yet." in for_director and "No resources match." not in for_director
    assert f'<a href="{reverse("hsds_import")}">Import your local 211 listings (HSDS)</a>' in for_director
    assert "your director adds them" in for_caseworker.content.decode()  # the search's own partial too


def test_a_search_that_finds_nothing_in_a_directory_with_resources_still_says_so(login, world):
    page = login("director1").get(reverse("resource_list"), {"q": "zzzzqqq"}).content.decode()

    assert "No resources match." in page and "no resources yet" not in page


def staff_data(member: StaffMember, **changed: str) -> dict[str, str]:
    user = member.user
    data = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email, "role": member.role}
    return {**data, "title": member.title, "is_active": "on", **changed}


def test_a_director_gives_a_caseworker_the_phone_their_people_are_told_to_call(login, world):
    """A new organization's staff had no phone: no form took one (only the demo's seed and
    /admin/ did), so every plan's "Who to call" gave an email address alone."""
    new = login("director1").post(
        reverse("staff_create"),
        {"first_name": "Nia", "last_name": "Newhire", "email": "nia@example.org", "username": "nnewhire"}
        | {"role": "caseworker", "phone": "312 555 0142"},
    )
    member = StaffMember.objects.get(user=world.caseworker1)
    edit = reverse("staff_edit", args=[member.pk])
    edited = login("director1").post(edit, staff_data(member, phone="(312) 555-0143"))
    plan = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert new.status_code == edited.status_code == 302
    assert StaffMember.objects.get(user__username=f"nnewhire@{world.org1.code}").phone == "312 555 0142"
    assert 'Phone: <a href="tel:3125550143">(312) 555-0143</a>' in plan
    entry = AuditEvent.objects.filter(target=f"Staff account {world.caseworker1.username}").latest("pk")
    assert entry.changes["phone"] == [member.phone, "(312) 555-0143"]


def test_a_phone_that_is_no_number_is_refused_beside_the_box_and_nothing_changes(login, world):
    member = StaffMember.objects.get(user=world.caseworker1)

    response = login("director1").post(reverse("staff_edit", args=[member.pk]), staff_data(member, phone="call me"))

    assert response.status_code == 400
    assert "Enter a phone number of 7 to 15 digits" in response.content.decode()
    assert StaffMember.objects.get(pk=member.pk).phone == member.phone
