"""Named personas, built once per test in the `world` fixture (or once per module marked
`world_built_once`).

    org1 "Harbor Light": director1, caseworker1 → Marcus (login exoneree1),
                         caseworker2 → Thomas (login exoneree2)
    org2 "New Dawn":     director2, caseworker3 → Anita (login exoneree3)
    root: a superuser with no staff role (the rules give it nothing outside the admin site)
    analyst: the Network's analyst (the Network's figures only; neither organization shares yet)

Each exoneree has one of everything: a need, a draft referral to a resource of its own
organization, a follow-up, a staff-only note, a shared note and an assessment, all written
by its caseworker. Names and texts are distinct per person so a page can be searched for a
leak.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.test import Client, override_settings
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pytest_django.fixtures import validate_django_db

from services.choices import NeedDomain, NoteVisibility, Role
from services.middleware import LAST_ACTIVITY, SIGNED_IN_AT
from services.models.casework import Assessment, CaseNote
from services.models.directory import Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.network import NetworkAnalyst
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.factories import (
    AssessmentFactory,
    CaseNoteFactory,
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    OrganizationFactory,
    ReferralFactory,
    ResourceFactory,
    StaffFactory,
    UserFactory,
)

# Property-based tests (tests/test_fuzz.py): by default a few examples, the same on every run,
# so the suite stays quick and a failure repeats; HYPOTHESIS_PROFILE=explore looks much harder.
# Examples share one `world` (each runs in a rolled-back savepoint), hence the fixture check off.
_FIXTURES_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile(
    "ci", max_examples=10, derandomize=True, deadline=None, database=None, suppress_health_check=_FIXTURES_OK
)
hypothesis_settings.register_profile("explore", max_examples=500, deadline=None, suppress_health_check=_FIXTURES_OK)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

STAFF = ("director1", "caseworker1", "caseworker2", "director2", "caseworker3")
EXONEREE_LOGINS = ("exoneree1", "exoneree2", "exoneree3")
PERSONAS = (*STAFF, *EXONEREE_LOGINS, "root", "analyst", "anonymous")
# Whose sessions the `login` fixture has pass the second factor, as they must.
SECOND_FACTOR = (*STAFF, "analyst")

T = TypeVar("T")


@dataclass
class Case:
    """One exoneree and one record of each kind hanging off them."""

    exoneree: Exoneree
    need: Need
    resource: Resource
    referral: Referral
    follow_up: FollowUp
    staff_note: CaseNote
    shared_note: CaseNote
    assessment: Assessment


@dataclass
class World:
    org1: Organization
    org2: Organization
    director1: Any
    caseworker1: Any
    caseworker2: Any
    director2: Any
    caseworker3: Any
    exoneree1: Any
    exoneree2: Any
    exoneree3: Any
    root: Any
    analyst: Any
    marcus: Case
    thomas: Case
    anita: Case

    def user(self, persona: str) -> Any:
        """The login of a persona; None for "anonymous"."""
        return None if persona == "anonymous" else getattr(self, persona)


def _staff(organization: Organization, username: str, first: str, last: str, role: str) -> Any:
    user = UserFactory(username=username, first_name=first, last_name=last)
    StaffFactory(user=user, organization=organization, role=role)
    return user


def _case(organization: Organization, caseworker: Any, login: Any, *, legal_name: str, ssn: str, word: str) -> Case:
    exoneree = ExonereeFactory(
        organization=organization,
        legal_name=legal_name,
        user=login,
        ssn=ssn,
        date_of_birth=date(1970, 3, 14),
        address=f"12 {word} Street, Houston TX",
        conviction_state="TX",
        conviction_date=date(1990, 6, 1),
        release_date=date(2015, 9, 30),
        caseworkers=[caseworker],
    )
    need = NeedFactory(exoneree=exoneree, domain=NeedDomain.HOUSING, description=f"{word} needs an apartment")
    resource = ResourceFactory(organization=organization, name=f"{word} Housing Help", domains=[NeedDomain.HOUSING])
    return Case(
        exoneree=exoneree,
        need=need,
        resource=resource,
        referral=ReferralFactory(need=need, resource=resource, created_by=caseworker),
        # A home visit: the person's appointment, on their plan.
        follow_up=FollowUpFactory(
            exoneree=exoneree,
            need=need,
            title=f"Visit {word} at home",
            assigned_to=caseworker,
            shared_with_exoneree=True,
        ),
        staff_note=CaseNoteFactory(
            exoneree=exoneree,
            author=caseworker,
            text=f"Staff only: {word} is wary of phones",
            visibility=NoteVisibility.STAFF,
        ),
        shared_note=CaseNoteFactory(
            exoneree=exoneree,
            author=caseworker,
            text=f"Shared: {word}, bring two proofs of address",
            visibility=NoteVisibility.SHARED,
        ),
        assessment=AssessmentFactory(exoneree=exoneree, taken_by=caseworker, scores={"housing": 1, "income": 2}),
    )


def settings_in_a_fresh_process(expression: str, environment: dict[str, str]) -> Any:
    """`settings.<expression>` as settings.py makes it from this environment, read in a
    fresh process (settings are read once per process), through JSON."""
    setup = "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'reentry.settings'"
    code = f"from django.conf import settings; print(json.dumps(settings.{expression}, default=repr))"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"{setup}; {code}"],
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _flush_past_the_append_only_triggers() -> None:
    """Transactional tests empty the tables with TRUNCATE, which PostgreSQL refuses on the
    access log, its checkpoints and the key canaries (migration 0016). A superuser's session
    may skip triggers (replica mode), as the test database's owner does here, for its flush only."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def flush(self: DatabaseOperations, *args: Any, **kwargs: Any) -> list[str]:
        statements = sql_flush(self, *args, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = flush


_flush_past_the_append_only_triggers()


# Django's default hasher runs PBKDF2 a million times (a third of a second here) for every
# password set or checked: every demo seeded, every real sign-in, every invitation taken. The
# tests prove what a password lets in, not how slowly it is hashed, so they hash with MD5
# (Django's advice for test suites); PBKDF2 stays second, so a password a subprocess stored
# with the real settings (a demo seeded by `manage.py`) still checks.
FAST_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


@pytest.fixture(autouse=True)
def _demo_password_file(settings: Any, tmp_path: Path) -> None:
    """seed_demo keeps a generated password in the data folder: in tests, a folder of their own."""
    settings.DEMO_PASSWORD_FILE = tmp_path / "demo-password"


@pytest.fixture(autouse=True)
def _documents_storage(settings: Any, tmp_path: Path) -> Path:
    """People's papers (services/lib/vault.py): in tests, a folder of each test's own."""
    location = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": location}},
    }
    return location


