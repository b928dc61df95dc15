"""Hostile input to every form: never a 5xx, and a refused form saves nothing.

Every page of tests/test_access.py that takes a POST is fuzzed here (so a new POST page is
fuzzed as soon as it is in that table), plus sign-in, password reset and change, and the
two-step code and enrolment pages. Each example starts from the valid POST of the table and
replaces, drops or adds fields: huge and negative numbers, unicode, NUL bytes, 10,000-character
strings, lists where one value is expected, impossible dates, unknown choices and the ids of
the other organization's records.

Whatever comes back must not be a 5xx (the test client re-raises a view's exception, so a
crash fails here too). Unless the answer is the page's success (a redirect, or the 200 of a
POST-only page whose success is a page), no row may have changed, in any table but the access
log, sessions and django-axes' records (which exist to count refused attempts), nor a device's
failed-code counters (django-otp's throttling, the same thing for codes).

Each example runs in a savepoint that is rolled back, so examples do not see each other's
writes. `HYPOTHESIS_PROFILE=explore` runs many more examples (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from services.models.audit import AuditEvent
from tests.conftest import STAFF, World, verify_second_factor
from tests.test_access import PAGES, Page

# The records a refused attempt is allowed to leave: the trail of the attempt itself.
NOT_COMPARED_APPS = {"axes", "sessions"}
NOT_COMPARED_MODELS = {AuditEvent, Session}
NOT_COMPARED_FIELDS = {"throttling_failure_timestamp", "throttling_failure_count"}

FORM_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bname="([^"]+)"')
# A field that takes a record's id: a box or an option with a number for its value.
ID_FIELD = re.compile(
    r'<input\b[^>]*?\bname="([^"]+)"[^>]*?\bvalue="\d+"'
    r'|<select\b[^>]*?\bname="([^"]+)"[^>]*>\s*(?:<option value="">[^<]*</option>\s*)?<option value="\d+"'
)
POST_PAGES = [page for page in PAGES if "POST" in page.methods]
PASSWORD = "correct-horse-battery-9"
T = TypeVar("T")


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every compared row of every table, as plain values (encrypted fields decrypted)."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model in NOT_COMPARED_MODELS or model._meta.app_label in NOT_COMPARED_APPS:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in NOT_COMPARED_FIELDS]
        rows[model._meta.label] = list(model.objects.order_by("pk").values(*fields))
    return rows


class _RollBack(Exception):
    pass


def in_savepoint(run: Callable[[], T]) -> T:
    """Run one example and undo everything it wrote."""
    try:
        with transaction.atomic():
            result = run()
            raise _RollBack
    except _RollBack:
        return result


# --- hostile values ------------------------------------------------------------------------------

KEEP, DROP = object(), object()

# One of each kind of bad value (the first of each is what the sweep posts in every field).
HOSTILE = {
    "huge number": ["99999999999999999999", "9223372036854775808", "1e309"],
    "negative number": ["-1", "-99999999999999999999"],
    "unicode": ["Zoë Ñandú 李 🙂", "\u202e\ufeff\u200b"],
    "NUL byte": ["a\x00b", "\x00"],
    "10,000 characters": ["x" * 10_000, "é" * 3000],
    "impossible date": ["2025-02-30", "0000-00-00", "10000-01-01", "2025-13-45T25:61", "1-1-1"],
    "unknown choice": ["not-a-choice", "None"],
    "wrong type": ["abc", "{}", "NaN", "0x10", " 1 "],
    "empty": [""],
}


def other_org_records(world: World) -> list[Any]:
    """Records of org2 (every page's owner is in org1): never to be linked from org1's rows."""
    anita = world.anita
    return [
        world.org2,
        anita.exoneree,
        anita.need,
        anita.resource,
        anita.resource.provider,
        anita.referral,
        anita.follow_up,
        anita.staff_note,
        anita.assessment,
        world.caseworker3,
        world.director2,
        world.exoneree3,
        world.caseworker3.staff,
    ]


def scalars(world: World) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([value for kind in HOSTILE.values() for value in kind]),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.text(max_size=40),
        st.sampled_from([str(record.pk) for record in other_org_records(world)]),
    )


def values(world: World) -> st.SearchStrategy[Any]:
    scalar = scalars(world)
    return st.one_of(st.just(KEEP), st.just(DROP), scalar, st.lists(scalar, min_size=2, max_size=3))


def hostile(draw: Any, world: World, valid: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The valid data, with each field kept, dropped or replaced; sometimes a stray field more."""
    data = {}
    for name in sorted(names | set(valid)):
        value = draw(values(world), label=name)
        if value is KEEP:
            if name in valid:
                data[name] = valid[name]
        elif value is not DROP:
            data[name] = value
    if draw(st.booleans(), label="stray field"):
        data[draw(st.sampled_from(["id", "pk", "organization", "exoneree", "user", "status"]))] = draw(scalars(world))
    return data


def form_fields(client: Client, url: str) -> tuple[set[str], set[str]]:
    """The names of the fields the page's form offers (a GET, as its owner), and of those
    that take a record's id."""
    html = client.get(url).content.decode()
    ids = {a or b for a, b in ID_FIELD.findall(html)}
    return set(FORM_FIELD.findall(html)) - {"csrfmiddlewaretoken"}, ids


def foreign_links(before: Any, after: Any, world: World) -> list[str]:
    """Rows written by the request that point at a record of the other organization."""
    foreign = {(record._meta.concrete_model._meta.label, record.pk) for record in other_org_records(world)}
    found = []
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label
        if label not in after:
            continue
        links = [
            (f.attname, f.related_model._meta.concrete_model._meta.label)
            for f in model._meta.concrete_fields
            if f.is_relation
        ]
        old = before[label]
        for row in after[label]:
            if row in old:
                continue
            found += [f"{label}.{attname}" for attname, target in links if (target, row[attname]) in foreign]
    return found


def assert_safe(response: Any, before: Any, world: World, *, success: set[int]) -> None:
    """No 5xx; refused: nothing changed; done: nothing written points into the other organization."""
    assert response.status_code < 500, response.content[:2000]
    after = snapshot()
    if response.status_code in success:
        assert foreign_links(before, after, world) == []
    else:
        assert after == before, f"changed on a {response.status_code}"


# --- every POST page of the access table ------------------------------------------------------


def sign_in_as(client: Client, world: World, persona: str) -> None:
    if persona == "anonymous":  # a page whose key is in its address (the provider's link)
        client.logout()
        return
    client.force_login(world.user(persona))
    if persona in STAFF:
        verify_second_factor(client, world.user(persona))


def success_statuses(page: Page) -> set[int]:
    # A POST-only page whose success is a page (the full SSN, new backup codes) answers 200.
    return {302, 200} if page.post_only and page.expect[page.owner] == 200 else {302}


FIELDS: dict[str, tuple[set[str], set[str]]] = {}  # per page: the same for every world


def prepare(client: Client, world: World, page: Page) -> tuple[str, dict[str, Any], set[str], set[str]]:
    """Sign in as the page's owner; the URL, the valid POST, every field name of its form and
    the names of those that take a record's id."""
    if page.setup:
        page.setup(world)
    sign_in_as(client, world, page.owner)
    url = page.url(world)
    valid = page.data(world) if page.data else {}
    if page.name not in FIELDS:
        names, ids = form_fields(client, url) if "GET" in page.methods else (set(), set())
        FIELDS[page.name] = (names | set(valid), ids | {k for k, v in valid.items() if isinstance(v, int)})
    return url, valid, *FIELDS[page.name]


@pytest.mark.parametrize("page", POST_PAGES, ids=lambda p: p.name)
@given(data=st.data())
def test_hostile_post(client, world: World, page: Page, data: st.DataObject) -> None:
    def run() -> None:
        url, valid, names, _ = prepare(client, world, page)
        posted = hostile(data.draw, world, valid, names)
        before = snapshot()
        response = client.post(url, posted)
        assert_safe(response, before, world, success=success_statuses(page))

    in_savepoint(run)


@pytest.mark.parametrize("page", POST_PAGES, ids=lambda p: p.name)
def test_every_kind_of_bad_value_in_every_field(client, world: World, page: Page) -> None:
    """The sweep that does not depend on luck: each kind in all fields at once, a list where one
    value is expected, and each foreign id in the fields that take an id."""
    _, valid, names, ids = in_savepoint(lambda: prepare(client, world, page))
    attempts = [{name: kind[0] for name in names} for kind in HOSTILE.values()]
    attempts.append({name: [valid.get(name, "1"), "99999999999999999999"] for name in names})
    # A foreign id in every field that takes one (the other fields valid).
    attempts += [{**valid, **dict.fromkeys(ids, str(record.pk))} for record in other_org_records(world) if ids]
    for posted in attempts:

        def run(posted: dict[str, Any] = posted) -> None:
            url, *_ = prepare(client, world, page)
            before = snapshot()
            response = client.post(url, posted)
            assert_safe(response, before, world, success=success_statuses(page))

        in_savepoint(run)


# --- signing in and the account's own forms -----------------------------------------------------


def text_or_hostile(world: World) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(DROP), scalars(world), st.lists(scalars(world), min_size=2, max_size=3))


