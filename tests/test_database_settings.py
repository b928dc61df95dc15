"""The database connection as settings.py makes it from the environment."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.conftest import settings_in_a_fresh_process


def database_settings(**environment: str) -> dict:
    kept = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_JIT"}}
    return settings_in_a_fresh_process("DATABASES['default']", kept | environment)


def test_postgresql_connections_run_without_jit_unless_asked():
    url = "postgres://app@db.example:5432/reentry"

    assert database_settings(DATABASE_URL=url)["OPTIONS"]["options"] == "-c jit=off"
    assert "options" not in database_settings(DATABASE_URL=url, DB_JIT="1").get("OPTIONS", {})
    assert "options" not in database_settings()["OPTIONS"]  # SQLite: nothing of the kind


@pytest.mark.django_db
def test_the_suites_postgresql_connection_has_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
