"""Every bench script still runs: each with `--smoke` (a tiny size, seconds), in its own process.

A change that breaks a bench script (a renamed selector, a page that now answers 302, a
model field the seed does not fill) fails the suite here instead of on the next person who
measures. The scripts run on a temporary SQLite database in a temporary data folder, never
on DATABASE_URL's database, REDIS_URL's Redis or the checkout's var/: the schema is migrated
once, and each script starts from a copy of it. bench/faults.py brings its own PostgreSQL
and Redis and spends most of its time waiting for its timeouts, so it runs beside the others
(started first, awaited last), when this machine has PostgreSQL's server programs and Redis.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TIMEOUT = 180  # seconds per script: a hung server fails the test instead of the suite

# The same run whatever DATABASE_URL says: .ci/run's PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.embedded


def _failure(script: str, stdout: str, stderr: str) -> str:
    return f"bench/{script} --smoke failed:\n--- stdout\n{stdout[-4000:]}\n--- stderr\n{stderr[-4000:]}"


def _command(script: str, *options: str) -> list[str]:
    return [sys.executable, str(BENCH / script), "--smoke", *options]


@pytest.fixture
def bench_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a smoke run: the suite's keys, a data folder of its own, SQLite."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_QUEUE", "PYTEST_XDIST_WORKER"}}
    env.update(
        REENTRY_VAR_DIR=str(tmp_path / "var"),
        BENCH_DIR=str(tmp_path / "var" / "bench"),
        DATABASE_URL="",  # SQLite in the data folder
        DJANGO_SETTINGS_MODULE="reentry.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _faults_can_run() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))) and shutil.which("redis-server") is not None


def test_every_bench_script_runs_with_smoke(bench_env: dict[str, str], tmp_path: Path) -> None:
    var = Path(bench_env["REENTRY_VAR_DIR"])
    faults = None
    if _faults_can_run():
        faults = subprocess.Popen(  # noqa: S603
            _command("faults.py"), cwd=ROOT, env=bench_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    try:
        # One migration for all: each script's database starts as a copy of it.
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=bench_env, check=True, timeout=TIMEOUT
        )
        template = tmp_path / "migrated.sqlite3"
        shutil.copy(var / "db.sqlite3", template)

        def run(script: str, *options: str, fresh: str | None = None) -> str:
            """Run a script's --smoke; `fresh`: the database file to start again from the migrated copy."""
            if fresh:
                shutil.copy(template, var / fresh)
            result = subprocess.run(  # noqa: S603
                _command(script, *options), cwd=ROOT, env=bench_env, capture_output=True, text=True, timeout=TIMEOUT
            )
            assert result.returncode == 0, _failure(script, result.stdout, result.stderr)
            return result.stdout

        # seed.py fills the database that the scripts measuring its network then read
        # (db.sqlite3); the others build their own in Django's test database (test.sqlite3).
        assert "bench accounts in" in run("seed.py", fresh="db.sqlite3")
        saved = tmp_path / "pages.json"
        assert "Targets:" in run("pages.py", "--save", str(saved))
        # Two servers on one database (its cache table is the figures' cache without REDIS_URL),
        # printed beside the first run as a run on a larger network is (--against).
        second = run("pages.py", "--servers", "2", "--against", str(saved))
        assert "cache coherent across servers: yes" in second
        assert "p95 growth ≤ 1.3×" in second
        assert "My plan" in run("costs.py")
        assert "round 1: counted 1 time(s)" in run("stampede.py")  # the shared cache's files lock
        assert "the audit chain verifies: met" in run("writes.py")
        assert "the page (signed in, test client)" in run("outcomes.py", fresh="test.sqlite3")
        assert "claim+queue" in run("sweep.py", fresh="test.sqlite3")
        assert "People list" in run("crypto.py", fresh="test.sqlite3")
        if faults is not None:
            stdout, stderr = faults.communicate(timeout=TIMEOUT)
            assert faults.returncode == 0, _failure("faults.py", stdout, stderr)
            assert "lost:" in stdout, stdout
    finally:
        if faults is not None and faults.poll() is None:
            faults.terminate()  # it stops what it started on SIGTERM
            faults.wait(timeout=60)
