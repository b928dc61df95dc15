"""How fast each role's main pages are on the seeded network: `python bench/pages.py`.

Run bench/seed.py first (same DATABASE_URL). This starts gunicorn on that database in
production mode (DEBUG off) with BENCH=1, so every response says how many queries it took
(X-Query-Count); signs in as bench-caseworker, bench-director (password, then a TOTP code
from the known key) and bench-exoneree; then `--clients` concurrent clients request every
page `--rounds` times, all pages shuffled together, so the floor (/ping/: the sign-in gate
and nothing else) is measured under the same load as the pages. Prints p50/p95 latency and
the query count per page, and each page's p95 over its role's floor p95 (target ≤ 2×).

Then, in this process, the caseworker's exoneree list (first page, with its count) built on
the permission filter is timed against the same list filtered by the caseworker relation
alone (a plain foreign key on the caseload table): target ≤ 1.5×.

Scale-out (issue 24): `--servers 2` starts two gunicorn servers on the same database and
REDIS_URL, each on its own port, and every session asks them in turn, one request each;
`--celery-workers 2` starts two Celery workers beside them (they take the servers' tasks).
After the pages it checks (bench/scaleout.py) that a tracked write through one server shows
on the director's dashboard read through the other ("cache coherent across servers"), and,
with workers, that `--reminders` reminders due at once are each delivered exactly once.

Growth (issue 24): `--save FILE` keeps this run's figures (p50, p95, queries per page, the
seeded sizes); `--against FILE`, on a network seeded at another `--scale`, prints each page's
p95 beside the saved run's, their ratio, and whether the query counts are the same (targets:
the same counts, p95 growth ≤ 1.3× for a network five times larger).

`--smoke`: one worker, one client, one request per page, hashed static files without their
compressed copies (in the data folder): a few seconds to show the script still runs and
every page answers 200 (tests/test_bench_smoke.py runs it on a tiny seeded SQLite, and again
with `--servers 2`).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import scaleout
from browser import Session

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/perf_bench"
# One for the run, as in a deployment: every server, every worker and this process sign with
# it (a session signed in through one server is valid on another; a reminder's Message-ID,
# keyed with it, is the same whoever computes it).
SECRET_KEY = secrets.token_urlsafe(50)


@dataclass
class Page:
    name: str
    role: str
    path: str
    times: list[float] = field(default_factory=list)
    queries: set[int] = field(default_factory=set)
    errors: int = 0


def pages_for(info: dict) -> list[Page]:
    person = info["exoneree_id"]
    return [
        Page("floor: /ping/ (caseworker)", "caseworker", "/ping/"),
        Page("caseworker dashboard", "caseworker", "/dashboard/"),
        Page("exoneree list", "caseworker", "/people/"),
        Page("exoneree list, search", "caseworker", "/people/?" + urlencode({"q": info["search"]})),
        Page("exoneree detail", "caseworker", f"/people/{person}/"),
        Page("resource search", "caseworker", "/resources/?" + urlencode({"q": info["resource_search"]})),
        Page("HSDS API: services, a page of 50", "caseworker", "/api/hsds/services"),
        Page("HSDS API: organizations", "caseworker", "/api/hsds/organizations"),
        Page("API: people, a page of 50", "caseworker", "/api/v1/people/"),
        Page("API: a person", "caseworker", f"/api/v1/people/{person}/"),
        Page("API: a person's needs", "caseworker", f"/api/v1/people/{person}/needs/"),
        Page("API: resources, a page of 50", "caseworker", "/api/v1/resources/"),
        Page("floor: /ping/ (director)", "director", "/ping/"),
        Page("director dashboard", "director", "/director/"),
        Page("director outcomes", "director", "/director/outcomes/"),
        # Each request a different 12 months, so none is answered from the figures' cache.
        Page("director outcomes, computed", "director", "/director/outcomes/?{period}"),
        Page("exoneree list (director)", "director", "/people/"),
        Page("exoneree detail (director)", "director", f"/people/{person}/"),
        Page("floor: /ping/ (exoneree)", "exoneree", "/ping/"),
        Page("My plan", "exoneree", "/my-plan/"),
        # Signed out: the sign-in page is the floor of a page that needs no account.
        *(
            [
                Page("floor: sign-in page (no account)", "provider", "/accounts/login/"),
                Page("provider page (no account)", "provider", f"/p/{info['provider_token']}/"),
            ]
            if "provider_token" in info
            else []
        ),
    ]


_periods = itertools.count()
# The figures' cache is shared and outlives a run: a run started within a minute of the last
# would find the same periods there (served, not computed). Each run's periods are as many
# days longer as this run's own number says, so no two runs ask for the same ones.
_run_days = random.SystemRandom().randrange(60)


def path_of(page: Page) -> str:
    """The page's path; `{period}` becomes about 12 months ending a day earlier each time."""
    if "{period}" not in page.path:
        return page.path
    end = date.today() - timedelta(days=next(_periods))
    return page.path.format(period=urlencode({"from": end - timedelta(days=364 + _run_days), "to": end}))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def key(env_name: str, file_name: str) -> str:
    if value := os.environ.get(env_name):
        return value
    path = Path(os.environ.get("REENTRY_VAR_DIR", ROOT / "var")) / "keys" / file_name
    return path.read_text().strip()


