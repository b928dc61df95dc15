"""The API against its own contract: what a run of schemathesis (`st run /api/schema/ --checks
all`, as each staff persona and as an exoneree) found where an answer and the schema disagreed,
or where a bad request was answered 200 or with a page a client cannot read."""

from __future__ import annotations

import pytest
from django.test import Client

from services.choices import NeedDomain, NeedStatus, NoteVisibility, Priority, ReferralStatus
from services.forms.casework import CaseNoteForm, FollowUpForm
from services.forms.referrals import NeedForm, ReferralTransitionForm
from services.models.casework import CaseNote
from services.models.needs import Need
from services.models.referrals import Referral
from tests.test_api import api, conforms, days_from_now, key_for, template_of, the_cached_schema, v1
from tests.test_fuzz import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.world_built_once]

NOT_ADDRESSES = ["/api/v1/needs/abc/", "/api/v1/people/-4/needs/", "/api/v1/needs/1,2/status/", "/api/v1/nothing/"]


@pytest.mark.parametrize("url", NOT_ADDRESSES)
@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_an_address_the_api_does_not_have_is_a_404_in_the_apis_shape(world, url, method):
    answer = api(Client(), key_for(world, "caseworker1"), method, url, {})
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
    assert answer.json() == {"detail": ["There is no such address in the API: see /api/docs/."]}
    assert "no-store" in answer["Cache-Control"]


@pytest.mark.parametrize(("persona", "status"), [("anonymous", 401), ("exoneree1", 403), ("director2", 404)])
def test_an_address_the_api_does_not_have_checks_who_asks_first(world, persona, status):
    client = Client()
    if persona == "exoneree1":
        client.force_login(world.user(persona))
    key = key_for(world, persona) if persona == "director2" else None
    answer = api(client, key, "GET", "/api/v1/people/abc/")
    assert answer.status_code == status and set(answer.json()) == {"detail"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_address_without_its_last_slash_is_told_so(world, method):
    url = v1("person-needs", world.marcus.exoneree.pk)
    before = Need.objects.count()
    need = {"domain": "basic", "description": "A winter coat"}
    answer = api(Client(), key_for(world, "caseworker1"), method, url.removesuffix("/"), need)
    assert answer.status_code == 404
    assert answer.json() == {"detail": [f"Addresses of the API end with a slash: {url}"]}
    assert Need.objects.count() == before


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("people", "mine"),
        ("person-follow-ups", "done"),
    ],
)
@pytest.mark.parametrize("value", ["-1", "2", "yes please", "nul"])
def test_a_yes_or_no_filter_takes_true_or_false_only(world, url, field, value):
    """django-filter read an unknown value as "left out": `?mine=-1` listed everybody, 200."""
    args = [world.marcus.exoneree.pk] if url.startswith("person-") else []
    key = key_for(world, "caseworker1")
    answer = api(Client(), key, "GET", v1(url, *args) + f"?{field}={value}")
    assert answer.status_code == 400 and answer.json() == {field: ["Say true or false."]}
    schema = the_cached_schema(world)
    conforms(answer, schema, schema["paths"][template_of(v1(url, *args))]["get"])


def test_a_yes_or_no_filter_still_filters(world):
    key, client = key_for(world, "director1"), Client()  # who reads everyone and carries nobody
    everyone = api(client, key, "GET", v1("people") + "?mine=false").json()["results"]
    assert {world.marcus.exoneree.pk, world.thomas.exoneree.pk} <= {p["id"] for p in everyone}
    assert api(client, key, "GET", v1("people") + "?mine=TRUE").json()["results"] == []
    follow_ups, done = v1("person-follow-ups", world.marcus.exoneree.pk), world.marcus.follow_up.pk
    key = key_for(world, "caseworker1")
    api(client, key, "POST", v1("follow-up-done", done), {})
    assert [row["id"] for row in api(client, key, "GET", f"{follow_ups}?done=true").json()["results"]] == [done]
    assert done not in [row["id"] for row in api(client, key, "GET", f"{follow_ups}?done=False").json()["results"]]
    # 1 and 0, as django-filter read them before the filter became strict
    assert [row["id"] for row in api(client, key, "GET", f"{follow_ups}?done=1").json()["results"]] == [done]
    assert done not in [row["id"] for row in api(client, key, "GET", f"{follow_ups}?done=0").json()["results"]]


