"""The directory in HSDS 3.0 (issue 22): import (command and page), the mapping of taxonomy
terms to needs, the export (valid against the specification's schemas, and round-tripping),
and the read-only HSDS API.

The official examples are in tests/hsds_examples/ (with their license); the schemas the
export is validated against are the app's own copy (services/data/hsds/).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from referencing import Registry
from referencing import Resource as SchemaResource
from referencing.jsonschema import DRAFT202012

from services.actions import hsds as hsds_actions
from services.lib import hsds
from services.lib.hsds import DATA, HsdsError
from services.models.audit import AuditEvent
from services.models.directory import HsdsImport, Provider, Resource, TaxonomyTerm
from services.selectors.hsds_import import import_plan
from tests.factories import OrganizationFactory, ProviderFactory, ResourceFactory, StaffFactory, UserFactory
from tests.sample_files import upload

EXAMPLES = Path(__file__).resolve().parent / "hsds_examples"
CSV_EXAMPLE = EXAMPLES / "csv"
EXAMPLE_ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
EXAMPLE_SERVICE = "ac148810-d857-441c-9679-408f346de14b"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def directory(organization: Any) -> dict[str, Any]:
    """An organization's directory as a person sees it: providers and resources by name, with
    every field the directory keeps and the needs each serves (no database ids)."""
    providers = {
        p.name: {"description": p.description, "website": p.website, "email": p.email}
        for p in Provider.objects.filter(organization=organization)
    }
    resources = {}
    for r in Resource.objects.filter(organization=organization).select_related("provider"):
        fields = ["name", "description", "eligibility", "fees", "application_process", "languages", "address"]
        fields += ["city", "state", "postal_code", "phone", "email", "hours", "status"]
        resources[r.name] = {name: getattr(r, name) for name in fields} | {
            "provider": r.provider.name,
            "domains": sorted(row.domain for row in r.domain_rows.all()),
        }
    return {"providers": providers, "resources": resources}


def rows_everywhere() -> dict[str, int]:
    return {
        "providers": Provider.objects.count(),
        "resources": Resource.objects.count(),
        "terms": TaxonomyTerm.objects.count(),
        "log": AuditEvent.objects.count(),
    }


def import_file(path: Path, user: Any) -> str:
    out = io.StringIO()
    call_command("import_hsds", str(path), user=user.username, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- importing the official example -------------------------------------------------------------


@pytest.mark.parametrize("example", ["csv", "service_full.json", "organization_full.json"])
def test_the_official_example_becomes_a_provider_and_its_resource(world, example):
    import_file(EXAMPLES / example, world.director1)

    provider = Provider.objects.get(organization=world.org1, hsds_id=EXAMPLE_ORGANIZATION)
    resource = Resource.objects.get(organization=world.org1, hsds_id=EXAMPLE_SERVICE)
    assert provider.name == "Example Organization Inc."
    assert provider.website == "http://example.com"
    assert resource.provider == provider
    assert resource.name == "Community Counselling"
    assert resource.status == "active"
    assert resource.address == "1-30 Main Street, MyVillage"
    assert (resource.city, resource.state, resource.postal_code) == ("MyCity", "", "ABC 1234")
    assert resource.phone == "+44 1234 234567 ext. 100"
    assert resource.hours.startswith("The service is available from 10 am to 6pm weekdays.")
    assert resource.languages == "Urdu"
    assert resource.eligibility.startswith("This service is intended for all people aged 12 and over")


def test_the_example_reports_what_it_does_not_keep_and_its_unmapped_term(world):
    plan = import_plan(world.director1, hsds.read_path(CSV_EXAMPLE))

    assert plan.ok
    assert plan.summary == {"create": 2, "update": 0, "unchanged": 0}
    assert [(term.name, term.code) for term in plan.unmapped] == [("name", "code")]
    assert ("program", 1, "the directory does not keep these") in plan.not_imported
    assert any("MyState" in issue.message for issue in plan.warnings)  # not a two-letter state


def test_the_preview_names_the_resources_whose_referrals_could_not_be_emailed(login, world, tmp_path):
    """A 211 file without emails made a directory whose referrals reach no provider's page: the
    caseworker found out at the first referral ("Mark as sent"), the director never."""
    folder = copy_example(tmp_path)
    edit_csv(folder / "services.csv", 0, email="")
    provider_has_one = import_plan(world.director1, hsds.read_path(folder))
    edit_csv(folder / "organizations.csv", 0, email="")
    client = login("director1")
    response = client.post(
        reverse("hsds_import"), {"file": upload(zipped_folder(folder), "211.zip", "application/zip")}
    )

    preview = client.get(response.url).content.decode()

    assert provider_has_one.not_emailed == []  # the provider's address takes them
    assert "1 resource will get no referral by email" in preview
    assert "<li>Community Counselling</li>" in preview
    assert import_plan(world.director1, hsds.read_path(CSV_EXAMPLE)).not_emailed == []


def test_importing_twice_changes_nothing(world):
    import_file(CSV_EXAMPLE, world.director1)
    before, rows = directory(world.org1), rows_everywhere()

    output = import_file(CSV_EXAMPLE, world.director1)

    assert "0 added, 0 updated, 2 already up to date" in output
    assert directory(world.org1) == before
    assert rows_everywhere() == rows  # not even an entry in the access log


def test_a_newer_file_updates_what_the_first_created(world, tmp_path):
    import_file(CSV_EXAMPLE, world.director1)
    folder = copy_example(tmp_path)
    edit_csv(folder / "services.csv", 0, name="Community Counselling (evenings)", status="temporarily closed")

    output = import_file(folder, world.director1)

    resource = Resource.objects.get(organization=world.org1, hsds_id=EXAMPLE_SERVICE)
    assert (resource.name, resource.status) == ("Community Counselling (evenings)", "temporarily_closed")
    assert Resource.objects.filter(organization=world.org1, hsds_id=EXAMPLE_SERVICE).count() == 1
    assert "update Community Counselling (evenings): service name, status" in output
    change = AuditEvent.objects.filter(action="record_changed", target=f"Resource {resource.pk}").latest("pk")
    assert change.changes["status"] == ["active", "temporarily_closed"]


def test_the_import_is_only_of_the_directors_organization(world):
    import_file(CSV_EXAMPLE, world.director2)

    assert Resource.objects.filter(hsds_id=EXAMPLE_SERVICE).get().organization == world.org2
    assert not Resource.objects.filter(organization=world.org1, hsds_id=EXAMPLE_SERVICE).exists()


def test_a_provider_already_in_the_directory_by_name_is_updated_not_doubled(world):
    ProviderFactory(organization=world.org1, name="Example Organization Inc.")

    import_file(CSV_EXAMPLE, world.director1)

    provider = Provider.objects.get(organization=world.org1, name="Example Organization Inc.")
    assert provider.hsds_id == EXAMPLE_ORGANIZATION


def test_a_renamed_provider_and_a_new_one_under_its_old_name_stay_two(world, tmp_path):
    """The file renames our provider (same id) and brings another under its old name: the
    name does not pull the newcomer onto ours, and the rename is saved first."""
    import_file(CSV_EXAMPLE, world.director1)
    folder = copy_example(tmp_path)
    rows = read_csv(folder / "organizations.csv")
    other = rows[0] | {"id": "5b0e7c55-8a3f-4f51-9f7e-0c5f2b7e1a11"}
    write_csv(folder / "organizations.csv", [other, rows[0] | {"name": "Example Organization (renamed)"}])

    plan = import_plan(world.director1, hsds.read_path(folder))

    assert [(p.name, p.action) for p in plan.providers] == [
        ("Example Organization Inc.", "create"),
        ("Example Organization (renamed)", "update"),
    ]
    import_file(folder, world.director1)

    names = dict(Provider.objects.filter(organization=world.org1).values_list("hsds_id", "name"))
    assert names[EXAMPLE_ORGANIZATION] == "Example Organization (renamed)"
    assert names[other["id"]] == "Example Organization Inc."


# --- problems: reported by place, and nothing written ---------------------------------------------


def copy_example(tmp_path: Path) -> Path:
    folder = tmp_path / "example"
    shutil.copytree(CSV_EXAMPLE, folder)
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def edit_csv(path: Path, index: int, **values: str) -> None:
    rows = read_csv(path)
    rows[index].update(values)
    write_csv(path, rows)


def add_good_service(folder: Path, **values: str) -> None:
    rows = read_csv(folder / "services.csv")
    rows.append(rows[0] | {"id": "1c3bd59c-4d84-4c2e-9ba1-46ad2d0d1f7f", "name": "Job club"} | values)
    write_csv(folder / "services.csv", rows)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda f: edit_csv(f / "services.csv", 1, name=""), "a service without a name"),
        (lambda f: edit_csv(f / "services.csv", 1, status="open"), "the status open is not one of HSDS's"),
        (
            lambda f: edit_csv(f / "services.csv", 1, organization_id="00000000-0000-4000-8000-000000000000"),
            "neither in the file nor in your directory",
        ),
        (lambda f: edit_csv(f / "services.csv", 1, id=EXAMPLE_SERVICE), "is used by an earlier row too"),
        (
            lambda f: (f / "services.csv").write_text((f / "services.csv").read_text() + "x,y,z\n"),
            "3 values where the header names 23 columns",
        ),
    ],
    ids=["no name", "unknown status", "unknown organization", "duplicate id", "short line"],
)
def test_a_corrupted_row_is_reported_by_its_place_and_nothing_is_written(world, tmp_path, corrupt, message):
    folder = copy_example(tmp_path)
    add_good_service(folder)  # line 3: the row the first four cases break
    corrupt(folder)
    before = rows_everywhere()

    with pytest.raises(CommandError, match="nothing was imported"):
        import_file(folder, world.director1)

    plan = import_plan(world.director1, hsds.read_path(folder))
    assert any(message in issue.message for issue in plan.errors), plan.errors
    assert {issue.place for issue in plan.errors} <= {"services.csv, line 3", "services.csv, line 4"}
    assert rows_everywhere() == before


def test_the_action_itself_writes_nothing_when_a_row_is_bad(world, tmp_path):
    folder = copy_example(tmp_path)
    add_good_service(folder, name="")
    before = rows_everywhere()

    plan = hsds_actions.hsds_import(by=world.director1, tables=hsds.read_path(folder))

    assert not plan.ok
    assert rows_everywhere() == before


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


BAD_FILES = {
    "random bytes": (b"\x00\x01\x02 not a file", "neither a zip of the HSDS CSV tables nor HSDS JSON"),
    # Not text at all: what the file is not, rather than "The file is not UTF-8 text."
    "a PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "neither a zip of the HSDS CSV tables nor HSDS JSON"),
    "Latin-1 JSON": ('{"name": "Café"}'.encode("latin-1"), "The file is not UTF-8 text"),
    "a damaged zip": (b"PK\x03\x04" + b"\x00" * 40, "damaged"),
    "a zip of photos": (zipped({"photo.jpg": b"\xff\xd8"}), "No HSDS table"),
    "Latin-1 CSV": (zipped({"services.csv": "id,name\n1,Café\n".encode("latin-1")}), "is not UTF-8 text"),
    "CSV without a header": (zipped({"organizations.csv": b"a,b\n"}), "has no id column"),
    "broken JSON": (b'{"id": ', "not valid JSON"),
    "JSON of numbers": (b"[1, 2, 3]", "something other than HSDS"),
    "empty JSON object": (b"{}", "something other than HSDS"),
    "an empty page": (b'{"total_items": 0, "contents": []}', "no HSDS service or organization"),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_that_is_not_hsds_gets_a_clear_message(content, message):
    with pytest.raises(HsdsError, match=message):
        hsds.read_bytes(content)


def test_a_zip_claiming_gigabytes_is_refused_before_it_is_inflated():
    content = zipped({"services.csv": b"id\n" + b"0\n" * 1000})
    huge = content.replace((2003).to_bytes(4, "little"), (3 * 1024**3).to_bytes(4, "little"))

    with pytest.raises(HsdsError, match="larger than 50 MB"):
        hsds.read_bytes(huge)


def test_the_command_names_a_missing_path_and_a_user_who_is_not_a_director(world, tmp_path):
    with pytest.raises(CommandError, match="no file or folder"):
        import_file(tmp_path / "nowhere.zip", world.director1)
    with pytest.raises(CommandError, match="not an active director"):
        import_file(CSV_EXAMPLE, world.caseworker1)


def test_a_dry_run_reports_and_writes_nothing(world):
    before = rows_everywhere()
    out = io.StringIO()

    call_command("import_hsds", str(CSV_EXAMPLE), user="director1", dry_run=True, stdout=out)

    assert "2 to add" in out.getvalue() and "Dry run: nothing was imported." in out.getvalue()
    assert rows_everywhere() == before


def test_the_command_shows_its_progress(world):
    output = import_file(CSV_EXAMPLE, world.director1)

    assert f"[{'#' * 30}] 2/2" in output


# --- taxonomy terms → need domains -------------------------------------------------------------


def test_a_term_the_director_maps_gives_the_service_its_need(world, tmp_path):
    folder = copy_example(tmp_path)
    edit_csv(folder / "attributes.csv", 0, link_id=EXAMPLE_SERVICE)  # the example's link points nowhere
    import_file(folder, world.director1)
    term = TaxonomyTerm.objects.get(organization=world.org1, hsds_id="3f7b145d-84af-42d7-8fae-eaca714b02b2")
    assert term.domain == ""  # listed as unmapped, kept
    resource = Resource.objects.get(organization=world.org1, hsds_id=EXAMPLE_SERVICE)
    assert not resource.domain_rows.exists()

    hsds_actions.taxonomy_terms_map(by=world.director1, domains={term.pk: "mental_health"})
    output = import_file(folder, world.director1)

    assert [row.domain for row in resource.domain_rows.all()] == ["mental_health"]
    assert "needs it serves" in output
    change = AuditEvent.objects.filter(action="record_changed", target=f"Resource {resource.pk}").latest("pk")
    assert change.changes["needs"] == {"before": "none", "now": "Mental health"}


def test_the_terms_page_maps_a_term(login, world):
    term = TaxonomyTerm.objects.create(organization=world.org1, hsds_id="t-1", name="Food pantry")
    client = login("director1")

    page = client.get(reverse("hsds_terms"))
    response = client.post(reverse("hsds_terms"), {f"term_{term.pk}": "basic", "page": "1"})

    assert "Food pantry" in page.content.decode()
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.domain == "basic"


def test_another_organizations_term_cannot_be_mapped(login, world):
    term = TaxonomyTerm.objects.create(organization=world.org2, hsds_id="t-2", name="Food pantry")

    login("director1").post(reverse("hsds_terms"), {f"term_{term.pk}": "basic"})

    term.refresh_from_db()
    assert term.domain == ""


# --- the page: upload, preview, confirm --------------------------------------------------------


def example_zip() -> bytes:
    return zipped_folder(CSV_EXAMPLE)


def zipped_folder(folder: Path) -> bytes:
    return zipped({path.name: path.read_bytes() for path in folder.iterdir()})


def test_upload_preview_confirm(login, world):
    client = login("director1")

    response = client.post(reverse("hsds_import"), {"file": upload(example_zip(), "211.zip", "application/zip")})
    upload_row = HsdsImport.objects.get()
    preview = client.get(response.url)
    assert not Resource.objects.filter(hsds_id=EXAMPLE_SERVICE).exists()  # nothing yet
    confirmed = client.post(response.url)

    assert response.url == reverse("hsds_import_preview", args=[upload_row.pk])
    text = preview.content.decode()
    assert "Add: 2" in text and "Community Counselling" in text and "Taxonomy terms not mapped" in text
    assert confirmed.status_code == 302 and confirmed.url == reverse("resource_list")
    assert Resource.objects.filter(organization=world.org1, hsds_id=EXAMPLE_SERVICE).exists()
    upload_row.refresh_from_db()
    assert upload_row.applied_at is not None and upload_row.rows == {}
    assert upload_row.summary == {"create": 2, "update": 0, "unchanged": 0}
    assert client.get(response.url).status_code == 404  # applied: nothing left to confirm


def test_the_preview_counts_one_row_left_out_as_one_row(login, world):
    """The example's tables the directory does not keep have one row each: "program: 1 rows"."""
    client = login("director1")
    response = client.post(reverse("hsds_import"), {"file": upload(example_zip(), "211.zip", "application/zip")})

    text = client.get(response.url).content.decode()

    assert "program: 1 row (the directory does not keep these)" in text
    assert " 1 rows" not in text


