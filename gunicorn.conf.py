"""gunicorn's settings for Reentry; gunicorn reads this file from the directory it starts in
(the checkout, or /app in the image), so `gunicorn reentry.wsgi` needs no option for it.

The garbage collector, once each worker has loaded the app. Python's cyclic collector walks
every object it tracks: after Django, the apps, the URLconf and the libraries are loaded a
worker holds about 125,000 of them, none of which will ever be garbage, and a full collection
walked them all (about 60 ms, on whichever request happened to trigger it: the tail of the
pages' p95). `gc.freeze()` sets them aside for good, so a collection walks only what requests
made since; and a larger first threshold lets most of a request's short-lived objects be freed
by their reference counts before a collection ever looks at them. bench/README.md has the
figures (issue 24).

How many requests a server answers at once. gunicorn's own default is one worker (or
`WEB_CONCURRENCY`): one sync worker answers one request at a time, so a director's CSV or a
person's PDF made every caseworker of the deployment wait behind it. The default here is
gunicorn's advice, two workers per core and one more, for the cores this process may run on
(a container pinned to some cores counts those; one held back only by a CPU quota, `--cpus`,
counts the host's, so set `WEB_CONCURRENCY` there), at most `MAX_WORKERS`: each worker holds
its own database connection, and PostgreSQL's default allows 100 for every server and Celery
worker together.
`WEB_CONCURRENCY` still decides when it is set (a whole number, at least 1).
"""

from __future__ import annotations

import os
from typing import Any

MAX_WORKERS = 9


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(2 * cores + 1, MAX_WORKERS)


def workers_from(setting: str | None) -> int:
    if not setting:
        return default_workers()
    if not setting.strip().isdigit() or int(setting) < 1:
        raise ValueError(f"WEB_CONCURRENCY must be a whole number of workers, at least 1 (it is {setting!r})")
    return int(setting)


workers = workers_from(os.environ.get("WEB_CONCURRENCY"))

# A collection of the youngest objects after this many allocations (Python's default: 700).
YOUNG_THRESHOLD = 10_000


def post_worker_init(worker: Any) -> None:
    settle_memory()


def settle_memory() -> None:
    """Load what the first request would load, then keep the garbage collector off all of it."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module, as the first request would)
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