def server_env(database: str, smoke: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    if smoke:  # collectstatic's gzip and Brotli copies take ~25 s of CPU
        var = Path(os.environ.get("REENTRY_VAR_DIR", ROOT / "var"))
        env.update(STATIC_ROOT=str(var / "static-smoke"), STATIC_COMPRESSED="0")
    env.update(
        DATABASE_URL=database,
        DEBUG="0",
        BENCH="1",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        # The keys seed.py encrypted with (the development keys in var/keys/ unless set).
        FIELD_ENCRYPTION_KEYS=key("FIELD_ENCRYPTION_KEYS", "field_encryption.key"),
        BLIND_INDEX_KEYS=key("BLIND_INDEX_KEYS", "blind_index.key"),
        AUDIT_ANCHOR_KEY=key("AUDIT_ANCHOR_KEY", "audit_anchor.key"),
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        # The bench asks the provider's page hundreds of times with one token.
        PROVIDER_RATE_PER_TOKEN="1000000",  # noqa: S106 (a count, not a secret)
        PROVIDER_RATE_PER_ADDRESS="1000000",
        # writes.py's caseworkers send forms faster than any person does.
        FORM_RATE_PER_SENDER="1000000",
    )
    return env


@contextlib.contextmanager
def serving(args: argparse.Namespace, count: int = 1) -> Iterator[list[int]]:
    """`count` gunicorn servers on the bench's database (migrated, static files collected), in
    production mode with BENCH=1, each on a port of its own, for the time of the block; yields
    their ports. They share one environment: the run's SECRET_KEY, one database, one REDIS_URL,
    as servers behind a load balancer do."""
    env = server_env(args.database, args.smoke)
    python = sys.executable
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):  # the schema of this checkout
        subprocess.run([python, "manage.py", *command, "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    gunicorn = Path(python).with_name("gunicorn")
    servers: dict[int, subprocess.Popen[bytes]] = {}
    try:
        while len(servers) < count:
            if (port := free_port()) in servers:  # not bound yet by the server given it
                continue
            servers[port] = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
                [str(gunicorn), "reentry.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers)]
                + ["--log-level", "warning"],
                cwd=ROOT,
                env=env,
            )
        for port in servers:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
        yield list(servers)
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)


@contextlib.contextmanager
def served(args: argparse.Namespace) -> Iterator[int]:
    """One server (`serving`) for the time of the block; yields its port."""
    with serving(args) as (port,):
        yield port


def signed_in(info: dict, ports: list[int]) -> dict[str, Session]:
    """Each bench account's session (its requests in turn to every server), and the
    provider's, who has no account: the token in the address is the key."""
    sessions = {}
    for role, username in info["accounts"].items():
        session = Session(*ports)
        session.sign_in(username, info["password"], info["totp_key"] if role != "exoneree" else None)
        sessions[role] = session
    sessions["provider"] = Session(*ports)
    return sessions


def run_pages(args: argparse.Namespace, info: dict, sessions: dict[str, Session]) -> list[Page]:
    pages = pages_for(info)
    for page in pages:  # warm every worker's caches, on every server
        for _ in range(1 if args.smoke else 2 * args.workers * args.servers):
            sessions[page.role].request("GET", path_of(page))
    work = [page for page in pages for _ in range(args.rounds)]
    random.Random(1).shuffle(work)  # noqa: S311 (an order, not a secret)
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not work:
                    return
                page = work.pop()
            status, headers, _, elapsed = sessions[page.role].request("GET", path_of(page))
            with lock:
                if status != 200:
                    page.errors += 1
                page.times.append(elapsed)
                page.queries.add(int(headers.get("X-Query-Count", "-1")))

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return pages


QUERY_TARGET = 12  # issue 7: every listed page
RATIO_TARGET = 2.0  # p95 over the floor's p95 in the same run
OUTCOMES_TARGET_MS = 300
GROWTH_TARGET = 1.3  # p95 on a network five times larger over p95 on the default one
FILTER_TARGET = 1.5  # the permission-filtered list over the same list by a plain foreign key


def report_pages(pages: list[Page]) -> None:
    floors = {page.role: percentile(page.times, 0.95) for page in pages if page.name.startswith("floor")}
    print(f"\n{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'p95/floor':>10}")
    missed: dict[str, list[str]] = defaultdict(list)
    for page in pages:
        p50, p95 = statistics.median(page.times) * 1000, percentile(page.times, 0.95) * 1000
        queries = "/".join(str(q) for q in sorted(page.queries))
        ratio = p95 / 1000 / floors[page.role]
        errors = f"  {page.errors} errors" if page.errors else ""
        print(f"{page.name:<30} {p50:8.1f} {p95:8.1f} {queries:>8} {ratio:9.2f}×{errors}")
        if page.name.startswith("floor"):
            continue
        if max(page.queries) > QUERY_TARGET:
            missed["queries"].append(f"{page.name} ({max(page.queries)})")
        if ratio > RATIO_TARGET:
            missed["ratio"].append(f"{page.name} ({ratio:.2f}×)")
        if page.name.startswith("director outcomes") and p95 > OUTCOMES_TARGET_MS:
            missed["outcomes"].append(f"{page.name}: p95 {p95:.0f} ms")
    print("\nTargets:")
    for key, label in (
        ("queries", f"every page ≤ {QUERY_TARGET} queries"),
        ("ratio", f"every page's p95 ≤ {RATIO_TARGET:g}× its floor's"),
        ("outcomes", f"director outcomes ≤ {OUTCOMES_TARGET_MS} ms (p95)"),
    ):
        print(f"  {label}: " + ("met" if not missed[key] else "missed by " + ", ".join(missed[key])))


def figures_of(pages: list[Page], info: dict) -> dict:
    return {
        "sizes": info["sizes"],
        "load": os.getloadavg()[0],
        "pages": {
            page.name: {
                "p50": statistics.median(page.times) * 1000,
                "p95": percentile(page.times, 0.95) * 1000,
                "queries": sorted(page.queries),
            }
            for page in pages
        },
    }


def report_growth(now: dict, before: dict) -> None:
    """Each page's p95 on this network beside the saved run's, and whether the queries held."""
    grown = now["sizes"]["exonerees"] / before["sizes"]["exonerees"]
    print(
        f"\nGrowth: {before['sizes']['exonerees']:,} → {now['sizes']['exonerees']:,} people ({grown:.1f}×); "
        f"load average {before['load']:.2f} then, {now['load']:.2f} now (the targets are for 5×)"
    )
    print(f"{'page':<30} {'p95 before':>11} {'p95 now':>8} {'growth':>7} {'queries':>12}")
    missed: dict[str, list[str]] = defaultdict(list)
    for name, page in now["pages"].items():
        if (then := before["pages"].get(name)) is None:
            continue
        growth = page["p95"] / then["p95"]
        queries = "same" if page["queries"] == then["queries"] else f"{then['queries']} → {page['queries']}"
        print(f"{name:<30} {then['p95']:11.1f} {page['p95']:8.1f} {growth:6.2f}× {queries:>12}")
        if name.startswith("floor"):
            continue
        if page["queries"] != then["queries"]:
            missed["queries"].append(name)
        if growth > GROWTH_TARGET:
            missed["growth"].append(f"{name} ({growth:.2f}×)")
    print("Targets:")
    for key, label in (("queries", "the same queries per page"), ("growth", f"p95 growth ≤ {GROWTH_TARGET:g}×")):
        print(f"  {label}: " + ("met" if not missed[key] else "missed by " + ", ".join(missed[key])))


def setup_django(args: argparse.Namespace) -> None:
    """Django in this process, on the bench's database and keys (not as the server: no BENCH)."""
    os.environ.update({k: v for k, v in server_env(args.database, args.smoke).items() if k not in {"BENCH", "DEBUG"}})
    os.environ["DEBUG"] = "0"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
    import django

    django.setup()


def authenticators_ready(usernames: list[str]) -> None:
    """The bench accounts' authenticators take this half-minute's code again: a device refuses
    a code it has accepted (replay), and another bench run may have signed in with it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user__username__in=usernames, name="Bench authenticator").update(last_t=-1)


def provider_token(info: dict) -> str | None:
    """A fresh link to a sent referral of the bench's organization that a current consent
    covers (the page answers 410 otherwise): its token, for the provider's page."""
    from django.utils import timezone

    from services.choices import ReferralStatus
    from services.lib.provider_tokens import new_token
    from services.models.referrals import ProviderLink, Referral
    from services.selectors import coverage

    sent = Referral.objects.filter(organization_id=info["organization"], status=ReferralStatus.SENT)
    for referral in sent.select_related("need__exoneree", "resource__provider").order_by("pk")[:200]:
        if not coverage.consent_missing(referral):
            token, hashed = new_token()
            expires_at = timezone.now() + timedelta(days=1)
            ProviderLink.objects.create(referral=referral, token_hash=hashed, expires_at=expires_at)
            return token
    return None


def compare_permission_filter(args: argparse.Namespace, info: dict) -> None:
    """The caseworker's list through the permission table vs the caseload relation alone."""
    setup_django(args)
    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from services.models.people import Exoneree
    from services.selectors import records
    from services.views.cases import PAGE_SIZE

    user = get_user_model().objects.get(username=info["accounts"]["caseworker"])
    by_permission = records.exonerees_visible_to

    def by_caseload(user: object) -> object:
        return Exoneree.objects.filter(organization_id=info["organization"], caseworkers=user)

    def first_page(base: object, q: str) -> tuple[float, int, int]:
        records.exonerees_visible_to = base
        try:
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                page = Paginator(records.exoneree_list(user, q=q), PAGE_SIZE).get_page(1)
                rows = [(p.pk, p.open_needs, p.next_follow_up, p.caseworker_names) for p in page]
            return time.perf_counter() - start, len(queries), len(rows)
        finally:
            records.exonerees_visible_to = by_permission

    print(
        f"\nThe caseworker's exoneree list (first page), permission filter vs caseload foreign key, {args.rounds} runs:"
    )
    for q in ("", info["search"]):
        first_page(by_permission, q), first_page(by_caseload, q)  # warm
        timings: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.rounds):
            for name, base in (("permission", by_permission), ("foreign key", by_caseload)):
                elapsed, queries, rows = first_page(base, q)
                timings[name].append(elapsed)
        perm, fk = statistics.median(timings["permission"]), statistics.median(timings["foreign key"])
        label = f"search {q!r}" if q else "no search"
        print(
            f"  {label:<22} permission {perm * 1000:6.1f} ms, foreign key {fk * 1000:6.1f} ms "
            f"(median; {queries} queries, {rows} rows): {perm / fk:.2f}× "
            f"({'met' if perm / fk <= FILTER_TARGET else 'missed'}: ≤ {FILTER_TARGET:g}×)"
        )


