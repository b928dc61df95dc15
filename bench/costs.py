"""Where a bench page spends its time, in this process: `python bench/costs.py [PAGE ...]`.

Run bench/seed.py first (same DATABASE_URL). Each page of bench/pages.py (by name, or all)
is requested through Django's test client as its bench account, in production settings,
`--rounds` times after a warm-up; prints the median time split into SQL and the rest, the time
in its template (render ms, with the queries the template itself makes), the
process's own CPU time (cpu ms: what the page costs whatever else the machine runs), the
query count, and with `--top N` the N functions with the most cumulative time (cProfile).
One client and no gunicorn: this is for finding the cost, pages.py is the measurement.
`--smoke`: one round, static files as pages.py's --smoke has them (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import runpy
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from pages import BENCH_DIR, DEFAULT_DATABASE, pages_for, path_of, server_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="page names as pages.py prints them (default: all)")
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions per page")
    parser.add_argument("--profile-out", help="with --top: also write the last page's profile here (pstats)")
    parser.add_argument("--sql", action="store_true", help="print each query of a page's last request")
    parser.add_argument("--whole-sql", action="store_true", help="with --sql: each query whole, not its start")
    parser.add_argument("--cold", action="store_true", help="no figures' cache: what a cached page costs to compute")
    parser.add_argument("--smoke", action="store_true", help="one round (seconds)")
    parser.add_argument(
        "--gc", action="store_true", help="also print the garbage collector's collections per page and their time"
    )
    parser.add_argument(
        "--templates", type=int, default=0, help="print the N templates with the most time of their own per page"
    )
    parser.add_argument(
        "--as-worker", action="store_true", help="first settle memory as gunicorn.conf.py does in each worker"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rounds = 1
    info = json.loads((BENCH_DIR / "accounts.json").read_text())

    os.environ.update({k: v for k, v in server_env(args.database, args.smoke).items() if k != "BENCH"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache.backends.dummy import DummyCache
    from django.core.management import call_command
    from django.db import connection
    from django.template import base
    from django.template.backends.django import Template as DjangoTemplate
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from services import figures

    call_command("collectstatic", "--noinput", verbosity=0)  # production settings serve the manifest's names
    clients = {}
    for role, username in info["accounts"].items():
        client = Client(HTTP_HOST="127.0.0.1", secure=True)
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        if device := TOTPDevice.objects.filter(user=user, confirmed=True).first():
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        clients[role] = client

    # Seconds inside the page's templates, with the queries they make themselves (a lazy
    # queryset read by the template). Includes render inside their parent; a template a view
    # renders into another's context (render_to_string) is counted once, not twice.
    rendering = {"seconds": 0.0, "depth": 0}
    render = DjangoTemplate.render

    def timed_render(self: DjangoTemplate, *a: object, **kw: object) -> str:
        rendering["depth"] += 1
        start = time.perf_counter()
        try:
            return render(self, *a, **kw)
        finally:
            rendering["depth"] -= 1
            if not rendering["depth"]:
                rendering["seconds"] += time.perf_counter() - start

    DjangoTemplate.render = timed_render

    # Each template's own time (without the templates it includes) and renders (--templates).
    own: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    inner: list[float] = []
    template_render = base.Template.render

    def own_time(self: base.Template, context: object) -> str:
        inner.append(0.0)
        start = time.perf_counter()
        try:
            return template_render(self, context)
        finally:
            spent = time.perf_counter() - start
            mine = spent - inner.pop()
            if inner:
                inner[-1] += spent
            own[self.origin.template_name or "?"][0] += mine
            own[self.origin.template_name or "?"][1] += 1

    if args.templates:
        base.Template.render = own_time

    # The garbage collector's collections by generation, and the seconds they took (--gc).
    collections = {"count": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "start": 0.0}

    def collecting(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections["start"] = time.perf_counter()
        else:
            collections["count"][info["generation"]] += 1
            collections["seconds"][info["generation"]] += time.perf_counter() - collections["start"]

    if args.gc:
        gc.callbacks.append(collecting)
    if args.as_worker:
        runpy.run_path(str(ROOT.parent / "gunicorn.conf.py"))["post_worker_init"](None)

    if args.cold:  # a cache that keeps nothing (clearing a Redis cache would flush its whole database)
        nothing = DummyCache("cold", {})
        figures.cache = lambda: nothing
    chosen = [p for p in pages_for(info) if not args.pages or p.name in args.pages]
    heads = f"{'median ms':>10} {'sql ms':>8} {'other ms':>9} {'render ms':>10} {'cpu ms':>7} {'queries':>8}"
    print(f"{'page':<30} {heads}")
    for page in chosen:
        client = clients[page.role]
        for _ in range(1 if args.smoke else 3):
            if (status := client.get(path_of(page)).status_code) != 200:
                raise SystemExit(f"GET {path_of(page)}: {status}")
        totals, sqls, counts, renders, cpus = [], [], [], [], []
        collections.update(count=[0, 0, 0], seconds=[0.0, 0.0, 0.0])
        own.clear()
        profile = cProfile.Profile() if args.top else None
        for _ in range(args.rounds):
            with CaptureQueriesContext(connection) as queries:
                if profile:
                    profile.enable()
                rendering["seconds"] = 0.0
                start, cpu = time.perf_counter(), time.process_time()
                client.get(path_of(page))
                totals.append(time.perf_counter() - start)
                cpus.append(time.process_time() - cpu)
                if profile:
                    profile.disable()
            sqls.append(sum(float(q["time"]) for q in queries.captured_queries))
            counts.append(len(queries))
            renders.append(rendering["seconds"])
        total, sql = statistics.median(totals) * 1000, statistics.median(sqls) * 1000
        rendered, cpu = statistics.median(renders) * 1000, statistics.median(cpus) * 1000
        figures_ = f"{total:10.1f} {sql:8.1f} {total - sql:9.1f} {rendered:10.1f} {cpu:7.1f} {max(counts):8}"
        print(f"{page.name:<30} {figures_}")
        if args.gc:
            count, seconds = collections["count"], collections["seconds"]
            print(
                f"  garbage collector over {args.rounds} requests: {' / '.join(map(str, count))} collections "
                f"(generations 0 / 1 / 2), taking {' / '.join(f'{s * 1000:.1f}' for s in seconds)} ms"
            )
        if args.templates:
            costliest = sorted(own.items(), key=lambda item: -item[1][0])[: args.templates]
            for name, (seconds, renders) in costliest:
                print(f"  {seconds / args.rounds * 1000:6.2f} ms  {renders / args.rounds:5.1f}×  {name}")
        if args.sql:
            for query in queries.captured_queries:
                print(
                    f"  {float(query['time']) * 1000:6.1f} ms  {query['sql'] if args.whole_sql else query['sql'][:160]}"
                )
        if profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.top)
            print(out.getvalue())
            if args.profile_out:
                profile.dump_stats(args.profile_out)


if __name__ == "__main__":
    main()
