"""Usernames live in their organization's namespace (`handle@code`), so choosing one for a new
staff member or an exoneree's login tells nobody what another organization's accounts are called."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from services.actions import staff
from services.models.organizations import Organization
from tests.factories import ExonereeFactory, OrganizationFactory

User = get_user_model()

NEW_STAFF = {"first_name": "Nia", "last_name": "Newhire", "email": "nia@example.org", "role": "caseworker"}


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Midwest Exoneree Reentry Project", "merp"),
        ("The Office of the Public Defender", "opd"),
        ("Harbor", "harbor"),
        ("!!!", "org"),
    ],
)
def test_an_organization_gets_a_code_from_its_initials(db, name, code):
    assert Organization.objects.create(name=name).code == code


def test_a_code_in_use_is_numbered(db):
    OrganizationFactory(name="Gulf Coast Innocence Reentry")

    assert OrganizationFactory(name="Great Coastal Initiative Reentry").code == "gcir2"
    assert OrganizationFactory(name="Gulf Coast Immigrant Relief").code == "gcir3"


def test_a_code_given_is_kept(db):
    assert OrganizationFactory(name="Gulf Coast Innocence Reentry", code="gulf").code == "gulf"


def test_a_username_held_in_another_organization_answers_like_a_free_one(login, world):
    """The director of org1 asks for names that exist in org2, with and without org2's ending,
    and a name nobody has: every answer is the same success, and the account is org1's."""
    User.objects.create(username=f"sam@{world.org2.code}")
    director = login("director1")

    answers = [
        director.post(reverse("staff_create"), {**NEW_STAFF, "username": handle, "email": f"{handle}@example.org"})
        for handle in ("sam", "caseworker3", "nobodyhasthis")
    ]

    assert [(a.status_code, a.url) for a in answers] == [(302, "/director/staff/")] * 3
    for handle in ("sam", "caseworker3", "nobodyhasthis"):
        assert User.objects.get(username=f"{handle}@{world.org1.code}").staff.organization == world.org1


def test_a_username_taken_in_ones_own_organization_is_refused_beside_the_field(login, world):
    director = login("director1")
    assert director.post(reverse("staff_create"), {**NEW_STAFF, "username": "nia"}).status_code == 302

    again = director.post(reverse("staff_create"), {**NEW_STAFF, "username": "nia", "email": "other@example.org"})

    assert again.status_code == 400
    assert f"nia@{world.org1.code} is taken" in again.context["form"].errors["username"][0]
    assert User.objects.filter(username__startswith="nia@").count() == 1


def test_the_form_says_what_the_username_will_end_with(login, world):
    page = login("director1").get(reverse("staff_create"))

    assert f"@{world.org1.code}" in page.content.decode()


def test_a_username_typed_whole_as_the_form_shows_it_is_taken(login, world):
    """The help text shows "…followed by @merp": typed so, in any case, it is the same handle."""
    director = login("director1")

    answer = director.post(reverse("staff_create"), {**NEW_STAFF, "username": f"Nia@{world.org1.code.upper()}"})

    assert (answer.status_code, answer.url) == (302, "/director/staff/")
    assert User.objects.get(username=f"nia@{world.org1.code}").staff.organization == world.org1


def test_a_username_with_another_ending_says_to_type_the_part_before_ours(login, world):
    director = login("director1")

    answers = [
        director.post(reverse("staff_create"), {**NEW_STAFF, "username": f"nia@{code}"})
        for code in (world.org2.code, "nosuchorg")
    ]

    # The same words whatever the ending names: nothing is learnt about another organization.
    errors = [answer.context["form"].errors["username"] for answer in answers]
    assert errors == [[f"Type only the part before @{world.org1.code}: it is added for you."]] * 2
    assert not User.objects.filter(username__startswith="nia@").exists()


def test_a_login_suggestion_counts_only_this_organizations_names(db, world):
    person = ExonereeFactory(organization=world.org1, legal_name="Nadia Moreno")
    User.objects.create(username=f"nmoreno@{world.org2.code}")
    User.objects.create(username="nmoreno")

    assert staff.username_suggestion(world.org1, "Nadia", "Moreno") == "nmoreno"
    User.objects.create(username=f"nmoreno@{world.org1.code}")
    assert staff.username_suggestion(person.organization, "Nadia", "Moreno") == "nmoreno2"


def test_a_code_given_in_capitals_is_kept_in_small_letters(db):
    """Every username is typed in small letters (services.auth), so its ending is too."""
    organization = OrganizationFactory(name="Quarry Zeal Legal", code="QZL")

    organization.refresh_from_db()
    assert organization.code == "qzl"


def test_a_code_that_differs_only_by_capitals_is_taken(db):
    OrganizationFactory(name="Quarry Zeal Legal", code="qzl")
    other = Organization(name="Quiet Zone Law", code="QZL")

    with pytest.raises(ValidationError) as refused:
        other.full_clean()

    assert "code" in refused.value.message_dict


def test_a_username_in_capitals_takes_its_small_letters_too(login, world):
    """An account named with capitals before codes were kept small (an admin's code, say)
    holds its name in every spelling: its small letters are not given to another account."""
    User.objects.create(username=f"NIA@{world.org1.code.upper()}")
    director = login("director1")

    again = director.post(reverse("staff_create"), {**NEW_STAFF, "username": "nia"})

    assert again.status_code == 400
    assert "is taken" in again.context["form"].errors["username"][0]
    assert staff.username_suggestion(world.org1, "N", "ia") == "nia2"  # nor offered


def test_the_migration_puts_codes_in_small_letters_and_numbers_a_clash(db):
    """Saved by SQL as an older admin left them: "QZL" beside "qzl", and "QZGCIR" alone."""
    taken = OrganizationFactory(name="Quarry Zeal Legal", code="qzl")
    clash = OrganizationFactory(name="Quiet Zone Law", code="x")
    alone = OrganizationFactory(name="Gulf Coast Innocence Reentry", code="y")
    Organization.objects.filter(pk=clash.pk).update(code="QZL")
    Organization.objects.filter(pk=alone.pk).update(code="QZGCIR")

    migration = importlib.import_module("services.migrations.0041_organization_code_small_letters")
    migration.lower_codes(apps, None)

    codes = dict(Organization.objects.filter(pk__in=[taken.pk, clash.pk, alone.pk]).values_list("pk", "code"))
    assert codes == {taken.pk: "qzl", clash.pk: "qzl2", alone.pk: "qzgcir"}
