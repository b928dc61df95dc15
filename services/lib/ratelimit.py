"""A fixed-window rate limit on the cache (whatever CACHES says: Redis in production).

django-ratelimit would do the same; this is the dozen lines the provider's page needs, with
no dependency to keep in step with Django.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def over_limit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit on `key` in the current window; True once the window holds more than
    `limit`. `key` must hold no secret in clear (callers pass a hash)."""
    window = int(time.time()) // window_seconds
    name = f"ratelimit:{key}:{window}"
    cache.add(name, 0, timeout=window_seconds + 1)
    try:
        hits = cache.incr(name)
    except ValueError:  # expired between add and incr: this is the first hit of a new window
        cache.set(name, 1, timeout=window_seconds + 1)
        hits = 1
    return hits > limit