@pytest.mark.parametrize("size", ["false", "null", "0", "-1", "201", "1.5", "２"])
def test_a_page_size_outside_1_to_200_is_a_400(world, size):
    """DRF's cursor page quietly answered its 50 rows for `?page_size=false`, and 200 for 10**6."""
    answer = api(Client(), key_for(world, "director1"), "GET", v1("resources") + f"?page_size={size}")
    assert answer.status_code == 400
    assert answer.json() == {"page_size": ["Ask for a whole number of rows from 1 to 200."]}


def test_the_schema_gives_the_page_sizes_bounds(world):
    size = next(
        p
        for p in the_cached_schema(world)["paths"]["/api/v1/resources/"]["get"]["parameters"]
        if p["name"] == "page_size"
    )
    assert size["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    answer = api(Client(), key_for(world, "director1"), "GET", v1("resources") + "?page_size=200")
    assert answer.status_code == 200


def test_a_need_status_move_not_allowed_is_the_409_the_schema_lists(world):
    key, client = key_for(world, "caseworker1"), Client()
    url = v1("need-status", world.marcus.need.pk)
    assert api(client, key, "POST", url, {"status": "met"}).status_code == 200
    again = api(client, key, "POST", url, {"status": "met"})
    assert again.status_code == 409
    assert again.json() == {"status": ["Cannot change status from “Met” to “Met”.", "It can move from here to: open."]}
    schema = the_cached_schema(world)
    conforms(again, schema, schema["paths"]["/api/v1/needs/{id}/status/"]["post"])


def test_if_match_is_in_the_schema_where_it_is_read(world):
    """A PATCH needs it (428 without), an action honours it, a new record has no version."""
    paths = the_cached_schema(world)["paths"]

    def if_match(path: str, method: str) -> dict | None:
        return next((p for p in paths[path][method].get("parameters", []) if p["name"] == "If-Match"), None)

    assert if_match("/api/v1/needs/{id}/", "patch")["required"] is True
    assert if_match("/api/v1/providers/{id}/", "patch")["required"] is True
    for action in ["needs/{id}/status", "referrals/{id}/transition", "follow-ups/{id}/done", "consents/{id}/revoke"]:
        assert if_match(f"/api/v1/{action}/", "post")["required"] is False
        assert "412" in paths[f"/api/v1/{action}/"]["post"]["responses"]
    for new in ["people/{id}/needs", "needs/{id}/referrals", "people/{id}/follow-ups/already-done"]:
        assert if_match(f"/api/v1/{new}/", "post") is None
        assert "412" not in paths[f"/api/v1/{new}/"]["post"]["responses"]


# --- what a write takes: the schema says what the page's form asks ---------------------------------

WRITES = [  # (the endpoint, the record its {id} names)
    ("person-needs", lambda w: w.marcus.exoneree.pk),
    ("person-follow-ups", lambda w: w.marcus.exoneree.pk),
    ("person-notes", lambda w: w.marcus.exoneree.pk),
    ("need-refer", lambda w: w.marcus.need.pk),
    ("need-status", lambda w: w.marcus.need.pk),
    ("referral-transition", lambda w: w.marcus.referral.pk),
    ("follow-up-done", lambda w: w.marcus.follow_up.pk),
]


def request_body(world, name: str, method: str = "post") -> dict:
    schema = the_cached_schema(world)
    body = schema["paths"][template_of(v1(name, 1))][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


@pytest.mark.parametrize(("name", "pk"), WRITES, ids=[w[0] for w in WRITES])
def test_the_fields_a_write_must_have_are_those_the_schema_requires(world, name, pk):
    """The schema said a need took a `domain` and nothing else, a follow-up a `title`: an empty
    body is refused naming exactly the fields the schema marks required (none: it is accepted)."""
    answer = api(Client(), key_for(world, "caseworker1"), "POST", v1(name, pk(world)), {})
    required = set(request_body(world, name).get("required", []))
    if required:
        assert answer.status_code == 400 and set(answer.json()) == required, answer.json()
    else:
        assert answer.status_code == 200, answer.json()


def test_every_field_a_write_takes_is_in_the_schema(world):
    for name, form in [
        ("person-needs", NeedForm),
        ("person-follow-ups", FollowUpForm),
        ("person-notes", CaseNoteForm),
        ("referral-transition", ReferralTransitionForm),
    ]:
        assert set(request_body(world, name)["properties"]) == set(form.base_fields), name
    assert set(request_body(world, "need", "patch")["properties"]) == set(NeedForm.base_fields)


@pytest.mark.parametrize(
    ("name", "field", "choices"),
    [
        ("person-needs", "domain", NeedDomain.values),
        ("person-needs", "priority", Priority.values),
        ("person-notes", "visibility", NoteVisibility.values),
        ("need-status", "status", NeedStatus.values),
        ("referral-transition", "status", ReferralStatus.values),
    ],
)
def test_a_choice_is_named_in_the_schema_and_anything_else_refused(world, name, field, choices):
    schema = the_cached_schema(world)
    spec = request_body(world, name)["properties"][field]
    ref = spec.get("$ref") or spec["allOf"][0]["$ref"]
    assert schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["enum"] == choices
    pk = {w[0]: w[1] for w in WRITES}[name](world)
    answer = api(Client(), key_for(world, "caseworker1"), "POST", v1(name, pk), {field: "sleeping"})
    assert answer.status_code == 400 and field in answer.json()


# --- a JSON value is taken as the schema types it, never as its text ------------------------------


def typed(spec: dict) -> str:
    """What a property of a write's body takes: a choice (an enum) is text too."""
    kind = spec.get("type", "string")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    return next(iter(kinds - {"null"}))


NOT_OF_THE_KIND = {  # each kind, and JSON values that are not of it
    "string": [False, True, 0, 12, 1.5, ["a", "b"], {"a": "b"}],
    "integer": [True, False, 1.5, [1], {"id": 1}],
    "boolean": [0, 1, "banana", [True], {"yes": True}],
    "array": [True, 7, "housing", [1], [None], [["housing"]], {"a": "b"}],
}


@pytest.mark.parametrize(("name", "pk"), WRITES, ids=[w[0] for w in WRITES])
def test_a_value_not_of_the_kind_the_schema_says_is_a_400_naming_the_field(world, name, pk):
    """`{"text": false}` saved a note that said "false", a number was taken as a title, a list as
    its last item: each field takes what the schema types it, or says what it must be."""
    properties = request_body(world, name)["properties"]
    key, client, url = key_for(world, "caseworker1"), Client(), v1(name, pk(world))
    assert api(client, key, "GET", v1("root")).status_code == 200  # the token's "last used", before the snapshot
    before = snapshot()
    for field, spec in properties.items():
        for value in NOT_OF_THE_KIND[typed(spec)]:
            answer = api(client, key, "POST", url, {field: value})
            assert answer.status_code == 400, (field, value, answer.json())
            assert set(answer.json()) == {field} and answer.json()[field][0].startswith("Must be"), (field, value)
    assert snapshot() == before


def test_a_note_of_false_is_refused_and_saves_nothing(world):
    url, key = v1("person-notes", world.marcus.exoneree.pk), key_for(world, "caseworker1")
    notes = CaseNote.objects.count()
    answer = api(Client(), key, "POST", url, {"text": False})
    assert answer.status_code == 400
    assert answer.json() == {"text": ["Must be text: a JSON string (or null to leave it empty)."]}
    assert CaseNote.objects.count() == notes
    schema = the_cached_schema(world)
    conforms(answer, schema, schema["paths"][template_of(url)]["post"])


def test_what_the_schema_types_is_still_taken(world):
    """An id as a number or its digits, a yes-or-no as true or false, an empty optional text as
    null, a list of choices as a list of strings."""
    key, client, person = key_for(world, "caseworker1"), Client(), world.marcus.exoneree
    caseworker = world.caseworker1.pk
    for assigned_to in (caseworker, str(caseworker)):
        body = {"title": "Call", "due_at": days_from_now(3), "assigned_to": assigned_to, "details": None}
        made = api(client, key, "POST", v1("person-follow-ups", person.pk), {**body, "shared_with_exoneree": True})
        assert made.status_code == 201, made.json()
        assert made.json()["shared_with_exoneree"] is True and made.json()["details"] == ""
    note = api(client, key, "POST", v1("person-notes", person.pk), {"text": "Called him", "visibility": "staff"})
    assert note.status_code == 201 and note.json()["text"] == "Called him"
    referral = {"resource": world.marcus.resource.pk, "note": None, "categories": ["housing"]}
    drafted = api(client, key, "POST", v1("need-refer", world.marcus.need.pk), referral)
    assert drafted.status_code == 201 and drafted.json()["categories"] == ["contact", "housing"], drafted.json()


# --- a referral's move the lifecycle does not allow: a conflict with its state, as a need's --------


@pytest.mark.parametrize(
    ("stored", "move", "allowed"),
    [
        ("draft", "accepted", "It can move from here to: sent, cancelled."),
        ("sent", "draft", "It can move from here to: accepted, declined, cancelled."),
        ("sent", "sent", "It can move from here to: accepted, declined, cancelled."),
        ("completed", "cancelled", "It cannot move from here: this is where its lifecycle ends."),
    ],
)
def test_a_referral_move_the_lifecycle_does_not_allow_is_a_409_naming_the_moves_it_does(world, stored, move, allowed):
    """The README promised a 409; the form, which offers only the moves allowed from here, said
    "not one of the available choices" (a 400), as if the client had sent a word it did not know."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=stored)
    url, key = v1("referral-transition", referral.pk), key_for(world, "caseworker1")
    assert api(Client(), key, "GET", v1("root")).status_code == 200  # the token's "last used", before the snapshot
    before = snapshot()

    answer = api(Client(), key, "POST", url, {"status": move, "note": "Moved"})

    label = {s.value: s.label for s in ReferralStatus}
    assert answer.status_code == 409
    assert answer.json() == {"status": [f"Cannot change status from “{label[stored]}” to “{label[move]}”.", allowed]}
    assert snapshot() == before
    schema = the_cached_schema(world)
    conforms(answer, schema, schema["paths"]["/api/v1/referrals/{id}/transition/"]["post"])


def test_a_status_the_lifecycle_does_not_have_is_still_a_400(world):
    url = v1("referral-transition", world.marcus.referral.pk)
    answer = api(Client(), key_for(world, "caseworker1"), "POST", url, {"status": "sleeping"})
    assert answer.status_code == 400 and set(answer.json()) == {"status"}


def test_the_schema_names_the_moves_the_lifecycle_allows(world):
    referral = request_body(world, "referral-transition")["properties"]["status"]["description"]
    need = request_body(world, "need-status")["properties"]["status"]["description"]
    assert "sent → accepted, declined, cancelled" in referral and "completed → none" in referral
    assert "met → open" in need
    assert "409" in referral and "409" in need


# --- the outcomes: the schema declares the whole answer --------------------------------------------


def test_the_outcomes_schema_declares_every_key_of_the_answer(world):
    """It declared `figures` only: not `from`, `to`, nor what a figure and its rows hold."""
    schema = the_cached_schema(world)
    components = schema["components"]["schemas"]
    declared = schema["paths"]["/api/v1/outcomes/"]["get"]["responses"]["200"]["content"]["application/json"]

    def of(spec: dict) -> dict:
        return components[spec["$ref"].rsplit("/", 1)[1]] if "$ref" in spec else spec

    answer = api(Client(), key_for(world, "director1"), "GET", v1("outcomes") + "?from=2026-01-01&to=2026-12-31")
    outcomes = of(declared["schema"])
    assert set(answer.json()) == set(outcomes["properties"]) == set(outcomes["required"])
    figure = of(outcomes["properties"]["figures"]["items"])
    row = of(figure["properties"]["rows"]["items"])
    assert answer.json()["figures"] and any(f["rows"] for f in answer.json()["figures"])
    for shown in answer.json()["figures"]:
        assert set(shown) == set(figure["properties"]) == set(figure["required"])
        for line in shown["rows"]:
            assert set(line) == set(row["properties"]) == set(row["required"])
            assert len(line["values"]) == len(shown["columns"]) - 1
