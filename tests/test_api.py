"""The API (/api/v1/): tokens, the same access rules as the pages (a table of every endpoint ×
persona), the access log, validation by the pages' forms, ETags, the consent gate, throttling,
the schema and its reference."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from services.actions import api_tokens
from services.api.policies import PerToken
from services.models.api import ApiToken
from services.models.audit import AuditEvent
from services.models.consent import Consent
from services.models.directory import Provider
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.referrals import ProviderQuestion, Referral
from tests import test_access as pages
from tests.conftest import World, verify_second_factor
from tests.factories import FollowUpFactory, consent_for
from tests.test_encryption import raw
from tests.test_fuzz import hostile, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.world_built_once]


STAFF_COLUMNS = ("caseworker1", "caseworker2", "director1", "caseworker3", "director2")


def key_for(world: World, persona: str, scope: str = ApiToken.WRITE) -> str:
    _, key = api_tokens.token_create(by=world.user(persona), name="test", scope=scope)
    return key


def api(client: Client, key: str | None, method: str, url: str, data: Any = None, **headers: str) -> Any:
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    if method == "GET":
        return client.get(url, **headers)
    body = json.dumps(data) if data is not None else None
    return getattr(client, method.lower())(url, body, content_type="application/json", **headers)


def v1(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


# --- tokens -------------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_works_until_revoked(client, login, world):
    page = login("caseworker1").post(reverse("api_token_list"), {"name": "CRM sync", "scope": "read", "days": "30"})

    key = page.context["key"]
    assert page.status_code == 200 and key.startswith("rnt_") and key in page.content.decode()
    token = ApiToken.objects.get()
    assert token.key_hash != key and key not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert token.expires_at.date() == (timezone.now() + timedelta(days=30)).date()
    assert key not in client.get(reverse("api_token_list")).content.decode()  # never again
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED, target=f"Api token {token.pk}")

    fresh = Client()
    assert api(fresh, key, "GET", v1("people")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    client.post(reverse("api_token_revoke", args=[token.pk]))
    assert api(fresh, key, "GET", v1("people")).status_code == 401


def test_the_new_tokens_box_shows_the_whole_header_to_send(login, world):
    """The placeholder <token> was written as it is into the page, where the browser took it for a
    tag and showed "Send it as: Authorization: Bearer" with nothing after it."""
    page = login("caseworker1").post(reverse("api_token_list"), {"name": "CRM sync", "scope": "read", "days": "30"})

    html = page.content.decode()
    assert "<token>" not in html
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in html


def test_the_new_tokens_last_moment_reads_as_one_sentence(login, world, time_machine):
    """The moment ended the sentence, and a morning's "a.m." took a second full stop: "a.m..\""""
    time_machine.move_to(datetime(2026, 3, 10, 14, 0, tzinfo=UTC), tick=False)  # morning in the US

    page = login("caseworker1").post(reverse("api_token_list"), {"name": "CRM sync", "scope": "read", "days": "30"})

    html = page.content.decode()
    assert ".." not in html
    assert re.search(r"It stops working at \d{1,2}:00 a\.m\. on Apr 9, 2026\.", html)


def test_the_scopes_help_names_the_choices_the_form_offers(login, world):
    """It said "choose write only for …", a choice the form does not have (and one that reads as
    a write-only token): the choices are "Read" and "Read and write"."""
    form = login("caseworker1").get(reverse("api_token_list")).context["form"]

    labels = [str(label) for _value, label in form.fields["scope"].choices]
    help_text = str(form.fields["scope"].help_text)
    assert labels == ["Read", "Read and write"]
    assert "“Read and write”" in help_text and "write only" not in help_text


def test_expired_wrong_and_departed_tokens_are_refused(world):
    key = key_for(world, "caseworker1")
    client = Client()
    assert api(client, "rnt_not-a-token", "GET", v1("people")).status_code == 401
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(client, key, "GET", v1("people")).status_code == 401
    ApiToken.objects.update(expires_at=timezone.now() + timedelta(days=1))
    world.caseworker1.is_active = False
    world.caseworker1.save()
    assert api(client, key, "GET", v1("people")).status_code == 401