def test_a_file_with_errors_previews_them_and_cannot_be_confirmed(login, world, tmp_path):
    folder = copy_example(tmp_path)
    add_good_service(folder, status="")
    client = login("director1")
    response = client.post(
        reverse("hsds_import"),
        {"file": upload(zipped({p.name: p.read_bytes() for p in folder.iterdir()}), "211.zip", "application/zip")},
    )
    before = rows_everywhere()

    preview = client.get(response.url)
    confirmed = client.post(response.url)

    assert "services.csv, line 3" in preview.content.decode()
    assert 'type="submit" class="primary">Import' not in preview.content.decode()
    assert confirmed.status_code == 400
    assert rows_everywhere() == before


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_upload_is_a_message_on_the_page_never_a_500(login, world, content, message):
    response = login("director1").post(reverse("hsds_import"), {"file": upload(content, "x.zip", "application/zip")})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not HsdsImport.objects.exists()


def test_another_directors_upload_is_a_404(login, world):
    upload_row = hsds_actions.hsds_upload(by=world.director1, file_name="x.zip", tables=hsds.read_path(CSV_EXAMPLE))

    assert login("director2").get(reverse("hsds_import_preview", args=[upload_row.pk])).status_code == 404
    assert login("director2").post(reverse("hsds_import_preview", args=[upload_row.pk])).status_code == 404
    assert not Resource.objects.filter(hsds_id=EXAMPLE_SERVICE).exists()