@pytest.fixture
def no_pdf_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without the PDF library's system parts: importing WeasyPrint fails."""
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)


@pytest.fixture(autouse=True)
def _english_again() -> Iterator[None]:
    """A request leaves its language active in the thread (LocaleMiddleware activates it and
    nothing deactivates it): after a Spanish speaker's page, the next test would read Spanish."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache(settings: Any) -> None:
    # The database is rolled back after each test, the cache is not: a new organization can
    # get an old one's id (SQLite), and its version starts at 0 again.
    cache.clear()
    # The shared cache (Redis, or files in var/) outlives a test and is shared by parallel
    # runs: each test gets its own, empty, in this process's memory.
    # So is the figures' cache (Redis under its prefix, or a table that a rolled-back test
    # does not empty): never the deployment's, never another test's.
    settings.CACHES = caches_of_ones_own()


def caches_of_ones_own() -> dict[str, Any]:
    """The settings' caches, with the shared and figures caches new and empty, in this process."""
    return {
        **django_settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"shared-{uuid4()}"},
        "figures": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"figures-{uuid4()}"},
    }


def build_world() -> World:
    """Write the personas and their records (the module's docstring) to the database."""
    org1 = OrganizationFactory(name="Harbor Light")
    org2 = OrganizationFactory(name="New Dawn")
    director1 = _staff(org1, "director1", "Dana", "Director", Role.DIRECTOR)
    caseworker1 = _staff(org1, "caseworker1", "Casey", "Onewell", Role.CASEWORKER)
    caseworker2 = _staff(org1, "caseworker2", "Chris", "Twofold", Role.CASEWORKER)
    director2 = _staff(org2, "director2", "Drew", "Seconda", Role.DIRECTOR)
    caseworker3 = _staff(org2, "caseworker3", "Cam", "Thrice", Role.CASEWORKER)
    exoneree1 = UserFactory(username="exoneree1", first_name="Marcus", last_name="Whitfield")
    exoneree2 = UserFactory(username="exoneree2", first_name="Thomas", last_name="Okafor")
    exoneree3 = UserFactory(username="exoneree3", first_name="Anita", last_name="Ramirez")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    analyst = UserFactory(username="analyst", first_name="Ana", last_name="Lyst")
    NetworkAnalyst.objects.create(user=analyst)
    return World(
        org1=org1,
        org2=org2,
        director1=director1,
        caseworker1=caseworker1,
        caseworker2=caseworker2,
        director2=director2,
        caseworker3=caseworker3,
        exoneree1=exoneree1,
        exoneree2=exoneree2,
        exoneree3=exoneree3,
        root=root,
        analyst=analyst,
        marcus=_case(org1, caseworker1, exoneree1, legal_name="Marcus Whitfield", ssn="900123456", word="Marcus"),
        thomas=_case(org1, caseworker2, exoneree2, legal_name="Thomas Okafor", ssn="900234567", word="Thomas"),
        anita=_case(org2, caseworker3, exoneree3, legal_name="Anita Ramirez", ssn="900345678", word="Anita"),
    )


