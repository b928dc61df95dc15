"""The figures' cache is one for the whole deployment (services/figures.py).

Each test here stands for two server processes: two cache clients built from the
deployment's own settings.CACHES["figures"] (the database cache here, Redis where REDIS_URL
is set: under a key prefix of this test's, and never cleared, which on Redis would flush
the whole database), each serving the director's requests in turn. A page computed by one
is served by the other; never to another organization; never after a write it counts.
After a write the organization's default page is computed again in the background, at most
once a minute per organization, so the director finds it ready.
"""

from __future__ import annotations

import time
import zoneinfo
from datetime import datetime, timedelta
from threading import Event, Thread
from typing import Any
from unittest import mock
from urllib.parse import urlencode
from uuid import uuid4

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import reentry.settings as deployment
from services import figures
from services.actions import needs
from services.choices import NeedDomain
from services.models.needs import Need
from services.models.organizations import Organization
from tests.factories import FollowUpFactory

NY = zoneinfo.ZoneInfo("America/New_York")
CACHED_QUERIES = 3  # session, user (with the organization and its version), device: nothing counted
TRANSPORTATION = '<th scope="row">Transportation</th>'


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


class Processes:
    """`use(n)`: the next requests are served by process n's cache client (0 or 1)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clients = [caches.create_connection(figures.CACHE) for _ in range(2)]
        assert self.clients[0] is not self.clients[1]
        self.monkeypatch = monkeypatch
        # A page found in the cache: the sign-in's queries, and the database cache's SELECT.
        self.hit = CACHED_QUERIES + (1 if isinstance(self.clients[0], DatabaseCache) else 0)

    def use(self, n: int) -> None:
        self.monkeypatch.setattr(figures, "cache", lambda: self.clients[n])


@pytest.fixture
def processes(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Processes:
    settings.CACHES = {
        **settings.CACHES,
        "figures": {**deployment.CACHES["figures"], "KEY_PREFIX": f"test-figures-{uuid4()}"},
    }
    return Processes(monkeypatch)


def outcomes(client: Any) -> tuple[str, int]:
    """The default outcomes page's body (the last 12 months, no filter) and its query count."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("outcome_dashboard"))
    assert response.status_code == 200
    return response.context["body"], len(queries)


def new_need(world: Any) -> None:
    need = Need(domain=NeedDomain.TRANSPORTATION, description="A bus pass", opened_on=timezone.localdate())
    needs.need_create(by=world.caseworker1, exoneree=world.marcus.exoneree, need=need)


def test_a_page_one_process_computed_is_served_by_the_other(world, login, processes):
    client = login("director1")
    processes.use(0)
    first, computed = outcomes(client)

    processes.use(1)
    again, cached = outcomes(client)

    assert again == first
    assert cached == processes.hit < computed


def test_another_organizations_page_is_never_served_from_the_shared_cache(world, login, processes):
    Organization.objects.update(figures_version=7)  # the same version: only the organization tells the keys apart
    processes.use(0)
    theirs, _ = outcomes(login("director1"))

    processes.use(1)
    ours, counted = outcomes(login("director2"))

    assert "Casey Onewell" in theirs and "Casey Onewell" not in ours
    assert "Cam Thrice" in ours
    assert counted > processes.hit  # computed for this organization, not found


def test_a_write_through_one_process_is_seen_at_once_by_the_other(world, login, processes):
    client = login("director1")
    processes.use(0)
    outcomes(client)
    processes.use(1)
    before, _ = outcomes(client)  # now cached in both processes' view

    processes.use(0)
    new_need(world)
    processes.use(1)
    after, counted = outcomes(client)

    assert TRANSPORTATION not in before and TRANSPORTATION in after
    assert counted > processes.hit
    processes.use(0)
    assert outcomes(client) == (after, processes.hit)


@pytest.fixture
def recompute(settings: Any) -> mock.MagicMock:
    """The background recompute switched on (off where tasks run inline, as in tests) and watched."""
    settings.FIGURES_RECOMPUTE = True
    with mock.patch.object(figures, "recompute", wraps=figures.recompute) as watched:
        yield watched


def test_a_page_filtered_by_a_long_typed_value_is_kept_too(world, login, processes):
    client = login("director1")
    url = reverse("outcome_dashboard") + "?" + urlencode({"from": "2026-01-01", "domain": "x" * 300})

    processes.use(0)
    with CaptureQueriesContext(connection) as first:
        typed = client.get(url)
    processes.use(1)
    with CaptureQueriesContext(connection) as again:
        kept = client.get(url)

    assert typed.status_code == kept.status_code and typed.context["body"] == kept.context["body"]
    assert len(again) == processes.hit < len(first)
    key = figures.key("outcomes", world.org1, urlencode({"domain": "x" * 300}))
    assert len(key) < 200 and "xxx" not in key