# --- export: valid HSDS, and a round trip --------------------------------------------------------


def full_directory(world: Any) -> None:
    """Resources with everything the directory keeps (org1 has two already from the world)."""
    provider = ProviderFactory(
        organization=world.org1, name="Second Chance Clinic", website="https://clinic.example.org", email="a@b.org"
    )
    ResourceFactory(
        organization=world.org1,
        provider=provider,
        name="Counseling for exonerees",
        description="Weekly sessions",
        eligibility="Anyone wrongfully convicted",
        fees="Free",
        application_process="Call first",
        languages="English, Spanish",
        address="12 Main St",
        city="Houston",
        state="TX",
        postal_code="77002",
        phone="713-555-0100",
        email="intake@clinic.example.org",
        hours="Mon–Fri 9am–5pm",
        status="temporarily_closed",
        domains=["mental_health", "medical"],
    )
    ProviderFactory(organization=world.org1, name="A provider with nothing yet")


def export(client: Any) -> dict[str, list[dict[str, str]]]:
    response = client.get(reverse("hsds_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    tables = {}
    for table, path in hsds.paths().items():
        with archive.open(path) as handle:
            tables[table] = list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))
    assert json.loads(archive.read("datapackage.json")) == hsds.descriptor()
    return tables


def typed(table: str, row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON the schema describes: an empty cell is a missing value (as in a
    tabular datapackage), a number column a number."""
    fields = {f["name"]: f for r in hsds.descriptor()["resources"] if r["name"] == table for f in r["schema"]["fields"]}
    out: dict[str, Any] = {}
    for name, value in row.items():
        if value == "":
            continue
        out[name] = float(value) if fields[name]["type"] == "number" else value
    return out


def schema_validator(table: str) -> jsonschema.Validator:
    schemas = {p.name: json.loads(p.read_text()) for p in (DATA / "schema").glob("*.json")}
    registry = Registry().with_resources(
        (name, SchemaResource.from_contents(schema, default_specification=DRAFT202012))
        for name, schema in schemas.items()
    )
    return jsonschema.Draft202012Validator(
        schemas[f"{table}.json"], registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid_hsds(tables: dict[str, list[dict[str, str]]]) -> None:
    """Every row valid against its table's schema; the datapackage's required fields present,
    its primary keys unique and its foreign keys resolved."""
    for resource in hsds.descriptor()["resources"]:
        table, rows = resource["name"], tables[resource["name"]]
        validator = schema_validator(table)
        required = [f["name"] for f in resource["schema"]["fields"] if f.get("constraints", {}).get("required")]
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), f"{table}: an id used twice"
        for row in rows:
            assert list(row) == hsds.columns()[table]
            errors = [error.message for error in validator.iter_errors(typed(table, row))]
            assert errors == [], f"{table} {row['id']}: {errors}"
            assert all(row[name] for name in required), f"{table} {row['id']}: a required field is empty"
        for key in resource["schema"].get("foreignKeys", []):
            targets = {row["id"] for row in tables[key["reference"]["resource"]]}
            for row in rows:
                assert row[key["fields"]] in targets | {""}, f"{table}.{key['fields']} = {row[key['fields']]}"


def test_the_export_validates_against_the_hsds_schemas(login, world):
    full_directory(world)

    tables = export(login("director1"))

    assert_valid_hsds(tables)
    assert len(tables["organization"]) == 4  # Marcus's, Thomas's, the clinic, the empty one
    assert len(tables["service"]) == 3
    service = next(row for row in tables["service"] if row["name"] == "Counseling for exonerees")
    assert service["status"] == "temporarily closed"
    assert {row["name"] for row in tables["language"]} == {"English", "Spanish"}
    assert not any(row["name"].startswith("Anita") for row in tables["service"])  # org2's


def test_the_schema_check_would_catch_a_bad_row():
    """Guards the test above: the validator really checks formats and required fields."""
    assert list(schema_validator("service").iter_errors({"id": "not-a-uuid", "status": "open"}))
    nested = {"id": EXAMPLE_SERVICE, "name": "A", "status": "active", "phones": [{"id": EXAMPLE_SERVICE}]}
    assert [error.message for error in schema_validator("service").iter_errors(nested)] == [
        "'number' is a required property"
    ]


def test_the_export_is_logged(login, world):
    export(login("director1"))

    entry = AuditEvent.objects.filter(action="exported").latest("pk")
    assert entry.actor == world.director1 and "HSDS" in entry.target


def test_export_then_import_into_an_empty_organization_recreates_the_directory(login, world, tmp_path):
    full_directory(world)
    # HSDS requires an address's every part: the world's resources (a city alone) get a street.
    Resource.objects.filter(city="Houston", address="").update(address="1 Elm St", state="TX", postal_code="77001")
    path = tmp_path / "export.zip"
    call_command("export_hsds", user="director1", output=path, stdout=io.StringIO())
    empty = OrganizationFactory(name="Fresh Start")
    director3 = UserFactory(username="director3")
    StaffFactory(user=director3, organization=empty, role="director")

    import_file(path, director3)

    assert directory(empty) == directory(world.org1)
    assert import_plan(director3, hsds.read_path(path)).summary["create"] == 0  # and again: nothing to do


def test_an_address_in_part_is_exported_in_words(login, world):
    """HSDS requires street, city, state and postal code; a city alone is the location's
    description (an import does not read it back into the address)."""
    tables = export(login("director1"))

    marcus = world.marcus.resource
    location = next(row for row in tables["location"] if row["name"] == marcus.name)
    assert location["description"] == "Houston"
    assert not [row for row in tables["address"] if row["location_id"] == location["id"]]


def test_the_json_export_reimports_too(login, world):
    """The API's service object is HSDS JSON that this importer reads back."""
    full_directory(world)
    resource = Resource.objects.get(name="Counseling for exonerees")
    payload = login("director1").get(reverse("hsds_service", args=[resource.hsds_id])).content

    plan = import_plan(world.director1, hsds.read_bytes(payload))

    assert plan.ok and plan.summary == {"create": 0, "update": 0, "unchanged": 2}


# --- the read-only API ---------------------------------------------------------------------------


def test_the_service_list_is_an_hsds_page(login, world):
    full_directory(world)
    client = login("caseworker1")

    first = client.get(reverse("hsds_services"), {"per_page": 2}).json()
    last = client.get(reverse("hsds_services"), {"per_page": 2, "page": 2}).json()
    past = client.get(reverse("hsds_services"), {"page": 9}).json()

    assert {k: first[k] for k in ("total_items", "total_pages", "page_number", "size", "first_page", "last_page")} == {
        "total_items": 3,
        "total_pages": 2,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
    }
    assert last["size"] == 1 and last["last_page"] is True
    assert past["contents"] == [] and past["empty"] is True
    names = [s["name"] for s in first["contents"] + last["contents"]]
    assert names == sorted(names) and "Anita Housing Help" not in names
    assert first["contents"][0]["organization"]["name"]


def test_the_service_page_is_fully_nested(login, world):
    full_directory(world)
    resource = Resource.objects.get(name="Counseling for exonerees")

    service = login("director1").get(reverse("hsds_service", args=[resource.hsds_id])).json()

    assert service["id"] == resource.hsds_id
    assert service["phones"][0]["number"] == "713-555-0100"
    address = service["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["address_1"], address["city"], address["state_province"]) == ("12 Main St", "Houston", "TX")
    assert {a["taxonomy_term"]["code"] for a in service["attributes"]} == {"mental_health", "medical"}


def test_the_preview_names_the_needs_each_resource_will_serve(login, world):
    full_directory(world)
    content = login("director1").get(reverse("hsds_export")).content
    client = login("director2")

    response = client.post(reverse("hsds_import"), {"file": upload(content, "harbor.zip", "application/zip")})
    preview = client.get(response.url).content.decode()

    assert "Counseling for exonerees" in preview
    assert "(Medical, dental and vision care, Mental health)" in preview
    assert "Taxonomy terms not mapped" not in preview  # our own domains map themselves


def test_the_apis_objects_validate_against_the_hsds_schemas(login, world):
    full_directory(world)
    resource = Resource.objects.get(name="Counseling for exonerees")
    client = login("director1")

    service = client.get(reverse("hsds_service", args=[resource.hsds_id])).json()
    organization = client.get(reverse("hsds_organization", args=[resource.provider.hsds_id])).json()
    listed = client.get(reverse("hsds_services")).json()["contents"]

    assert list(schema_validator("service").iter_errors(service)) == []
    assert list(schema_validator("organization").iter_errors(organization)) == []
    assert all(not list(schema_validator("service").iter_errors(item)) for item in listed)


def test_an_organization_lists_its_services(login, world):
    provider = world.marcus.resource.provider

    organization = login("caseworker2").get(reverse("hsds_organization", args=[provider.hsds_id])).json()
    organizations = login("caseworker2").get(reverse("hsds_organizations")).json()

    assert [s["name"] for s in organization["services"]] == ["Marcus Housing Help"]
    assert organizations["total_items"] == 2


def test_the_service_list_takes_hsdss_filters(login, world):
    full_directory(world)
    client = login("caseworker1")
    url = reverse("hsds_services")
    mental_health = hsds.domain_term_id("mental_health")
    clinic = Provider.objects.get(name="Second Chance Clinic").hsds_id

    def names(**query: str) -> list[str]:
        return [service["name"] for service in client.get(url, query).json()["contents"]]

    assert names(search="counsel") == ["Counseling for exonerees"]
    assert names(organization_id=clinic) == ["Counseling for exonerees"]
    assert names(taxonomy_term_id=mental_health) == ["Counseling for exonerees"]
    assert names(taxonomy_term_id="not-a-term") == []
    assert len(names(modified_after="2000-01-01")) == 3
    assert names(modified_after="2999-01-01T00:00:00Z") == []
    assert "phones" in client.get(url, {"full": "true", "search": "counsel"}).json()["contents"][0]
    assert client.get(url, {"modified_after": "2025-02-30"}).status_code == 400


@pytest.mark.parametrize("name", ["hsds_service", "hsds_organization"])
def test_another_organizations_record_is_a_404(login, world, name):
    anita = world.anita.resource
    hsds_id = anita.hsds_id if name == "hsds_service" else anita.provider.hsds_id

    assert login("caseworker1").get(reverse(name, args=[hsds_id])).status_code == 404
    assert login("director2").get(reverse(name, args=[hsds_id])).status_code == 200


@pytest.mark.parametrize("query", [{"page": "0"}, {"page": "x"}, {"per_page": "-1"}, {"page": "١"}])
def test_a_bad_page_number_is_a_400_with_a_reason(login, world, query):
    response = login("caseworker1").get(reverse("hsds_services"), query)

    assert response.status_code == 400
    assert "whole number" in response.json()["detail"]
