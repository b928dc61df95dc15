"""Small query expressions Django 5.2 lacks on every database we run on."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    F,
    Field,
    JSONField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

M = TypeVar("M", bound=Model)


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


def _of_the_outer_row(rows: QuerySet, parent: str) -> QuerySet:
    """The `rows` that point at the outer row through `parent`, as one group for an aggregate
    (what each `…_per_row` annotation below aggregates)."""
    return rows.filter(**{parent: OuterRef("pk")}).order_by().values(parent)


def joined_per_row(rows: QuerySet, parent: str, value: Any, separator: str) -> Coalesce:
    """For an annotation: the `value`s of `rows` that point at the outer row through `parent`,
    joined by `separator`; "" when there are none (so it is never mistaken for "not loaded")."""
    grouped = _of_the_outer_row(rows, parent)
    return Coalesce(Subquery(grouped.annotate(joined=Joined(value, separator)).values("joined")), Value(""))


def counted_per_row(rows: QuerySet, parent: str) -> Coalesce:
    """For an annotation: how many of `rows` point at the outer row through `parent` (0 when
    none), without joining them into the outer query (which would multiply its rows)."""
    counted = _of_the_outer_row(rows, parent).annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted), 0)


def split(joined: str, separator: str) -> list[str]:
    return joined.split(separator) if joined else []


class JSONRows(Aggregate):
    """A group's rows in one JSON array, each row a `JSONObject` (in no particular order).

    JSONB_AGG on PostgreSQL (jsonb, which Django reads back as text to decode it itself),
    JSON_GROUP_ARRAY on SQLite (django.contrib.postgres's JSONBAgg is PostgreSQL only).
    """

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def rows_per_row(rows: QuerySet, parent: str, *columns: str, **expressions: Any) -> Subquery:
    """For an annotation: the `rows` that point at the outer row through `parent`, as a JSON
    array of objects with their `columns` (`a__b` for a related row's column) and
    `expressions` (by name); None when there are none. Read them back with `instances`: a
    short list loaded with the outer row instead of in a query of its own. Plain columns only:
    an encrypted one would come back as its ciphertext."""
    fields = {column: F(column) for column in columns} | expressions
    grouped = _of_the_outer_row(rows, parent)
    return Subquery(grouped.annotate(rows=JSONRows(JSONObject(**fields))).values("rows"), output_field=JSONField())


def instances(model: type[M], rows: list[dict[str, Any]] | None) -> list[M]:
    """`rows_per_row`'s rows as instances of `model`, as `.only()` would load them: each value
    converted by its field, a field not loaded read from the database if asked for (so that
    forgetting one costs a query a budget sees, never a wrong value), any other key set as
    an attribute (as an annotation is), `a__b` keys as the related row `a` (if any)."""
    return [_instance(model, row) for row in rows or []]


def _instance(model: type[M], row: dict[str, Any]) -> M:
    row = dict(row)
    related: dict[str, dict[str, Any]] = defaultdict(dict)
    for key in [key for key in row if "__" in key]:
        name, rest = key.split("__", 1)
        related[name][rest] = row.pop(key)
    columns = {field.attname: field for field in model._meta.concrete_fields}
    loaded = [name for name in columns if name in row]
    instance = model.from_db(DEFAULT_DB_ALIAS, loaded, [_python(columns[name], row.pop(name)) for name in loaded])
    for name, value in row.items():
        setattr(instance, name, value)
    for name, values in related.items():
        field = model._meta.get_field(name)
        # Its key is the one this row points at (needs `<name>_id` among the row's keys).
        if (key := instance.__dict__.get(field.attname)) is not None:
            setattr(instance, name, _instance(field.related_model, {field.target_field.attname: key, **values}))
    return instance


def _python(field: Field, value: Any) -> Any:
    value = field.to_python(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        # SQLite keeps a time in UTC without its offset (as Django's own converter reads it).
        value = timezone.make_aware(value, UTC)
    return value
