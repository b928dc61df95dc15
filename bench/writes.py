"""Tracked writes under load: `python bench/writes.py [--clients 16] [--seconds 60]`.

Run bench/seed.py first (same DATABASE_URL; PostgreSQL for the figures). This starts
gunicorn on that database as bench/pages.py does (production mode, BENCH=1: every response
says how many queries it took), gives `--clients` caseworkers of the bench's organization
(the largest) an authenticator with the bench's known key, and signs each in through the
sign-in page and the code page (pages.py's `Session.sign_in`). Each client then writes, for
`--seconds`, through the same forms a caseworker posts, on people of their own caseload:

- intake: a new person (People → New);
- need: a need on one of their people;
- referral draft: a referral of a need to a resource whose provider the person consented to;
- referral send: that draft marked sent (the consent gate passes);
- referral transition: a sent referral accepted, then in progress;
- follow-up done: an open follow-up of their people marked done;
- note: a case note.

It prints, per kind of write, how many succeeded, p50 and p95 latency, and the queries of
one write (X-Query-Count: median and most); then errors (any answer but the redirect of a
saved form), deadlocks (PostgreSQL's own count for the database, before and after), lost
writes (per kind, the rows the database gained against the writes answered as saved), and
whether `manage.py verify_audit` still verifies the access log's chain. Exits 1 when a
target is missed: 0 errors, 0 deadlocks, 0 lost writes, the chain verifying.

`--smoke`: 2 clients for 3 seconds, one worker, on whatever seed.py --smoke seeded
(tests/test_bench_smoke.py runs it on SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import Session, form_of  # noqa: E402
from pages import (  # noqa: E402
    BENCH_DIR,
    ROOT,
    authenticators_ready,
    percentile,
    served,
    server_env,
    server_options,
    setup_django,
)

KINDS = ("intake", "need", "referral draft", "referral send", "referral transition", "follow-up done", "note")
# How often each kind is chosen (a send and a transition need a draft or a sent referral first).
WEIGHTS = {"intake": 1, "need": 3, "referral draft": 3, "referral send": 3, "referral transition": 3}
WEIGHTS |= {"follow-up done": 5, "note": 4}


@dataclass
class Kind:
    name: str
    times: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class Writer:
    """One caseworker's client and the records of their own caseload it writes on."""

    username: str
    people: list[int]
    follow_ups: list[int]
    # (need, resource): the person consented to share with the resource's provider.
    referable: list[tuple[int, int]]
    drafts: list[int] = field(default_factory=list)
    sent: list[tuple[int, str]] = field(default_factory=list)  # (referral, its next status)
    session: Session | None = None
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def prepare(info: dict, clients: int) -> list[Writer]:
    """`clients` caseworkers of the bench's organization with the most people, each given the
    bench's authenticator key (a device of their own), with their records to write on."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from services.choices import Role
    from services.models.consent import ConsentCategoryRow
    from services.models.directory import Resource
    from services.models.follow_ups import FollowUp
    from services.models.needs import Need
    from services.models.people import Exoneree
    from services.selectors.records import OPEN_NEED

    users = list(
        get_user_model()
        .objects.filter(
            staff__organization_id=info["organization"],
            staff__role=Role.CASEWORKER,
            is_active=True,
            caseload__isnull=False,
        )
        .annotate(people=Count("caseload"))
        .order_by("-people", "pk")[:clients]
    )
    if not users:
        raise SystemExit("no caseworker with a caseload in the bench organization: run bench/seed.py first")
    today = timezone.localdate()
    writers: list[Writer] = []
    taken: set[int] = set()
    for user in users:
        TOTPDevice.objects.update_or_create(
            user=user, name="Bench authenticator", defaults={"key": info["totp_key"], "confirmed": True}
        )
        people = list(Exoneree.objects.filter(caseworkers=user).order_by("pk").values_list("pk", flat=True)[:200])
        # A person two of the writers carry: each of their follow-ups goes to one writer only
        # (marked done twice, it would be saved once and counted as a lost write).
        follow_ups = [
            pk
            for pk in FollowUp.objects.filter(exoneree__in=people, done_at__isnull=True)
            .order_by("due_at")
            .values_list("pk", flat=True)[:2000]
            if pk not in taken
        ]
        taken.update(follow_ups)
        consented = ConsentCategoryRow.objects.filter(
            category="contact",
            consent__exoneree__in=people,
            consent__revoked_at__isnull=True,
            consent__starts_on__lte=today,
            consent__ends_on__gte=today,
        ).values_list("consent__exoneree", "consent__provider")
        providers = defaultdict(set)
        for person, provider in consented:
            providers[person].add(provider)
        resource_of = dict(
            Resource.objects.filter(organization_id=info["organization"], status="active")
            .order_by("pk")
            .values_list("provider", "pk")
        )
        referable = [
            (need, resource_of[provider])
            for need, person in Need.objects.filter(OPEN_NEED, exoneree__in=list(providers)).values_list(
                "pk", "exoneree"
            )
            for provider in sorted(providers[person])
            if provider in resource_of
        ]
        random.Random(user.pk).shuffle(referable)  # noqa: S311 (an order, not a secret)
        writers.append(Writer(user.username, people, follow_ups, referable))
    return writers


def counts(organization: int) -> dict[str, int]:
    """Rows per kind of write, in the bench's organization (read before and after the run)."""
    from services.models.casework import CaseNote
    from services.models.follow_ups import FollowUp
    from services.models.needs import Need
    from services.models.people import Exoneree
    from services.models.referrals import Referral, ReferralEvent

    events = ReferralEvent.objects.filter(referral__organization_id=organization)
    done = FollowUp.objects.filter(exoneree__organization_id=organization, done_at__isnull=False)
    return {
        "intake": Exoneree.objects.filter(organization_id=organization).count(),
        "need": Need.objects.filter(organization_id=organization).count(),
        "referral draft": Referral.objects.filter(organization_id=organization).count(),
        "referral send": events.filter(to_status="sent").count(),
        "referral transition": events.filter(to_status__in=["accepted", "in_progress"]).count(),
        "follow-up done": done.count(),
        "note": CaseNote.objects.filter(exoneree__organization_id=organization).count(),
    }