@pytest.mark.parametrize("days", ["0", "367", "ninety"])
def test_a_token_lasts_a_day_to_a_year(login, world, days):
    page = login("caseworker1").post(reverse("api_token_list"), {"name": "x", "scope": "read", "days": days})
    assert page.status_code == 400
    # In the page's words, whatever was wrong: it was "Ensure this value is less than or equal to 366."
    assert page.context["form"].errors["days"] == ["Enter a whole number from 1 to 366."]
    assert not ApiToken.objects.exists()


def test_a_director_sees_and_revokes_the_organizations_tokens_a_colleague_cannot(login, world):
    key = key_for(world, "caseworker1")
    token = ApiToken.objects.get()
    assert login("caseworker2").post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert login("director2").post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    director = login("director1")
    assert "Casey Onewell" in director.get(reverse("api_tokens_of_organization")).content.decode()
    assert director.post(reverse("api_token_revoke", args=[token.pk])).url == reverse("api_tokens_of_organization")
    assert api(Client(), key, "GET", v1("people")).status_code == 401


def test_a_read_token_reads_and_may_not_write(world):
    key = key_for(world, "caseworker1", scope=ApiToken.READ)
    client = Client()
    assert api(client, key, "GET", v1("need", world.marcus.need.pk)).status_code == 200
    refused = api(client, key, "POST", v1("follow-up-done", world.marcus.follow_up.pk), {})
    assert refused.status_code == 403 and "write scope" in refused.json()["detail"][0]
    assert not FollowUp.objects.get(pk=world.marcus.follow_up.pk).is_done


# --- the access table: every endpoint × persona ---------------------------------------------------

OK, CREATED, GONE, READ_ONLY, ANONYMOUS = 200, 201, 404, 403, 401


def like(page_row: dict[str, Any], done: int = OK) -> dict[str, int]:
    """An endpoint answers every persona as the page that shows or changes the same record
    does: the same row of the pages' access table, where the page's "done" (the redirect
    after a valid POST) is the API's success and "sign in first" is a 401."""
    answers = {persona: done if code == pages.DONE else code for persona, code in page_row.items()}
    return {**answers, "anonymous": ANONYMOUS}


CASE_READ = like(pages.CASE_READ)
CASE_WRITE = like(pages.CASE_POST)
CASE_CREATE = like(pages.CASE_POST, done=CREATED)
ORG_READ = like(pages.RESOURCE_READ)
ORG_LIST = like(pages.STAFF_PAGE)
DIRECTOR_ONLY = like(pages.DIRECTOR_PAGE)
# A provider's language: its organization's directors; another organization's provider is not found.
PROVIDER_WRITE = like(pages.row(403, 403, 428, 404, 404, 403, 403, 403))


@dataclass(frozen=True)
class Endpoint:
    name: str
    expect: dict[str, int]
    args: Callable[[World], list[Any]] = lambda w: []
    method: str = "GET"
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    writer: str = "caseworker1"  # whose token the fuzz table writes with

    def url(self, world: World) -> str:
        return v1(self.name, *self.args(world))


def marcus_consent(w: World) -> int:
    """Marcus's consent to share with his referral's provider (made here the first time)."""
    provider = w.marcus.resource.provider
    consent = Consent.objects.filter(exoneree=w.marcus.exoneree, provider=provider).first()
    return (consent or consent_for(w.marcus.exoneree, provider)).pk


def m(attr: str) -> Callable[[World], list[Any]]:
    return lambda w: [getattr(w.marcus, attr).pk]


def days_from_now(days: int) -> str:
    """A time of day this many days from today, as a client types it: the table's writes stay
    within the forms' bounds (a follow-up's "check the year" windows) whatever the date."""
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT10:00")


