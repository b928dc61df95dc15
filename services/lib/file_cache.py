"""The shared cache in files (the embedded default, without Redis), with an `add` and an
`incr` that hold across processes.

Django's file cache checks and then writes: two processes adding one key at once may both
succeed (two directors counting the same figures, two background recomputes queued), and two
increments at once may lose one (a throttle's count). Here each runs under an exclusive lock
on one of a few lock files beside the cache's (not cache files: never culled or cleared), which
the system releases when the file is closed or its process dies, so nothing is left locked.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

STRIPES = 16  # lock files: keys share them by a hash, so their number stays fixed


class FileCache(FileBasedCache):
    @contextmanager
    def _exclusive(self, key: str, version: int | None) -> Iterator[None]:
        self._createdir()
        stripe = zlib.crc32(self.make_and_validate_key(key, version=version).encode()) % STRIPES
        with open(os.path.join(self._dir, f"lock-{stripe}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        with self._exclusive(key, version):
            return super().add(key, value, timeout, version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        with self._exclusive(key, version):
            return super().incr(key, delta, version)
