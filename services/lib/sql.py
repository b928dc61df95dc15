"""Small query expressions Django 5.2 lacks on every database we run on."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


class Joined(Aggregate):
    """A group's values in one string, separated by `separator` (in no particular order).

    STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite (django.contrib.postgres's StringAgg is
    PostgreSQL only until Django 6).
    """

    function = "STRING_AGG"
    output_field = CharField()

    def __init__(self, expression: Any, separator: str, **extra: Any) -> None:
        super().__init__(expression, Value(separator), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def joined_per_row(rows: QuerySet, parent: str, value: Any, separator: str) -> Coalesce:
    """For an annotation: the `value`s of `rows` that point at the outer row through `parent`,
    joined by `separator`; "" when there are none (so it is never mistaken for "not loaded")."""
    grouped = rows.filter(**{parent: OuterRef("pk")}).order_by().values(parent)
    return Coalesce(Subquery(grouped.annotate(joined=Joined(value, separator)).values("joined")), Value(""))


def split(joined: str, separator: str) -> list[str]:
    return joined.split(separator) if joined else []