ENDPOINTS = [
    Endpoint("root", ORG_LIST),
    Endpoint("people", ORG_LIST),
    Endpoint("person", CASE_READ, m("exoneree")),
    Endpoint("person-needs", CASE_READ, m("exoneree")),
    Endpoint(
        "person-needs",
        CASE_CREATE,
        m("exoneree"),
        "POST",
        lambda w: {"domain": "basic", "description": "Groceries", "priority": "high", "opened_on": "2026-12-01"},
    ),
    Endpoint("person-referrals", CASE_READ, m("exoneree")),
    Endpoint("person-follow-ups", CASE_READ, m("exoneree")),
    Endpoint(
        "person-follow-ups",
        CASE_CREATE,
        m("exoneree"),
        "POST",
        lambda w: {"title": "Call the landlord", "due_at": days_from_now(4), "assigned_to": w.caseworker1.pk},
    ),
    Endpoint(
        "person-follow-ups-already-done",
        CASE_CREATE,
        m("exoneree"),
        "POST",
        lambda w: {"title": "Drove him to the SSA office", "due_at": days_from_now(-2), "outcome": "Card ordered"},
    ),
    Endpoint("person-notes", CASE_READ, m("exoneree")),
    Endpoint(
        "person-notes",
        CASE_CREATE,
        m("exoneree"),
        "POST",
        lambda w: {"text": "Called", "visibility": "staff"},
    ),
    Endpoint("person-assessments", CASE_READ, m("exoneree")),
    Endpoint("person-consents", CASE_READ, m("exoneree")),
    Endpoint("need", CASE_READ, m("need")),
    Endpoint("need-status", CASE_WRITE, m("need"), "POST", lambda w: {"status": "met"}),
    Endpoint(
        "need-refer",
        CASE_CREATE,
        m("need"),
        "POST",
        lambda w: {"resource": w.marcus.resource.pk},
    ),
    Endpoint("referral", CASE_READ, m("referral")),
    Endpoint(
        "referral-transition", CASE_WRITE, m("referral"), "POST", lambda w: {"status": "cancelled", "note": "Moved"}
    ),
    Endpoint("follow-up", CASE_READ, m("follow_up")),
    Endpoint("follow-up-done", CASE_WRITE, m("follow_up"), "POST", lambda w: {"outcome": "Went well"}),
    Endpoint("follow-up-reopen", CASE_WRITE, m("follow_up"), "POST"),
    Endpoint("note", CASE_READ, m("staff_note")),
    Endpoint("assessment", CASE_READ, m("assessment")),
    Endpoint("consent", CASE_READ, lambda w: [marcus_consent(w)]),
    Endpoint("consent-revoke", CASE_WRITE, lambda w: [marcus_consent(w)], "POST"),
    Endpoint("resources", ORG_LIST),
    Endpoint("resource", ORG_READ, m("resource")),
    Endpoint("providers", ORG_LIST),
    Endpoint("provider", ORG_READ, lambda w: [w.marcus.resource.provider_id]),
    Endpoint(  # without If-Match: the director is asked for it (428), before anything changes
        "provider",
        PROVIDER_WRITE,
        lambda w: [w.marcus.resource.provider_id],
        "PATCH",
        lambda w: {"language": "es"},
        writer="director1",
    ),
    Endpoint("outcomes", DIRECTOR_ONLY),
]


def test_every_api_route_is_in_the_table():
    from services.api.urls import v1 as routes

    assert {p.name for p in routes} == {e.name for e in ENDPOINTS}


@pytest.mark.parametrize("persona", [*pages.COLUMNS, "anonymous"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.name}")
def test_api_access(world, endpoint, persona):
    url = endpoint.url(world)
    client, key = Client(), None
    if persona in STAFF_COLUMNS:
        key = key_for(world, persona)
    elif persona != "anonymous":  # no staff role: no token can be made for them; their session is refused
        client.force_login(world.user(persona))
    response = api(client, key, endpoint.method, url, endpoint.data(world))
    assert response.status_code == endpoint.expect[persona], response.content[:500]
    if endpoint.name != "root":  # the index of the API is not one of its operations
        schema = the_cached_schema(world)
        conforms(response, schema, schema["paths"][template_of(url)][endpoint.method.lower()])
    assert "no-store" in response.get("Cache-Control", "")


# --- what the API shows and logs --------------------------------------------------------------------


def test_reading_a_person_is_logged_and_the_ssn_is_always_masked(world):
    key = key_for(world, "director1")
    before = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED).count()

    person = api(Client(), key, "GET", v1("person", world.marcus.exoneree.pk)).json()
    needs = api(Client(), key, "GET", v1("person-needs", world.marcus.exoneree.pk)).json()

    assert person["ssn"] == "•••-••-3456" and "900123456" not in json.dumps(person)
    assert person["address"] == "12 Marcus Street, Houston TX"  # the director reads the record
    assert [n["description"] for n in needs["results"]] == ["Marcus needs an apartment"]
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED, actor=world.director1)
    assert viewed.count() - before == 2 and {e.exoneree_id for e in viewed} == {world.marcus.exoneree.pk}
    rows = api(Client(), key, "GET", v1("people")).json()["results"]
    assert {r["legal_name"] for r in rows} == {"Marcus Whitfield", "Thomas Okafor"}
    assert all("address" not in r and "ssn" not in r for r in rows)  # a list opens nobody's record


