"""Set-up and operations: the health probe, the settings' production guards, the bench header."""

from __future__ import annotations

import json
import os
import runpy
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services import tasks
from services.choices import ReminderKind, ReminderStatus
from services.models.notifications import Reminder

ROOT = Path(__file__).resolve().parent.parent
HEALTHZ = "/healthz/"
# An unreachable broker whose URL carries a password that must never be echoed back.
DEAD_BROKER = "redis://:s3cret-broker-pass@127.0.0.1:1/0"


# --- /healthz/ ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_ok_for_anonymous(client):
    response = client.get(HEALTHZ)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": connections["default"].vendor}
    assert body["broker"]["ok"] is True
    assert body["broker"]["transport"] in {"redis", "filesystem"}
    assert "error" not in body["broker"]


@pytest.mark.django_db
def test_healthz_answers_head(client):
    assert client.head(HEALTHZ).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_rejects_unsafe_methods(client, method):
    assert getattr(client, method)(HEALTHZ).status_code == 405


@pytest.mark.django_db
def test_healthz_reports_broker_down_without_leaking_url(client, monkeypatch):
    # Celery reads this variable on every connection, so it redirects the broker for this test only.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", DEAD_BROKER)

    response = client.get(HEALTHZ)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["transport"] == "redis"
    assert body["broker"]["error"]  # the exception class, e.g. "OperationalError"
    text = response.content.decode()
    assert "s3cret-broker-pass" not in text
    assert "redis://" not in text
    assert "127.0.0.1" not in text


@pytest.mark.django_db
def test_healthz_reports_database_down_without_leaking_details(client):
    failure = OperationalError('connection to "db" failed: password=hunter2')
    with mock.patch.object(connections["default"], "cursor", side_effect=failure):
        response = client.get(HEALTHZ)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is False
    assert body["database"]["vendor"] == connections["default"].vendor
    assert body["database"]["error"] == "OperationalError"
    assert body["broker"]["ok"] is True
    assert "hunter2" not in response.content.decode()


# --- /healthz/: reminder liveness ----------------------------------------------------------------

NOW = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)


def due_reminder(world, send_at: datetime) -> Reminder:
    return Reminder.objects.create(
        organization=world.org1,
        kind=ReminderKind.DUE,
        key=f"due:test:{send_at.isoformat()}",
        recipient=world.caseworker1,
        send_at=send_at,
    )


def test_healthz_reports_the_last_sweep_and_the_oldest_unsent_reminder(client, world, time_machine):
    time_machine.move_to(NOW, tick=False)
    tasks.sweep_reminders()
    due_reminder(world, NOW + timedelta(minutes=1))  # claimed by no sweep yet
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)

    body = client.get(HEALTHZ).json()

    assert body["status"] == "ok"
    assert body["reminders"] == {
        "ok": True,
        "last_sweep": NOW.isoformat(),
        "seconds_since_last_sweep": 300,
        "oldest_due_unsent": (NOW + timedelta(minutes=1)).isoformat(),
        "seconds_waiting": 240,
    }


