"""Lock order under load: a director moving a caseload while staff open that person's page.

Every writer of the access log takes the row locks it needs first and the chain's lock last
(services.audit.record), so no two requests can wait on each other in a circle. Only
PostgreSQL has row locks to get wrong; SQLite serializes every writer at BEGIN, so there the
test is skipped, and CI runs it on PostgreSQL (.ci/run, REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from services.models.audit import AuditEvent
from tests.conftest import verify_second_factor

VIEWERS = 8
ROUNDS = 12


@pytest.fixture
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but the suite is not running on PostgreSQL (DATABASE_URL)")
        pytest.skip("row locks and deadlocks exist on PostgreSQL only: set DATABASE_URL to run this test")


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


@pytest.mark.django_db(transaction=True)
def test_reassigning_a_caseload_while_eight_people_open_the_page_never_deadlocks(postgresql_only, world):
    marcus = world.marcus.exoneree
    page = marcus.get_absolute_url()
    edit = reverse("caseload_edit", args=[marcus.pk])
    viewers = [signed_in(world.director1 if n % 2 else world.caseworker1) for n in range(VIEWERS)]
    director = signed_in(world.director1)
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    barrier = threading.Barrier(VIEWERS + 1)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def view(client: Client) -> None:
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                statuses.append(client.get(page).status_code)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    def reassign() -> None:
        # caseworker1 always keeps Marcus (so their page stays theirs); caseworker2 comes and goes.
        try:
            barrier.wait()
            for n in range(ROUNDS):
                caseworkers = [world.caseworker1.pk] + ([world.caseworker2.pk] if n % 2 == 0 else [])
                statuses.append(director.post(edit, {"caseworkers": caseworkers}).status_code)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=view, args=(client,)) for client in viewers]
    threads.append(threading.Thread(target=reassign))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(statuses) == (VIEWERS + 1) * ROUNDS
    assert set(statuses) <= {200, 302}, sorted(set(statuses))
    entries = AuditEvent.objects.filter(pk__gt=start)
    assert entries.filter(action=AuditEvent.Action.CASELOAD_REASSIGNED).count() == ROUNDS
    assert entries.filter(action=AuditEvent.Action.RECORD_VIEWED).count() == VIEWERS * ROUNDS