def test_a_referral_shows_the_providers_questions_and_answers_only_to_who_may_open_it(world):
    """Read-only, as on the referral's page: the answer is encrypted at rest, read through the
    referral's access helper, and the read is an opening of the person's record."""
    referral = world.marcus.referral
    provider = referral.resource.provider
    asked = ProviderQuestion.objects.create(referral=referral, provider=provider, text="Can he start on Monday?")
    answered = ProviderQuestion.objects.create(
        referral=referral,
        provider=provider,
        text="Does he drive?",
        answer="Yes, a class C license.",
        answered_at=timezone.now(),
        answered_by=world.caseworker1,
    )
    assert "class C" not in str(raw(ProviderQuestion, "answer", answered.pk))
    key = key_for(world, "director1", scope=ApiToken.READ)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED, actor=world.director1).count()

    detail = api(Client(), key, "GET", v1("referral", referral.pk))
    listed = api(Client(), key, "GET", v1("person-referrals", world.marcus.exoneree.pk)).json()["results"]

    questions = detail.json()["provider_questions"]
    assert [(q["id"], q["provider"], q["text"], q["answer"], q["answered_by"]) for q in questions] == [
        (asked.pk, provider.pk, "Can he start on Monday?", "", None),
        (answered.pk, provider.pk, "Does he drive?", "Yes, a class C license.", world.caseworker1.pk),
    ]
    assert questions[0]["answered_at"] is None and questions[1]["answered_at"]
    assert next(r for r in listed if r["id"] == referral.pk)["provider_questions"] == questions
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED, actor=world.director1)
    assert viewed.count() - before == 2 and f"Referral {referral.pk}" in {e.target for e in viewed}
    schema = the_cached_schema(world)
    conforms(detail, schema, schema["paths"]["/api/v1/referrals/{id}/"]["get"])
    # A colleague not on his case, and another organization: not theirs, not a word of it.
    for persona in ("caseworker2", "director2"):
        outsider = key_for(world, persona, scope=ApiToken.READ)
        for url in (v1("referral", referral.pk), v1("person-referrals", world.marcus.exoneree.pk)):
            refused = api(Client(), outsider, "GET", url)
            assert refused.status_code == 404 and b"class C" not in refused.content and b"Monday" not in refused.content
    edited = api(
        Client(), key_for(world, "caseworker1"), "PATCH", v1("referral", referral.pk), {"provider_questions": []}
    )
    assert edited.status_code == 405 and ProviderQuestion.objects.filter(referral=referral).count() == 2


def test_lists_page_with_a_cursor_and_filter(world):
    key = key_for(world, "caseworker1")
    client = Client()
    for i in range(3):
        api(
            client,
            key,
            "POST",
            v1("person-needs", world.marcus.exoneree.pk),
            {"domain": "basic", "description": f"Need {i}"},
        )
    first = api(client, key, "GET", v1("person-needs", world.marcus.exoneree.pk) + "?page_size=2").json()
    assert first["next"].startswith("http")  # absolute, for a client to follow as it is
    second = api(client, key, "GET", first["next"].removeprefix("http://testserver")).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 2 and second["next"] is None
    basic = api(client, key, "GET", v1("person-needs", world.marcus.exoneree.pk) + "?domain=basic").json()
    assert len(basic["results"]) == 3
    bad = api(client, key, "GET", v1("person-needs", world.marcus.exoneree.pk) + "?status=sleeping")
    assert bad.status_code == 400 and "status" in bad.json()


def test_the_people_search_ignores_accents_and_case_as_people_does(world):
    key = key_for(world, "director1")

    def found(q: str) -> set[str]:
        return {
            row["legal_name"]
            for row in api(Client(), key, "GET", v1("people") + "?" + urlencode({"q": q})).json()["results"]
        }

    assert found("OKÁFOR") == found("okafor") == {"Thomas Okafor"}
    assert found("márcus whitfield") == {"Marcus Whitfield"}


# --- writes: the pages' forms and actions ------------------------------------------------------------


