"""Directors' first requests at once on a cold figures cache: `python bench/stampede.py`.

Run bench/seed.py first (same DATABASE_URL; REDIS_URL too if the deployment has it). For the
network's largest organization, `--directors` threads (default 4) ask for the director
overview's counts (`director_counts`, what the dashboard reads) at the same instant, under a
figures cache and shared cache of their own (a fresh key prefix, so nothing cached before
counts and nothing of the deployment's is touched): how many of them counted the figures and
how long each waited, for `--rounds` rounds. Before services.figures counted a key once at
a time, each first request counted it (4 directors: 4 counts); now one counts and the others
wait for its result. Threads of one process stand for a deployment's server processes (the
caches are the same for both; the Python lock between threads makes each count slower than
in processes of their own on two cores). `--smoke`: 2 directors, one round (the test suite).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from pages import DEFAULT_DATABASE, server_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--directors", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="2 directors, one round (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.directors, args.rounds = 2, 1

    os.environ.update({k: v for k, v in server_env(args.database, args.smoke).items() if k != "BENCH"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from services import figures
    from services.models.organizations import Organization
    from services.models.people import Exoneree
    from services.selectors.dashboards import director_counts

    largest = Exoneree.objects.values("organization").annotate(n=Count("pk")).order_by("-n").first()
    if largest is None:
        raise SystemExit("No people in this database: run bench/seed.py first.")
    counted: list[str] = []
    cached = figures.cached

    def counting(name: str, organization: Organization, parts: str, compute: object, **options: object) -> object:
        def count() -> object:
            counted.append(name)
            return compute()  # type: ignore[operator]

        return cached(name, organization, parts, count, **options)

    figures.cached = counting  # type: ignore[assignment]
    print(f"{args.directors} directors at once, organization {largest['organization']} ({largest['n']} people)")
    for round_ in range(1, args.rounds + 1):
        prefix = f"bench-stampede-{uuid.uuid4().hex}"
        for alias in ("figures", "shared"):  # a cold cache of its own each round
            settings.CACHES[alias] = {**settings.CACHES[alias], "KEY_PREFIX": f"{prefix}-{alias}"}
        counted.clear()
        waits: list[float] = []
        together = threading.Barrier(args.directors)

        def director(together: threading.Barrier, waits: list[float]) -> None:
            organization = Organization.objects.get(pk=largest["organization"])
            together.wait()
            start = time.perf_counter()
            director_counts(organization)
            waits.append(time.perf_counter() - start)
            connection.close()

        threads = [threading.Thread(target=director, args=(together, waits)) for _ in range(args.directors)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shown = ", ".join(f"{wait * 1000:.0f}" for wait in sorted(waits))
        print(
            f"  round {round_}: counted {len(counted)} time(s); each waited {shown} ms "
            f"(median {statistics.median(waits) * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