def test_after_a_write_the_default_page_is_ready_before_the_director_asks(
    world, login, recompute, django_capture_on_commit_callbacks
):
    client = login("director1")
    with django_capture_on_commit_callbacks(execute=True):
        new_need(world)

    body, counted = outcomes(client)

    recompute.assert_called_once_with(world.org1.pk)
    assert counted == CACHED_QUERIES  # computed in the background, not while the director waited
    assert TRANSPORTATION in body
    figures.cache().clear()
    assert outcomes(client)[0] == body  # what computing it now gives


def test_the_background_recompute_runs_at_most_once_a_minute_per_organization(
    world, recompute, django_capture_on_commit_callbacks, time_machine
):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=NY)
    time_machine.move_to(start, tick=False)

    def write(organization: Any, seconds: float) -> None:
        time_machine.move_to(start + timedelta(seconds=seconds), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            figures.figures_changed(organization.pk)

    write(world.org1, 0)
    write(world.org1, 20)
    write(world.org1, 59)
    write(world.org2, 30)  # another organization has a minute of its own
    assert [c.args for c in recompute.call_args_list] == [(world.org1.pk,), (world.org2.pk,)]

    write(world.org1, 61)
    write(world.org1, 100)
    assert [c.args for c in recompute.call_args_list] == [(world.org1.pk,), (world.org2.pk,), (world.org1.pk,)]


def test_no_recompute_is_queued_where_tasks_run_inline(world, settings, django_capture_on_commit_callbacks):
    assert settings.CELERY_TASK_ALWAYS_EAGER and not deployment.FIGURES_RECOMPUTE  # the suite's settings
    with mock.patch.object(figures, "recompute_soon") as queued, django_capture_on_commit_callbacks(execute=True):
        new_need(world)
    queued.assert_not_called()


def test_an_organization_without_a_director_is_not_computed(world, settings):
    world.director1.is_active = False
    world.director1.save(update_fields=["is_active"])

    assert figures.recompute(world.org1.pk) is False
    assert figures.recompute(world.org2.pk) is True


# --- past its minute: served while it is counted again ---------------------------------------------


@pytest.fixture
def queued(settings: Any) -> mock.MagicMock:
    """The background recompute switched on, with its queue watched and nothing run: what the
    director gets while the worker has not yet counted again. `run()` is the worker."""
    settings.FIGURES_RECOMPUTE = True
    with mock.patch.object(figures.hooks, "queue") as queue:
        queue.run = lambda: [figures.recompute(*c.args) for c in queue.call_args_list]
        yield queue


def at(time_machine: Any, moment: datetime) -> None:
    time_machine.move_to(moment, tick=False)


MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=NY)


def test_past_its_minute_the_default_page_is_served_at_once_and_counted_again_behind(
    world, login, processes, queued, time_machine
):
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    first, _ = outcomes(client)

    at(time_machine, MORNING + timedelta(minutes=10))
    processes.use(1)
    response = client.get(reverse("outcome_dashboard"))
    again, counted = outcomes(client)  # a second director, or the same one reloading at once

    assert response.context["body"] == again == first and "Figures as of 09:00" in first
    assert response.context["refreshing"] and "Newer figures are being counted" in response.content.decode()
    assert counted == processes.hit  # nobody waited for the count
    queued.assert_called_once_with(world.org1.pk)  # one recompute for every process and request

    queued.run()
    processes.use(0)
    response = client.get(reverse("outcome_dashboard"))
    assert "Figures as of 09:10" in response.context["body"] and not response.context["refreshing"]
    assert "Newer figures" not in response.content.decode()


def test_a_stale_page_is_never_served_after_a_write(world, login, processes, queued, time_machine):
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    before, _ = outcomes(client)

    new_need(world)  # its recompute is queued, and has not run
    at(time_machine, MORNING + timedelta(minutes=10))
    processes.use(1)
    after, counted = outcomes(client)

    assert TRANSPORTATION not in before and TRANSPORTATION in after
    assert counted > processes.hit


def test_a_filtered_page_past_its_minute_is_counted_again_on_the_spot(world, login, processes, queued, time_machine):
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    asked = {"domain": NeedDomain.HOUSING}
    client.get(reverse("outcome_dashboard"), asked)

    at(time_machine, MORNING + timedelta(minutes=10))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("outcome_dashboard"), asked)

    assert "Figures as of 09:10" in response.context["body"] and not response.context["refreshing"]
    assert len(queries) > processes.hit
    queued.assert_not_called()  # the background recompute keeps only the default page


