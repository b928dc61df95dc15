"""Key rotation: `rotate_encryption_keys` moves every value to the newest key, survives being
stopped at any point, and afterwards the old key can go."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection

from services.fields import BlindIndexField
from services.lib import crypto
from services.management.commands.rotate_encryption_keys import (
    Command,
    Progress,
    blind_index_fields,
    encrypted_fields,
)
from services.models.people import Exoneree, person_search
from services.selectors.duplicates import possible_duplicates
from tests.factories import ExonereeFactory

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


def test_blind_index_rotation_keeps_the_duplicate_check_and_the_phone_search_working(settings, world):
    marcus = world.marcus.exoneree
    marcus.phone = "(312) 555-0150"
    marcus.save(update_fields=["phone"])  # every blind index has a row to rotate
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
    assert list(Exoneree.objects.filter(person_search("+1 312 555 0150"))) == [marcus]


def rotate(*args: str, **options) -> list[str]:
    out = io.StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out, **options)
    return out.getvalue().splitlines()


def test_a_rotation_one_row_at_a_time_says_what_it_does_and_a_second_run_finds_nothing(
    settings, old_and_new_keys, world
):
    """The lines an operator reads in the log; the arguments as typed on the command line."""
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]
    ExonereeFactory(organization=world.org1, legal_name="Nothing To Index", ssn="", date_of_birth=None)
    count = len(raw_tokens())
    newest = crypto.encryption_keys()[0].id

    lines = rotate("--batch-size", "1", "--blind-index")

    assert lines[0] == f"{count} encrypted values to move to key {newest}, in batches of 1."
    values = [line for line in lines if line.startswith("values [")]
    assert len(values) == 11  # a line per tenth
    assert values[-1] == f"values [{'#' * 30}] {count}/{count}"
    for field in ("ssn_index", "name_dob_index"):
        at = lines.index(f"3 blind indexes in services.Exoneree.{field} to recompute.")  # the world's three people
        assert lines[at + 1 : at + 4] == [f"indexes [{'#' * n}{'.' * (30 - n)}] {n // 10}/3" for n in (10, 20, 30)]
    assert lines[-1] == "Done: every encrypted value is under the newest key."
    moved = raw_tokens()
    assert all(token.startswith(crypto.token_prefix()) for token in moved)

    assert rotate()[0] == f"0 encrypted values to move to key {newest}, in batches of 500."
    assert raw_tokens() == moved  # nothing written twice


def test_a_batch_size_below_one_is_refused(old_and_new_keys):
    before = raw_tokens()

    with pytest.raises(CommandError) as refused:
        rotate("--batch-size", "0")
    assert str(refused.value) == "--batch-size must be at least 1."
    assert raw_tokens() == before


def test_the_help_tells_the_real_default_and_every_option():
    parser = Command().create_parser("manage.py", "rotate_encryption_keys")
    default = parser.get_default("batch_size")
    text = " ".join(parser.format_help().split())

    assert default == 500
    assert f"--batch-size BATCH_SIZE rows per transaction (default {default})" in text
    assert "--blind-index also recompute blind indexes under the newest index key" in text


def test_every_value_that_cannot_be_read_is_named_once_on_a_line_of_its_own(settings, old_and_new_keys, world):
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]
    people = (world.marcus.exoneree, world.thomas.exoneree)
    retired = crypto.Key(crypto.key_id(b"r" * 32), b"r" * 32)
    for person in people:  # under a key that is gone
        set_raw_ssn(person.pk, crypto.encrypt_with(retired, "900111222", context="services.Exoneree.ssn"))

    with pytest.raises(CommandError) as failure:
        rotate("--batch-size", "1", "--blind-index")

    lines = str(failure.value).splitlines()
    assert lines[0] == "4 value(s) could not be read and were left as they are:"
    for person in people:  # its encrypted SSN, then its index that needs the SSN
        assert sum(f"services.Exoneree.ssn row {person.pk}: " in line for line in lines) == 1
        assert sum(f"services.Exoneree.ssn_index row {person.pk}: " in line for line in lines) == 1
    assert len(lines) == 5
    assert all(line.startswith("services.Exoneree.ssn") and retired.id in line for line in lines[1:])


def test_an_index_that_cannot_be_recomputed_does_not_stop_the_rest_of_its_batch(settings, world):
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]
    first = min((world.marcus.exoneree, world.thomas.exoneree, world.anita.exoneree), key=lambda p: p.pk)
    set_raw_ssn(first.pk, "enc1$0badc0de$AAAA")

    with pytest.raises(CommandError, match=f"services.Exoneree.ssn_index row {first.pk}: "):
        rotate("--blind-index")

    others = Exoneree.objects.exclude(pk=first.pk).values_list("ssn_index", flat=True)
    assert len(others) == 2 and all(index.startswith(crypto.index_prefix()) for index in others)


def test_an_index_recomputed_while_the_app_changes_the_person_keeps_the_apps_value(settings, world, monkeypatch):
    """Each index is written with a compare-and-set: an SSN corrected in the app between the
    command's read and its write keeps the index of the corrected SSN."""
    settings.BLIND_INDEX_KEYS = [crypto.generate_key(), *settings.BLIND_INDEX_KEYS]
    marcus = world.marcus.exoneree
    real_compute = BlindIndexField.compute
    edited = []

    def compute_while_the_app_edits(field, instance):
        if field.name == "ssn_index" and instance.pk == marcus.pk and not edited:
            edited.append(True)
            person = Exoneree.objects.get(pk=marcus.pk)
            person.ssn = "900765432"
            person.save()
        return real_compute(field, instance)

    monkeypatch.setattr(BlindIndexField, "compute", compute_while_the_app_edits)

    rotate("--blind-index")

    assert edited
    stored = Exoneree.objects.values_list("ssn_index", flat=True).get(pk=marcus.pk)
    assert stored == crypto.blind_index("ssn", "900765432")


