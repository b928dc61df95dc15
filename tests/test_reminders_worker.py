"""Reminders through a real Celery worker: exactly once, through faults.

The broker is in memory by default; when REDIS_URL is set (CI's second pass) it is that
Redis, and with REQUIRE_SERVICES=1 a Redis that does not answer fails the run. Each test
gets its own queue, so parallel test processes sharing one Redis never take each other's
messages. The worker is `celery.contrib.testing.worker` in a thread, or, to be killed
with SIGKILL, a real `celery worker` process on a broker and database it can share.

Time moves with time_machine (it moves for the worker thread too); the tests only poll,
briefly, for the worker to finish.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from amqp.exceptions import ChannelError
from celery import Celery
from celery.contrib.testing.app import setup_default_app
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from kombu.transport import memory

from services import tasks
from services.actions import follow_ups as follow_ups_actions
from services.choices import ReminderKind, ReminderStatus
from services.models.follow_ups import FollowUp
from services.models.notifications import Notification, Reminder
from services.models.organizations import Organization

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens there: a broker that is down


def redis_or_skip() -> None:
    if not REDIS_URL:
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but Redis at REDIS_URL does not answer: {type(exc).__name__}")
        pytest.skip("Redis at REDIS_URL does not answer")


def default_transport_options(broker_url: str) -> dict[str, Any]:
    if broker_url == "memory://":
        # How long the in-memory broker sleeps between looks for a message: 1 s by default, so
        # each task waited up to a second to start.
        return {"polling_interval": 0.05}
    return {"socket_connect_timeout": 2}


def make_app(broker_url: str, queue: str, **options: Any) -> Celery:
    """Our Celery settings, on the given broker and a queue of the test's own."""
    app = Celery("reentry-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=options.pop("transport_options", default_transport_options(broker_url)),
        task_always_eager=False,
        task_default_queue=queue,
        worker_hijack_root_logger=False,
        **options,
    )
    return app


@pytest.fixture
def queue() -> str:
    return f"reminders-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def use_app() -> Iterator[Callable[[Celery], None]]:
    """Make an app the current one: the tasks (shared_task proxies) then publish through it."""
    apps: list[Any] = []

    def _use(app: Celery) -> None:
        context = setup_default_app(app)
        context.__enter__()
        app.set_current()
        app.set_default()
        apps.append(context)

    yield _use
    for context in reversed(apps):
        context.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def digests_out_of_the_way(world) -> None:
    """Each organization's morning digest twelve hours from now, local time.

    These tests sweep at times up to a few hours ahead and expect only the follow-up's
    reminders; with the default 8:00 digest, a run starting shortly before eight (the
    organization's time) also claimed the caseworkers' digests. Digests have tests of their own.
    """
    for organization in Organization.objects.all():
        organization.digest_hour = (timezone.now() + timedelta(hours=12)).astimezone(organization.zone()).hour
        organization.save(update_fields=["digest_hour"])


# How long the worker thread waits on the in-memory broker before it looks again whether it
# should stop. Celery's loop waits 2 s at a time, and looks once more after it is told to stop:
# 4 s at the end of every test with a worker.
BROKER_WAIT = 0.1


@pytest.fixture
def worker(queue, use_app, monkeypatch) -> Iterator[Celery]:
    """A worker thread on the in-memory broker (or REDIS_URL's Redis)."""
    redis_or_skip()
    waits = memory.Transport.drain_events

    def wait_briefly(self: memory.Transport, connection: Any, timeout: float | None = None) -> Any:
        return waits(self, connection, timeout=BROKER_WAIT if timeout is None else min(timeout, BROKER_WAIT))

    monkeypatch.setattr(memory.Transport, "drain_events", wait_briefly)
    app = make_app(REDIS_URL or "memory://", queue)
    use_app(app)

    def close_connections(sender: Any = None, **kwargs: Any) -> None:
        # The worker thread's own database connections, so none outlives the test.
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
            yield app
    finally:
        task_postrun.disconnect(close_connections)


