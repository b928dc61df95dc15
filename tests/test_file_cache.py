"""The shared cache's files (services/lib/file_cache.py): `add` and `incr` hold when several
processes use one key at once (threads here, each with a cache client of its own)."""

from __future__ import annotations

from pathlib import Path
from threading import Barrier, Thread

import pytest
from django.core.cache.backends.filebased import FileBasedCache

from services.lib.file_cache import FileCache

CLIENTS = 8


def at_once(work, clients: list) -> list:
    """`work(client)` in a thread per client, all started together; their results."""
    together, results = Barrier(len(clients)), []

    def run(client) -> None:
        together.wait()
        results.append(work(client))

    threads = [Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_one_add_of_a_key_wins_when_several_add_it_at_once(tmp_path: Path, attempt: int):
    clients = [FileCache(str(tmp_path), {}) for _ in range(CLIENTS)]

    won = at_once(lambda client: client.add("figures-computing", 1, 60), clients)

    assert won.count(True) == 1


def test_no_increment_is_lost_when_several_count_at_once(tmp_path: Path):
    clients = [FileCache(str(tmp_path), {}) for _ in range(CLIENTS)]
    clients[0].set("throttle", 0, 60)

    at_once(lambda client: [client.incr("throttle") for _ in range(25)], clients)

    assert clients[0].get("throttle") == CLIENTS * 25


def test_a_count_keeps_the_expiry_it_was_added_with(tmp_path: Path, time_machine):
    time_machine.move_to("2026-12-05 09:00", tick=False)
    cache = FileCache(str(tmp_path), {"TIMEOUT": 300})
    cache.add("throttle", 0, 60)  # a period of one minute

    time_machine.move_to("2026-12-05 09:00:50", tick=False)
    assert cache.incr("throttle") == 1
    time_machine.move_to("2026-12-05 09:01:01", tick=False)

    assert cache.get("throttle") is None  # the period ended a minute after the add
    with pytest.raises(ValueError):
        cache.incr("throttle")


def test_a_count_without_expiry_keeps_none(tmp_path: Path, time_machine):
    time_machine.move_to("2026-12-05 09:00", tick=False)
    cache = FileCache(str(tmp_path), {})
    cache.set("total", 5, None)

    assert cache.incr("total", 2) == 7
    time_machine.move_to("2027-12-05 09:00", tick=False)
    assert cache.get("total") == 7


def test_the_lock_files_are_not_cache_files(tmp_path: Path):
    cache = FileCache(str(tmp_path), {})
    for n in range(50):
        cache.add(f"key-{n}", n, 60)

    assert len(list(tmp_path.glob("*.lock"))) <= 16
    cache.clear()
    assert list(tmp_path.glob(f"*{FileBasedCache.cache_suffix}")) == []
    assert cache.add("key-1", "again", 60)


def test_a_count_in_use_outlives_a_flood_of_other_keys(tmp_path: Path):
    cache = FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})
    cache.add("throttle", 0, 600)
    for n in range(100):  # the address's count, then a new token's, as tokens tried are counted
        cache.incr("throttle")
        cache.add(f"token-{n}", 0, 600)
        cache.incr(f"token-{n}")

    assert cache.get("throttle") == 100  # Django's culling deleted a random third each time
    assert len([f for f in tmp_path.iterdir() if f.suffix != ".lock"]) <= 10


def test_expired_entries_make_room_first(tmp_path: Path, time_machine):
    time_machine.move_to("2026-12-05 09:00", tick=False)
    cache = FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})
    for n in range(5):
        cache.add(f"old-{n}", n, 10)
    time_machine.move_to("2026-12-05 09:01", tick=False)
    for n in range(6):  # the sixth fills the cache: the five expired go, no live one
        cache.add(f"live-{n}", n, 600)

    assert [cache.get(f"live-{n}") for n in range(6)] == list(range(6))