def set_raw_ssn(pk: int, value: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Exoneree._meta.db_table)} SET {quote('ssn')} = %s WHERE id = %s",  # noqa: S608
            [value, pk],
        )


# --- the progress an operator watches --------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_the_progress_is_a_line_per_tenth(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    out = io.StringIO()
    progress = Progress(OutputWrapper(out), 20, "values")
    for _ in range(20):
        progress.advance(1)
    progress.finish()

    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == f"values [#{'.' * 29}] 1/20"
    assert lines[5] == f"values [{'#' * 15}{'.' * 15}] 10/20"
    assert lines[-1] == f"values [{'#' * 30}] 20/20"

    one = io.StringIO()
    Progress(OutputWrapper(one), 1, "indexes").advance(1)
    assert one.getvalue() == f"indexes [{'#' * 30}] 1/1\n"

    ten = io.StringIO()
    progress = Progress(OutputWrapper(ten), 10, "values")
    for _ in range(10):
        progress.advance(1)
    assert [line.split()[-1] for line in ten.getvalue().splitlines()] == [f"{n}/10" for n in range(1, 11)]


def test_on_a_terminal_the_progress_is_one_line_redrawn_in_place(monkeypatch):
    monkeypatch.setattr(sys, "stdout", Terminal())
    out = io.StringIO()
    progress = Progress(OutputWrapper(out), 3, "values")
    for _ in range(3):
        progress.advance(1)
    progress.finish()

    bars = [f"\rvalues [{'#' * n}{'.' * (30 - n)}] {n // 10}/3" for n in (10, 20, 30)]
    assert out.getvalue() == "".join(bars) + "\n"


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


def demo_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DEBUG="1", REENTRY_VAR_DIR=str(folder), DJANGO_SETTINGS_MODULE="reentry.settings")
    return env


@pytest.fixture(scope="module")
def demo_database_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make run`'s first steps (migrate, seed_demo) on a SQLite file, once for the module."""
    folder = tmp_path_factory.mktemp("demo")
    env = demo_env(folder)
    subprocess.run([*MANAGE, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603
    subprocess.run(  # noqa: S603
        [*MANAGE, "seed_demo", "--password", "rotation-test-pw"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    return folder


@pytest.fixture
def demo_database(demo_database_made: Path, tmp_path: Path) -> dict[str, str]:
    """A copy of that data folder of the test's own (tmp_path); the environment to use it."""
    shutil.copytree(demo_database_made, tmp_path, dirs_exist_ok=True)
    return demo_env(tmp_path)


@pytest.mark.embedded  # the demo's SQLite file, whatever DATABASE_URL says
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


@pytest.mark.embedded
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
