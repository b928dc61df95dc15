"""Key canaries: are the configured keys the ones the database was written with?

A wrong FIELD_ENCRYPTION_KEYS reads nothing, but, unchecked, it would write rows that no right
key can read; a wrong BLIND_INDEX_KEYS makes the duplicate check find nothing, silently. So
the database keeps, per key id, a known text sealed (or indexed) under that key
(`KeyCanary`), and the keys are checked against it:

- a configured key with a canary must read it back (else: a different key under that id, or
  the canary was altered);
- once any canary of a kind exists, at least one configured key of that kind must read its
  own (else the keys are not this database's: wrong keys, or the wrong database);
- a configured key without a canary gets one only when those two hold (a new key put first,
  as step 1 of a rotation), or when the kind has no canary at all (the very first start).

Checked: by the system check (`manage.py check`, runserver), at a server's start
(reentry/wsgi.py), by `/healthz/`, and before a key's first write in each process (installed
as the guard of services.lib.crypto), so a wrong key never writes.
"""

from __future__ import annotations

import hmac

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from services.lib import crypto
from services.models.keys import KeyCanary

CANARY_TEXT = "Reentry key canary"
CONTEXT = "services.KeyCanary"
PURPOSE = "key-canary"
KINDS = (
    (KeyCanary.Kind.ENCRYPTION, "FIELD_ENCRYPTION_KEYS", crypto.encryption_keys),
    (KeyCanary.Kind.INDEX, "BLIND_INDEX_KEYS", crypto.index_keys),
)


class WrongKeys(ImproperlyConfigured):
    """The configured keys cannot read the key canaries."""


def canary_value(kind: str, key: crypto.Key) -> str:
    if kind == KeyCanary.Kind.ENCRYPTION:
        return crypto.encrypt_with(key, CANARY_TEXT, context=CONTEXT)
    return crypto.blind_index_with(key, PURPOSE, CANARY_TEXT)


def _reads(kind: str, key: crypto.Key, stored: str) -> bool:
    if kind == KeyCanary.Kind.INDEX:
        return hmac.compare_digest(stored, crypto.blind_index_with(key, PURPOSE, CANARY_TEXT))
    try:
        return crypto.decrypt(stored, context=CONTEXT) == CANARY_TEXT
    except crypto.DecryptionError:
        return False


def canaries_exist() -> bool:
    """Whether the canaries' table is there (not before `migrate`)."""
    return KeyCanary._meta.db_table in connection.introspection.table_names()


def key_problems(*, write: bool = False) -> list[str]:
    """What is wrong with the configured keys, one sentence each (never a key, only ids).

    `write`: give each configured key that has no canary one, when its kind's keys are right.
    """
    problems = []
    for kind, setting, configured in KINDS:
        keys = configured()
        stored = dict(KeyCanary.objects.filter(kind=kind).values_list("key_id", "check_value"))
        wrong = [key.id for key in keys if key.id in stored and not _reads(kind, key, stored[key.id])]
        if wrong:
            problems.append(
                f"{setting}: key {', '.join(wrong)} does not read its canary "
                "(a different key under the same id, or the stored canary was altered)."
            )
        elif stored and not any(key.id in stored for key in keys):
            problems.append(
                f"{setting}: none of the configured keys ({', '.join(key.id for key in keys)}) is a key this "
                f"database was written with ({', '.join(sorted(stored))}): wrong keys, or the wrong database."
            )
        elif write and (missing := [key for key in keys if key.id not in stored]):
            with transaction.atomic():
                KeyCanary.objects.bulk_create(
                    [KeyCanary(kind=kind, key_id=key.id, check_value=canary_value(kind, key)) for key in missing],
                    ignore_conflicts=True,  # another process wrote the same key's canary first
                )
    return problems


def keys_verify() -> None:
    """At a start: write the canaries a first start or a new key needs; refuse wrong keys."""
    if canaries_exist() and (problems := key_problems(write=True)):
        raise WrongKeys(" ".join(problems))


def _guard(setting: str, key: crypto.Key) -> bool:
    """services.lib.crypto asks before a key's first write in this process."""
    if not canaries_exist():
        return False  # migrations before the canaries' table exists
    keys_verify()
    return True


def install() -> None:
    crypto.set_key_guard(_guard)
