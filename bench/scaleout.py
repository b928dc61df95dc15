"""Scale-out checks of `bench/pages.py --servers 2 --celery-workers 2`: what must hold when the
deployment is more than one web server and more than one Celery worker.

- The figures' cache is coherent across servers: after a tracked write through one server
  (the bench caseworker adds a housing need, the need form's POST), the director's dashboard
  read through another counts it, instead of counts cached before the write.
- Reminders go out exactly once with several workers: N follow-ups made by the app's action
  come due at once, the sweep is queued every 2 s (as beat queues it every minute), every
  worker takes sweeps and sends, and a mail sink counts each reminder's deliveries by its
  Message-ID (bench/faults.py's sink, workers, sweeper and counting; no faults here).

Django runs in this process (pages.setup_django) for the records the checks start from.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import faults
from browser import Session, form_of

DASHBOARD = "/director/"
REMINDERS_WAIT = 90  # seconds for the workers to send every reminder that came due
SENT = re.compile(r"send_reminder\[[^\]]+\] succeeded in [\d.]+s: 'sent'")


# --- the figures' cache across servers -------------------------------------------------------------


@dataclass
class Coherence:
    coherent: bool
    detail: str


def needs_on_dashboard(text: str, label: str) -> int | None:
    """How many needs of the domain the director's dashboard says are recorded."""
    # The count is a link to its list (the needs recorded), or plain where there is no list.
    row = re.search(rf"<tr><td>{re.escape(label)}</td><td[^>]*>(?:<a [^>]*>)?([\d,]+)(?:</a>)?</td>", text)
    return int(row.group(1).replace(",", "")) if row else None


def check_coherence(info: dict, sessions: dict[str, Session]) -> Coherence:
    """The bench caseworker adds a housing need through server A (the first), with the need
    form as a caseworker posts it; the director's dashboard through server B (the second)
    must count it: one more housing need than B showed just before, when every server had
    the counts in the figures' cache (computed there or read from it)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from services.choices import NeedDomain
    from services.models.organizations import Organization
    from services.models.people import Exoneree

    caseworker = get_user_model().objects.get(username=info["accounts"]["caseworker"])
    person = (
        Exoneree.objects.filter(caseworkers=caseworker, case_closed_on__isnull=True)
        .exclude(pk=info["exoneree_id"])  # the bench exoneree's My plan stays as seeded
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if person is None:
        return Coherence(False, "the bench caseworker has no open case but the bench exoneree's")

    def version() -> int:
        return Organization.objects.values_list("figures_version", flat=True).get(pk=info["organization"])

    director, writer = sessions["director"], sessions["caseworker"]
    label = str(NeedDomain.HOUSING.label)
    for server in (0, 1):
        director.request("GET", DASHBOARD, server=server)
    _, _, page, _ = director.request("GET", DASHBOARD, server=1)
    before, version_before = needs_on_dashboard(page, label), version()
    form = form_of(writer, f"/people/{person}/needs/new/")
    values = {"domain": NeedDomain.HOUSING.value, "description": "Needs a place to stay (scale-out bench)"}
    values |= {"opened_on": date.today().isoformat()}
    status, headers, _, _ = writer.request("POST", f"/people/{person}/needs/new/", {**form, **values}, server=0)
    saved = status == 302 and not headers.get("Location", "").startswith("/accounts/")
    version_after = version()
    status_b, _, page, _ = director.request("GET", DASHBOARD, server=1)
    after = needs_on_dashboard(page, label)
    connection.close()
    coherent = saved and status_b == 200 and before is not None and after == before + 1
    detail = (
        f"a housing need added through server A ({'saved' if saved else f'answer {status}'}), figures version "
        f"{version_before} → {version_after}; housing needs on the director's dashboard through server B: "
        f"{before} → {after}"
    )
    return Coherence(coherent, detail)


# --- reminders with several workers ---------------------------------------------------------------


@dataclass
class Crew:
    """The bench's Celery workers and the mail server they send to."""

    workers: list[faults.Worker]
    sink: faults.SmtpSink
    logs: list[Path] = field(default_factory=list)


@contextlib.contextmanager
def celery_workers(env: dict[str, str], count: int) -> Iterator[Crew]:
    """`count` Celery workers (prefork, one pool process each) with the servers' environment,
    sending their email to a mail sink in this process, for the time of the block. They take
    the servers' tasks too (the figures' recompute after a write)."""
    sink = faults.SmtpSink(faults.Clock(), delay=0)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    env = {name: value for name, value in env.items() if name != "BENCH"}
    env.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_USE_TLS="0",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT="5",
        LOG_LEVEL="INFO",  # the workers' logs say which one sent what
        PYTHONUNBUFFERED="1",
    )
    folder = Path(tempfile.mkdtemp(prefix="reentry-pages-workers-"))
    logs = [folder / f"worker{number}.log" for number in range(count)]
    crew = Crew([faults.Worker(env, log, 1, name=f"pages{n}-") for n, log in enumerate(logs)], sink, logs)
    try:
        for worker in crew.workers:
            worker.start()
        yield crew
    finally:
        for worker in crew.workers:
            worker.stop()
        sink.shutdown()
        sink.server_close()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Deliveries:
    due: int
    delivered: int
    lost: list[int]
    duplicated: int
    others: int
    sent_by_worker: list[int]
    states: dict[str, int]
    seconds: float


