"""Merge two records of one person, or undo a merge: `manage.py merge_people KEPT DUPLICATE --user DIRECTOR`.

What the director's merge page does (services/actions/merges.py), for a person with more
rows than a page should wait for: the duplicate's rows move in batches, and each batch is
reported. `--from-duplicate FIELD ...` takes those profile fields from the duplicate;
`--dry-run` reports what would move; `--undo MERGE_ID` splits a merge of the last 30 days.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.access import is_director, organization_of
from services.actions.merges import MERGE_FIELDS, merge_people, merge_plan, merge_undo
from services.models.merges import Merge
from services.models.people import Exoneree


class Command(BaseCommand):
    help = "Merge a duplicate record into the one kept (or undo a merge), reporting progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kept", type=int, nargs="?", help="the id of the record kept")
        parser.add_argument("duplicate", type=int, nargs="?", help="the id of the duplicate merged into it")
        parser.add_argument("--user", required=True, help="the username of a director of their organization")
        parser.add_argument("--from-duplicate", nargs="*", default=[], choices=MERGE_FIELDS, metavar="FIELD")
        parser.add_argument("--dry-run", action="store_true", help="report what would move; change nothing")
        parser.add_argument("--undo", type=int, metavar="MERGE_ID", help="undo this merge instead")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None or not is_director(user):
            raise CommandError(f"{options['user']} is not an active director: only directors merge records.")
        organization = organization_of(user)
        try:
            if options["undo"] is not None:
                merge = Merge.objects.filter(organization=organization, pk=options["undo"]).first()
                if merge is None:
                    raise CommandError(f"No merge {options['undo']} in {organization.name}.")
                merge_undo(by=user, merge=merge)
                self.stdout.write(self.style.SUCCESS(f"Merge {merge.pk} undone: the records are apart again."))
                return
            people = Exoneree.objects.current().filter(organization=organization)
            kept = people.filter(pk=options["kept"]).first()
            duplicate = people.filter(pk=options["duplicate"]).first()
            if kept is None or duplicate is None:
                raise CommandError(f"Name two records in use of {organization.name}: KEPT and DUPLICATE.")
            plan = merge_plan(kept=kept, duplicate=duplicate)
            for label, count in plan.moving.items():
                self.stdout.write(f"  {label}: {count} to move")
            for label, ids in plan.staying.items():
                self.stdout.write(f"  {label}: {len(ids)} stay with the duplicate (the kept record has the same)")
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing was merged.")
                return
            merge = merge_people(
                by=user,
                kept=kept,
                duplicate=duplicate,
                from_duplicate=options["from_duplicate"],
                progress=lambda label, moved: self.stdout.write(f"  {label}: {moved} moved"),
            )
        except ValidationError as error:
            raise CommandError(f"Nothing was changed: {'; '.join(error.messages)}") from None
        self.stdout.write(
            self.style.SUCCESS(f"Merged as merge {merge.pk}: undo within 30 days with --undo {merge.pk}.")
        )
