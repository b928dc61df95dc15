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
"""

from __future__ import annotations

from typing import Any

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
