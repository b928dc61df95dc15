"""The access log's end: sealed checkpoints outside the table show its tail cut or the table
emptied, PostgreSQL refuses TRUNCATE, and the app's role may only append to the log."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, ProgrammingError, connection, transaction

from services import audit
from services.models.audit import AuditCheckpoint, AuditEvent
from services.tasks import audit_checkpoint
from tests.test_audit import make_entries, raw

Action = AuditEvent.Action


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_beat_writes_a_sealed_checkpoint_to_the_table_and_the_log_output(login, world, caplog):
    entries = make_entries(login, world)

    with caplog.at_level(logging.INFO, logger="services.audit_anchor"):
        assert audit_checkpoint() == len(entries)
    assert audit_checkpoint() is None  # nothing new: no second checkpoint

    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.count, checkpoint.last_id, checkpoint.head) == (len(entries), entries[-1].pk, entries[-1].hash)
    assert f"count={len(entries)} last={entries[-1].pk} head={entries[-1].hash}" in caplog.text
    assert checkpoint.mac in caplog.text
    assert "audit-checkpoint" in settings.CELERY_BEAT_SCHEDULE
    assert "It holds the checkpoint of" in verify()


def test_the_newest_entries_removed_after_a_checkpoint_are_reported(login, world):
    entries = make_entries(login, world)
    audit_checkpoint()

    raw("DELETE FROM services_auditevent WHERE id >= %s", [entries[3].pk])

    cut = f"truncated: .* counted {len(entries)} entries ending with .*entry {entries[-1].pk}.*gone; 3 entries remain"
    with pytest.raises(CommandError, match=cut):
        verify()


def test_an_emptied_table_is_reported(login, world):
    make_entries(login, world)
    audit_checkpoint()

    raw("DELETE FROM services_auditevent", [])

    with pytest.raises(CommandError, match="truncated: .* 0 entries remain"):
        verify()


def test_with_the_checkpoints_gone_too_the_line_from_the_log_output_still_tells(login, world):
    entries = make_entries(login, world)
    count, head = len(entries), entries[-1].hash
    raw("DELETE FROM services_auditevent WHERE id >= %s", [entries[2].pk])

    assert "intact" in verify()  # what is left is a valid chain
    with pytest.raises(CommandError, match=f"truncated: the checkpoint given counted {count} entries"):
        verify("--count", str(count), "--head", head)


def test_a_checkpoint_given_on_the_command_line_that_the_log_holds_passes(login, world):
    entries = make_entries(login, world)

    assert "intact" in verify("--count", str(len(entries)), "--head", entries[-1].hash)
    with pytest.raises(CommandError, match=f"lost entries: the checkpoint given counted {len(entries) + 1} "):
        verify("--count", str(len(entries) + 1), "--head", entries[-1].hash)


def test_a_forged_checkpoint_is_reported(login, world):
    entries = make_entries(login, world)
    audit_checkpoint()
    raw("DELETE FROM services_auditevent WHERE id >= %s", [entries[3].pk])
    checkpoint = AuditCheckpoint.objects.get()

    # Whoever can write the database, but has not the anchor's key, moves the checkpoint back.
    raw(
        "UPDATE services_auditcheckpoint SET count = 3, last_id = %s, head = %s WHERE id = %s",
        [entries[2].pk, entries[2].hash, checkpoint.pk],
    )

    with pytest.raises(CommandError, match="does not carry a valid seal"):
        verify()


postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers and roles are PostgreSQL's")


@postgresql
@pytest.mark.parametrize("table", ["services_auditevent", "services_auditcheckpoint", "services_keycanary"])
def test_postgresql_refuses_truncate_even_to_the_owner(login, world, table):
    make_entries(login, world, n=1)

    with pytest.raises(DatabaseError, match=f"{table} is append-only: TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts, checked now
            cursor.execute(f"TRUNCATE {table} CASCADE")

    assert AuditEvent.objects.exists()


@postgresql
def test_the_app_role_may_append_to_the_log_and_nothing_more(world):
    with connection.cursor() as cursor:  # rolled back with the test, role and all
        cursor.execute("CREATE ROLE reentry_app_test NOLOGIN NOSUPERUSER")
    call_command("grant_app_role", "reentry_app_test", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE reentry_app_test")
    try:
        entry = audit.record(Action.SIGNED_IN, actor=world.caseworker1)
        assert AuditEvent.objects.filter(pk=entry.pk).exists()
        for statement in (
            "UPDATE services_auditevent SET username = 'x'",
            "DELETE FROM services_auditevent",
            "TRUNCATE services_auditevent CASCADE",
            "DELETE FROM services_auditcheckpoint",
            "UPDATE services_keycanary SET check_value = ''",
        ):
            with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@postgresql
def test_the_app_role_must_not_be_a_superuser_or_an_owner(world):
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("grant_app_role", "postgres", stdout=io.StringIO())