def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    """Poll (briefly) until the worker has done its part."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for the worker")


def status(reminder: Reminder) -> str:
    return Reminder.objects.values_list("status", flat=True).get(pk=reminder.pk)


def follow_up_due_in_an_hour(world) -> tuple[FollowUp, Reminder]:
    follow_up = FollowUp(
        title="Visit the clinic", due_at=timezone.now() + timedelta(hours=1), assigned_to=world.caseworker1
    )
    follow_ups_actions.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)
    return follow_up, Reminder.objects.get(follow_up=follow_up, kind=ReminderKind.DUE)


def due_emails() -> list[Any]:
    return [m for m in mail.outbox if m.subject == "A follow-up is due now"]


# --- on time, once ---------------------------------------------------------------------------------


def test_a_due_follow_up_produces_one_email_and_one_notification(world, worker):
    follow_up, due = follow_up_due_in_an_hour(world)

    with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
        assert tasks.reminders_sweep() == [due.pk]
        wait_for(lambda: status(due) == ReminderStatus.SENT)
        assert tasks.reminders_sweep() == []

    assert [m.to for m in due_emails()] == [["caseworker1@example.org"]]
    assert Notification.objects.filter(user=world.caseworker1).count() == 1


def test_two_concurrent_sweeps_still_send_once(world, worker):
    follow_ups = [follow_up_due_in_an_hour(world) for _ in range(5)]
    due_ids = {due.pk for _, due in follow_ups}
    barrier = threading.Barrier(2)
    claimed: list[list[int]] = []

    def sweep() -> None:
        try:
            barrier.wait()
            claimed.append(tasks.reminders_sweep())
        finally:
            connection.close()

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(lambda: Reminder.objects.filter(pk__in=due_ids, status=ReminderStatus.SENT).count() == 5)

    first, second = claimed
    assert set(first) | set(second) == due_ids
    assert not set(first) & set(second)
    assert len(due_emails()) == 5
    assert Notification.objects.count() == 5


def test_smtp_failures_retry_and_then_show_as_failed(world, worker, settings, login):
    settings.EMAIL_BACKEND = "tests.email_backends.FailingBackend"
    settings.REMINDER_RETRY_SECONDS = 0  # back-off itself is tested in test_reminders
    settings.REMINDER_MAX_RETRIES = 2
    follow_up, due = follow_up_due_in_an_hour(world)

    with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
        tasks.reminders_sweep()
        wait_for(lambda: status(due) == ReminderStatus.FAILED)

    due.refresh_from_db()
    assert (due.attempts, due.reason) == (3, "Gave up: SMTPServerDisconnected")
    assert "Gave up: SMTPServerDisconnected" in login("caseworker1").get(reverse("notification_list")).content.decode()


def test_rescheduling_and_completion_cancel_pending_reminders(world, worker):
    moved, moved_due = follow_up_due_in_an_hour(world)
    done, done_due = follow_up_due_in_an_hour(world)
    moved.due_at += timedelta(days=2)
    follow_ups_actions.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=moved)
    follow_ups_actions.follow_up_complete(by=world.caseworker1, follow_up=done)

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert tasks.reminders_sweep() == []

    assert (status(moved_due), status(done_due)) == (ReminderStatus.CANCELLED, ReminderStatus.CANCELLED)
    assert mail.outbox == []


# --- through faults --------------------------------------------------------------------------------


def test_with_the_broker_down_pages_work_and_the_sweep_catches_up(world, login, queue, use_app, caplog):
    redis_or_skip()
    use_app(make_app(DEAD_BROKER, queue, broker_connection_retry=False, broker_connection_max_retries=1))
    client = login("caseworker1")
    marcus = world.marcus.exoneree
    due_at = timezone.localtime(timezone.now() + timedelta(hours=1))

    response = client.post(
        reverse("follow_up_create", args=[marcus.pk]),
        {
            "title": "Call the landlord",
            "due_at": due_at.strftime("%Y-%m-%dT%H:%M"),
            "assigned_to": world.caseworker1.pk,
        },
    )
    assert response.status_code == 302
    for page in (reverse("dashboard"), marcus.get_absolute_url(), reverse("notification_list")):
        assert client.get(page).status_code == 200
    due = Reminder.objects.get(follow_up__title="Call the landlord", kind=ReminderKind.DUE)

    with time_machine.travel(due.send_at + timedelta(minutes=1)):
        assert tasks.reminders_sweep() == [due.pk]  # claimed; queueing failed and was logged
    # Given back at once, for the next sweep (not left to wait out the claim timeout).
    assert status(due) == ReminderStatus.PENDING
    assert "Error calling" in caplog.text and "_queue" in caplog.text
    assert mail.outbox == []

    # The broker is back: a worker runs, and the next sweep, a minute later, sends it.
    app = make_app(REDIS_URL or "memory://", queue)
    use_app(app)
    later = due.send_at + timedelta(minutes=2)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with time_machine.travel(later):
            assert tasks.reminders_sweep() == [due.pk]
            wait_for(lambda: status(due) == ReminderStatus.SENT)
        connections.close_all()
    assert [m.to for m in due_emails()] == [["caseworker1@example.org"]]


def database_url() -> str:
    """The test database, as a URL a worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_in_the_middle_of_a_send_delivers_exactly_once_after_restart(world, tmp_path, queue, use_app):
    redis_or_skip()
    if REDIS_URL:
        broker, transport_options = REDIS_URL, {"socket_connect_timeout": 2}
    else:  # kombu's filesystem broker, in a folder of this test's own
        broker = "filesystem://"
        folders = {
            key: tmp_path / "broker" / name
            for key, name in [
                ("data_folder_in", "queue"),
                ("data_folder_out", "queue"),
                ("processed_folder", "processed"),
                ("control_folder", "control"),
            ]
        }  # noqa: E501
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        transport_options = {key: str(folder) for key, folder in folders.items()} | {"store_processed": False}
    use_app(make_app(broker, queue, transport_options=transport_options))
    block, started, outbox = tmp_path / "block", tmp_path / "started", tmp_path / "outbox"
    block.touch()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REENTRY_VAR_DIR": str(tmp_path),  # the filesystem broker's folders, when REDIS_URL is unset
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": queue,
        "EMAIL_BACKEND": "tests.email_backends.FileBackend",
        "REMINDER_TEST_BLOCK": str(block),
        "REMINDER_TEST_STARTED": str(started),
        "REMINDER_TEST_OUTBOX": str(outbox),
    }
    command = [sys.executable, "-m", "celery", "-A", "reentry", "worker", "--pool=solo"]
    command += ["--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    follow_up, due = follow_up_due_in_an_hour(world)
    first = start()
    try:
        with time_machine.travel(follow_up.due_at + timedelta(seconds=5)):
            assert tasks.reminders_sweep() == [due.pk]
        wait_for(started.exists, timeout=60)  # the worker is talking to the "mail server"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert status(due) == ReminderStatus.SENDING
    assert not outbox.exists()
    assert Notification.objects.filter(reminder=due).count() == 1  # written when the send began

    block.unlink()
    second = start()
    try:
        # A redelivery of the lost message (Redis does this after its visibility timeout)
        # finds the row held and does nothing...
        from services.tasks import send_reminder

        send_reminder.delay(due.pk)
        # ...and the sweep takes the stale claim over once the claim timeout has passed.
        later = follow_up.due_at + timedelta(seconds=django_settings.REMINDER_CLAIM_TIMEOUT_SECONDS, minutes=1)
        with time_machine.travel(later):
            assert tasks.reminders_sweep() == [due.pk]
        wait_for(lambda: status(due) == ReminderStatus.SENT, timeout=60)
        send_reminder.delay(due.pk)  # and once more, after it was sent
        wait_for(lambda: not _queued(broker, queue, transport_options), timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()

    assert outbox.read_text().splitlines() == ["caseworker1@example.org\tA follow-up is due now"]
    assert Notification.objects.filter(reminder=due).count() == 1
    assert Reminder.objects.get(pk=due.pk).attempts == 2


def _queued(broker: str, queue: str, transport_options: dict[str, Any]) -> int:
    """Messages still waiting in the queue (the worker takes them one at a time)."""
    app = Celery("reentry-probe", set_as_current=False, broker=broker)
    app.conf.broker_transport_options = transport_options
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # Redis keeps no empty queue: none left
            return 0
