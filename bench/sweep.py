"""How long the reminder sweep takes to claim and queue N due reminders, and its query count.

    .venv/bin/python bench/sweep.py                 # N = 1k, 10k, 100k on a temporary SQLite
    DATABASE_URL=postgres://... .venv/bin/python bench/sweep.py --sizes 100000

It builds a throwaway database (Django's test database: a temporary SQLite file, or
test_<name> on DATABASE_URL's server), bulk-inserts N reminders that are all due, and times
`reminders_sweep()`: the claim (one UPDATE, one SELECT) and the queueing after commit.
Queueing goes to a broker that does nothing (the task's `delay` is replaced by a counter),
so the figure is the sweep's own cost. It prints figures; it asserts nothing. Target:
100k in 10 s or less, with the same number of queries for every N. `--smoke`: N = 10 and
100, to show the script still runs (tests/test_bench_smoke.py); it reuses a migrated test
database if there is one.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reentry.settings")
os.environ.setdefault("DEBUG", "1")
if "REENTRY_VAR_DIR" not in os.environ:  # a throwaway folder, removed at exit
    os.environ["REENTRY_VAR_DIR"] = tempfile.mkdtemp(prefix="reentry-bench-")
    atexit.register(shutil.rmtree, os.environ["REENTRY_VAR_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from services import tasks  # noqa: E402
from services.choices import ReminderKind  # noqa: E402
from services.models.notifications import Reminder  # noqa: E402
from services.models.organizations import Organization  # noqa: E402


def run(sizes: list[int]) -> None:
    organization = Organization.objects.create(name="Bench")
    user = get_user_model().objects.create(username="bench", email="bench@example.org")
    due = timezone.now() - timedelta(minutes=1)
    print(f"database: {connection.vendor}")
    print(f"{'N':>8}  {'claim+queue s':>13}  {'queries':>7}  {'messages':>8}  {'claimed':>8}")
    for n in sizes:
        Reminder.objects.all().delete()
        row = {"organization": organization, "kind": ReminderKind.DUE, "recipient": user, "send_at": due}
        Reminder.objects.bulk_create((Reminder(key=f"bench:{i}", **row) for i in range(n)), batch_size=5000)
        with mock.patch.object(tasks.send_reminders, "delay") as delay:
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                claimed = tasks.reminders_sweep()
                elapsed = time.perf_counter() - started
        print(f"{n:>8}  {elapsed:>13.2f}  {len(queries):>7}  {delay.call_count:>8}  {len(claimed):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--smoke", action="store_true", help="N = 10 and 100 (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.sizes = [10, 100]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.smoke)
    try:
        run(args.sizes)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
