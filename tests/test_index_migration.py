"""Migration 0036: the outcomes page's covering indexes replace their predecessors, and the
migration runs again after an interruption (it runs outside a transaction, CONCURRENTLY on
PostgreSQL). Runs on whichever database the suite uses (SQLite, or PostgreSQL with
DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.test_encryption import migrate

BEFORE = ("services", "0035_referral_accepted_at")
AFTER = ("services", "0036_covering_indexes")
NEW = {"need_org_domain_status_cover", "referral_org_status_cover", "referral_org_sent_cover"}
OLD = {"services_ne_organiz_d9877f_idx", "services_re_organiz_fec53d_idx", "services_re_organiz_bf1f0e_idx"}


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for table in ("services_need", "services_referral")
            for name in connection.introspection.get_constraints(cursor, table)
        }


@pytest.mark.django_db(transaction=True)
def test_the_covering_indexes_replace_the_old_ones_and_back_and_run_again_after_an_interruption() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    assert NEW <= indexes() and not OLD & indexes()
    migrate(executor, [BEFORE])
    try:
        assert OLD <= indexes() and not NEW & indexes()
        # Interrupted after its first step, and while building its second index.
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX need_org_domain_status_cover ON services_need (organization_id, domain)")
            cursor.execute("DROP INDEX services_ne_organiz_d9877f_idx")
            cursor.execute("CREATE INDEX referral_org_status_cover ON services_referral (id)")
        migrate(executor, [AFTER])
        assert NEW <= indexes() and not OLD & indexes()
        with connection.cursor() as cursor:
            built = connection.introspection.get_constraints(cursor, "services_referral")["referral_org_status_cover"]
        assert built["columns"][:2] == ["organization_id", "status"]  # built anew, not the leftover
    finally:
        migrate(executor, latest)
    assert NEW <= indexes() and not OLD & indexes()