def test_healthz_fails_when_no_sweep_has_run_for_a_while(client, world, time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    tasks.sweep_reminders()
    time_machine.move_to(NOW + timedelta(seconds=settings.REMINDER_SWEEP_LATE_SECONDS + 1), tick=False)

    response = client.get(HEALTHZ)

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["reminders"]["ok"] is False
    assert response.json()["database"]["ok"] is True


def test_healthz_fails_when_a_due_reminder_waits_too_long(client, world, time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    reminder = due_reminder(world, NOW - timedelta(seconds=settings.REMINDER_SEND_LATE_SECONDS + 60))
    with mock.patch("services.tasks._queue"):  # the sweep claims it; no worker sends it
        tasks.sweep_reminders()
    reminder.refresh_from_db()

    response = client.get(HEALTHZ)

    assert reminder.status == ReminderStatus.CLAIMED
    assert response.status_code == 503
    assert response.json()["reminders"]["ok"] is False
    assert response.json()["reminders"]["seconds_since_last_sweep"] == 0
    # The web container's own check asks only what the web process needs: worker and beat
    # start once it is healthy.
    web_only = client.get(HEALTHZ + "?checks=database,broker")
    assert web_only.status_code == 200
    assert "reminders" not in web_only.json()


def test_healthz_without_any_sweep_noted_is_not_failed_by_that_alone(client, db):
    body = client.get(HEALTHZ).json()

    assert body["reminders"] == {
        "ok": True,
        "last_sweep": None,
        "seconds_since_last_sweep": None,
        "oldest_due_unsent": None,
        "seconds_waiting": None,
    }


def test_director_sees_whether_reminders_go_out(login, world, time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    director = login("director1")
    unknown = director.get(reverse("notification_list")).content.decode()
    tasks.sweep_reminders()
    working = director.get(reverse("notification_list")).content.decode()
    time_machine.move_to(NOW + timedelta(seconds=settings.REMINDER_SWEEP_LATE_SECONDS + 60), tick=False)

    stopped = director.get(reverse("notification_list")).content.decode()
    caseworker = login("caseworker1").get(reverse("notification_list")).content.decode()

    assert "Working: reminders are being sent." in working
    assert "Not confirmed yet: no check for due reminders is recorded" in unknown  # never claimed unseen
    assert "Working" not in unknown
    assert "Reminders are not going out." in stopped
    assert "Reminder sending" not in caseworker


@pytest.mark.django_db
@pytest.mark.skipif(os.environ.get("REQUIRE_SERVICES") != "1", reason="REQUIRE_SERVICES=1 is set only in CI")
def test_required_services_are_really_in_use(client):
    """In CI's second pass a missing PostgreSQL or Redis must fail the run, not be skipped over."""
    assert os.environ.get("DATABASE_URL"), "REQUIRE_SERVICES=1 but DATABASE_URL is not set"
    assert os.environ.get("REDIS_URL"), "REQUIRE_SERVICES=1 but REDIS_URL is not set"

    body = client.get(HEALTHZ).json()

    assert body["database"] == {"ok": True, "vendor": "postgresql"}, body
    assert body["broker"] == {"ok": True, "transport": "redis"}, body


# --- production settings -----------------------------------------------------------------------


def production_env(**overrides: str | None) -> dict[str, str]:
    """The test environment switched to production mode, with security settings at their defaults."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("SECURE_") or name in {
            "SECRET_KEY_FILE",
            "FIELD_ENCRYPTION_KEYS_FILE",
            "BLIND_INDEX_KEYS_FILE",
            "EMAIL_BACKEND",
            "DATABASE_URL",
            "REDIS_URL",
        }:
            del env[name]
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.org")
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_gunicorn_answers_several_requests_at_once_unless_told_otherwise(monkeypatch):
    """gunicorn alone would start one sync worker: a director's CSV would hold every other
    request of the deployment behind it. gunicorn.conf.py starts two per core and one more,
    for the cores this process may use, at most MAX_WORKERS; WEB_CONCURRENCY still decides.
    (That gunicorn takes `workers` from the file is in the next test's printed settings.)"""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cores = len(os.sched_getaffinity(0))
    assert config["workers"] == min(2 * cores + 1, config["MAX_WORKERS"]) > 1

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 3
    for wrong in ("0", "-2", "two"):
        with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a whole number"):
            config["workers_from"](wrong)


def test_gunicorn_workers_keep_the_collector_off_what_the_app_loaded():
    """gunicorn reads gunicorn.conf.py where it starts (the checkout, /app in the image) and
    runs its hook in each worker once the app is loaded: every view imported, all of it frozen
    out of the collector's walks, and a larger first threshold (issue 24)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    printed = subprocess.run(  # noqa: S603 (the venv's gunicorn, fixed arguments)
        [str(gunicorn), "--print-config", "reentry.wsgi"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "config                             = ./gunicorn.conf.py" in printed
    assert "post_worker_init                   = <post_worker_init()>" in printed
    workers = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]
    assert f"workers                            = {workers}" in printed

    hook = (
        "import gc, json, os, runpy, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'reentry.settings'; "
        "django.setup(); runpy.run_path('gunicorn.conf.py')['post_worker_init'](None); "
        "print(json.dumps([gc.get_freeze_count(), gc.get_threshold()[0], 'services.views.outcomes' in sys.modules]))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", hook], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=True
    )
    frozen, young, views_loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert frozen > 50_000 and young == 10_000 and views_loaded


def test_deploy_check_passes_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEYS"])
def test_production_mode_refuses_to_start_without(missing):
    result = manage("check", env=production_env(**{missing: None}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


# --- the bench's query-count header ---------------------------------------------------------


def test_bench_is_refused_on_a_public_host():
    result = manage("check", env=production_env(BENCH="1"))

    assert result.returncode != 0
    assert "BENCH" in result.stderr


def test_no_query_count_header_without_bench(login):
    response = login("caseworker1").get(reverse("ping"))

    assert response.status_code == 200
    assert "X-Query-Count" not in response.headers


def test_bench_header_counts_the_queries_of_the_response(login, settings):
    client = login("caseworker1")
    settings.MIDDLEWARE = ["services.middleware.QueryCountHeaderMiddleware", *settings.MIDDLEWARE]

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    assert int(response.headers["X-Query-Count"]) == len(queries.captured_queries) > 0
