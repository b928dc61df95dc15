"""The director's figures, cached for the whole deployment until something they read changes.

Every write through the actions that a figure reads (people, their caseloads, needs,
referrals, follow-ups, assessments, staff) calls `figures_changed` in its own transaction
(a write outside them, by SQL or the admin site, shows once the entry is past its minute
and counted again, below): it bumps the
organization's `figures_version`, which comes with the signed-in user's organization at
no extra query. A cached figure's key holds the version it was computed at, so after a
write no process serves it again. A figure computed while a write commits may include it
under the older version; never the other way round, since the version is read before the
figures are.

The cache is one for every web and Celery process (settings.CACHES["figures"]: Redis under
its own key prefix when REDIS_URL is set, else a table of the database), so a page computed
by one server process is served by all the others. An entry is fresh for a minute (figures
that depend on "now", such as what is overdue, are served as current for that long, and the
page says as of when). After a write, the organization's default outcomes page and the director dashboard's
counts are computed again in the background (`recompute`, a Celery task, at most once a
minute per organization), so a director finds them ready instead of waiting for them.

Past its minute, a default page (one `recompute` computes) of the same version and the same
day is still served, marked `refreshing`, while a background recompute counts it again: in
a large organization that takes seconds, and no director should wait for it because nobody
wrote anything for a while (`cached`). If that recompute has not landed within
GIVE_UP_SECONDS (no worker, a backed-up queue, a failure), the page is counted on the spot,
so a page marked `refreshing` is at most that much older than its minute's worth. A page with
filters, or one when recomputing runs inline, is computed again on the spot, as before.

A figure is counted by one process at a time: a request that finds another counting the
same key (a cold cache meets several first requests at once) waits for its result instead of
counting beside it (`_one_computation`).

The key also holds the organization (nothing of one organization is ever served to
another), the time zone and that day's date in it, the language, and the filters.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import uuid4

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from services.choices import Role
from services.models.organizations import Organization, StaffMember

logger = logging.getLogger(__name__)

TTL_SECONDS = 60  # how old a figure about "now" may be when it is served as current
STALE_SECONDS = 12 * 60 * 60  # how long a default page is kept, to be served while it is counted again
GIVE_UP_SECONDS = 2 * 60  # how long a page asked to be counted again waits for the background
RECOMPUTE_EVERY_SECONDS = 60  # at most one background recompute per organization in this time
CACHE = "figures"
COMPUTING_WAIT_SECONDS = 20  # how long a request waits for another's computation of the same figures
COMPUTING_POLL_SECONDS = 0.05  # how often it looks whether that computation has landed


def cache() -> BaseCache:
    """The deployment's figures cache (settings.CACHES["figures"]). Never `clear()` it outside
    tests: on Redis that is FLUSHDB, which would empty the task queue's database too."""
    return caches[CACHE]


def figures_changed(organization_id: int) -> None:
    """Call inside the transaction of a write the figures read, before it locks any record.

    It locks the organization row until commit, as tracked actions (services.outcome_counts)
    do before they touch a record; taking it after a record's lock could deadlock with them.
    Once the write commits, the organization's figures are computed again in the background.
    """
    Organization.objects.filter(pk=organization_id).update(figures_version=F("figures_version") + 1)
    if settings.FIGURES_RECOMPUTE:

        def queue_recompute() -> None:  # named: a robust on_commit logs the callback's name
            recompute_soon(organization_id)

        transaction.on_commit(queue_recompute, robust=True)


class Hooks:
    """What queues the background recompute (a task) and what computes the pages (the outcomes
    page, the director's counts): both live in higher layers, which connect them here when the
    app is ready (services.apps), so this low module imports none of them."""

    def queue(self, organization_id: int) -> None:
        raise ImproperlyConfigured("services.figures.hooks are connected in services.apps.ready")

    def compute(self, director: Any, organization: Organization, now: datetime) -> None:
        raise ImproperlyConfigured("services.figures.hooks are connected in services.apps.ready")


hooks = Hooks()


def recompute_soon(organization_id: int) -> bool:
    """Queue `recompute` for the organization unless one was queued in the last minute (a
    lock in the shared cache taken with `add`: only one process wins it, on Redis as in the
    embedded default's files, services.lib.file_cache); True if queued.
    If queueing fails (the broker is down) the lock is given back and the error raised."""
    lock = f"figures-recompute:{organization_id}"
    if not caches["shared"].add(lock, 1, RECOMPUTE_EVERY_SECONDS):
        return False
    try:
        hooks.queue(organization_id)
    except BaseException:
        caches["shared"].delete(lock)
        raise
    return True


def recompute(organization_id: int) -> bool:
    """Compute the organization's default outcomes page (no filters) and its director
    dashboard's counts into the cache, as a director of it would see them now (their
    language, the organization's time zone). False if it has no active director."""
    staff = (
        StaffMember.objects.select_related("organization", "user")
        .filter(organization_id=organization_id, role=Role.DIRECTOR, user__is_active=True)
        .order_by("pk")
        .first()
    )
    if staff is None:
        return False
    organization, director = staff.organization, staff.user
    with timezone.override(organization.zone()):  # the director's language: the hook's
        now = timezone.now()
        hooks.compute(director, organization, now)
    logger.info("figures of organization %s computed again (version %s)", organization.pk, organization.figures_version)
    return True


