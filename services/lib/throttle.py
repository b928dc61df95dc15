"""A counter per key and period, in the cache every process of the deployment shares.

Keys are stored as a keyed hash (SECRET_KEY), never as typed: an email address or a client
address is personal data, and the shared cache is Redis, outside the encrypted database.
"""

from __future__ import annotations

import logging

from django.core.cache import caches
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

SHARED = "shared"  # settings.CACHES: Redis when REDIS_URL is set, else files in var/


def throttle_hit(scope: str, key: str, *, limit: int, period_seconds: int) -> bool:
    """Count one use of `key`; False once more than `limit` were counted in this period.

    The period starts at the first use and is fixed (it does not slide). If the cache cannot
    be reached the use is allowed: a throttle must not take the page down with it.
    """
    count = throttle_count(scope, key, period_seconds=period_seconds)
    return count is None or count <= limit


def throttle_count(scope: str, key: str, *, period_seconds: int) -> int | None:
    """Count one use of `key`: the uses counted in this period, this one among them; None
    when the cache cannot be reached (and said, by the failure's type only)."""
    name = f"throttle:{scope}:{salted_hmac('services.lib.throttle', key).hexdigest()}"
    cache = caches[SHARED]
    try:
        cache.add(name, 0, timeout=period_seconds)
        try:
            return cache.incr(name)
        except ValueError:  # it expired between add and incr: a new period begins
            cache.set(name, 1, timeout=period_seconds)
            return 1
    except Exception as exc:  # any cache failure at all
        logger.warning("throttle %s not counted: %s", scope, type(exc).__name__)
        return None
