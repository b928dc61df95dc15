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
import pickle
import time
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
        """As on Redis, the count keeps its expiry: Django's `incr` writes it again with the
        default timeout, so a throttle's period ran from its last use, not its first."""
        with self._exclusive(key, version):
            expiry, value = self._read(key, version)
            if value is None:
                raise ValueError(f"Key '{key}' not found")
            value += delta
            self.set(key, value, None if expiry is None else expiry - time.time(), version)
            return value

    def _cull(self) -> None:
        """Make room as Redis would, not as Django's file cache does: Django deletes a random
        third of the entries once there are MAX_ENTRIES, so someone trying tokens on the
        provider page deleted the count that throttles them (and any lock in use). Here the
        expired entries go first, then the least recently written: a count in use stays."""
        files = self._list_cache_files()
        if len(files) < self._max_entries:
            return
        if self._cull_frequency == 0:
            return self.clear()
        live = []
        for name in files:
            try:
                with open(name, "rb") as f:
                    if not self._is_expired(f):  # deletes the file when it is
                        live.append((os.path.getmtime(name), name))
            except FileNotFoundError:  # another process took it meanwhile
                continue
        keep = self._max_entries - self._max_entries // self._cull_frequency
        for _, name in sorted(live)[: max(0, len(live) - keep)]:
            self._delete(name)

    def _read(self, key: str, version: int | None) -> tuple[float | None, Any]:
        """The entry's expiry (None: never) and value; (0, None) if it is missing or expired.
        Read as Django's file cache reads its own files (pickles it wrote, in the data folder)."""
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                try:
                    expiry = pickle.load(f)  # noqa: S301 - the cache's own file
                except EOFError:  # an empty file, as Django's own reading has it: expired
                    return 0, None
                if expiry is not None and expiry < time.time():
                    return 0, None
                return expiry, pickle.loads(zlib.decompress(f.read()))  # noqa: S301 - as above
        except FileNotFoundError:
            return 0, None
