"""Tests of a data migration: the database taken back to just before it, rows written as the
models then stood, and brought forward to the latest migration again whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.test_encryption import migrate


@contextmanager
def back_at(before: tuple[str, str]) -> Iterator[tuple[MigrationExecutor, Apps]]:
    """The executor (to `migrate` it forward) and the models as they stood at `before`."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    migrate(executor, [before])
    try:
        yield executor, executor.loader.project_state([before]).apps
    finally:
        migrate(executor, latest)
