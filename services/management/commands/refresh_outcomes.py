"""Count the outcomes page's numbers again from the records: `manage.py refresh_outcomes`.

Tracked actions keep the counts (OutcomeCount) up to date as they write; this recount is
for rows written any other way (a data import, a fix in SQL, `seed_demo`) and is what the
nightly task runs as a safety net. Each organization is recounted in its own transaction,
under its lock; running it twice gives the same counts. Then the counts table is analyzed,
so the query planner knows its new rows (outcome_counts.refresh_statistics).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.models.organizations import Organization
from services.outcome_counts import recount, refresh_statistics


class Command(BaseCommand):
    help = "Recount the outcomes page's kept counts from the records, per organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, help="only the organization with this id")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("pk")
        if options["organization"] is not None:
            organizations = organizations.filter(pk=options["organization"])
            if not organizations.exists():
                raise CommandError(f"No organization has the id {options['organization']}.")
        for organization in organizations:
            start = time.perf_counter()
            rows = recount(organization)
            seconds = time.perf_counter() - start
            self.stdout.write(f"{organization.name}: {rows} counts in {seconds:.1f} s")
        start = time.perf_counter()
        refresh_statistics()
        self.stdout.write(
            f"Planner statistics of the counts refreshed (ANALYZE) in {time.perf_counter() - start:.1f} s"
        )