def server_options(parser: argparse.ArgumentParser, *, clients: int) -> None:
    """The options of a bench that runs gunicorn (pages.py, writes.py)."""
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--clients", type=int, default=clients)
    # Gunicorn's advice, 2 × cores + 1: enough sync workers that requests do not queue behind a slow page.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server_options(parser, clients=4)
    parser.add_argument("--rounds", type=int, default=30, help="requests per page")
    parser.add_argument("--smoke", action="store_true", help="1 worker, 1 client, 1 request per page (seconds)")
    parser.add_argument(
        "--servers", type=int, default=1, help="gunicorn servers, each on its own port; requests go to them in turn"
    )
    parser.add_argument(
        "--celery-workers", type=int, default=0, help="Celery workers beside the servers; then reminders are checked"
    )
    parser.add_argument("--reminders", type=int, default=40, help="reminders due at once (with --celery-workers)")
    parser.add_argument("--save", type=Path, help="write this run's figures to this file (JSON)")
    parser.add_argument("--against", type=Path, help="print each page's p95 beside this saved run's (--save)")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.workers, args.rounds, args.reminders = 1, 1, 1, min(args.reminders, 6)
    info = json.loads((BENCH_DIR / "accounts.json").read_text())

    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; seeded sizes {info['sizes']}"
    )
    print(f"gunicorn {args.workers} workers, {args.clients} clients, {args.rounds} requests per page")
    if args.servers > 1 or args.celery_workers:
        redis = "REDIS_URL" if os.environ.get("REDIS_URL") else "the database (no REDIS_URL)"
        print(f"{args.servers} servers, {args.celery_workers} Celery workers; the figures' cache in {redis}")
    if args.celery_workers:
        # A queue of this run's own, which its workers alone read: the servers' tasks and the
        # sweeps queued here go to it. In the environment before Django starts, since the
        # servers', the workers' and this process's settings all come from it.
        os.environ["CELERY_QUEUE"] = f"bench-pages-{secrets.token_hex(4)}"
    setup_django(args)
    authenticators_ready(list(info["accounts"].values()))
    if token := provider_token(info):
        info["provider_token"] = token
    else:
        print("no sent referral under a current consent: the provider's page is not measured")
    coherence = deliveries = None
    with contextlib.ExitStack() as running:
        ports = running.enter_context(serving(args, args.servers))
        if args.celery_workers:
            env = server_env(args.database, args.smoke)
            crew = running.enter_context(scaleout.celery_workers(env, args.celery_workers))
        sessions = signed_in(info, ports)
        pages = run_pages(args, info, sessions)
        if args.servers > 1:
            coherence = scaleout.check_coherence(info, sessions)
        if args.celery_workers:
            deliveries = scaleout.check_reminders(info, crew, args.reminders)
    report_pages(pages)
    figures = figures_of(pages, info)
    if args.save:
        args.save.write_text(json.dumps(figures, indent=1) + "\n")
    if args.against:
        report_growth(figures, json.loads(args.against.read_text()))
    scaled_out = scaleout.report(coherence, deliveries) if args.servers > 1 or args.celery_workers else True
    compare_permission_filter(args, info)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if failed := [page.name for page in pages if page.errors]:
        raise SystemExit(f"pages that did not answer 200: {', '.join(failed)}")
    if not scaled_out:
        raise SystemExit("a scale-out check failed (above)")


if __name__ == "__main__":
    main()
