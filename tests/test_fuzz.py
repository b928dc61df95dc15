"""Hostile input to every form: never a 5xx, and a refused form saves nothing.

Every page of tests/test_access.py that takes a POST is fuzzed here (so a new POST page is
fuzzed as soon as it is in that table), plus the invitation of a person without a login,
sign-in, password reset (asking, and choosing the new password from the link), password
change, accepting an invitation, and the two-step code and enrolment pages. Each example
starts from the valid POST of the table and replaces, drops or adds fields: huge and negative
numbers, unicode, NUL bytes, 10,000-character strings, lists where one value is expected,
impossible dates, unknown choices and the ids of the other organization's records.

The fields fuzzed are those of the form that posts to the page, read from the HTML that shows
it (the page itself, or for a POST-only page the page its form is on), so a field the sample
POST leaves out is fuzzed too. A page that yields no field fails, unless it is listed as a
button (a form with no field of its own) with the reason. The query parameters of the list
and filter pages (their filter forms, the links they offer, and `page`) are fuzzed the same
way; a GET changes nothing.

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
from dataclasses import dataclass
from html import unescape
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import given
from hypothesis import strategies as st

from services.lib.links import invitation_link
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from tests import sample_files
from tests.conftest import SECOND_FACTOR, World, rows_as_stored, verify_second_factor
from tests.test_access import PAGES, Page, marcus_page, the_payment

# The records a refused attempt is allowed to leave: the trail of the attempt itself.
NOT_COMPARED_APPS = {"axes", "sessions"}
NOT_COMPARED_MODELS = {AuditEvent, Session}
NOT_COMPARED_FIELDS = frozenset({"throttling_failure_timestamp", "throttling_failure_count"})

FORM_FIELD = re.compile(r'<(?:input|select|textarea|button)\b[^>]*?\bname="([^"]+)"')
# A field that takes a record's id: a box or an option with a number for its value.
ID_FIELD = re.compile(
    r'<input\b[^>]*?\bname="([^"]+)"[^>]*?\bvalue="\d+"'
    r'|<select\b[^>]*?\bname="([^"]+)"[^>]*>\s*(?:<option value="">[^<]*</option>\s*)?<option value="\d+"'
)
POST_PAGES = [page for page in PAGES if "POST" in page.methods]
PASSWORD = "correct-horse-battery-9"
T = TypeVar("T")


# The personas built once (tests/conftest.py): each test's examples share its copy.
pytestmark = pytest.mark.world_built_once


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every compared row of every table, as stored (see rows_as_stored)."""
    models = apps.get_models(include_auto_created=True)
    return rows_as_stored(
        [m for m in models if m not in NOT_COMPARED_MODELS and m._meta.app_label not in NOT_COMPARED_APPS],
        leave_out=NOT_COMPARED_FIELDS,
    )


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


# Files for the upload pages' file fields (a posted file is read once: each is made afresh).
HOSTILE_FILES: list[Callable[[], UploadedFile]] = [
    lambda: sample_files.upload(b""),
    lambda: sample_files.upload(b"GIF89a" + b"\x00" * 64, "photo.gif", "image/gif"),
    lambda: sample_files.upload(b"<html><script>alert(1)</script></html>", "scan.pdf", "application/pdf"),
    lambda: sample_files.upload(sample_files.jpeg_with_pdf_inside()),
    lambda: sample_files.upload(sample_files.pdf_with_hidden_script(), "court.pdf", "application/pdf"),
    lambda: sample_files.upload(sample_files.pdf_with_zip_appended(), "court.pdf", "application/pdf"),
    lambda: sample_files.upload(b"\xff\xd8\xff\xe0" + b"\x00" * 200),  # a JPEG's start, then nothing
    lambda: sample_files.upload(sample_files.photo(), "../../" + "é" * 300 + "\u202e.jpg"),
]