def post_fields(draw: Any, world: World, names: list[str]) -> dict[str, Any]:
    data = {}
    for name in names:
        value = draw(text_or_hostile(world), label=name)
        if value is not DROP:
            data[name] = value
    return data


@pytest.fixture
def with_password(world: World, settings: Any) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    world.caseworker1.password = make_password(PASSWORD)
    world.caseworker1.save()
    return world


@given(data=st.data())
def test_hostile_sign_in(with_password: World, data: st.DataObject) -> None:
    client = Client()

    def run() -> None:
        posted = post_fields(data.draw, with_password, ["username", "password"])
        if data.draw(st.booleans(), label="a real username"):
            posted["username"] = "caseworker1"
        before = snapshot()
        response = client.post(reverse("login"), posted, REMOTE_ADDR="203.0.113.7")
        assert_safe(response, before, with_password, success=set())

    in_savepoint(run)


@given(data=st.data())
def test_hostile_password_reset(world: World, data: st.DataObject) -> None:
    client = Client()

    def run() -> None:
        before = snapshot()
        response = client.post(reverse("password_reset"), post_fields(data.draw, world, ["email"]))
        # Even a good address changes nothing now: the worker sends the link.
        assert_safe(response, before, world, success=set())

    in_savepoint(run)


@given(data=st.data())
def test_hostile_password_change(client, with_password: World, data: st.DataObject) -> None:
    def run() -> None:
        sign_in_as(client, with_password, "caseworker1")
        posted = post_fields(data.draw, with_password, ["old_password", "new_password1", "new_password2"])
        if data.draw(st.booleans(), label="the right old password"):
            posted["old_password"] = PASSWORD
        before = snapshot()
        response = client.post(reverse("password_change"), posted)
        assert_safe(response, before, with_password, success={302})

    in_savepoint(run)


@given(data=st.data())
def test_hostile_two_factor_code(client, world: World, data: st.DataObject) -> None:
    def run() -> None:
        verify_second_factor(client, world.caseworker1)  # makes the device
        client.force_login(world.caseworker1)  # the password only
        before = snapshot()
        response = client.post(reverse("two_factor_verify"), post_fields(data.draw, world, ["code", "next"]))
        assert_safe(response, before, world, success=set())

    in_savepoint(run)


@given(data=st.data())
def test_hostile_two_factor_enrolment(client, world: World, data: st.DataObject) -> None:
    def run() -> None:
        client.force_login(world.director1)
        client.get(reverse("two_factor_setup"))  # the pending device, kept until confirmed
        before = snapshot()
        response = client.post(reverse("two_factor_setup"), post_fields(data.draw, world, ["code", "next"]))
        assert_safe(response, before, world, success=set())

    in_savepoint(run)