def check_reminders(info: dict, crew: Crew, count: int) -> Deliveries:
    """`count` follow-ups of the bench caseworker's people, made by the app's action, their
    "due" reminders brought to now (faults.plan_follow_ups, faults.bring_due); the workers send
    them; each reminder's deliveries counted. The follow-ups are then marked done, which
    cancels their other reminders (before, overdue, escalation), and the daily digests the
    sweeps planned for every caseworker of the network are cancelled: the bench's database is
    left with nothing to send (a later run's workers would otherwise send hundreds)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from services.actions.follow_ups import follow_up_complete
    from services.choices import ReminderKind, ReminderStatus
    from services.models.follow_ups import FollowUp
    from services.models.notifications import Reminder
    from services.models.people import Exoneree
    from services.outcome_counts import outcome_counts_tracked_for

    caseworker = get_user_model().objects.get(username=info["accounts"]["caseworker"])
    people = list(
        Exoneree.objects.filter(caseworkers=caseworker, case_closed_on__isnull=True)
        .exclude(pk=info["exoneree_id"])
        .order_by("pk")[:10]
    )
    # Bringing the follow-ups due is a write outside the app's actions: tracked here as one, so
    # the kept counts file them under the day they now fall due (the outcomes page the bench
    # measures would otherwise count them open tomorrow until the nightly recount).
    bring_due = transaction.atomic(outcome_counts_tracked_for(lambda kwargs: people)(faults.bring_due))
    since = timezone.now()
    ids, message_ids = faults.plan_follow_ups([(caseworker, person) for person in people], count)
    try:
        bring_due(ids, start_in=1, span=3)
        connection.close()
        sweeper = faults.Sweeper()
        sweeper.start()
        started = time.monotonic()
        try:
            while time.monotonic() - started < REMINDERS_WAIT:
                states = faults.reminder_states(ids)
                if states is not None and not faults.unsent(states):
                    break
                time.sleep(0.5)
            seconds = time.monotonic() - started
            time.sleep(1)  # a delivery still on its way to the sink
        finally:
            sweeper.halt.set()
        states = faults.reminder_states(ids) or {}
        deliveries, others = faults.deliveries_by_reminder(crew.sink, message_ids)
    finally:  # interrupted or not, the bench database is left with nothing to send
        for follow_up in FollowUp.objects.filter(reminders__in=ids):
            follow_up_complete(by=caseworker, follow_up=follow_up, outcome="Done (scale-out bench)")
        Reminder.objects.filter(kind=ReminderKind.DIGEST, status=ReminderStatus.PENDING, created_at__gte=since).update(
            status=ReminderStatus.CANCELLED, reason="Planned by a bench run's sweeps."
        )
    connection.close()
    return Deliveries(
        due=len(ids),
        delivered=len(deliveries),
        lost=[pk for pk in ids if pk not in deliveries],
        duplicated=sum(len(times) - 1 for times in deliveries.values()),
        others=others,
        sent_by_worker=[len(SENT.findall(log.read_text(errors="replace"))) for log in crew.logs],
        states=dict(sorted(states.items())),
        seconds=seconds,
    )


def report(coherence: Coherence | None, deliveries: Deliveries | None) -> bool:
    """Print the checks' results; True when every check that ran passed."""
    print("\nScale-out:")
    met = True
    if coherence is not None:
        print(f"  cache coherent across servers: {'yes' if coherence.coherent else 'no'}")
        print(f"    {coherence.detail}")
        met &= coherence.coherent
    if deliveries is not None:
        d = deliveries
        workers = ", ".join(f"worker {n + 1}: {sent}" for n, sent in enumerate(d.sent_by_worker))
        print(f"  reminders with {len(d.sent_by_worker)} workers: {d.due} due, {d.delivered} delivered")
        print(f"    lost: {len(d.lost)}" + (f" (ids {d.lost[:20]})" if d.lost else ""))
        print(f"    duplicated: {d.duplicated}")
        print(f"    all sent or settled in {d.seconds:.1f} s; final statuses {d.states}; sends by {workers}")
        if d.others:
            print(f"    other messages: {d.others} (not one of the checked reminders)")
        met &= not d.lost and not d.duplicated and d.due > 0
    return met