@pytest.fixture
def world(request: pytest.FixtureRequest, db: None) -> World:
    """The personas: built for this test, or once for a module marked

        pytestmark = pytest.mark.world_built_once

    Only for a module that does not move the clock before it builds its world (the world is
    built before its first test starts) and has no transactional test. A test of such a module
    gets a copy of the objects, so what it changes in them without saving does not reach the
    next test; what it saves is rolled back with its savepoint.
    """
    if _builds_world_once(request.node):
        return copy.deepcopy(request.getfixturevalue("world_of_the_module"))
    return build_world()


def _builds_world_once(node: pytest.Item | pytest.Module) -> bool:
    """Whether the node's module is marked `world_built_once` (a mark on one test is not enough:
    the module's world is built before its first test, or not at all)."""
    module = node if isinstance(node, pytest.Module) else node.getparent(pytest.Module)
    return module is not None and module.get_closest_marker("world_built_once") is not None


@contextmanager
def built_for_the_module(request: pytest.FixtureRequest, django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """`build()` once for a module, in a transaction on each database that is rolled back
    after the module's last test, as Django's TestCase.setUpTestData does for a class.

    Each test's own transaction (`db`) is then a savepoint inside it, rolled back after the
    test. The database is blocked again between the build and the teardown, so a test that
    did not ask for it still cannot reach it. Every test of the module runs with what was
    built, whether it asks for it or not.
    """
    if transactional := [item.name for item in request.session.items if _transactional_in(item, request.node)]:
        # Such a test would run inside this transaction: nothing it does would commit (no
        # on-commit callback, nothing seen by another connection), and its flush would close it.
        pytest.fail(f"Transactional tests in a module whose data is built once: {', '.join(transactional)}")
    with django_db_blocker.unblock(), ExitStack() as stack:
        for alias in connections:
            stack.enter_context(transaction.atomic(using=alias))
            stack.callback(transaction.set_rollback, True, using=alias)
        # Whatever the build caches goes to caches of its own, as a test's does
        # (_empty_cache), never to the deployment's shared cache.
        with override_settings(CACHES=caches_of_ones_own()):
            built = build()
        outer = stack.pop_all()
    yield built
    with django_db_blocker.unblock(), outer:
        pass


@pytest.fixture(scope="module")
def world_of_the_module(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[World]:
    """`build_world()` once for a module (built_for_the_module)."""
    with built_for_the_module(request, django_db_blocker, build_world) as built:
        yield built


def _transactional_in(item: pytest.Item, module: pytest.Module) -> bool:
    """Whether a test of this module runs in a transactional test case (as pytest-django decides)."""
    if item.getparent(pytest.Module) is not module:
        return False
    marker = item.get_closest_marker("django_db")
    transaction_or_reset = marker is not None and any(validate_django_db(marker)[:2])
    return transaction_or_reset or bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(scope="module", autouse=True)
def _world_of_a_marked_module(request: pytest.FixtureRequest) -> None:
    """A module marked `world_built_once` builds its world before its first test's own
    transaction starts (a module-scoped fixture is set up before the function-scoped `db`),
    whether its tests ask for `world` or not."""
    if _builds_world_once(request.node):
        request.getfixturevalue("world_of_the_module")


def rows_as_stored(models: Iterable[type[Model]], *, leave_out: frozenset[str] = frozenset()) -> dict[str, list]:
    """Every row of these models' tables as the database holds it (encrypted fields as their
    tokens, so that even an unchanged value written again shows), by attribute name but those
    in `leave_out`: a test compares two of these to prove that a request changed nothing. Each
    table is read by one plain SELECT; through the ORM (values(), decrypting) the two reads
    were most of such a test's time."""
    rows = {}
    with connections["default"].cursor() as cursor:
        for label, names, sql in _plain_selects(tuple(models), leave_out):
            cursor.execute(sql)
            rows[label] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows


@functools.cache
def _plain_selects(models: tuple[type[Model], ...], leave_out: frozenset[str]) -> list[tuple[str, list[str], str]]:
    quote = connections["default"].ops.quote_name
    selects = []
    for model in models:
        meta = model._meta
        fields = [field for field in meta.concrete_fields if field.attname not in leave_out]
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"SELECT {columns} FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}"  # noqa: S608 (quoted names)
        selects.append((meta.label, [field.attname for field in fields], sql))
    return selects


def verify_second_factor(client: Client, user: Any) -> TOTPDevice:
    """Mark the client's session as having passed the second factor, as the code page does.

    django-otp's middleware reads the device's persistent id from the session; this is what
    `django_otp.login` stores there after a good code.
    """
    device = _confirmed_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def signed_in_session(client: Client, user: Any, *, second_factor: TOTPDevice | None = None) -> None:
    """Give the client a session signed in as `user` (past the second factor on `second_factor`),
    written as one row, as Client.force_login would leave it but without its sign-in: none of
    the user_logged_in receivers run (django-axes' bookkeeping, the access log's "password
    accepted" entry), which was two thirds of the login fixture's time over thousands of tests.
    The sign-in itself is tested through its pages (test_signin.py, test_audit.py)."""
    session = import_module(django_settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = _session_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_AT] = session[LAST_ACTIVITY] = time.time()
    if second_factor is not None:
        session[DEVICE_ID_SESSION_KEY] = second_factor.persistent_id
    session.save()
    request = HttpRequest()
    request.session = session
    client._set_login_cookies(request)


@functools.cache
def _session_backend() -> str:
    """The backend Client.force_login names: the first that can load a user."""
    return next(path for path in django_settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))


def _confirmed_device(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


@pytest.fixture
def login(client: Client, world: World):
    """`login("caseworker1")` signs the test client in as that persona and returns it.

    Staff sessions are fully signed in: password and second factor (see test_signin.py for
    the sign-in itself).
    """

    def _login(persona: str) -> Client:
        if django_settings.SESSION_COOKIE_NAME in client.cookies:  # a fresh client has no one to sign out
            client.logout()
        if persona != "anonymous":
            user = world.user(persona)
            signed_in_session(client, user, second_factor=_confirmed_device(user) if persona in SECOND_FACTOR else None)
        return client

    return _login