def test_bad_input_is_a_400_field_by_field_and_nothing_is_saved(world):
    key = key_for(world, "caseworker1")
    before = Need.objects.count()
    response = api(
        Client(), key, "POST", v1("person-needs", world.marcus.exoneree.pk), {"domain": "moon", "opened_on": "soon"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"domain", "description", "opened_on"}
    assert Need.objects.count() == before
    not_json = Client().post(
        v1("person-needs", world.marcus.exoneree.pk),
        "{",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert not_json.status_code == 400 and "detail" in not_json.json()


def test_an_update_needs_the_etag_of_the_version_it_changes(world):
    key = key_for(world, "caseworker1")
    client = Client()
    url = v1("need", world.marcus.need.pk)
    read = api(client, key, "GET", url)
    etag = read["ETag"]

    assert api(client, key, "PATCH", url, {"priority": "urgent"}).status_code == 428
    assert api(client, key, "PATCH", url, {"priority": "urgent"}, HTTP_IF_MATCH='"stale"').status_code == 412
    changed = api(client, key, "PATCH", url, {"priority": "urgent"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["priority"] == "urgent"
    assert changed.json()["description"] == "Marcus needs an apartment"  # the rest kept
    assert changed["ETag"] != etag
    # A second writer who read the first version is refused, not silently overwriting.
    late = api(client, key, "PATCH", url, {"priority": "low"}, HTTP_IF_MATCH=etag)
    assert late.status_code == 412 and Need.objects.get(pk=world.marcus.need.pk).priority == "urgent"
    assert api(client, key, "PUT", url, {"priority": "low"}).status_code == 405


def test_a_director_reads_and_sets_the_providers_language(world):
    """The provider's language (its referral emails, its link's page) was not in the API."""
    key = key_for(world, "director1")
    client = Client()
    provider = world.marcus.resource.provider
    url = v1("provider", provider.pk)
    read = api(client, key, "GET", url)
    assert read.status_code == 200 and read.json()["language"] == "en"
    schema = the_cached_schema(world)

    assert api(client, key, "PATCH", url, {"language": "es"}).status_code == 428
    changed = api(client, key, "PATCH", url, {"language": "es"}, HTTP_IF_MATCH=read["ETag"])

    assert changed.status_code == 200 and changed.json()["language"] == "es"
    conforms(changed, schema, schema["paths"]["/api/v1/providers/{id}/"]["patch"])
    assert Provider.objects.get(pk=provider.pk).language == "es"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED, target__startswith="Provider").exists()
    assert api(client, key, "GET", url).json()["language"] == "es"


@pytest.mark.parametrize("language", ["fr", "", "ES", None, 1])
def test_a_language_the_site_does_not_have_is_a_400_with_the_reason(world, language):
    key = key_for(world, "director1")
    client = Client()
    url = v1("provider", world.marcus.resource.provider_id)
    etag = api(client, key, "GET", url)["ETag"]

    refused = api(client, key, "PATCH", url, {"language": language}, HTTP_IF_MATCH=etag)

    assert refused.status_code == 400
    (reason,) = refused.json()["language"]
    assert "en (English), es (Español)" in reason or reason in (
        "Give the provider's language.",
        "Must be text: a JSON string (or null to leave it empty).",  # the number 1
    )
    schema = the_cached_schema(world)
    conforms(refused, schema, schema["paths"]["/api/v1/providers/{id}/"]["patch"])
    assert Provider.objects.get(pk=world.marcus.resource.provider_id).language == "en"


@pytest.mark.parametrize(("persona", "status"), [("caseworker1", 403), ("director2", 404)])
def test_only_a_director_of_its_organization_sets_a_providers_language(world, persona, status):
    key = key_for(world, persona)
    url = v1("provider", world.marcus.resource.provider_id)

    response = api(Client(), key, "PATCH", url, {"language": "es"}, HTTP_IF_MATCH="*")

    assert response.status_code == status
    assert Provider.objects.get(pk=world.marcus.resource.provider_id).language == "en"


def test_sending_a_referral_passes_the_consent_gate(world):
    key = key_for(world, "caseworker1")
    client = Client()
    referral = world.marcus.referral
    Consent.objects.filter(exoneree=world.marcus.exoneree).delete()

    refused = api(client, key, "POST", v1("referral-transition", referral.pk), {"status": "sent"})
    assert refused.status_code == 400 and "consent" in refused.json()["status"][0].lower()
    assert Referral.objects.get(pk=referral.pk).status == "draft"

    consent_for(world.marcus.exoneree, referral.resource.provider)
    sent = api(client, key, "POST", v1("referral-transition", referral.pk), {"status": "sent"})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    not_allowed = api(client, key, "POST", v1("referral-transition", referral.pk), {"status": "draft"})
    assert not_allowed.status_code == 409 and "status" in not_allowed.json()


def test_a_sent_referrals_note_to_the_provider_is_not_written_through_the_api(world):
    key = key_for(world, "caseworker1")
    client = Client()
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status="sent", note="Call him after noon")
    url = v1("referral", referral.pk)
    etag = api(client, key, "GET", url)["ETag"]

    for method in ("PATCH", "PUT"):
        assert api(client, key, method, url, {"note": "Changed"}, HTTP_IF_MATCH=etag).status_code == 405
    # A move's note is the history's, never the one the provider got.
    moved = api(client, key, "POST", v1("referral-transition", referral.pk), {"status": "accepted", "note": "Changed"})
    assert moved.status_code == 200 and moved.json()["note"] == "Call him after noon"
    assert Referral.objects.get(pk=referral.pk).note == "Call him after noon"


def test_a_time_without_an_offset_is_read_in_the_organizations_zone(world):
    """With a token, the organization's zone was not active yet when the body was read (the
    middleware runs before DRF knows the token's owner): "10:00" meant 10:00 in New York for
    an organization in Los Angeles, three hours off, where the page and a session read it right."""
    world.org1.timezone = "America/Los_Angeles"
    world.org1.save(update_fields=["timezone"])
    key = key_for(world, "caseworker1")
    day = days_from_now(3)
    body = {"title": "Call the landlord", "due_at": day, "assigned_to": world.caseworker1.pk}

    made = api(Client(), key, "POST", v1("person-follow-ups", world.marcus.exoneree.pk), body)

    assert made.status_code == 201, made.content
    local = FollowUp.objects.get(pk=made.json()["id"]).due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.strftime("%Y-%m-%dT%H:%M") == day
    assert made.json()["due_at"].endswith(("-08:00", "-07:00"))  # shown in its zone too


def test_a_check_in_after_release_says_which_and_the_api_cannot_set_it(world):
    key = key_for(world, "caseworker1")
    marcus = world.marcus.exoneree
    FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, release_check=30)
    body = {"title": "Call", "due_at": days_from_now(3), "assigned_to": world.caseworker1.pk, "release_check": 7}

    made = api(Client(), key, "POST", v1("person-follow-ups", marcus.pk), body)
    listed = api(Client(), key, "GET", v1("person-follow-ups", marcus.pk)).json()["results"]

    assert made.status_code == 201 and made.json()["release_check"] is None
    assert [row["release_check"] for row in listed if row["release_check"] is not None] == [30]
    assert FollowUp.objects.filter(exoneree=marcus, release_check=7).count() == 0


def test_follow_up_done_and_reopen(world):
    key = key_for(world, "caseworker1")
    client = Client()
    done = api(client, key, "POST", v1("follow-up-done", world.marcus.follow_up.pk), {"outcome": "Signed the lease"})
    assert done.json()["done"] is True and done.json()["outcome"] == "Signed the lease"
    assert FollowUp.objects.get(pk=world.marcus.follow_up.pk).done_by == world.caseworker1
    stale = api(client, key, "POST", v1("follow-up-reopen", world.marcus.follow_up.pk), HTTP_IF_MATCH='"old"')
    assert stale.status_code == 412
    reopened = api(client, key, "POST", v1("follow-up-reopen", world.marcus.follow_up.pk), HTTP_IF_MATCH=done["ETag"])
    assert reopened.json()["done"] is False
    assert FollowUp.objects.get(pk=world.marcus.follow_up.pk).done_by is None


def test_the_browser_session_needs_the_second_step_and_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.caseworker1)
    assert client.get(v1("people")).status_code == 403  # a password alone opens nothing
    verify_second_factor(client, world.caseworker1)
    assert client.get(v1("people")).status_code == 200
    no_csrf = client.post(v1("follow-up-done", world.marcus.follow_up.pk), "{}", content_type="application/json")
    assert no_csrf.status_code == 403 and not FollowUp.objects.get(pk=world.marcus.follow_up.pk).is_done


