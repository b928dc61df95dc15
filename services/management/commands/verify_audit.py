"""Check the access log's hash chain: `manage.py verify_audit`.

Exit status 0 when every entry is intact; otherwise 1, naming the first broken link: an
entry whose content no longer matches its hash (changed), or an entry that does not follow
the one before it (entries removed in between). Removing the newest entries leaves no gap
to find; compare the count and last hash with a copy kept elsewhere (printed on success).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.audit import GENESIS, entry_hash
from services.models.audit import AuditEvent


def first_broken_link(batch_size: int = 2000) -> str | None:
    """A sentence naming the first entry where the chain breaks, or None when it holds."""
    previous_hash, previous_pk, last = GENESIS, None, 0
    while batch := list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:batch_size]):
        for entry in batch:
            if entry.prev_hash != previous_hash:
                after = f"entry {previous_pk}" if previous_pk else "the start of the log"
                return f"Entry {entry.pk} ({entry.at:%Y-%m-%d %H:%M:%S}) does not follow {after}: entries were removed."
            if entry_hash(entry) != entry.hash:
                return (
                    f"Entry {entry.pk} ({entry.at:%Y-%m-%d %H:%M:%S}, {entry.get_action_display()}) was changed "
                    "after it was written."
                )
            previous_hash, previous_pk = entry.hash, entry.pk
        last = batch[-1].pk
    return None


class Command(BaseCommand):
    help = "Verify the access log's hash chain; name the first entry changed or removed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if problem := first_broken_link(batch_size):
            raise CommandError(problem)
        count = AuditEvent.objects.count()
        head = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first() or GENESIS
        self.stdout.write(self.style.SUCCESS(f"The access log is intact: {count} entries, last hash {head}."))
