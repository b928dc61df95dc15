"""Key rotation: `rotate_encryption_keys` moves every value to the newest key, survives being
stopped at any point, and afterwards the old key can go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from services.lib import crypto
from services.management.commands.rotate_encryption_keys import blind_index_fields, encrypted_fields
from services.models.people import Exoneree
from services.selectors.records import possible_duplicates

ROOT = Path(__file__).resolve().parent.parent
NEW_KEY = crypto.generate_key()


def every_value() -> dict[str, object]:
    """Each encrypted value in the database, read through the ORM, by model.field:pk."""
    values = {}
    for model, field in encrypted_fields():
        for pk, value in model._default_manager.values_list("pk", field.name):
            values[f"{field.encryption_context}:{pk}"] = value
    return values


def raw_tokens() -> list[str]:
    tokens = []
    quote = connection.ops.quote_name
    for model, field in encrypted_fields():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote(field.column)} FROM {quote(model._meta.db_table)}")  # noqa: S608
            tokens += [value for (value,) in cursor.fetchall() if value]
    return tokens


@pytest.fixture
def old_and_new_keys(settings, world):
    """The world's rows are under the test key; a new key is put first, as step 1 of a rotation."""
    old = settings.FIELD_ENCRYPTION_KEYS
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *old]
    return old


def test_rotation_stopped_half_way_then_run_again_reads_with_only_the_new_key(settings, old_and_new_keys, monkeypatch):
    before = every_value()
    assert len(before) > 40
    new_prefix = crypto.token_prefix()
    real_encrypt = crypto.encrypt
    calls = 0

    def encrypt_then_stop(plaintext: str, *, context: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 10:  # in the middle of the fourth batch of three
            raise KeyboardInterrupt
        return real_encrypt(plaintext, context=context)

    monkeypatch.setattr(crypto, "encrypt", encrypt_then_stop)
    with pytest.raises(KeyboardInterrupt):
        call_command("rotate_encryption_keys", batch_size=3, stdout=open(os.devnull, "w"))  # noqa: SIM115
    monkeypatch.setattr(crypto, "encrypt", real_encrypt)

    half_way = raw_tokens()
    moved = sum(token.startswith(new_prefix) for token in half_way)
    assert moved == 9  # three whole batches; the interrupted one left nothing behind
    assert every_value() == before  # with both keys, everything reads mid-way

    call_command("rotate_encryption_keys", batch_size=3, stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert all(token.startswith(new_prefix) for token in raw_tokens())
    assert every_value() == before


def test_a_value_that_cannot_be_read_is_named_and_left_alone(settings, old_and_new_keys, world, capsys):
    marcus = world.marcus.exoneree
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Exoneree._meta.db_table)} SET {quote('address')} = %s WHERE id = %s",  # noqa: S608
            ["enc1$0badc0de$AAAA", marcus.pk],
        )

    with pytest.raises(CommandError) as failure:
        call_command("rotate_encryption_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert f"services.Exoneree.address row {marcus.pk}" in str(failure.value)
    assert "0badc0de" in str(failure.value)  # the missing key's id
    others = [token for token in raw_tokens() if token != "enc1$0badc0de$AAAA"]
    assert all(token.startswith(crypto.token_prefix()) for token in others)


def test_blind_index_rotation_keeps_the_duplicate_check_working(settings, world):
    marcus = world.marcus.exoneree
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]
    candidate = Exoneree(legal_name="Someone Else", ssn=marcus.ssn)

    # Mid-rotation the old indexes are still found.
    assert possible_duplicates(world.caseworker1, candidate).visible == [marcus]

    call_command("rotate_encryption_keys", blind_index=True, stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.BLIND_INDEX_KEYS = settings.BLIND_INDEX_KEYS[:1]
    for model, field in blind_index_fields():
        values = model._default_manager.exclude(**{field.attname: ""}).values_list(field.attname, flat=True)
        assert values and all(value.startswith(crypto.index_prefix()) for value in values)
    assert possible_duplicates(world.caseworker1, candidate).visible == [marcus]


# --- a real kill -9, on a database file that two processes share ---------------------------------

READ_ALL = """
import json, django
django.setup()
from services.management.commands.rotate_encryption_keys import encrypted_fields
print(json.dumps({f"{f.encryption_context}:{pk}": str(v) for m, f in encrypted_fields()
                  for pk, v in m._default_manager.values_list("pk", f.name)}))
"""
COUNT_MOVED = """
import json, django
django.setup()
from services.management.commands.rotate_encryption_keys import Command, encrypted_fields
left = sum(Command().remaining(m, f) for m, f in encrypted_fields())
print(left)
"""
SLOW_ROTATION = """
import time, django
django.setup()
from django.core.management import call_command
from services.lib import crypto
real = crypto.encrypt
def slow(plaintext, *, context):
    time.sleep(0.02)
    return real(plaintext, context=context)
crypto.encrypt = slow
call_command("rotate_encryption_keys", batch_size=5)
"""


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )


MANAGE = [sys.executable, "manage.py"]


@pytest.fixture
def demo_database(tmp_path) -> dict[str, str]:
    """`make run`'s first steps (migrate, seed_demo) on a SQLite file; the environment to use it."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DEBUG="1", REENTRY_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="reentry.settings")
    subprocess.run([*MANAGE, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*MANAGE, "seed_demo", "--password", "rotation-test-pw"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    return env


def test_no_demo_ssn_or_birth_date_is_readable_in_the_database_files(demo_database, tmp_path):
    values = json.loads(run(READ_ALL, demo_database).stdout)
    ssns = [v for k, v in values.items() if k.startswith("services.Exoneree.ssn:") and v]
    births = [v for k, v in values.items() if k.startswith("services.Exoneree.date_of_birth:") and v != "None"]
    assert len(ssns) == len(births) == 7  # the demo's seven people
    addresses = [v for k, v in values.items() if k.startswith("services.Exoneree.address:") and v]
    files = b"".join(path.read_bytes() for path in tmp_path.glob("db.sqlite3*"))
    assert files
    for secret in [*ssns, *(f"{s[:3]}-{s[3:5]}-{s[5:]}" for s in ssns), *births, *addresses]:
        assert secret.encode() not in files


def test_rotation_killed_with_sigkill_then_run_again(demo_database):
    old_key = os.environ["FIELD_ENCRYPTION_KEYS"]
    env = dict(demo_database)
    before = json.loads(run(READ_ALL, env).stdout)

    env["FIELD_ENCRYPTION_KEYS"] = f"{NEW_KEY},{old_key}"
    rotation = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SLOW_ROTATION], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    progress_lines = 0
    deadline = time.monotonic() + 60
    while progress_lines < 3 and time.monotonic() < deadline:  # a few batches committed
        if rotation.stdout.readline().startswith("values ["):
            progress_lines += 1
    rotation.send_signal(signal.SIGKILL)
    rotation.wait()
    assert rotation.returncode == -signal.SIGKILL
    left = int(run(COUNT_MOVED, env).stdout)
    assert 0 < left < len(before)  # killed half-way

    subprocess.run([*MANAGE, "rotate_encryption_keys"], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)  # noqa: S603

    env["FIELD_ENCRYPTION_KEYS"] = NEW_KEY
    assert json.loads(run(READ_ALL, env).stdout) == before