def test_requests_are_throttled_per_token(world, monkeypatch):
    monkeypatch.setattr(PerToken, "THROTTLE_RATES", {"api": "3/minute"})
    first, second = key_for(world, "caseworker1"), key_for(world, "caseworker1")
    client = Client()
    answers = [api(client, first, "GET", v1("people")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert api(client, second, "GET", v1("people")).status_code == 200  # another token, its own budget


def test_outcomes_for_a_period(world):
    key = key_for(world, "director1")
    answer = api(Client(), key, "GET", v1("outcomes") + "?from=2026-01-01&to=2026-12-31").json()
    assert answer["from"] == "2026-01-01" and answer["figures"]
    assert all({"name", "title", "columns", "rows"} <= set(figure) for figure in answer["figures"])
    bad = api(Client(), key, "GET", v1("outcomes") + "?from=2026-12-31&to=2026-01-01")
    assert bad.status_code == 400


def test_the_schema_and_its_reference_are_served_from_our_own_files(world, login):
    client = login("caseworker1")
    schema = client.get(reverse("api-schema") + "?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/people/{id}/" in paths and "/api/v1/referrals/{id}/transition/" in paths
    docs = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "<script>" not in docs and "<style>" not in docs and "cdn" not in docs.lower()
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert Client().get(reverse("api-schema")).status_code in (401, 403)


# --- the fuzz table: hostile values in every field of every write ---------------------------------

WRITES = [e for e in ENDPOINTS if e.method != "GET"] + [
    Endpoint("need", CASE_WRITE, m("need"), "PATCH", lambda w: {"priority": "urgent", "description": "New words"}),
]
JSON_ODDITIES = [None, True, 0, -1, 1.5, 10**30, [], [1, [2]], {"nested": "object"}, "", "x" * 10_000]


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: f"{e.method} {e.name}")
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_api_write(world, endpoint, data):
    """Every field of the valid body kept, dropped or replaced by a hostile value (a JSON oddity
    too); a stray field sometimes: never a 5xx, and a refusal changes nothing."""
    key = key_for(world, endpoint.writer)
    url = endpoint.url(world)
    body = hostile(data.draw, world, endpoint.data(world), set())
    for name in list(body):
        if data.draw(st.booleans(), label=f"{name}: a JSON oddity"):
            body[name] = data.draw(st.sampled_from(JSON_ODDITIES), label=name)
    headers = {}
    read = api(Client(), key, "GET", v1("root"))  # the token's first use ("last used") before the snapshot
    assert read.status_code == 200
    if endpoint.method == "PATCH":
        headers["HTTP_IF_MATCH"] = api(Client(), key, "GET", url)["ETag"]
    before = snapshot()
    response = api(Client(), key, endpoint.method, url, body, **headers)
    assert response.status_code < 500, response.content[:2000]
    assert response["Content-Type"] == "application/json"
    schema = the_cached_schema(world)
    conforms(response, schema, schema["paths"][template_of(url)][endpoint.method.lower()])
    if response.status_code >= 400:
        assert snapshot() == before, f"changed on a {response.status_code}"


# The last: nested deeper than Python's JSON parser goes (RecursionError, a 500 before).
@pytest.mark.parametrize("body", ["[]", '"text"', "1", "null", "{", '{"outcome": {"b": 1}}', '{"a":' * 5000])
def test_a_body_that_is_not_an_object_is_a_400(world, body):
    key = key_for(world, "caseworker1")
    response = Client().post(
        v1("follow-up-done", world.marcus.follow_up.pk),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 400 and ("detail" in response.json() or "outcome" in response.json())


# --- the schema: every answer is what it says ------------------------------------------------------

RECORD_OF = {  # the record each path's {id} names, for a director who reads them all
    "people": lambda w: w.marcus.exoneree.pk,
    "needs": lambda w: w.marcus.need.pk,
    "referrals": lambda w: w.marcus.referral.pk,
    "follow-ups": lambda w: w.marcus.follow_up.pk,
    "notes": lambda w: w.marcus.staff_note.pk,
    "assessments": lambda w: w.marcus.assessment.pk,
    "consents": lambda w: marcus_consent(w),
    "resources": lambda w: w.marcus.resource.pk,
    "providers": lambda w: w.marcus.resource.provider_id,
}


def the_schema(client: Client, key: str) -> dict[str, Any]:
    return json.loads(api(client, key, "GET", reverse("api-schema") + "?format=json").content)


def reads(schema: dict[str, Any]) -> list[str]:
    return sorted(path for path, operations in schema["paths"].items() if "get" in operations)


_SCHEMA: dict[str, Any] = {}


def the_cached_schema(world: World) -> dict[str, Any]:
    """The schema, generated once for the module (it is the same for every caller)."""
    if not _SCHEMA:
        _SCHEMA.update(the_schema(Client(), key_for(world, "director1")))
    return _SCHEMA


def template_of(url: str) -> str:
    return re.sub(r"/\d+/", "/{id}/", url)


def conforms(response: Any, schema: dict[str, Any], operation: dict[str, Any]) -> None:
    """The answer's status is one the operation documents, and its body is what it says."""
    documented = operation["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))
    expected = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    Draft202012Validator({**expected, "components": schema["components"]}).validate(response.json())


def test_the_schema_lists_every_read(world):
    schema = the_schema(Client(), key_for(world, "director1"))
    assert schema["openapi"].startswith("3.1")
    assert len(reads(schema)) == len([e for e in ENDPOINTS if e.method == "GET" and e.name != "root"])


@pytest.mark.parametrize("kind", ["people", "needs", "referrals", "follow-ups", "notes", "consents", "providers"])
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_read_answers_as_the_schema_says_whatever_its_query(world, kind, data):
    """Each GET of the schema whose path starts with `kind`, with its query parameters drawn from
    the schema (and hostile values): never a 5xx, and every 200 conforms to the schema."""
    key = key_for(world, "director1")
    client = Client()
    schema = the_schema(client, key)
    for path in [p for p in reads(schema) if p.startswith(f"/api/v1/{kind}/")]:
        operation = schema["paths"][path]["get"]
        query = {}
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or not data.draw(st.booleans(), label=parameter["name"]):
                continue
            spec = parameter.get("schema", {})
            choices = [str(v) for v in spec.get("enum", [])] + ["1", "0", "-1", "true", "x" * 300, "2026-02-30", "%00"]
            query[parameter["name"]] = data.draw(st.sampled_from(choices), label=parameter["name"])
        url = path.replace("{id}", str(RECORD_OF[kind](world)))
        response = api(client, key, "GET", url + ("?" + urlencode(query) if query else ""))
        assert response.status_code < 500, (url, query, response.content[:500])
        conforms(response, schema, operation)


def test_the_outcomes_answer_conforms(world):
    key = key_for(world, "director1")
    schema = the_schema(Client(), key)
    answer = api(Client(), key, "GET", v1("outcomes") + "?from=2026-01-01&to=2026-12-31")
    conforms(answer, schema, schema["paths"]["/api/v1/outcomes/"]["get"])


def test_the_hsds_api_takes_the_same_tokens(world):
    key = key_for(world, "caseworker1", scope=ApiToken.READ)
    client = Client()

    listed = api(client, key, "GET", reverse("hsds_services"))
    other = api(client, key, "GET", reverse("hsds_service", args=[world.anita.resource.hsds_id]))

    assert listed.status_code == 200 and "no-store" in listed["Cache-Control"]
    assert world.marcus.resource.name in {service["name"] for service in listed.json()["contents"]}
    assert other.status_code == 404  # another organization's
    assert api(client, None, "GET", reverse("hsds_services")).status_code == 401
    assert api(client, key, "POST", reverse("hsds_services"), {}).status_code == 403  # a read token
    assert api(client, key_for(world, "caseworker1"), "POST", reverse("hsds_services"), {}).status_code == 405


@pytest.mark.parametrize(
    "persona, linked",
    [
        ("caseworker1", {"api_token_list"}),
        ("director1", {"api_token_list", "api_tokens_of_organization"}),
        ("exoneree1", set()),
    ],
)
def test_the_token_pages_are_linked_for_whoever_may_open_them(login, world, persona, linked):
    """Their own from Account; the organization's also from the director's overview, where that
    page's "← Overview" leads back. Nobody is shown a link to a page they may not open."""
    client = login(persona)
    pages = [reverse("account")] + ([reverse("director_dashboard")] if persona == "director1" else [])
    shown = "".join(client.get(page).content.decode() for page in pages)

    for name in ("api_token_list", "api_tokens_of_organization"):
        assert (f'href="{reverse(name)}"' in shown) == (name in linked), name
        if name in linked:
            assert client.get(reverse(name)).status_code == 200
    if persona == "director1":
        overview = client.get(reverse("director_dashboard")).content.decode()
        assert f'href="{reverse("api_tokens_of_organization")}"' in overview
