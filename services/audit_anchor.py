"""The access log's anchor: checkpoints of its count and head, outside the log's table.

The hash chain (services.audit) shows an entry changed or removed in between, but not its
newest entries removed, nor the whole table emptied: what is left is still a valid chain.
So beat writes, every AUDIT_CHECKPOINT_MINUTES, a checkpoint of how many entries there are
and the hash of the last, sealed with an HMAC under AUDIT_ANCHOR_KEY (its own key, not in
the database, so whoever can write the database cannot forge one), to two places: the
`AuditCheckpoint` table (append-only, like the log) and the log output (a line that ends up
wherever the logs are kept). `manage.py verify_audit` compares the log with the latest
checkpoint, or with one copied from the log output (`--count`, `--head`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from services.audit import GENESIS, lock_chain
from services.models.audit import AuditCheckpoint, AuditEvent

logger = logging.getLogger(__name__)


def checkpoint_mac(*, at: datetime, count: int, last_id: int, head: str) -> str:
    message = f"{at.astimezone(UTC).isoformat(timespec='microseconds')}|{count}|{last_id}|{head}"
    return hmac.new(settings.AUDIT_ANCHOR_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def sealed(checkpoint: AuditCheckpoint) -> bool:
    expected = checkpoint_mac(
        at=checkpoint.at, count=checkpoint.count, last_id=checkpoint.last_id, head=checkpoint.head
    )
    return hmac.compare_digest(expected, checkpoint.mac)


@transaction.atomic
def audit_checkpoint_write() -> AuditCheckpoint | None:
    """Record the log's count and head now; None when nothing was added since the last one."""
    lock_chain()  # no entry is added while the log is counted
    last = AuditEvent.objects.order_by("-pk").values_list("pk", "hash").first() or (0, GENESIS)
    latest = AuditCheckpoint.objects.order_by("-pk").first()
    if latest is not None and (latest.last_id, latest.head) == last:
        return None
    at = timezone.now()
    count = AuditEvent.objects.count()
    checkpoint = AuditCheckpoint(at=at, count=count, last_id=last[0], head=last[1])
    checkpoint.mac = checkpoint_mac(at=at, count=count, last_id=last[0], head=last[1])
    checkpoint.save(force_insert=True)
    logger.info(
        "Access log checkpoint: count=%s last=%s head=%s at=%s mac=%s",
        count,
        last[0],
        last[1],
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        checkpoint.mac,
    )
    return checkpoint


def truncation(*, count: int, last_id: int | None, head: str, source: str) -> str | None:
    """A sentence saying how the log falls short of a checkpoint, or None when it holds it.

    The chain check has run: entries in between are all there, so what a checkpoint can still
    find missing is the end (its head gone) or everything.
    """
    if count == 0:
        return None
    entry = AuditEvent.objects.filter(hash=head).values_list("pk", flat=True).first()
    if entry is None or (last_id is not None and entry != last_id):
        remaining = AuditEvent.objects.count()
        return (
            f"The access log was truncated: {source} counted {count} entries ending with hash {head}"
            f"{f' (entry {last_id})' if last_id is not None else ''}, which is gone; {remaining} entries remain."
        )
    if (found := AuditEvent.objects.filter(pk__lte=entry).count()) != count:
        return f"The access log lost entries: {source} counted {count} up to entry {entry}, {found} are there."
    return None


def checkpoint_problem() -> str | None:
    """What the latest checkpoint says is wrong with the log (or with itself), or None."""
    latest = AuditCheckpoint.objects.order_by("-pk").first()
    if latest is None:
        return None
    if not sealed(latest):
        return f"The checkpoint of {latest.at:%Y-%m-%d %H:%M:%S} does not carry a valid seal: it was forged or altered."
    where = f"the checkpoint of {latest.at:%Y-%m-%d %H:%M:%S}"
    return truncation(count=latest.count, last_id=latest.last_id, head=latest.head, source=where)
