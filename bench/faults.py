"""Reminders through faults: is every due reminder delivered, and delivered once?

    .venv/bin/python bench/faults.py                 # 200 reminders, 90 s of faults, then drain
    .venv/bin/python bench/faults.py --smoke         # 12 reminders, one fault of each kind (~45 s)
    .venv/bin/python bench/faults.py --reminders 200 --seconds 90 --seed 2

It starts everything it uses and removes it at the end (also on Ctrl-C or an error), all
on 127.0.0.1 and free ports, never the machine's own PostgreSQL or Redis:

- a PostgreSQL cluster of its own (initdb into a temporary folder, run as the `postgres`
  user when we are root) and a Redis of its own (`--save "" --appendonly no`: a restart
  loses every queued message, as a broker without persistence does);
- a mail server of its own: a small SMTP sink in this process that records each message it
  accepts (once it has the final dot, before it answers 250) with its Message-ID, which
  names the reminder (services.reminders.reminder_message_id);
- a fresh database, migrated, with one organization (a director, caseworkers, a person per
  caseworker) and N follow-ups made with the app's own actions (follow_up_save plans their
  reminders); their "due" reminders are then moved to come due one after another over the
  first 70 % of the fault phase;
- a real Celery worker (`celery -A reentry worker`, prefork, in its own process group) and
  the sweep queued every 2 s, as beat queues it every minute.

During `--seconds` it SIGKILLs the whole worker every ~10 s, when a reminder is sending
(restarting it at once, as a supervisor would), and restarts PostgreSQL (`pg_ctl stop -m
fast`, down 3 s, start) and Redis (stopped, down 2 s, started) twice each while reminders
still come due. Each restart is aimed at the window issue 16 #10 was about: the sink holds
its 250 to one delivered message until the service is down, so that worker must record
"sent" through the outage. A worker that exits by itself (kombu can, on a Redis restart;
issue 16 #11) is noted and restarted. `--aimed-kills N` aims the first N kills the same
way: each should cost one duplicate (the reminder is at-least-once by design), which shows
the bench sees and attributes one. Then the worker runs on without faults until no due
reminder is left unsent (bounded by twice the claim timeout), and it prints: due,
delivered unique, lost (due and never delivered), duplicated (extra deliveries, by the
first fault between a reminder's delivery and its next one; a duplicate carries the same
Message-ID, by which the sink tells reminders apart), stuck (not in a final state), and
the timeline.

The timeouts are shortened so a run takes minutes, in the same order as in production: a
claim is taken over after 40 s (15 min in production), "sent" is retried for 20 s (120 s),
an SMTP connection may block 5 s (30 s), failed sends retry after 2, 4, 8 … s (60 s …).
The system check that wants the claim timeout above twice a send's time limit is skipped
for the bench's migrate: the sink answers in milliseconds, so no send comes near 40 s.

Exit status 0 when the targets are met (0 lost, 0 stuck, at most 1 duplicate per 1,000 and
none from a database restart; with --smoke the rate is not judged, the sample is too small).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
# Run PostgreSQL as its own user: it refuses to run as root.
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

CLAIM_TIMEOUT = 40
RECORD_RETRY = 20
SWEEP_EVERY = 2.0
PG_DOWN = 3.0
REDIS_DOWN = 2.0
KILL_EVERY = 10.0
SENDING_WAIT = 3.0  # how long a fault waits for a reminder to be in the middle of sending
FRESH = 8  # seconds: an older claim has lost its worker or its message (see Run.states)


def pg_bin() -> Path:
    """The newest PostgreSQL of the Debian packages."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        sys.exit("faults: no PostgreSQL under /usr/lib/postgresql/*/bin")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_quietly(command: list[str], log: Path) -> None:
    with log.open("ab") as out:
        # A session of its own: a Ctrl-C meant for the bench does not stop PostgreSQL under it.
        subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True, start_new_session=True)  # noqa: S603


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout:.0f} s")
        time.sleep(0.1)


class Clock:
    """Seconds since the first reminder came due (negative before), for every record."""

    def __init__(self) -> None:
        self.zero = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.zero


# --- the services: PostgreSQL, Redis, a mail server ---------------------------------------------


class Postgres:
    def __init__(self, base: Path) -> None:
        self.dir = base / "pg"
        self.dir.mkdir()
        if AS_POSTGRES:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data, self.port, self.bin = self.dir / "data", free_port(), pg_bin()
        # The server's log is written by the postgres user, the commands' output by us.
        self.server_log, self.log = self.dir / "server.log", base / "pg-commands.log"
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/reentry_faults"

    def _ctl(self, *args: str) -> None:
        run_quietly(
            [*AS_POSTGRES, str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.server_log), *args], self.log
        )

    def start(self) -> None:
        if not self.data.exists():
            command = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
            run_quietly([*AS_POSTGRES, *command, "-E", "UTF8"], self.log)
        # fsync off spares the shared disk; a fast stop still ends every session and transaction.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-w", "-t", "60", "-o", options, "start")
        self.running = True

    def create_database(self) -> None:
        command = [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        run_quietly([*command, "reentry_faults"], self.log)

    def stop(self) -> None:
        if self.running:
            self._ctl("-w", "-t", "60", "-m", "fast", "stop")
            self.running = False

    def remove(self) -> None:
        """At the end, whatever state it was left in: stopped at once."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-w", "-t", "60", "-m", "immediate", "stop")
        self.running = False


class Redis:
    def __init__(self, base: Path) -> None:
        self.dir, self.port, self.process = base / "redis", free_port(), None
        self.dir.mkdir()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        server = shutil.which("redis-server") or sys.exit("faults: redis-server is not installed")
        command = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")]
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            command, stdout=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self._answers, 20, "Redis")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class SmtpSink(socketserver.ThreadingTCPServer):
    """A mail server that keeps nothing but when each message arrived and its Message-ID.

    A message counts as delivered when the sink has its final dot, as a real server takes
    responsibility for it then. Before answering MAIL it waits `delay`, so sends take a
    little time and faults find some in progress. Armed (`hold_one`), it keeps the next
    message's 250 until `release` is set: a database or broker restart then comes exactly
    between a delivery and the worker's record of it, the window issue 16 #10 was about."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, clock: Clock, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.clock, self.delay = clock, delay
        self.lock = threading.Lock()
        self.deliveries: list[tuple[float, str]] = []
        self.armed, self.caught, self.release = threading.Event(), threading.Event(), threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def delivered(self, message: bytes) -> None:
        message_id = (BytesHeaderParser().parsebytes(message).get("Message-ID") or "").strip()
        with self.lock:
            self.deliveries.append((self.clock.now(), message_id))
            held = self.armed.is_set()
            self.armed.clear()
        if held:
            self.caught.set()
            self.release.wait(15)

    def hold_one(self, timeout: float) -> bool:
        """Hold the next delivered message's answer; True when one came within `timeout`."""
        self.release.clear()
        self.caught.clear()
        self.armed.set()
        caught = self.caught.wait(timeout)
        self.armed.clear()
        return caught

    def count(self) -> int:
        with self.lock:
            return len(self.deliveries)


class SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpSink
    timeout = 30

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # a killed worker drops its connection mid-way
            self.reply("220 faults-sink ESMTP")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.reply("250-faults-sink\r\n250 8BITMIME")
                elif verb == b"MAIL":
                    time.sleep(self.server.delay)
                    self.reply("250 OK")
                elif verb == b"DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while (line := self.rfile.readline()) != b".\r\n":
                        if not line:  # the sender went away before the end: not delivered
                            return
                        lines.append(line)
                    self.server.delivered(b"".join(lines))
                    self.reply("250 OK queued")
                elif verb == b"QUIT":
                    self.reply("221 Bye")
                    return
                else:  # HELO, RCPT, RSET, NOOP
                    self.reply("250 OK")


# --- the worker, the sweep ----------------------------------------------------------------------


class Worker:
    """`celery worker` in its own process group, so a SIGKILL takes its pool with it."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int, name: str = "faults") -> None:
        self.env, self.log_path, self.concurrency, self.name = env, log, concurrency, name
        self.process: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] = log.open("ab")
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log.write(f"\n===== faults: worker start {self.starts} =====\n".encode())
        self.log.flush()
        command = [PYTHON, "-m", "celery", "-A", "reentry", "worker", "--loglevel", "INFO", "--pool", "prefork"]
        command += ["--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle"]
        command += ["--hostname", f"{self.name}{self.starts}@%h"]
        self.process = subprocess.Popen(  # noqa: S603 (the venv's celery, fixed arguments)
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def _signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def kill(self) -> int:
        if self.process is None:
            return 0
        pid = self.process.pid
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        return pid

    def reap(self) -> None:
        """After the main process exited by itself: its pool children go too."""
        self._signal_group(signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._signal_group(signal.SIGKILL)
        self.process = None
        self.log.close()


class Sweeper(threading.Thread):
    """Queues the sweep task every SWEEP_EVERY seconds, as beat does every minute."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.queued = self.refused = 0

    def run(self) -> None:
        from reentry.celery import app

        while not self.halt.wait(SWEEP_EVERY):
            # A connection of its own each time: one broken by a Redis restart is not reused.
            try:
                with app.connection_for_write() as connection:
                    name, expires = "services.tasks.sweep_reminders", SWEEP_EVERY * 2
                    app.send_task(name, expires=expires, retry=False, connection=connection)
                self.queued += 1
            except Exception:  # Redis is down: the next tick tries again, as beat would
                self.refused += 1


# --- the run --------------------------------------------------------------------------------------


def reminder_states(ids: list[int]) -> Counter[str] | None:
    """These reminders by status, or None while the database is away. A claim older than
    FRESH seconds counts as "abandoned": its worker or its message is gone, and it waits for
    the claim timeout."""
    from django.db import DatabaseError, connection
    from django.utils import timezone

    from services.models.notifications import Reminder

    fresh = timezone.now() - timedelta(seconds=FRESH)
    try:
        rows = Reminder.objects.filter(pk__in=ids).values_list("status", "claimed_at")
        return Counter(
            "abandoned" if status in ("claimed", "sending") and claimed_at < fresh else status
            for status, claimed_at in rows
        )
    except DatabaseError:
        connection.close()
        return None


@dataclass
class Fault:
    at: float
    kind: str  # kill, pg, redis, exit (the worker exited by itself)
    note: str = ""


@dataclass
class Run:
    clock: Clock
    sink: SmtpSink
    worker: Worker
    postgres: Postgres
    redis: Redis
    faults: list[Fault] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    sweeps_queued: int = 0
    sweeps_refused: int = 0

    def states(self) -> Counter[str] | None:
        return reminder_states(self.ids)

    def wait_for_sending(self) -> Counter[str] | None:
        deadline = time.monotonic() + SENDING_WAIT
        while True:
            states = self.states()
            if (states and states["sending"]) or time.monotonic() > deadline:
                return states
            time.sleep(0.05)

    def note(self, kind: str, note: str, states: Counter[str] | None = None, at: float | None = None) -> None:
        if states is not None:
            note += (
                f" [{states['sending']} sending, {states['claimed']} queued, {states['abandoned']} abandoned,"
                f" {self.sink.count()} delivered]"
            )
        self.faults.append(Fault(self.clock.now() if at is None else at, kind, note))

    def supervise(self) -> None:
        """A worker that exited by itself is restarted (compose and systemd restart it too)."""
        code = self.worker.exited()
        if code is not None:
            self.note("exit", f"worker exited by itself (code {code}); restarted")
            self.worker.reap()
            time.sleep(1)
            self.worker.start()

    def inject(self, kind: str) -> None:
        """A worker kill comes when a reminder is sending, wherever its send is; a restart
        comes while a delivered message's answer is held (see SmtpSink)."""
        from django.db import connection

        if kind in ("kill", "aimed kill"):
            aimed = kind == "aimed kill" and self.sink.hold_one(SENDING_WAIT)
            states = self.wait_for_sending()
            at = self.clock.now()
            pid = self.worker.kill()
            self.sink.release.set()
            self.worker.start()
            window = "; a delivery's 250 held until it was dead" if aimed else ""
            self.note("kill", f"worker killed (SIGKILL to pid {pid} and its pool){window}; restarted", states, at)
            return
        held = self.sink.hold_one(SENDING_WAIT)
        states = self.states()
        connection.close()
        at, started = self.clock.now(), time.monotonic()
        try:
            (self.postgres if kind == "pg" else self.redis).stop()
        finally:
            self.sink.release.set()  # the held 250 goes out while the service is down
        time.sleep(PG_DOWN if kind == "pg" else REDIS_DOWN)
        (self.postgres if kind == "pg" else self.redis).start()
        down = time.monotonic() - started
        what = "PostgreSQL (stop -m fast)" if kind == "pg" else "Redis (its queues lost)"
        window = "a delivery's 250 held until it was down" if held else "no delivery caught to hold"
        self.note(kind, f"{what} restarted, down {down:.1f} s; {window}", states, at)


def unsent(states: Counter[str]) -> int:
    return sum(states[status] for status in ("pending", "claimed", "sending", "abandoned"))


def schedule(seconds: float, smoke: bool, rng: random.Random) -> list[tuple[float, str]]:
    """When each fault comes: PostgreSQL and Redis while reminders are still coming due,
    worker kills every ~KILL_EVERY s in between."""
    if smoke:
        return [(0.2 * seconds, "kill"), (0.4 * seconds, "pg"), (0.6 * seconds, "redis")]
    plan = [(0.25 * seconds, "pg"), (0.4 * seconds, "redis"), (0.55 * seconds, "pg"), (0.68 * seconds, "redis")]
    at = 3.0
    while at < seconds - 3:
        moment = at + rng.uniform(0, 4)
        if all(abs(moment - other) > 4 for other, _ in plan):
            plan.append((moment, "kill"))
        at += KILL_EVERY
    return sorted(plan)


def environment(postgres: Postgres, redis: Redis, sink: SmtpSink, base: Path, claim_timeout: int) -> dict[str, str]:
    def key() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reentry.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "FIELD_ENCRYPTION_KEYS": key(),
        "BLIND_INDEX_KEYS": key(),
        "AUDIT_ANCHOR_KEY": key(),
        "REENTRY_VAR_DIR": str(base / "var"),
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "CELERY_QUEUE": "",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_TIMEOUT": "5",
        "SITE_URL": "http://127.0.0.1:8000",
        "SMS_BACKEND": "",
        "REMINDER_CLAIM_TIMEOUT_SECONDS": str(claim_timeout),
        "REMINDER_RECORD_RETRY_SECONDS": str(min(RECORD_RETRY, claim_timeout // 2)),
        "REMINDER_RETRY_SECONDS": "2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def seed(count: int) -> tuple[list[int], dict[str, int]]:
    """An organization and `count` follow-ups made by the app's actions; returns the ids of
    their "due" reminders and each one's Message-ID."""
    from django.contrib.auth import get_user_model

    from services.actions.people import exoneree_create
    from services.choices import Role
    from services.models.organizations import Organization, StaffMember
    from services.models.people import Exoneree

    User = get_user_model()
    organization = Organization.objects.create(name="Faults bench")
    director = User.objects.create(username="director", email="director@faults.test")
    StaffMember.objects.create(user=director, organization=organization, role=Role.DIRECTOR)
    people = []
    for number in range(min(10, count)):
        user = User.objects.create(username=f"caseworker{number}", email=f"caseworker{number}@faults.test")
        StaffMember.objects.create(user=user, organization=organization, role=Role.CASEWORKER)
        person = exoneree_create(by=user, exoneree=Exoneree(legal_name=f"Person Number{number}"))
        people.append((user, person))
    return plan_follow_ups(people, count)


def plan_follow_ups(people: list[tuple[Any, Any]], count: int) -> tuple[list[int], dict[str, int]]:
    """`count` follow-ups made by the app's action (follow_up_save plans their reminders),
    spread over these (caseworker, person) pairs; returns the ids of their "due" reminders
    and each one's Message-ID."""
    from django.utils import timezone

    from services.actions.follow_ups import follow_up_save
    from services.choices import ReminderKind
    from services.models.follow_ups import FollowUp
    from services.models.notifications import Reminder
    from services.reminders import reminder_message_id

    later = timezone.now() + timedelta(days=1)  # planned ahead, as a real follow-up is
    made = []
    for number in range(count):
        user, person = people[number % len(people)]
        follow_up = FollowUp(title=f"Follow-up {number}", due_at=later + timedelta(minutes=number), assigned_to=user)
        made.append(follow_up_save(by=user, exoneree=person, follow_up=follow_up).pk)
    due = Reminder.objects.filter(follow_up__in=made, kind=ReminderKind.DUE).order_by("send_at", "pk")
    reminders = list(due)
    return [r.pk for r in reminders], {reminder_message_id(r): r.pk for r in reminders}


def bring_due(ids: list[int], start_in: float, span: float) -> None:
    """Move the reminders (and their follow-ups, which the email names) to come due one
    after another over `span` seconds, the first in `start_in` seconds."""
    from django.db import transaction
    from django.utils import timezone

    from services.models.follow_ups import FollowUp
    from services.models.notifications import Reminder

    first = timezone.now() + timedelta(seconds=start_in)
    step = span / max(1, len(ids) - 1)
    with transaction.atomic():
        for position, reminder in enumerate(Reminder.objects.filter(pk__in=ids).order_by("send_at", "pk")):
            when = first + timedelta(seconds=position * step)
            Reminder.objects.filter(pk=reminder.pk).update(send_at=when)
            FollowUp.objects.filter(pk=reminder.follow_up_id).update(due_at=when)


# --- the report -----------------------------------------------------------------------------------


def cause_of(start: float, end: float, faults: list[Fault]) -> str:
    """The first fault between a delivery and the next delivery of the same reminder."""
    names = {"kill": "worker killed", "pg": "PostgreSQL restart", "redis": "Redis restart", "exit": "worker exited"}
    for fault in faults:
        if start - 0.05 <= fault.at <= end:
            return names[fault.kind]
    return "no fault in between"


def deliveries_by_reminder(sink: SmtpSink, message_ids: dict[str, int]) -> tuple[dict[int, list[float]], int]:
    """When the sink received each reminder (by its Message-ID), and how many other messages."""
    deliveries: dict[int, list[float]] = defaultdict(list)
    others = 0
    with sink.lock:
        for at, message_id in sink.deliveries:
            if message_id in message_ids:
                deliveries[message_ids[message_id]].append(at)
            else:
                others += 1
    return deliveries, others


def report(run: Run, message_ids: dict[str, int], states: Counter[str], smoke: bool, worker_log: Path) -> bool:
    deliveries, others = deliveries_by_reminder(run.sink, message_ids)
    due = len(run.ids)
    lost = [pk for pk in run.ids if pk not in deliveries]
    causes: Counter[str] = Counter()
    for times in deliveries.values():
        for before, after in zip(times, times[1:], strict=False):
            causes[cause_of(before, after, run.faults)] += 1
    duplicates = sum(causes.values())
    stuck = unsent(states)
    twice = {pk: times for pk, times in deliveries.items() if len(times) > 1}
    log = worker_log.read_text(errors="replace")
    takeovers = len(set(re.findall(r"reminder (\d+) delivered after its claim was taken over", log)))
    record_retries = len(set(re.findall(r"reminder (\d+) sent, not yet recorded", log)))
    record_tasks = len(set(re.findall(r"reminder (\d+) delivered, not recorded", log)))

    print("\nTimeline (seconds after the first reminder came due):")
    for fault in sorted(run.faults, key=lambda fault: fault.at):
        print(f"  {fault.at:7.1f}  {fault.note}")
    print(f"\nworker starts: {run.worker.starts}; sweeps queued: {run.sweeps_queued}, not queued: {run.sweeps_refused}")
    print(f"reminders whose 'sent' record was retried after a database error (worker log): {record_retries}")
    print(f"  of which handed to a task retry (database away longer than the record retries): {record_tasks}")
    print(f"reminders delivered after their claim was taken over (worker log): {takeovers}")
    print(f"final statuses: {dict(sorted(states.items()))}")
    print(f"\ndue:               {due}")
    print(f"delivered unique:  {len(deliveries)}")
    print(f"lost:              {len(lost)}" + (f" (ids {lost[:20]})" if lost else ""))
    by_cause = ", ".join(f"{cause}: {n}" for cause, n in causes.most_common()) or "none"
    per_thousand = 1000 * duplicates / due if due else 0
    print(f"duplicated:        {duplicates} ({per_thousand:.1f} per 1,000; {by_cause})")
    for pk, times in sorted(twice.items()):
        print(f"  reminder {pk} delivered at {', '.join(f'{at:.2f}' for at in times)} s (the same Message-ID)")
    print(f"stuck:             {stuck}")
    if others:
        print(f"other messages:    {others} (not one of the bench's reminders)")
    from_database = causes["PostgreSQL restart"]
    met = not lost and not stuck and not from_database and (smoke or per_thousand <= 1)
    target = "0 lost, 0 stuck, <= 1 duplicate per 1,000, none from a database restart"
    print(f"\ntarget ({target}): {'met' if met else 'MISSED'}")
    return met


# --- main -----------------------------------------------------------------------------------------


def interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=90, help="how long faults are injected")
    parser.add_argument("--seed", type=int, default=1, help="when the worker kills come")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's pool processes")
    parser.add_argument("--smtp-delay", type=float, default=0.1, help="the mail server's pause before the data")
    parser.add_argument("--smoke", action="store_true", help="12 reminders, one fault of each kind, short timeouts")
    parser.add_argument(
        "--aimed-kills",
        type=int,
        default=0,
        help="kill the worker this many times while a delivery's 250 is held (each should cost one duplicate)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) for a look")
    args = parser.parse_args()
    if args.smoke:
        args.reminders, args.seconds = min(args.reminders, 12), min(args.seconds, 24)
    claim_timeout = 15 if args.smoke else CLAIM_TIMEOUT
    signal.signal(signal.SIGTERM, interrupted)
    base = Path(tempfile.mkdtemp(prefix="reentry-faults-"))
    base.chmod(0o755)  # the postgres user must reach its folder inside
    print(f"faults: working in {base}", flush=True)
    try:
        with contextlib.ExitStack() as stack:
            return 0 if bench(args, base, claim_timeout, stack) else 1
    except KeyboardInterrupt:
        print("faults: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"faults: kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def bench(args: argparse.Namespace, base: Path, claim_timeout: int, stack: contextlib.ExitStack) -> bool:
    clock = Clock()
    postgres, redis = Postgres(base), Redis(base)
    stack.callback(postgres.remove)
    postgres.start()
    postgres.create_database()
    stack.callback(redis.stop)
    redis.start()
    sink = SmtpSink(clock, args.smtp_delay)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    stack.callback(sink.server_close)
    stack.callback(sink.shutdown)
    env = environment(postgres, redis, sink, base, claim_timeout)
    os.environ.update(env)
    print(f"faults: PostgreSQL on {postgres.port}, Redis on {redis.port}, SMTP sink on {sink.port}", flush=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    call_command("migrate", verbosity=0, skip_checks=True)  # the claim-timeout check: see above
    ids, message_ids = seed(args.reminders)
    print(f"faults: migrated and seeded {len(ids)} reminders in {time.monotonic() - started:.0f} s", flush=True)

    worker = Worker(env, base / "worker.log", args.concurrency)
    stack.callback(worker.stop)
    worker.start()
    span = 0.7 * args.seconds
    bring_due(ids, start_in=5, span=span)
    connection.close()
    clock.zero = time.monotonic() + 5
    sweeper = Sweeper()
    sweeper.start()
    stack.callback(sweeper.halt.set)
    run = Run(clock, sink, worker, postgres, redis, ids=ids)

    rng = random.Random(args.seed)  # noqa: S311 (when faults come, not a secret)
    plan = schedule(args.seconds, args.smoke, rng)
    kills = [position for position, (_, kind) in enumerate(plan) if kind == "kill"]
    for position in kills[: args.aimed_kills]:
        plan[position] = (plan[position][0], "aimed kill")
    print(f"faults: {len(ids)} reminders come due over {span:.0f} s; {len(plan)} faults over {args.seconds:.0f} s")
    for at, kind in plan:
        while clock.now() < at:
            run.supervise()
            time.sleep(0.1)
        run.inject(kind)
        print(f"  {run.faults[-1].at:7.1f}  {run.faults[-1].note}", flush=True)
    while clock.now() < args.seconds:
        run.supervise()
        time.sleep(0.2)

    # Drain: no more faults; the worker runs until nothing due is left unsent.
    drain_until = time.monotonic() + 2 * claim_timeout + 20
    print("faults: faults over; letting the worker finish", flush=True)
    states = run.states()
    while time.monotonic() < drain_until:
        run.supervise()
        states = run.states()
        if states is not None and not unsent(states):
            break
        time.sleep(1)
    time.sleep(2)  # a delivery still on its way to the sink
    print(f"faults: drained at {clock.now():.0f} s", flush=True)
    sweeper.halt.set()
    worker.stop()
    run.sweeps_queued, run.sweeps_refused = sweeper.queued, sweeper.refused
    states = run.states() or Counter()
    connection.close()
    return report(run, message_ids, states, args.smoke, base / "worker.log")


if __name__ == "__main__":
    sys.exit(main())
