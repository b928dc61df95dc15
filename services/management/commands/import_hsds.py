"""Import an HSDS 3.0 directory: `manage.py import_hsds PATH --user DIRECTOR`.

PATH is a CSV datapackage (a folder, or a zip of one) or an HSDS JSON file. The import runs
as the director named (their organization's directory, their name in the access log) and
does what the directory page's import does: a report of what it creates, updates and skips,
every problem by its place in the file, the taxonomy terms not mapped to a need yet; then all
of it in one transaction, or (any problem) nothing. `--dry-run` stops after the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.access import is_director
from services.actions.hsds import hsds_import
from services.lib.hsds import HsdsError, read_path
from services.selectors.hsds_import import ImportPlan, import_plan

BAR = 30


class Command(BaseCommand):
    help = "Import organizations and services from an HSDS 3.0 datapackage (folder or zip) or HSDS JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a datapackage folder, a zip of one, or an HSDS JSON file")
        parser.add_argument("--user", required=True, help="the username of a director of the organization")
        parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None or not is_director(user):
            raise CommandError(f"{options['user']} is not an active director: only directors import the directory.")
        try:
            tables = read_path(options["path"])
        except HsdsError as error:
            raise CommandError(error.message) from None
        plan = import_plan(user, tables)
        self.report(plan)
        if not plan.ok:
            raise CommandError(f"{len(plan.errors)} problem(s) in the file: nothing was imported.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was imported.")
            return
        try:
            plan = hsds_import(by=user, tables=tables, progress=self.progress)
        except ValidationError as error:
            raise CommandError(f"Nothing was imported: {'; '.join(error.messages)}") from None
        if not plan.ok:  # the directory changed between the report and the import
            self.report(plan)
            raise CommandError("Nothing was imported.")
        counts = plan.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {counts['create']} added, {counts['update']} updated, "
                f"{counts['unchanged']} already up to date."
            )
        )

    def report(self, plan: ImportPlan) -> None:
        counts = plan.summary
        self.stdout.write(
            f"In the file: {len(plan.providers)} provider(s), {len(plan.resources)} resource(s). "
            f"{counts['create']} to add, {counts['update']} to update, {counts['unchanged']} already up to date."
        )
        for planned in [*plan.providers, *plan.resources]:
            if planned.action == "update":
                self.stdout.write(f"  update {planned.name}: {', '.join(planned.changed)}")
        for table, count, why in plan.not_imported:
            self.stdout.write(f"  not imported: {table}, {count} row(s) ({why})")
        for issue in plan.warnings:
            self.stdout.write(self.style.WARNING(f"  {issue.place}: {issue.message}"))
        for term in plan.unmapped:
            self.stdout.write(self.style.WARNING(f"  taxonomy term not mapped to a need: {term.name} ({term.hsds_id})"))
        for issue in plan.errors:
            self.stderr.write(self.style.ERROR(f"  {issue.place}: {issue.message}"))

    def progress(self, done: int, total: int) -> None:
        filled = BAR * done // total
        self.stdout.write(f"\r[{'#' * filled}{' ' * (BAR - filled)}] {done}/{total}", ending="")
        if done == total:
            self.stdout.write("")
        self.stdout.flush()