def test_the_next_day_the_default_page_is_counted_again_on_the_spot(world, login, processes, queued, time_machine):
    at(time_machine, datetime(2026, 3, 2, 23, 50, tzinfo=NY))
    client = login("director1")
    processes.use(0)
    outcomes(client)

    at(time_machine, datetime(2026, 3, 3, 0, 5, tzinfo=NY))
    response = client.get(reverse("outcome_dashboard"))

    assert "March 3, 2026" in response.context["body"] and not response.context["refreshing"]
    queued.assert_not_called()


def test_where_recomputing_runs_inline_a_page_past_its_minute_is_counted_on_the_spot(
    world, login, processes, time_machine
):
    assert not figures.settings.FIGURES_RECOMPUTE
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    outcomes(client)

    at(time_machine, MORNING + timedelta(minutes=2))
    response = client.get(reverse("outcome_dashboard"))

    assert "Figures as of 09:02" in response.context["body"] and not response.context["refreshing"]


def test_when_the_recompute_cannot_be_queued_the_page_is_counted_on_the_spot_and_queued_next_time(
    world, login, processes, queued, time_machine, caplog
):
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    outcomes(client)

    queued.side_effect = OSError("the broker is down")
    at(time_machine, MORNING + timedelta(minutes=2))
    response = client.get(reverse("outcome_dashboard"))
    assert "Figures as of 09:02" in response.context["body"] and not response.context["refreshing"]
    assert "computing them now" in caplog.text

    queued.side_effect = None  # the broker is back; the failed attempt did not keep the lock
    at(time_machine, MORNING + timedelta(minutes=4))
    assert client.get(reverse("outcome_dashboard")).context["refreshing"]
    assert queued.call_count == 2


def test_the_directors_counts_past_their_minute_are_served_and_counted_again_behind(world, queued, time_machine):
    from services.selectors.dashboards import director_counts

    def counts() -> Any:  # as a request reads them: the organization as it is now
        return director_counts(Organization.objects.get(pk=world.org1.pk))

    at(time_machine, MORNING)
    first = counts()
    Need.objects.filter(exoneree__organization=world.org1).delete()  # by SQL: no version bump

    at(time_machine, MORNING + timedelta(minutes=10))
    assert counts() == first and first["needs"] != []
    queued.assert_called_once_with(world.org1.pk)

    queued.run()
    assert counts()["needs"] == []


def test_the_overview_counts_as_overdue_what_fell_due_since_its_counts(world, login, queued, time_machine):
    """Time passing writes nothing: a follow-up that falls due after the overview was counted
    is overdue on it at once, while the counts are served past their minute."""
    from services.selectors.dashboards import director_dashboard

    def overdue() -> dict[int, int]:  # as a request reads them: the organization as it is now
        rows = director_dashboard(Organization.objects.get(pk=world.org1.pk))["caseworkers"]
        return {row["member"].user_id: row["overdue"] for row in rows}

    at(time_machine, MORNING)
    due = MORNING + timedelta(minutes=5)
    FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, due_at=due)
    before = overdue()

    at(time_machine, MORNING + timedelta(minutes=10))
    after = overdue()

    queued.assert_called_once_with(world.org1.pk)  # served as counted at 09:00, and counted again behind
    assert after == {**before, world.caseworker1.pk: before[world.caseworker1.pk] + 1}
    queued.run()
    assert overdue() == after


def test_a_recompute_that_does_not_land_is_waited_for_two_minutes_at_most(
    world, login, processes, queued, time_machine
):
    at(time_machine, MORNING)
    client = login("director1")
    processes.use(0)
    outcomes(client)

    served = []
    for minutes in (10, 11, 12.5):  # queued at 09:10, and no worker ever counts it
        at(time_machine, MORNING + timedelta(minutes=minutes))
        response = client.get(reverse("outcome_dashboard"))
        served.append((response.context["refreshing"], "Figures as of 09:00" in response.context["body"]))

    assert served == [(True, True), (True, True), (False, False)]  # counted on the spot at 09:12:30
    assert "Figures as of 09:12" in response.context["body"]
    queued.assert_called_once_with(world.org1.pk)


