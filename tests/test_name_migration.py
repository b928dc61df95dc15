"""Migration 0044: the folded names a search compares are filled for the records already there,
and the search finds them by any accent or case at once. Runs on whichever database the suite
uses (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import pytest

from services.models.people import Exoneree, name_search
from tests.migration_steps import back_at
from tests.test_encryption import migrate

BEFORE = ("services", "0044_license_us_spelling")
AFTER = ("services", "0045_folded_names")

# (legal name, preferred name) as stored before the folded names, and what each folds to.
PEOPLE = {
    ("Délia Ruiz", ""): ("delia ruiz", ""),
    ("José  Muñoz", "Pepe"): ("jose munoz", "pepe"),
    ("Seán O'Neil-Barry", "Séanie"): ("sean oneilbarry", "seanie"),
}


@pytest.mark.django_db(transaction=True)
def test_the_migration_folds_every_existing_name() -> None:
    with back_at(BEFORE) as (executor, old):
        org = old.get_model("services", "Organization").objects.create(name="Before Folding")
        person = old.get_model("services", "Exoneree")
        made = {
            person.objects.create(organization=org, legal_name=legal, preferred_name=preferred).pk: folded
            for (legal, preferred), folded in PEOPLE.items()
        }
        migrate(executor, [AFTER])
        new = executor.loader.project_state([AFTER]).apps.get_model("services", "Exoneree")
        stored = new.objects.filter(pk__in=made).values_list("pk", "legal_name_folded", "preferred_name_folded")
        assert {pk: (legal, preferred) for pk, legal, preferred in stored} == made
    found = Exoneree.objects.filter(name_search("delia")).values_list("legal_name", flat=True)
    assert list(found) == ["Délia Ruiz"]
    assert Exoneree.objects.filter(name_search("MUNOZ PEPE")).count() == 1