def rewind(posted: dict[str, Any]) -> dict[str, Any]:
    """A form posted again re-reads its files from the start."""
    for value in posted.values():
        if isinstance(value, UploadedFile):
            value.seek(0)
    return posted


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
        if isinstance(valid.get(name), UploadedFile):  # a file field: hostile files too
            value = draw(st.one_of(values(world), st.sampled_from(HOSTILE_FILES).map(lambda make: make())), label=name)
        else:
            value = draw(values(world), label=name)
        if value is KEEP:
            if name in valid:
                data[name] = valid[name]
        elif value is not DROP:
            data[name] = value
    if draw(st.booleans(), label="stray field"):
        data[draw(st.sampled_from(["id", "pk", "organization", "exoneree", "user", "status"]))] = draw(scalars(world))
    return data


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
ACTION = re.compile(r'\baction="([^"]*)"')
METHOD_GET = re.compile(r'\bmethod="get"', re.IGNORECASE)
LINK_QUERY = re.compile(r'href="[^"?#]*\?([^"#]*)"')


def forms_posting_to(html: str, url: str, shown_at: str) -> list[str]:
    """The HTML inside each POST form of the page whose action is `url` (no action: the page)."""
    path = urlsplit(url).path
    found = []
    for attributes, body in FORM.findall(html):
        if METHOD_GET.search(attributes):
            continue
        action = ACTION.search(attributes)
        target = unescape(action.group(1)) if action and action.group(1) else shown_at
        if urlsplit(target).path == path:
            found.append(body)
    return found


def field_names(html: str) -> tuple[set[str], set[str]]:
    """The names of the fields in `html`, and of those that take a record's id."""
    ids = {a or b for a, b in ID_FIELD.findall(html)}
    return set(FORM_FIELD.findall(html)) - {"csrfmiddlewaretoken"}, ids


def form_fields(client: Client, url: str, shown_at: str) -> tuple[set[str], set[str]]:
    """The fields of the forms that post to `url`, as the page `shown_at` shows them to the
    signed-in owner; fails when no such form is there (the page would be fuzzed blind)."""
    response = client.get(shown_at)
    assert response.status_code == 200, f"{shown_at} answers {response.status_code}: cannot read the form to fuzz"
    bodies = forms_posting_to(response.content.decode(), url, shown_at)
    assert bodies, f"no form on {shown_at} posts to {url}: teach FORM_ON where it is"
    names, ids = set(), set()
    for body in bodies:
        more_names, more_ids = field_names(body)
        names, ids = names | more_names, ids | more_ids
    return names, ids


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


# Links into the other organization that a page makes by design, and why (None: the page's
# owner is in org2, so the table's "other organization" is theirs).
CROSSES_ORGANIZATIONS: dict[str, set[str] | None] = {
    # A transfer (issue 23) names the receiving organization and tells its directors.
    "transfer_propose": {"services.Transfer.to_organization_id", "services.Notification.user_id"},
    # org2's director accepts: what it writes is org2's own (test_transfer.py checks what is copied).
    "transfer_answer": None,
}


def assert_safe(
    response: Any, before: Any, world: World, *, success: set[int], crossing: set[str] | None = frozenset()
) -> None:
    """No 5xx; refused: nothing changed; done: nothing written points into the other organization
    (but the links in `crossing`; None: not checked)."""
    assert response.status_code < 500, response.content[:2000]
    after = snapshot()
    if response.status_code in success:
        if crossing is not None:
            assert [link for link in foreign_links(before, after, world) if link not in crossing] == []
    else:
        assert after == before, f"changed on a {response.status_code}"


# --- every POST page of the access table ------------------------------------------------------


def sign_in_as(client: Client, world: World, persona: str) -> None:
    if persona == "anonymous":  # a page whose key is in its address (the provider's link)
        client.logout()
        return
    client.force_login(world.user(persona))
    if persona in SECOND_FACTOR:
        verify_second_factor(client, world.user(persona))