def test_a_value_of_another_shape_under_the_key_is_counted_again(world, processes):
    from services.selectors.dashboards import director_counts

    organization = Organization.objects.get(pk=world.org1.pk)
    planted = ({"sent": 999}, [])  # the counts as an older release kept them: a bare tuple
    figures.cache().set(figures.key("director-overview", organization, ""), planted, 600)

    counts = director_counts(organization)

    assert counts != planted and counts["needs"] != []
    assert director_counts(organization) == counts  # and kept in the new shape


def in_another_process(results: dict[str, Any], name: str, organization: Organization, compute: Any) -> Thread:
    """A request of another server process asking for the same figures (a thread here: the
    shared cache and the figures' cache are the same for both, as in a deployment)."""

    def ask() -> None:
        try:
            results[name] = figures.cached("page", organization, "", compute).value
        except RuntimeError as error:
            results[name] = str(error)

    thread = Thread(target=ask)
    thread.start()
    return thread


def test_figures_being_counted_by_one_process_are_waited_for_by_another_not_counted_again(world):
    organization = Organization.objects.get(pk=world.org1.pk)
    started, go, counted, results = Event(), Event(), [], {}

    def slowly() -> str:
        counted.append("first")
        started.set()
        go.wait(5)
        return "counted once"

    first = in_another_process(results, "first", organization, slowly)
    assert started.wait(5)
    second = in_another_process(results, "second", organization, lambda: counted.append("second") or "twice")
    time.sleep(0.3)  # the second finds the first counting
    go.set()
    first.join(5)
    second.join(5)

    assert results == {"first": "counted once", "second": "counted once"}
    assert counted == ["first"]


def test_figures_whose_count_failed_are_counted_by_the_process_that_waited(world):
    organization = Organization.objects.get(pk=world.org1.pk)
    started, go, results = Event(), Event(), {}

    def failing() -> str:
        started.set()
        go.wait(5)
        raise RuntimeError("the database went away")

    first = in_another_process(results, "first", organization, failing)
    assert started.wait(5)
    began = time.monotonic()
    second = in_another_process(results, "second", organization, lambda: "counted by the second")
    time.sleep(0.3)
    go.set()
    first.join(5)
    second.join(5)

    assert results == {"first": "the database went away", "second": "counted by the second"}
    assert time.monotonic() - began < figures.COMPUTING_WAIT_SECONDS / 2  # not waited out


class LandsBetweenLooks:
    """The figures' cache of a process waiting for another's computation, whose first look
    finds nothing and the other's entry lands right after it, the other's lock let go with it:
    so when the waiter looks at the lock it is gone, and the entry is there."""

    def __init__(self, store: Any, lock: str) -> None:
        self.store, self.lock, self.landed = store, lock, False

    def get(self, key: str) -> Any:
        value = self.store.get(key)
        if not self.landed:
            self.landed = True
            self.store.set(key, figures.Entry("counted elsewhere", timezone.now().timestamp()), 60)
            caches["shared"].delete(self.lock)
        return value


def test_a_computation_that_lands_between_two_looks_is_taken_not_counted_again(world, processes):
    cache_key = f"figures:test:{uuid4()}"
    lock = f"figures-computing:{cache_key}"
    caches["shared"].add(lock, "another process", 60)
    store = LandsBetweenLooks(processes.clients[0], lock)

    with figures._one_computation(store, cache_key, wait=True) as elsewhere:
        assert elsewhere == "counted elsewhere"  # not _NONE, which would count it again
    assert caches["shared"].get(lock) is None


class TakenFirstByAnother:
    """The shared cache as a waiting process sees it when the count it waited for failed
    (its lock let go, no entry) and another waiting process takes the lock first: this one's
    `add` fails, and the other's count lands a moment later."""

    def __init__(self, store: Any, cache_key: str) -> None:
        self.store, self.cache_key, self.adds = store, cache_key, 0

    def add(self, key: str, value: Any, timeout: float) -> bool:
        self.adds += 1
        if self.adds == 2:
            self.store.set(self.cache_key, figures.Entry("counted by the other", timezone.now().timestamp()), 60)
        return False

    def get(self, key: str) -> Any:
        return None

    def delete(self, key: str) -> None:
        raise AssertionError("a lock this process never held was let go")


def test_of_two_processes_waiting_for_a_failed_count_one_counts_and_the_other_waits_for_it(
    world, processes, monkeypatch
):
    cache_key, store = f"figures:test:{uuid4()}", processes.clients[0]
    shared = TakenFirstByAnother(store, cache_key)
    monkeypatch.setattr(figures, "caches", {"shared": shared})

    with figures._one_computation(store, cache_key, wait=True) as elsewhere:
        assert elsewhere == "counted by the other"  # not _NONE, which would count it beside the other
    assert shared.adds == 2
