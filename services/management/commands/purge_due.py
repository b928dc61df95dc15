"""Remove the closed cases whose retention is over: `manage.py purge_due [--dry-run]`.

Only those a director confirmed for their current closing, and none on legal hold
(services/retention.py). Each organization's `retention_mode` says whether a case is purged
or de-identified. One person per transaction, a batch of ids at a time: it may be stopped
and run again. Schedule it (cron, or beat) after the directors' review; it prints progress.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from services import retention


class Command(BaseCommand):
    help = "Purge or de-identify the confirmed closed cases whose retention is over."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.perf_counter()
        result = retention.run_due(dry_run=options["dry_run"], progress=self.stdout.write)
        seconds = time.perf_counter() - start
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {result.done} case(s) would be removed. Nothing was changed.")
        else:
            self.stdout.write(
                f"Removed {result.done} case(s) ({result.rows_deleted} rows, {result.files_removed} files) "
                f"in {seconds:.1f} s; {result.skipped} skipped (held, reopened or no longer confirmed)."
            )
