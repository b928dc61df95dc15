"""The database connection as settings.py makes it from the environment."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.conftest import settings_in_a_fresh_process
from tests.test_setup import production_env


def database_settings(**environment: str) -> dict:
    left_out = {"DATABASE_URL", "DB_JIT", "DB_COMMIT_WITHOUT_FLUSH"}
    kept = {k: v for k, v in os.environ.items() if k not in left_out}
    return settings_in_a_fresh_process("DATABASES['default']", kept | environment)


def test_postgresql_connections_run_without_jit_unless_asked():
    url = "postgres://app@db.example:5432/reentry"

    assert database_settings(DATABASE_URL=url)["OPTIONS"]["options"] == "-c jit=off"
    assert "options" not in database_settings(DATABASE_URL=url, DB_JIT="1").get("OPTIONS", {})
    assert "options" not in database_settings()["OPTIONS"]  # SQLite: nothing of the kind


def test_commits_skip_the_flush_only_when_the_suite_asks_and_never_without_debug():
    url = "postgres://app@db.example:5432/reentry"
    asked = {"DB_COMMIT_WITHOUT_FLUSH": "1", "DEBUG": "1"}

    assert database_settings(DATABASE_URL=url, **asked)["OPTIONS"]["options"] == "-c jit=off -c synchronous_commit=off"
    assert database_settings(**asked)["OPTIONS"]["init_command"] == "PRAGMA synchronous=OFF"
    assert database_settings(DATABASE_URL=url, DEBUG="1")["OPTIONS"]["options"] == "-c jit=off"
    assert "init_command" not in database_settings(DEBUG="1")["OPTIONS"]

    production = production_env(DB_COMMIT_WITHOUT_FLUSH="1")  # asked, but production ignores it
    assert settings_in_a_fresh_process("DATABASES['default']['OPTIONS']", production) == {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    with_postgresql = production | {"DATABASE_URL": url}
    assert settings_in_a_fresh_process("DATABASES['default']['OPTIONS']", with_postgresql) == {"options": "-c jit=off"}


@pytest.mark.django_db
def test_the_suites_connection_commits_without_waiting_for_the_disk():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "off"
        else:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_the_suites_postgresql_connection_has_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