# A POST-only page's form is on another page: which one (as its owner sees it, after the
# page's setup).
FORM_ON: dict[str, Callable[[World], str]] = {
    "staff_invite": lambda w: reverse("staff_list"),
    "two_factor_backup_codes": lambda w: reverse("account"),
    "exoneree_ssn_reveal": marcus_page,
    "need_status": marcus_page,
    "referral_transition": lambda w: w.marcus.referral.get_absolute_url(),
    "emergency_access_end": lambda w: w.thomas.exoneree.get_absolute_url(),
    "follow_up_done": marcus_page,
    "follow_up_reopen": marcus_page,
    "emergency_review": lambda w: reverse("emergency_reviews"),
    "notification_read": lambda w: reverse("notification_list"),
    "notification_read_all": lambda w: reverse("notification_list"),
    "set_language": lambda w: reverse("my_plan"),
    "referral_resend": lambda w: w.marcus.referral.get_absolute_url(),
    "referral_link_revoke": lambda w: w.marcus.referral.get_absolute_url(),
    "provider_question_answer": lambda w: w.marcus.referral.get_absolute_url(),
    "my_referral_answer": lambda w: reverse("my_plan"),
    "session_keep_alive": lambda w: reverse("dashboard"),  # the idle warning, on every signed-in page
    "document_need": marcus_page,  # the checklist's "create a need" buttons
    "api_token_revoke": lambda w: reverse("api_token_list"),  # the "Revoke" beside each token
    "payment_remove": lambda w: reverse("payment_edit", args=the_payment(w)),  # below the correction form
    "my_ask": lambda w: reverse("my_plan"),
    "my_appointment_answer": lambda w: reverse("my_plan"),
    "need_ask_take_on": marcus_page,
    "message_needs_action": lambda w: reverse("exoneree_messages", args=[w.marcus.exoneree.pk]),
    # A record's life (issue 23): "Reopen the case", on the closed case's page.
    "case_reopen": marcus_page,
    "merge_undo": lambda w: reverse("merge_candidates", args=[w.marcus.exoneree.pk]),
    # Retention (issue 23): the review page holds each case's forms.
    "retention_confirm": lambda w: reverse("retention_review"),
    "legal_hold_place": lambda w: reverse("retention_review"),
    "legal_hold_lift": lambda w: reverse("retention_review"),
    "exoneree_legal_hold_lift": lambda w: reverse("exoneree_legal_hold", args=[w.marcus.exoneree.pk]),
}
# Pages whose form is fuzzed by a test of its own below (a signed-in owner never sees it here).
FUZZED_ELSEWHERE = {
    "two_factor_verify": "test_hostile_two_factor_code (the owner has passed the step: the page redirects)",
    "two_factor_setup": "test_hostile_two_factor_enrolment (the owner has enrolled: the page redirects)",
    "staff_unlock": "its button shows only beside a locked-out account; the table's POST is fuzzed as is",
}
# Forms that are a button and nothing else: the stray fields are all there is to fuzz.
BUTTONS = {
    "staff_invite",  # "Send the invitation again", beside a colleague who has not signed in yet
    "referral_resend",  # "Send again with a new link"
    "referral_link_revoke",  # "Stop the link"
    "exoneree_ssn_reveal",
    "exoneree_invite",  # Marcus has a login: a button that sends a fresh link (see INVITE_NEW)
    "consent_revoke",  # the confirmation page's button; the view records who revoked
    "my_consent_stop",  # the same, for the person themselves
    "emergency_access_end",
    "follow_up_reopen",
    "need_ask_take_on",  # "Take it on"
    "notification_read",
    "notification_read_all",
    "document_delete",  # the confirmation page's button, after the documents table's "Delete"
    "api_token_revoke",  # "Revoke", beside each token
    "payment_remove",  # "Remove this payment", below the correction form
    "hsds_import_preview",  # "Import", below the preview of what the file does
    "merge_undo",  # "Undo this merge", beside each merge into the person
}


@dataclass(frozen=True)
class FuzzPage(Page):
    """A page of the access table in another state, under its own test id."""

    label: str = ""


def without_a_login(world: World) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(user=None)
    world.marcus.exoneree.user = None


INVITE_NEW = FuzzPage(
    "exoneree_invite",
    {},
    lambda w: [w.marcus.exoneree.pk],
    ("GET", "POST"),
    lambda w: {"username": "marcus.w", "email": "marcus@example.org"},
    lambda w: w.marcus.exoneree.get_absolute_url(),
    setup=without_a_login,
    label="exoneree_invite-without-a-login",
)
FUZZED_PAGES = [*POST_PAGES, INVITE_NEW]
FIELDS: dict[str, tuple[set[str], set[str]]] = {}  # per page: the same for every world


