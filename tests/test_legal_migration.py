"""Migration 0019: the person's compensation status and deadline move into claims, keeping every
value, and back. Runs on whichever database the suite uses (SQLite, or PostgreSQL with
DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from services.models.legal import CompensationClaim
from services.models.notifications import Reminder
from services.models.people import Exoneree
from tests.test_encryption import migrate

BEFORE = ("services", "0019_organization_code")
AFTER = ("services", "0020_legal_remedies")

# (name, state, status, deadline) as people held them before claims.
PEOPLE = [
    ("Ann Default", "IL", "not_filed", None),  # nothing recorded: no claim
    ("Ben Waiting", "IL", "not_filed", date(2027, 3, 14)),
    ("Cy Filed", "tx", "filed", date(2026, 1, 5)),
    ("Di Awarded", "", "awarded", None),
    ("Ed Denied", "ZZ", "denied", date(2025, 6, 30)),
    ("Flo Not Eligible", "PA", "not_eligible", None),
]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_compensation_value_into_claims_and_back() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    migrate(executor, [BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps
        org = old.get_model("services", "Organization").objects.create(name="Before Claims")
        person = old.get_model("services", "Exoneree")
        made = {
            name: person.objects.create(
                organization=org,
                legal_name=name,
                conviction_state=state,
                compensation_status=status,
                compensation_deadline=deadline,
            ).pk
            for name, state, status, deadline in PEOPLE
        }
        ben = made["Ben Waiting"]
        # A warning already planned for Ben's deadline, and one already sent: both follow him.
        reminder = old.get_model("services", "Reminder")
        at = datetime(2026, 12, 14, 14, tzinfo=UTC)
        reminder.objects.create(
            organization=org,
            kind="compensation_90",
            key=f"compensation_90:e{ben}:-:2026-12-14",
            exoneree_id=ben,
            send_at=at,
        )
        reminder.objects.create(
            organization=org,
            kind="compensation_0",
            key=f"compensation_0:e{ben}:-:2024-01-01",
            exoneree_id=ben,
            send_at=at,
            status="sent",
        )

        migrate(executor, [AFTER])

        # The models as they stood right after the migration (later ones add columns).
        after = executor.loader.project_state([AFTER]).apps
        claims = {
            c.exoneree.legal_name: c
            for c in after.get_model("services", "CompensationClaim").objects.select_related("exoneree")
        }
        assert set(claims) == set(made) - {"Ann Default"}
        got = {
            name: (c.jurisdiction, c.stage, c.filing_deadline, c.deadline_override, c.deadline_basis)
            for name, c in claims.items()
        }
        assert got == {
            "Ben Waiting": ("IL", "assessing", date(2027, 3, 14), date(2027, 3, 14), "override"),
            "Cy Filed": ("TX", "filed", date(2026, 1, 5), date(2026, 1, 5), "override"),
            "Di Awarded": ("", "awarded", None, None, "no_jurisdiction"),
            "Ed Denied": ("", "denied", date(2025, 6, 30), date(2025, 6, 30), "override"),
            "Flo Not Eligible": ("PA", "not_eligible", None, None, "no_jurisdiction"),
        }
        assert claims["Ben Waiting"].override_reason.startswith("Entered on the person's record")  # decrypts
        assert claims["Di Awarded"].override_reason == ""
        assert all(c.organization_id == org.pk for c in claims.values())
        keys = sorted(
            after.get_model("services", "Reminder")
            .objects.filter(exoneree_id=ben)
            .values_list("key", "compensation_claim_id")
        )
        claim = claims["Ben Waiting"].pk
        assert keys == [
            (f"compensation_0:c{claim}:-:2024-01-01", claim),
            (f"compensation_90:c{claim}:-:2026-12-14", claim),
        ]

        migrate(executor, [BEFORE])

        back = {
            row.legal_name: (row.compensation_status, row.compensation_deadline)
            for row in executor.loader.project_state([BEFORE]).apps.get_model("services", "Exoneree").objects.all()
        }
        assert back == {name: (status, deadline) for name, _, status, deadline in PEOPLE}
        keys = sorted(reminder.objects.filter(exoneree_id=ben).values_list("key", flat=True))
        assert keys == [f"compensation_0:e{ben}:-:2024-01-01", f"compensation_90:e{ben}:-:2026-12-14"]
    finally:
        migrate(executor, latest)
        Reminder.objects.all().delete()
        CompensationClaim.objects.all().delete()
        Exoneree.objects.filter(legal_name__in=[name for name, *_ in PEOPLE]).delete()
