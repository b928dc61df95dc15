"""Migration 0053: the blind index of each phone number is filled for the records already
there, from the decrypted number, and the People search finds them by it at once. Runs on
whichever database the suite uses (SQLite, or PostgreSQL with DATABASE_URL). The backfill's
function on its own: tests/test_phone_search.py."""

from __future__ import annotations

import pytest

from services.models.people import Exoneree, person_search
from tests.migration_steps import back_at
from tests.test_encryption import migrate

BEFORE = ("services", "0052_resource_hours_es")
AFTER = ("services", "0053_phone_index")

# The numbers as stored before the index, and whether each gets one.
PHONES = {
    "Pat Plus": ("+1 (312) 555-0150", True),
    "Dee Dashes": ("312-555-0177 ext. 4", True),
    "Cal Crisis": ("988", False),
    "Nan Nobody": ("", False),
}


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_every_existing_phone_number() -> None:
    with back_at(BEFORE) as (executor, old):
        org = old.get_model("services", "Organization").objects.create(name="Before Phone Index")
        person = old.get_model("services", "Exoneree")
        for name, (phone, _) in PHONES.items():
            person.objects.create(organization=org, legal_name=name, phone=phone)
        migrate(executor, [AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("services", "Exoneree")
        indexes = dict(
            new.objects.filter(organization__name="Before Phone Index").values_list("legal_name", "phone_index")
        )
        assert {name: index.startswith("bidx1$") for name, index in indexes.items()} == {
            name: indexed for name, (_, indexed) in PHONES.items()
        }
        assert not any(index for name, index in indexes.items() if not PHONES[name][1])
    assert list(Exoneree.objects.filter(person_search("312 555 0150")).values_list("legal_name", flat=True)) == [
        "Pat Plus"
    ]
    assert list(Exoneree.objects.filter(person_search("3125550177")).values_list("legal_name", flat=True)) == [
        "Dee Dashes"
    ]