def deadlocks() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


class Run:
    def __init__(self, writers: list[Writer], seconds: float, seed: int) -> None:
        self.writers, self.seconds = writers, seconds
        self.kinds = {name: Kind(name) for name in KINDS}
        self.lock = threading.Lock()
        self.rng = random.Random(seed)  # noqa: S311 (which write comes next, not a secret)
        self.serial = 0

    def record(self, kind: str, status: int, headers: dict[str, str], elapsed: float, text: str) -> bool:
        saved = status == 302 and not headers.get("Location", "").startswith("/accounts/")
        with self.lock:
            entry = self.kinds[kind]
            entry.times.append(elapsed)
            entry.queries.append(int(headers.get("X-Query-Count", "-1")))
            if not saved:
                reason = re.search(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)', text)
                entry.errors[f"{status} {reason.group(1) if reason else ''}".strip()] += 1
        return saved

    def post(self, writer: Writer, kind: str, path: str, form: dict[str, list[str]] | None, values: dict) -> str | None:
        """Post the form (its shown values, these changed); the saved record's address, or None."""
        body: dict[str, Any] = {**(form or {}), **values}
        if "csrfmiddlewaretoken" not in body:
            body["csrfmiddlewaretoken"] = writer.session.cookies.get("csrftoken", "")
        status, headers, text, elapsed = writer.session.request("POST", path, body)
        if self.record(kind, status, headers, elapsed, text):
            return headers.get("Location", "")
        return None

    def next_kind(self, writer: Writer) -> str:
        while True:
            with self.lock:
                kind = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
            if kind == "referral send" and not writer.drafts:
                kind = "referral draft"
            if kind == "referral transition" and not writer.sent:
                kind = "referral send" if writer.drafts else "referral draft"
            if kind == "referral draft" and not writer.referable:
                continue
            if kind == "follow-up done" and not writer.follow_ups:
                continue
            return kind

    def write(self, writer: Writer, kind: str) -> None:
        with self.lock:
            self.serial += 1
            serial = self.serial
        person = random.choice(writer.people)  # noqa: S311
        if kind == "intake":
            form = writer.forms["intake"]
            values = {"legal_name": f"Writer {serial} Bench{writer.username[-4:]}", "ssn": "", "date_of_birth": ""}
            self.post(writer, kind, "/people/new/", form, values)
        elif kind == "need":
            values = {"domain": "housing", "description": f"Needs a place to stay (write {serial})"}
            values |= {"opened_on": date.today().isoformat()}
            self.post(writer, kind, f"/people/{person}/needs/new/", writer.forms["need"], values)
        elif kind == "referral draft":
            need, resource = writer.referable.pop()
            values = {"resource": str(resource), "note": f"Bench referral {serial}", "categories": []}
            if where := self.post(writer, kind, f"/needs/{need}/refer/", None, values):
                writer.drafts.append(int(where.rstrip("/").rsplit("/", 1)[-1]))
        elif kind == "referral send":
            referral = writer.drafts.pop()
            if self.post(writer, kind, f"/referrals/{referral}/status/", None, {"status": "sent", "note": ""}):
                writer.sent.append((referral, "accepted"))
        elif kind == "referral transition":
            referral, status = writer.sent.pop()
            if self.post(writer, kind, f"/referrals/{referral}/status/", None, {"status": status, "note": ""}):
                if status == "accepted":
                    writer.sent.append((referral, "in_progress"))
        elif kind == "follow-up done":
            follow_up = writer.follow_ups.pop()
            self.post(writer, kind, f"/follow-ups/{follow_up}/done/", None, {"outcome": f"Done (write {serial})"})
        elif kind == "note":
            values = {"text": f"Called about the lease (write {serial}).", "visibility": "staff"}
            self.post(writer, kind, f"/people/{person}/notes/new/", writer.forms["note"], values)

    def client(self, writer: Writer, until: float) -> None:
        while time.monotonic() < until:
            self.write(writer, self.next_kind(writer))


