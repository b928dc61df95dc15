"""Let the app's database role do what the app does, and no more: `manage.py grant_app_role ROLE`.

Run by the role that owns the tables (the one that runs `migrate`), after every `migrate`.
The app's role owns nothing, so it cannot drop or disable a trigger; it may read and write
every table, but only INSERT and SELECT the access log, its checkpoints and the key canaries:
no UPDATE, DELETE or TRUNCATE of them, whatever SQL reaches the database. `--sql` prints the
statements instead (to run them by hand, README "Database roles"). PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from services.models.audit import AuditCheckpoint, AuditEvent
from services.models.keys import KeyCanary

APPEND_ONLY = (AuditEvent, AuditCheckpoint, KeyCanary)


def grant_statements(role: str) -> list[str]:
    quote = connection.ops.quote_name
    who = quote(role)
    append_only = ", ".join(quote(model._meta.db_table) for model in APPEND_ONLY)
    return [
        f"GRANT USAGE ON SCHEMA public TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {append_only} FROM {who}",
    ]


class Command(BaseCommand):
    help = "Grant the app's database role what it needs; the access log only INSERT and SELECT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role the app connects as (it must exist and own nothing)")
        parser.add_argument("--sql", action="store_true", help="print the statements instead of running them")

    def handle(self, *args: Any, role: str, sql: bool, **options: Any) -> None:
        statements = grant_statements(role)
        if sql:
            self.stdout.write(";\n".join(statements) + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only.")
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"There is no role {role}: create it first (README, Database roles).")
            if found[0]:
                raise CommandError(f"{role} is a superuser: a superuser can do anything to the access log.")
            cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s", [role])
            if cursor.fetchone()[0]:
                raise CommandError(f"{role} owns tables: an owner can drop the access log's triggers.")
            with transaction.atomic():
                for statement in statements:
                    cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(f"{role} may now use the app's tables; the access log only append."))
