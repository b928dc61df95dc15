"""The database connection as settings.py makes it from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_settings(**environment: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_JIT"}} | environment
    code = (
        "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    setup = "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'reentry.settings'"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"{setup}; {code}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


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
