"""Re-encrypt every encrypted value under the newest key: `manage.py rotate_encryption_keys`.

How to rotate:
 1. put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it) and restart;
    from then on new writes use the new key and old values still read (the new key gets its
    own key canary, services.keyring, because an old key still reads its canary);
 2. run this command; it re-encrypts what is still under an older key, a batch per
    transaction, so it can be stopped at any moment (Ctrl-C, kill, a crash) and run again:
    it finds the remaining rows by their key id, without decrypting anything to look;
 3. when it reports nothing left, remove the old keys and restart.
With --blind-index it also recomputes the blind indexes under the newest BLIND_INDEX_KEYS
key (lookups try every configured index key meanwhile).

People's papers are covered like any other value: each file is sealed with its own data key,
and that key is an encrypted field of its Document row (services.models.documents), so this
re-wraps the data keys and never reads or rewrites a file.

Each row is written with a compare-and-set (`WHERE pk = ... AND column = <what was read>`),
so a value changed by the app while the command runs is never overwritten with an older one.
"""

from __future__ import annotations

import sys
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from services import keyring
from services.fields import BlindIndexField, EncryptedMixin
from services.lib import crypto


def fields_of_kind(kind: type) -> list[tuple[type[models.Model], Any]]:
    """Every (model, field) of the project whose field is a `kind`."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, kind)
    ]


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedMixin]]:
    return fields_of_kind(EncryptedMixin)


def blind_index_fields() -> list[tuple[type[models.Model], BlindIndexField]]:
    return fields_of_kind(BlindIndexField)


class Progress:
    """A one-line progress bar on a terminal; a line per tenth elsewhere (logs, tests)."""

    WIDTH = 30

    def __init__(self, stdout: Any, total: int, label: str) -> None:
        self.stdout, self.total, self.label, self.done, self.shown = stdout, total, label, 0, -1
        self.tty = sys.stdout.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total}"
        if self.tty:
            self.stdout.write("\r" + bar, ending="")
            self.stdout.flush()
        elif (tenth := 10 * self.done // max(self.total, 1)) != self.shown:
            self.shown = tenth
            self.stdout.write(bar)

    def finish(self) -> None:
        if self.tty:
            self.stdout.write("")


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value under the newest FIELD_ENCRYPTION_KEYS key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
        parser.add_argument(
            "--blind-index", action="store_true", help="also recompute blind indexes under the newest index key"
        )

    def handle(self, *args: Any, batch_size: int, blind_index: bool, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        self.failures: list[str] = []
        try:
            # The new key gets its canary now (if the restart has not written it), and only
            # while an old key still reads its own: keys that are not this database's move nothing.
            keyring.keys_verify()
        except keyring.WrongKeys as exc:
            raise CommandError(str(exc)) from exc
        newest = crypto.encryption_keys()[0]
        fields = encrypted_fields()
        total = sum(self.remaining(model, field) for model, field in fields)
        self.stdout.write(f"{total} encrypted values to move to key {newest.id}, in batches of {batch_size}.")
        progress = Progress(self.stdout, total, "values")
        for model, field in fields:
            self.rotate_field(model, field, batch_size, progress)
        progress.finish()
        if blind_index:
            self.rotate_blind_indexes(batch_size)
        if self.failures:
            raise CommandError(
                f"{len(self.failures)} value(s) could not be read and were left as they are:\n"
                + "\n".join(self.failures)
            )
        self.stdout.write(self.style.SUCCESS("Done: every encrypted value is under the newest key."))

    def sql_names(self, model: type[models.Model], column: str) -> tuple[str, str, str]:
        quote = connection.ops.quote_name
        return quote(model._meta.db_table), quote(model._meta.pk.column), quote(column)

    def remaining(self, model: type[models.Model], field: EncryptedMixin) -> int:
        table, _, column = self.sql_names(model, field.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} <> '' AND {column} NOT LIKE %s",  # noqa: S608 (quoted names)
                [crypto.token_prefix() + "%"],
            )
            return cursor.fetchone()[0]

    def rotate_field(self, model: type[models.Model], field: Any, batch_size: int, progress: Progress) -> None:
        table, pk, column = self.sql_names(model, field.column)
        context = field.encryption_context
        last = 0  # primary keys are positive: the keyset pagination starts below the first
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk}, {column} FROM {table} WHERE {column} <> '' AND {column} NOT LIKE %s "  # noqa: S608
                    f"AND {pk} > %s ORDER BY {pk} LIMIT %s",
                    [crypto.token_prefix() + "%", last, batch_size],
                )
                rows = cursor.fetchall()
            if not rows:
                return
            updates = []
            for row_pk, token in rows:
                try:
                    plaintext = crypto.decrypt(token, context=context)
                except crypto.DecryptionError as exc:
                    self.failures.append(f"{context} row {row_pk}: {exc}")
                    continue
                updates.append((crypto.encrypt(plaintext, context=context), row_pk, token))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s", updates)  # noqa: S608
            progress.advance(len(rows))
            last = rows[-1][0]

    def rotate_blind_indexes(self, batch_size: int) -> None:
        prefix = crypto.index_prefix()
        for model, field in blind_index_fields():
            stale = model._default_manager.exclude(**{field.attname: ""}).exclude(
                **{f"{field.attname}__startswith": prefix}
            )
            total = stale.count()
            self.stdout.write(f"{total} blind indexes in {model._meta.label}.{field.name} to recompute.")
            progress = Progress(self.stdout, total, "indexes")
            last = 0
            columns = [field.attname, *field.sources]
            while batch := list(stale.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]):
                with transaction.atomic():
                    for pk in batch:
                        try:
                            instance = model._default_manager.only(*columns).get(pk=pk)
                        except crypto.DecryptionError as exc:
                            self.failures.append(f"{model._meta.label}.{field.name} row {pk}: {exc}")
                            continue
                        model._default_manager.filter(
                            pk=pk, **{field.attname: getattr(instance, field.attname)}
                        ).update(**{field.attname: field.compute(instance)})
                progress.advance(len(batch))
                last = batch[-1]
            progress.finish()
