"""Lock order under load: a director moving a caseload while staff open that person's page; a
consent revoked while a send holds it.

Every writer of the access log takes the row locks it needs first and the chain's lock last
(services.audit.record), so no two requests can wait on each other in a circle. Only
PostgreSQL has row locks to get wrong; SQLite serializes every writer at BEGIN, so there the
test is skipped, and CI runs it on PostgreSQL (.ci/run, REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from services.actions import consent as consent_actions
from services.choices import ReferralStatus
from services.models.audit import AuditEvent
from tests.conftest import verify_second_factor
from tests.factories import consent_for
from tests.test_consent import provider_of, send

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


def reporting(errors: list[BaseException], work: Callable[..., None]) -> Callable[..., None]:
    """`work` for a thread of its own: what it raises is kept in `errors` (reported by the test),
    and its database connection is closed when it ends."""

    def run(*args: Any) -> None:
        try:
            work(*args)
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            connections.close_all()

    return run


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
        barrier.wait()
        for _ in range(ROUNDS):
            statuses.append(client.get(page).status_code)

    def reassign() -> None:
        # caseworker1 always keeps Marcus (so their page stays theirs); caseworker2 comes and goes.
        barrier.wait()
        for n in range(ROUNDS):
            caseworkers = [world.caseworker1.pk] + ([world.caseworker2.pk] if n % 2 == 0 else [])
            statuses.append(director.post(edit, {"caseworkers": caseworkers}).status_code)

    threads = [threading.Thread(target=reporting(errors, view), args=(client,)) for client in viewers]
    threads.append(threading.Thread(target=reporting(errors, reassign)))
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


# --- moved here from test_consent.py: a transactional test cannot share a module whose world
# is built once (marked world_built_once, tests/conftest.py) ------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks (a writer locks the whole file at BEGIN), so the consent lock "
    "cannot be seen to work there: this runs on PostgreSQL (.ci/run's second pass)",
)
@pytest.mark.django_db(transaction=True)
def test_a_revocation_during_a_send_waits_for_it_and_then_flags_it(world):
    """The send locks the consents it relies on; a revocation that starts meanwhile waits, then
    flags the referral the send has just committed. Without the lock it would commit first,
    find nothing sent, and the send would go out under a revoked consent, unflagged."""
    consent = consent_for(world.marcus.exoneree, provider_of(world))
    referral = world.marcus.referral
    sent_and_holding, revoked, let_go = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def sender() -> None:
        with transaction.atomic():
            send(world, referral)
            sent_and_holding.set()
            let_go.wait(10)

    def revoker() -> None:
        sent_and_holding.wait(10)
        consent_actions.consent_revoke(by=world.caseworker1, consent=consent, how="staff")
        revoked.set()

    threads = [threading.Thread(target=reporting(errors, work)) for work in (sender, revoker)]
    for thread in threads:
        thread.start()
    waited = not revoked.wait(1.0)  # the revocation is blocked on the send's lock
    let_go.set()
    for thread in threads:
        thread.join(20)

    assert not errors
    assert waited, "the revocation did not wait for the send holding the consent"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert referral.consent_revoked_at is not None