def report(run: Run, before: dict[str, int], after: dict[str, int], deadlocked: int | None, audit: bool) -> bool:
    print(f"\n{'write':<22} {'saved':>6} {'p50 ms':>8} {'p95 ms':>8} {'queries':>9} {'errors':>7} {'lost':>5}")
    errors = lost = 0
    for kind in run.kinds.values():
        saved = len(kind.times) - sum(kind.errors.values())
        gained = after[kind.name] - before[kind.name]
        missing = saved - gained  # answered as saved, not in the database
        errors, lost = errors + sum(kind.errors.values()), lost + max(0, missing)
        if not kind.times:
            print(f"{kind.name:<22} {0:>6}")
            continue
        p50, p95 = statistics.median(kind.times) * 1000, percentile(kind.times, 0.95) * 1000
        queries = f"{statistics.median(kind.queries):g}/{max(kind.queries)}"
        print(
            f"{kind.name:<22} {saved:>6} {p50:8.1f} {p95:8.1f} {queries:>9} {sum(kind.errors.values()):>7} "
            f"{missing:>5}" + (f"  (the database gained {gained})" if missing else "")
        )
        for reason, n in kind.errors.most_common(3):
            print(f"    {n} × {reason}")
    total = sum(len(k.times) for k in run.kinds.values())
    print(f"\n{total} writes in {run.seconds:g} s by {len(run.writers)} clients ({total / run.seconds:.1f} per second)")
    print("queries: median/most of one write, from the server's X-Query-Count (BEGIN and COMMIT not counted)")
    print("\nTargets:")
    print(f"  0 errors: {'met' if not errors else f'missed ({errors})'}")
    if deadlocked is None:
        print("  0 deadlocks: not measured (PostgreSQL only)")
    else:
        print(f"  0 deadlocks: {'met' if not deadlocked else f'missed ({deadlocked})'}")
    print(f"  0 lost writes: {'met' if not lost else f'missed ({lost})'}")
    print(f"  the audit chain verifies: {'met' if audit else 'MISSED'}")
    return not errors and not deadlocked and not lost and audit


def verify_audit(args: argparse.Namespace) -> bool:
    env = {k: v for k, v in server_env(args.database, args.smoke).items() if k != "BENCH"}
    result = subprocess.run(  # noqa: S603 (this checkout's manage.py, fixed arguments)
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    print(f"\nmanage.py verify_audit (exit {result.returncode}): {result.stdout.strip()[-300:]}")
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server_options(parser, clients=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1, help="the order of the writes")
    parser.add_argument("--smoke", action="store_true", help="2 clients for 3 s, one worker (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.seconds, args.workers = min(args.clients, 2), min(args.seconds, 3), 1
    info = json.loads((BENCH_DIR / "accounts.json").read_text())
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; seeded {info['sizes']}")
    print(f"gunicorn {args.workers} workers, {args.clients} clients for {args.seconds:g} s")
    setup_django(args)
    from django.db import connection

    writers = prepare(info, args.clients)
    authenticators_ready([writer.username for writer in writers])
    connection.close()
    with served(args) as port:
        for writer in writers:
            writer.session = Session(port)
            writer.session.sign_in(writer.username, info["password"], info["totp_key"])
            person = writer.people[0]
            writer.forms = {
                "intake": form_of(writer.session, "/people/new/"),
                "need": form_of(writer.session, f"/people/{person}/needs/new/"),
                "note": form_of(writer.session, f"/people/{person}/notes/new/"),
            }
        before, deadlocks_before = counts(info["organization"]), deadlocks()
        connection.close()
        run = Run(writers, args.seconds, args.seed)
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=run.client, args=(writer, until)) for writer in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    after, deadlocks_after = counts(info["organization"]), deadlocks()
    deadlocked = None if deadlocks_before is None else deadlocks_after - deadlocks_before
    met = report(run, before, after, deadlocked, verify_audit(args))
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
