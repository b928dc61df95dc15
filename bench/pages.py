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

`--smoke`: one worker, one client, one request per page, hashed static files without their
compressed copies (in the data folder): a few seconds to show the script still runs and
every page answers 200 (tests/test_bench_smoke.py runs it on a tiny seeded SQLite).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import re
import secrets
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/perf_bench"


def totp(key_hex: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238, as django-otp's TOTPDevice checks it (SHA-1, 30 s, 6 digits)."""
    counter = int((at or time.time()) // step)
    mac = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


class Session:
    """One signed-in browser: cookies by hand (the production cookies are marked Secure)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        return self.local.conn

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict[str, str], str, float]:
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        for attempt in range(2):
            conn = self.connection()
            start = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                text = response.read().decode()
                elapsed = time.perf_counter() - start
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            conn.close()
            self.local.conn = None
        return response.status, dict(response.headers), text, elapsed

    def form_token(self, path: str) -> tuple[str, str]:
        status, headers, text, _ = self.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        return (match.group(1) if match else ""), text

    def sign_in(self, username: str, password: str, totp_key: str | None) -> None:
        token, _ = self.form_token("/accounts/login/")
        status, headers, text, _ = self.request(
            "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        if status != 302:
            raise SystemExit(f"Signing in as {username} failed ({status}): run bench/seed.py first?")
        if totp_key:
            verify = "/accounts/two-factor/"
            token, _ = self.form_token(verify)
            status, headers, _, _ = self.request(
                "POST", verify, {"csrfmiddlewaretoken": token, "code": totp(totp_key), "next": "/"}
            )
            if status != 302 or urlsplit(headers.get("Location", "")).path.startswith("/accounts/"):
                raise SystemExit(f"The second factor of {username} was refused ({status}).")


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


def path_of(page: Page) -> str:
    """The page's path; `{period}` becomes 12 months ending a day earlier each time."""
    if "{period}" not in page.path:
        return page.path
    end = date.today() - timedelta(days=next(_periods))
    return page.path.format(period=urlencode({"from": end - timedelta(days=364), "to": end}))


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
        SECRET_KEY=secrets.token_urlsafe(50),
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
    )
    return env


@contextlib.contextmanager
def served(args: argparse.Namespace) -> Iterator[int]:
    """gunicorn on the bench's database (migrated, static files collected), in production
    mode with BENCH=1, for the time of the block; yields its port."""
    env = server_env(args.database, args.smoke)
    python = sys.executable
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):  # the schema of this checkout
        subprocess.run([python, "manage.py", *command, "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    port = free_port()
    gunicorn = Path(python).with_name("gunicorn")
    server = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
        [str(gunicorn), "reentry.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_pages(args: argparse.Namespace, info: dict) -> list[Page]:
    with served(args) as port:
        sessions = {}
        for role, username in info["accounts"].items():
            session = Session(port)
            session.sign_in(username, info["password"], info["totp_key"] if role != "exoneree" else None)
            sessions[role] = session
        sessions["provider"] = Session(port)  # no account: the token in the address is the key
        pages = pages_for(info)
        for page in pages:  # warm every worker's caches
            for _ in range(1 if args.smoke else 2 * args.workers):
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
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.workers, args.rounds = 1, 1, 1
    info = json.loads((BENCH_DIR / "accounts.json").read_text())

    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; seeded sizes {info['sizes']}"
    )
    print(f"gunicorn {args.workers} workers, {args.clients} clients, {args.rounds} requests per page")
    setup_django(args)
    authenticators_ready(list(info["accounts"].values()))
    if token := provider_token(info):
        info["provider_token"] = token
    else:
        print("no sent referral under a current consent: the provider's page is not measured")
    pages = run_pages(args, info)
    report_pages(pages)
    compare_permission_filter(args, info)
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if failed := [page.name for page in pages if page.errors]:
        raise SystemExit(f"pages that did not answer 200: {', '.join(failed)}")


if __name__ == "__main__":
    main()
