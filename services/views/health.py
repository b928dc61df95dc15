"""Liveness/readiness probe for load balancers, monitors and `docker compose`: is the database
and the Celery broker reachable, and are reminders being swept and sent? Open to anonymous
callers, so it never reveals URLs, hosts, passwords or anything about a person: a failure is
reported by exception class name only, reminders by two times.

`?checks=database,broker` asks only those (the web container's own health check: worker and
beat wait for it to be healthy, so it must not wait for them)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from services import keyring, reminders
from services.access import signed_in_required

logger = logging.getLogger(__name__)


def _check_database() -> dict[str, object]:
    result: dict[str, object] = {"ok": False, "vendor": connection.vendor}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
        result["ok"] = row is not None and row[0] == 1
        if not result["ok"]:
            result["error"] = "UnexpectedResult"
    except Exception as exc:  # any failure at all means "not healthy"
        result["error"] = type(exc).__name__
    return result


def _check_filesystem_folder() -> None:
    """The filesystem transport needs its queue folder to exist and be writable."""
    # Reported, not repaired: the app creates the folders at start (ServicesConfig.ready).
    folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError("broker folder is not writable")
    # Prove it with a real write (os.access can be fooled, e.g. by read-only mounts).
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-", suffix=".tmp"):
        pass


def _check_broker() -> dict[str, object]:
    from reentry.celery import app

    result: dict[str, object] = {"ok": False, "transport": "unknown"}
    try:
        with app.connection_for_write() as conn:
            result["transport"] = "filesystem" if conn.transport_cls == "filesystem" else "redis"
            if result["transport"] == "filesystem":
                _check_filesystem_folder()
            # One attempt, no back-off sleep, at most 3 seconds in total.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        result["ok"] = True
    except Exception as exc:  # any failure at all means "not healthy"
        result["error"] = type(exc).__name__
    return result


def _check_keys() -> dict[str, object]:
    """The configured keys read the key canaries (services.keyring); which one fails is for
    the logs and `manage.py check`, not for an anonymous caller."""
    try:
        problems = keyring.key_problems() if keyring.canaries_exist() else []
    except Exception as exc:  # any failure at all means "not healthy"
        return {"ok": False, "error": type(exc).__name__}
    if problems:
        logger.error("Wrong keys: %s", " ".join(problems))
        return {"ok": False, "error": "WrongKeys"}
    return {"ok": True}


def _check_reminders() -> dict[str, object]:
    try:
        liveness = reminders.reminders_liveness()
    except Exception as exc:  # the database is down: _check_database says so too
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": liveness.ok,
        "last_sweep": liveness.last_sweep.isoformat() if liveness.last_sweep else None,
        "seconds_since_last_sweep": liveness.sweep_age,
        "oldest_due_unsent": liveness.oldest_due.isoformat() if liveness.oldest_due else None,
        "seconds_waiting": liveness.waiting,
    }


CHECKS = {"database": _check_database, "broker": _check_broker, "keys": _check_keys, "reminders": _check_reminders}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    asked = [name for name in request.GET.get("checks", "").split(",") if name in CHECKS] or list(CHECKS)
    results: dict[str, dict[str, object]] = {}
    for name in asked:
        if name == "keys" and not results.get("database", {"ok": True})["ok"]:
            results[name] = {"ok": False, "error": "NoDatabase"}  # nothing to read the canaries from
        else:
            results[name] = CHECKS[name]()
    healthy = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ok" if healthy else "error", **results}, status=200 if healthy else 503)


@require_safe
@signed_in_required
def ping(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in page: the sign-in gate and nothing else (the bench's floor)."""
    return HttpResponse("pong", content_type="text/plain")