def page_id(page: Page) -> str:
    return getattr(page, "label", "") or page.name


def prepare(client: Client, world: World, page: Page) -> tuple[str, dict[str, Any], set[str], set[str]]:
    """Sign in as the page's owner; the URL, the valid POST, every field name of its form and
    the names of those that take a record's id."""
    if page.setup:
        page.setup(world)
    sign_in_as(client, world, page.owner)
    url = page.url(world)
    valid = page.data(world) if page.data else {}
    key = page_id(page)
    if key not in FIELDS:
        if page.name in FUZZED_ELSEWHERE:
            names, ids = set(), set()
        else:
            shown_at = FORM_ON[page.name](world) if page.name in FORM_ON else url
            names, ids = form_fields(client, url, shown_at)
            if page.name in BUTTONS and key == page.name:
                assert not names, f"{page.name} is listed as a button but its form has {sorted(names)}"
            else:
                assert names, f"{page.name}: its form yields no field to fuzz (a button? list it in BUTTONS)"
        FIELDS[key] = (names | set(valid), ids | {k for k, v in valid.items() if isinstance(v, int)})
    return url, valid, *FIELDS[key]


# Forms whose success is a page, not a redirect: what they show is shown once.
SUCCESS_IS_A_PAGE = {"api_token_list": "the new token's key"}


def success_statuses(page: Page) -> set[int]:
    # A POST-only page whose success is a page (the full SSN, new backup codes) answers 200.
    if page.name in SUCCESS_IS_A_PAGE or (page.post_only and page.expect[page.owner] == 200):
        return {302, 200}
    return {302}


@pytest.mark.parametrize("page", FUZZED_PAGES, ids=page_id)
@given(data=st.data())
def test_hostile_post(client, world: World, page: Page, data: st.DataObject) -> None:
    def run() -> None:
        url, valid, names, _ = prepare(client, world, page)
        posted = hostile(data.draw, world, valid, names)
        before = snapshot()
        response = client.post(url, posted)
        crossing = CROSSES_ORGANIZATIONS.get(page.name, frozenset())
        assert_safe(response, before, world, success=success_statuses(page), crossing=crossing)

    in_savepoint(run)


@pytest.mark.parametrize("page", FUZZED_PAGES, ids=page_id)
def test_every_kind_of_bad_value_in_every_field(client, world: World, page: Page) -> None:
    """The sweep that does not depend on luck: each kind in all fields at once, a list where one
    value is expected, and each foreign id in the fields that take an id."""
    _, valid, names, ids = in_savepoint(lambda: prepare(client, world, page))
    attempts = [{name: kind[0] for name in names} for kind in HOSTILE.values()]
    attempts.append({name: [valid.get(name, "1"), "99999999999999999999"] for name in names})
    # A foreign id in every field that takes one (the other fields valid).
    attempts += [{**valid, **dict.fromkeys(ids, str(record.pk))} for record in other_org_records(world) if ids]
    # Each hostile file in each file field (the other fields valid).
    files = [name for name, value in valid.items() if isinstance(value, UploadedFile)]
    attempts += [{**valid, name: make()} for name in files for make in HOSTILE_FILES]
    for posted in attempts:

        def run(posted: dict[str, Any] = posted) -> None:
            url, *_ = prepare(client, world, page)
            before = snapshot()
            response = client.post(url, rewind(posted))
            crossing = CROSSES_ORGANIZATIONS.get(page.name, frozenset())
            assert_safe(response, before, world, success=success_statuses(page), crossing=crossing)

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


def set_password_form(client: Client, link: str) -> tuple[str, set[str]]:
    """Follow a one-time link (it redirects to the form, the token kept in the session); the
    form's URL and its fields."""
    response = client.get(link, follow=True)
    assert response.context["validlink"] is True
    url = response.redirect_chain[-1][0]
    names, _ = field_names("".join(forms_posting_to(response.content.decode(), url, url)))
    assert names, f"the form at {url} yields no field to fuzz"
    return url, names


