"""Key canaries: keys that are not this database's are refused before they read or write.

A wrong FIELD_ENCRYPTION_KEYS used to pass `check` and `/healthz/`, fail every read and let
every write through (rows no right key could read); a wrong BLIND_INDEX_KEYS made the duplicate
check find nothing, silently.
"""

from __future__ import annotations

import importlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import transaction

from services import keyring
from services.lib import crypto
from services.models.keys import KeyCanary
from services.models.people import Exoneree
from services.selectors.duplicates import possible_duplicates
from tests.test_audit import raw

HEALTHZ = "/healthz/"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def canaries(db) -> None:
    """The database has met the test keys (a start, or a first write, wrote their canaries)."""
    keyring.keys_verify()


def test_the_first_start_writes_a_canary_per_key(db):
    assert not KeyCanary.objects.exists()

    keyring.keys_verify()

    assert set(KeyCanary.objects.values_list("kind", "key_id")) == {
        (KeyCanary.Kind.ENCRYPTION, crypto.encryption_keys()[0].id),
        (KeyCanary.Kind.INDEX, crypto.index_keys()[0].id),
    }
    call_command("check", stdout=io.StringIO())


def test_a_wrong_encryption_key_fails_check_healthz_and_every_write(settings, client, canaries, world):
    right = settings.FIELD_ENCRYPTION_KEYS
    marcus = world.marcus.exoneree
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]

    with pytest.raises(SystemCheckError, match=r"reentry\.E010.*FIELD_ENCRYPTION_KEYS: none of the configured keys"):
        call_command("check", deploy=True)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert response.json()["keys"] == {"ok": False, "error": "WrongKeys"}
    with pytest.raises(keyring.WrongKeys), transaction.atomic():
        Exoneree.objects.filter(pk=marcus.pk).update(address="Written with a wrong key")
    with pytest.raises(keyring.WrongKeys):
        importlib.reload(importlib.import_module("reentry.wsgi"))  # gunicorn's start

    settings.FIELD_ENCRYPTION_KEYS = right
    assert Exoneree.objects.get(pk=marcus.pk).address == "12 Marcus Street, Houston TX"  # nothing was written


def test_a_wrong_blind_index_key_refuses_the_duplicate_check_instead_of_finding_nothing(settings, canaries, world):
    marcus = world.marcus.exoneree
    settings.BLIND_INDEX_KEYS = [crypto.generate_key()]

    with pytest.raises(SystemCheckError, match=r"BLIND_INDEX_KEYS: none of the configured keys"):
        call_command("check")
    with pytest.raises(keyring.WrongKeys):
        possible_duplicates(world.caseworker1, Exoneree(legal_name="Someone Else", ssn=marcus.ssn))


def test_a_canary_that_no_longer_reads_under_its_key_id_is_an_error(canaries):
    canary = KeyCanary.objects.get(kind=KeyCanary.Kind.INDEX)
    raw("UPDATE services_keycanary SET check_value = %s WHERE id = %s", [canary.check_value[:-4] + "0000", canary.pk])

    assert keyring.key_problems() == [
        f"BLIND_INDEX_KEYS: key {canary.key_id} does not read its canary "
        "(a different key under the same id, or the stored canary was altered)."
    ]


def test_rotation_gives_the_new_key_its_own_canary_and_the_old_key_can_go(settings, canaries, world):
    old = settings.FIELD_ENCRYPTION_KEYS
    new = crypto.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [new, *old]

    call_command("rotate_encryption_keys", stdout=io.StringIO())

    new_id = crypto.encryption_keys()[0].id
    assert KeyCanary.objects.filter(kind=KeyCanary.Kind.ENCRYPTION, key_id=new_id).exists()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert keyring.key_problems() == []
    call_command("check", stdout=io.StringIO())
    assert Exoneree.objects.get(pk=world.marcus.exoneree.pk).address == "12 Marcus Street, Houston TX"


def test_rotation_refuses_keys_that_are_not_this_databases(settings, canaries, world):
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key(), crypto.generate_key()]

    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS: none of the configured keys"):
        call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert KeyCanary.objects.filter(kind=KeyCanary.Kind.ENCRYPTION).count() == 1


def test_a_key_is_asked_about_once_per_process_under_its_own_setting(db):
    """The guard (keyring's at start-up) is asked before a key's first write; once it proved
    the key, not again. "Nothing to prove it against yet" (False) asks again next time."""
    asked: list[tuple[str, str]] = []
    answer = {"FIELD_ENCRYPTION_KEYS": True, "BLIND_INDEX_KEYS": False}

    def guard(setting: str, key: crypto.Key) -> bool:
        asked.append((setting, key.id))
        return answer[setting]

    crypto.set_key_guard(guard)
    try:
        crypto.encrypt("900123456", context="c")
        crypto.encrypt("900123457", context="c")
        crypto.blind_index("ssn", "900123456")
        crypto.blind_index("ssn", "900123457")
    finally:
        keyring.install()  # back to the app's own guard

    encryption, index = crypto.encryption_keys()[0].id, crypto.index_keys()[0].id
    assert asked == [("FIELD_ENCRYPTION_KEYS", encryption), ("BLIND_INDEX_KEYS", index), ("BLIND_INDEX_KEYS", index)]


def test_the_start_installs_the_guard_that_refuses_a_wrong_keys_writes(settings, canaries):
    crypto.set_key_guard(None)
    keyring.install()  # as the app's ready() does
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]

    with pytest.raises(keyring.WrongKeys):
        crypto.encrypt("900123456", context="c")
