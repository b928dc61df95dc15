"""Check the access log: `manage.py verify_audit`.

Exit status 0 when the log is intact; otherwise 1, naming the first broken link: an entry
whose content no longer matches its hash (changed), an entry that does not follow the one
before it (entries removed in between), or an end that falls short of the latest sealed
checkpoint (services.audit_anchor: the newest entries removed, or the table emptied). A
checkpoint copied from the log output can be given too (`--count N --head HASH`), for when the
checkpoints' table went with the log.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from services.audit import GENESIS, check_chain
from services.audit_anchor import checkpoint_problem, truncation
from services.models.audit import AuditCheckpoint, AuditEvent


def first_broken_link(batch_size: int = 2000) -> str | None:
    """A sentence naming the first entry where the chain breaks, or None when it holds."""
    if (broken := check_chain(batch_size=batch_size).broken) is None:
        return None
    entry = broken.entry
    if broken.removed:
        after = f"entry {broken.follows}" if broken.follows else "the start of the log"
        return f"Entry {entry.pk} ({entry.at:%Y-%m-%d %H:%M:%S}) does not follow {after}: entries were removed."
    return (
        f"Entry {entry.pk} ({entry.at:%Y-%m-%d %H:%M:%S}, {entry.get_action_display()}) was changed "
        "after it was written."
    )


class Command(BaseCommand):
    help = "Verify the access log's hash chain and its end; name the first entry changed or removed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--count", type=int, help="a checkpoint's count, from the log output")
        parser.add_argument("--head", help="that checkpoint's head (the hash of its last entry)")

    def handle(self, *args: Any, batch_size: int, count: int | None, head: str | None, **options: Any) -> None:
        if (count is None) != (head is None):
            raise CommandError("Give --count and --head together (both from one checkpoint line).")
        if problem := first_broken_link(batch_size) or checkpoint_problem():
            raise CommandError(problem)
        if count is not None and (
            problem := truncation(count=count, last_id=None, head=head or "", source="the checkpoint given")
        ):
            raise CommandError(problem)
        total = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first() or GENESIS
        latest = AuditCheckpoint.objects.order_by("-pk").first()
        against = f" It holds the checkpoint of {latest.at:%Y-%m-%d %H:%M:%S}." if latest else ""
        self.stdout.write(self.style.SUCCESS(f"The access log is intact: {total} entries, last hash {last}.{against}"))