@pytest.mark.parametrize("which", ["password_reset_confirm", "invitation_accept"])
@given(data=st.data())
def test_hostile_new_password_from_a_link(client, world: World, which: str, data: st.DataObject) -> None:
    """The page a reset or invitation link opens: a good pair of passwords sets it (302);
    anything else changes nothing."""

    def run() -> None:
        user = world.caseworker1
        if which == "invitation_accept":
            link = invitation_link(user).removeprefix(settings.SITE_URL)
        else:
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            link = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])
        url, names = set_password_form(client, link)
        posted = post_fields(data.draw, world, sorted(names))
        if data.draw(st.booleans(), label="a good new password"):
            posted |= dict.fromkeys(names, PASSWORD)
        before = snapshot()
        response = client.post(url, posted)
        assert_safe(response, before, world, success={302})

    in_savepoint(run)


# --- the query parameters of list and filter pages ------------------------------------------------

# Every page that lists or filters: its filter form, the query of its links, and `page` (the
# paginator's, shown only past a page of rows) are fuzzed. FILTER_FORMS must show a filter.
QUERY_PAGES = [
    "dashboard",
    "follow_up_list",
    "need_list",
    "exoneree_list",
    "exoneree_history",
    "exoneree_done_follow_ups",
    "resource_list",
    "outcome_dashboard",
    "outcome_records",
    "network_figures",  # from, to, and the CSV links' format and table
    "audit_log",
    "audit_check",  # reads no parameter: stray ones change nothing and break nothing
    "exoneree_access_log",
    "notification_list",
    "follow_up_create",
    "follow_up_record_done",  # need, referral: what it is about, from a referral's link
    "my_visits",  # before: where a page of older visits begins
    "my_asks",  # reads no parameter: stray ones change nothing and break nothing
    "legal_hold_list",
    "hsds_services",  # the HSDS API's pages: page, per_page, search
    "hsds_organizations",
]
FILTER_FORMS = {"exoneree_list", "follow_up_list", "resource_list", "outcome_dashboard", "network_figures", "audit_log"}
GET_PAGES = {page.name: page for page in PAGES if "GET" in page.methods}
PARAMS: dict[str, set[str]] = {}


def query_names(html: str) -> set[str]:
    """The fields of the page's GET forms and the keys of the queries its links carry."""
    names = set()
    for attributes, body in FORM.findall(html):
        if METHOD_GET.search(attributes):
            names |= field_names(body)[0]
    for query in LINK_QUERY.findall(html):
        names |= {key for key, _ in parse_qsl(unescape(query), keep_blank_values=True)}
    return names


def test_every_filter_form_is_fuzzed(client, world: World) -> None:
    """A page with a filter form is in QUERY_PAGES: its parameters are fuzzed below."""

    def has_a_filter(page: Page) -> bool:
        if page.setup:
            page.setup(world)
        sign_in_as(client, world, page.owner)
        response = client.get(page.url(world))
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            return False
        return any(METHOD_GET.search(attributes) for attributes, _ in FORM.findall(response.content.decode()))

    with_a_filter = {name for name, page in GET_PAGES.items() if in_savepoint(lambda page=page: has_a_filter(page))}
    assert FILTER_FORMS <= with_a_filter <= set(QUERY_PAGES)


@pytest.mark.parametrize("name", QUERY_PAGES)
@given(data=st.data())
def test_hostile_query(client, world: World, name: str, data: st.DataObject) -> None:
    page = GET_PAGES[name]

    def run() -> None:
        if page.setup:
            page.setup(world)
        sign_in_as(client, world, page.owner)
        path = reverse(page.name, args=page.args(world))
        valid = dict(parse_qsl(page.query.lstrip("?")))
        if name not in PARAMS:
            response = client.get(page.url(world))
            assert response.status_code == 200
            found = query_names(response.content.decode()) - {"csrfmiddlewaretoken"}
            if name in FILTER_FORMS:
                assert found, f"{name} yields no filter to fuzz"
            PARAMS[name] = found | set(valid) | {"page"}
        query = hostile(data.draw, world, valid, PARAMS[name])
        before = snapshot()
        response = client.get(path, query)
        assert_safe(response, before, world, success=set())

    in_savepoint(run)