# Filters as typed longer than this are in the key as their digest: the database cache keeps
# keys of at most 255 characters (a longer one was never kept, so counted on every request),
# and a key should not carry whatever a client typed.
PARTS_IN_CLEAR = 100


def key(name: str, organization: Organization, parts: str) -> str:
    """The cache key of `name` (a page, or a part of one) for these `parts` (its filters)."""
    if len(parts) > PARTS_IN_CLEAR:
        parts = "sha256=" + hashlib.sha256(parts.encode()).hexdigest()
    return ":".join(
        [
            "figures",
            name,
            str(organization.pk),
            str(organization.figures_version),
            timezone.get_current_timezone_name(),
            timezone.localdate().isoformat(),  # "the last 12 months" and "today" end with the day
            translation.get_language() or "",
            parts,
        ]
    )


class Entry(NamedTuple):
    """What the cache holds under a key: the value, when it was computed and, once past its
    minute, when a request asked the background to count it again (timestamps)."""

    value: Any
    computed_at: float
    refresh_asked_at: float | None = None


@dataclass(frozen=True)
class Served:
    """A figure as `cached` gives it: `refreshing` if it is past its minute and being counted
    again in the background (the page says so)."""

    value: Any
    refreshing: bool = False


def cached(
    name: str,
    organization: Organization,
    parts: str,
    compute: Callable[[], Any],
    *,
    refresh: bool = False,
    background: bool = False,
) -> Served:
    """The value of `compute()` under `key(name, organization, parts)`: from the cache while it
    is fresh (computed in the last TTL_SECONDS), else computed now and kept (`refresh`:
    computed whatever the cache holds, as `recompute` does).

    `background`: `recompute` computes this very key (a default page). Then a value past its
    minute (of this version and day, as the key says) is served as it is, `refreshing`, while
    `recompute_soon` counts it again for the next request: the first request past the minute
    queues it and marks the entry, the others find the mark and wait for nothing. If the
    recompute has not replaced the entry GIVE_UP_SECONDS after the mark, it is computed now.
    Where recomputing runs inline (settings.FIGURES_RECOMPUTE off), or the task cannot be
    queued, it is computed now too.
    """
    cache_key = key(name, organization, parts)
    store = cache()
    entry = None if refresh else store.get(cache_key)
    now = timezone.now().timestamp()
    if isinstance(entry, Entry):  # anything else (a value kept by an older release) is a miss
        if now - entry.computed_at < TTL_SECONDS:
            return Served(entry.value)
        if background and settings.FIGURES_RECOMPUTE:
            if entry.refresh_asked_at is None:
                # Marked before queueing, so a recompute that lands at once is not overwritten.
                store.set(cache_key, entry._replace(refresh_asked_at=now), GIVE_UP_SECONDS)
                if _recompute_queued(organization.pk):
                    return Served(entry.value, refreshing=True)
            elif now - entry.refresh_asked_at < GIVE_UP_SECONDS:
                return Served(entry.value, refreshing=True)
    with _one_computation(store, cache_key, wait=not refresh) as elsewhere:
        if elsewhere is not _NONE:
            return Served(elsewhere)
        value = compute()
        store.set(cache_key, Entry(value, now), TTL_SECONDS + (STALE_SECONDS if background else 0))
    return Served(value)


_NONE = object()  # no value computed elsewhere: this process computes it


@contextmanager
def _one_computation(store: BaseCache, cache_key: str, *, wait: bool) -> Iterator[Any]:
    """One computation of a key at a time across the deployment: a cold cache meets several
    directors' first requests at once, and each would count the same figures beside the
    others, each slower for it. Yields the value another process computed while this one
    waited for it, or `_NONE`: then this process computes it, holding a lock in the shared
    cache meanwhile. A process that finds the lock held waits (`wait`; the background
    recompute never does) for a fresh entry. When the lock is gone it reads the entry once
    more (the computation may have landed between its two looks) and, finding none (that
    computation failed), takes the lock itself, or goes on waiting for whoever took it first.
    After COMPUTING_WAIT_SECONDS it computes whatever holds the lock."""
    lock = f"figures-computing:{cache_key}"
    shared = caches["shared"]
    mine = uuid4().hex
    if not shared.add(lock, mine, COMPUTING_WAIT_SECONDS) and wait:
        deadline = time.monotonic() + COMPUTING_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(COMPUTING_POLL_SECONDS)
            if (value := _fresh(store.get(cache_key))) is not _NONE:
                yield value
                return
            if shared.get(lock) is None:
                if (value := _fresh(store.get(cache_key))) is not _NONE:
                    yield value
                    return
                if shared.add(lock, mine, COMPUTING_WAIT_SECONDS):
                    break
    try:
        yield _NONE
    finally:
        if shared.get(lock) == mine:
            shared.delete(lock)


def _fresh(entry: Any) -> Any:
    """The value of a cache entry computed in the last TTL_SECONDS, else `_NONE`."""
    if isinstance(entry, Entry) and timezone.now().timestamp() - entry.computed_at < TTL_SECONDS:
        return entry.value
    return _NONE


def _recompute_queued(organization_id: int) -> bool:
    """True if a recompute of the organization is queued: now, or by another request or write
    in the last minute (its lock is held). False if it cannot be queued."""
    try:
        recompute_soon(organization_id)
    except Exception:
        logger.exception("queueing the figures of organization %s failed; computing them now", organization_id)
        return False
    return True
