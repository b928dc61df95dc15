"""HSDS 3.0 files (Open Referral's Human Services Data Specification), read and written.

No database here: a file becomes `Tables` (every row of every HSDS table, as text, with the
place it came from, so a report can name it), and tables become a CSV datapackage (a zip).

Read: a CSV datapackage (a folder, or a zip of one), or HSDS JSON as the specification's
examples have it: a service or an organization fully nested, a page of them (`contents`),
a list of them, or the tabular form (`{"services.csv": [...], ...}`). Nested JSON is
flattened into the same tables as the CSV, so one importer reads both.

The table names, their files and their columns come from the specification's own
`datapackage.json` (services/data/hsds/, with its license).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

DATA = Path(__file__).resolve().parent.parent / "data" / "hsds"
# A directory of 2,000 services is a few MB; more than this is not a directory.
MAX_BYTES = 50 * 1024 * 1024
MAX_FILES = 100
# Our own need domains, published as an HSDS taxonomy: fixed ids, so that an export imported
# anywhere (here too) maps itself, and a second export names the same terms.
NAMESPACE = uuid.UUID("6f1c7d2e-4b0a-5c3e-9a51-2e7c4d8b9f10")
DOMAIN_TAXONOMY_ID = str(uuid.uuid5(NAMESPACE, "taxonomy:need-domains"))
DOMAIN_TAXONOMY_NAME = "Reentry need domains"


class HsdsError(Exception):
    """The file cannot be read as HSDS; `message` says why, in words for the director."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Row:
    table: str  # the HSDS table: "service", "organization", …
    place: str  # where it is in the file, for the report: "services.csv, line 3"
    values: dict[str, str]  # every value as text; "" when empty
    bad_shape: str = ""  # a CSV line with more or fewer cells than its header: what is wrong

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


Tables = dict[str, list[Row]]


def new_hsds_id() -> str:
    """The HSDS id of a provider or resource made here (HSDS ids are UUIDs)."""
    return str(uuid.uuid4())


def derived_id(*parts: str) -> str:
    """A fixed id for a record the export derives from one of ours (a resource's location,
    phone, schedule…): the same on every export, so a consumer's second import updates."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def domain_term_id(domain: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"need-domain:{domain}"))


@cache
def descriptor() -> dict[str, Any]:
    return json.loads((DATA / "datapackage.json").read_text())


@cache
def columns() -> dict[str, list[str]]:
    """Each table's columns, in the specification's order."""
    return {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in descriptor()["resources"]}


@cache
def paths() -> dict[str, str]:
    """Each table's file: {"service": "services.csv", …}."""
    return {r["name"]: r["path"] for r in descriptor()["resources"]}


# Reading --------------------------------------------------------------------------------------


def read_path(path: Path) -> Tables:
    """A datapackage folder, a zip of one, or an HSDS JSON file."""
    if path.is_dir():
        files = {p.name: p for p in path.iterdir() if p.suffix == ".csv"}
        if not any(name in files for name in paths().values()):
            raise HsdsError(_("No HSDS table (organizations.csv, services.csv…) in this folder."))
        if sum(p.stat().st_size for p in files.values()) > MAX_BYTES:
            raise HsdsError(_("The tables are larger than 50 MB: too large to import at once."))
        return _read_csv_files({name: p.read_bytes() for name, p in files.items()})
    if not path.is_file():
        raise HsdsError(_("There is no file or folder at %(path)s.") % {"path": path})
    if path.stat().st_size > MAX_BYTES:
        raise HsdsError(_("The file is larger than 50 MB: too large to import at once."))
    return read_bytes(path.read_bytes())


def read_bytes(content: bytes) -> Tables:
    """An uploaded file: a zip of the CSV datapackage, or HSDS JSON (told apart by its bytes)."""
    if len(content) > MAX_BYTES:
        raise HsdsError(_("The file is larger than 50 MB: too large to import at once."))
    if content.startswith(b"PK\x03\x04"):
        return _read_zip(content)
    # JSON by its first sign; only then is "not UTF-8" the thing to fix. Anything else (a PDF, a
    # spreadsheet, a picture) was told "The file is not UTF-8 text.", which says nothing of what
    # to upload instead.
    if content.removeprefix(codecs.BOM_UTF8).lstrip()[:1] in (b"{", b"["):
        return read_json(_text(content, _("The file")))
    raise HsdsError(_("This is neither a zip of the HSDS CSV tables nor HSDS JSON."))


def _text(content: bytes, what: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HsdsError(_("%(what)s is not UTF-8 text.") % {"what": what}) from None


def _read_zip(content: bytes) -> Tables:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise HsdsError(_("The zip file is damaged and cannot be opened.")) from None
    if len(members) > MAX_FILES:
        raise HsdsError(_("The zip holds more than %(count)d files: not an HSDS datapackage.") % {"count": MAX_FILES})
    # The sizes the zip declares are checked before anything is inflated (a zip bomb claims
    # little and inflates to gigabytes; each read below is bounded as well).
    if sum(m.file_size for m in members) > MAX_BYTES:
        raise HsdsError(_("The tables are larger than 50 MB: too large to import at once."))
    files: dict[str, bytes] = {}
    for member in members:
        name = Path(member.filename).name  # the tables may sit in a folder inside the zip
        if not name.endswith(".csv"):
            continue
        try:
            with archive.open(member) as handle:
                data = handle.read(MAX_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
            raise HsdsError(_("%(name)s in the zip cannot be read.") % {"name": name}) from None
        if len(data) > MAX_BYTES:
            raise HsdsError(_("The tables are larger than 50 MB: too large to import at once."))
        files[name] = data
    if not any(name in files for name in paths().values()):
        raise HsdsError(_("No HSDS table (organizations.csv, services.csv…) in the zip."))
    return _read_csv_files(files)


def _read_csv_files(files: dict[str, bytes]) -> Tables:
    tables: Tables = {}
    for table, file_name in paths().items():
        if file_name in files:
            tables[table] = _read_csv(table, file_name, _text(files[file_name], file_name))
    return tables


def _read_csv(table: str, file_name: str, text: str) -> list[Row]:
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        message = _("%(name)s is not a readable CSV file (%(error)s).") % {"name": file_name, "error": error}
        raise HsdsError(message) from None
    if not lines:
        return []
    header = [name.strip() for name in lines[0]]
    if "id" not in header:
        raise HsdsError(_("%(name)s has no id column: its first line must name the columns.") % {"name": file_name})
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        bad_shape = ""
        if len(cells) != len(header):
            bad_shape = _("%(cells)d values where the header names %(columns)d columns") % {
                "cells": len(cells),
                "columns": len(header),
            }
        values = {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)}
        place = _("%(name)s, line %(line)d") % {"name": file_name, "line": number}
        rows.append(Row(table, place, values, bad_shape))
    return rows


# HSDS JSON: nested objects, flattened into the same tables.

# For each kind of object, the arrays it nests and the kind of their items; the link each item
# gets to its parent (the column the CSV form would have).
NESTED: dict[str, dict[str, str]] = {
    "organization": {"services": "service", "phones": "phone", "locations": "location", "contacts": "contact"},
    "service": {
        "phones": "phone",
        "schedules": "schedule",
        "service_at_locations": "service_at_location",
        "languages": "language",
        "attributes": "attribute",
        "contacts": "contact",
        "service_areas": "service_area",
        "required_documents": "required_document",
        "cost_options": "cost_option",
        "funding": "funding",
    },
    "service_at_location": {"phones": "phone", "schedules": "schedule", "contacts": "contact"},
    "location": {"addresses": "address", "phones": "phone", "schedules": "schedule", "languages": "language"},
    "contact": {"phones": "phone"},
    "phone": {"languages": "language"},
}
PARENT_COLUMN = {
    "organization": "organization_id",
    "service": "service_id",
    "service_at_location": "service_at_location_id",
    "location": "location_id",
    "contact": "contact_id",
    "phone": "phone_id",
}


def read_json(text: str) -> Tables:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise HsdsError(_("The file is not valid JSON (%(error)s).") % {"error": error}) from None
    flat = _Flattener()
    if isinstance(data, dict) and any(str(key).endswith(".csv") for key in data):
        flat.tabular(data)
    else:
        items = data.get("contents", data) if isinstance(data, dict) else data
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict) or not ("id" in item or "name" in item):
                raise HsdsError(_("The JSON holds something other than HSDS services or organizations."))
            # A service has a status (required by HSDS); an organization has none.
            flat.add("service" if "status" in item or "service_at_locations" in item else "organization", item)
    if not flat.tables:
        raise HsdsError(_("The JSON holds no HSDS service or organization."))
    return flat.tables


class _Flattener:
    def __init__(self) -> None:
        self.tables: Tables = {}
        self.seen: dict[tuple[str, str], int] = {}

    def tabular(self, data: dict[str, Any]) -> None:
        by_path = {path: table for table, path in paths().items()}
        for key, rows in data.items():
            table = by_path.get(str(key))
            if table is None or not isinstance(rows, list):
                continue
            for row in rows:
                if isinstance(row, dict):
                    self.add(table, row)

    def add(self, table: str, obj: dict[str, Any], link: dict[str, str] | None = None) -> None:
        values = {key: _scalar(value) for key, value in obj.items() if not isinstance(value, dict | list)}
        values.update(link or {})
        if table == "service" and isinstance(obj.get("organization"), dict):
            organization = obj["organization"]
            self.add("organization", organization)
            values.setdefault("organization_id", _scalar(organization.get("id")))
        if table == "service_at_location" and isinstance(obj.get("location"), dict):
            self.add("location", obj["location"])
            values.setdefault("location_id", _scalar(obj["location"].get("id")))
        if table == "attribute" and isinstance(obj.get("taxonomy_term"), dict):
            term = obj["taxonomy_term"]
            self.add("taxonomy_term", term)
            values.setdefault("taxonomy_term_id", _scalar(term.get("id")))
            values.setdefault("link_entity", "service")
        if table == "taxonomy_term" and isinstance(obj.get("taxonomy_detail"), dict):
            self.add("taxonomy", obj["taxonomy_detail"])
            values.setdefault("taxonomy_id", _scalar(obj["taxonomy_detail"].get("id")))
        self._keep(table, values)
        own_id = values.get("id", "")
        for key, kind in NESTED.get(table, {}).items():
            items = obj.get(key)
            if not isinstance(items, list):
                continue
            child_link = {PARENT_COLUMN[table]: own_id} if table in PARENT_COLUMN else {}
            if kind == "attribute":
                child_link = {"link_id": own_id, "link_entity": table}
            for item in items:
                if isinstance(item, dict):
                    self.add(kind, item, child_link)

    def _keep(self, table: str, values: dict[str, str]) -> None:
        """One row per id: the same phone nested under a service, its location and a contact
        is one phone (its links merged)."""
        rows = self.tables.setdefault(table, [])
        key = (table, values.get("id", ""))
        if key[1] and key in self.seen:
            index = self.seen[key]
            merged = rows[index].values | {k: v for k, v in values.items() if v and not rows[index].values.get(k)}
            rows[index] = Row(table, rows[index].place, merged)
            return
        place = _("%(table)s %(number)d in the JSON") % {"table": table, "number": len(rows) + 1}
        if key[1]:
            self.seen[key] = len(rows)
        rows.append(Row(table, place, values))


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Writing --------------------------------------------------------------------------------------


def write_zip(tables: dict[str, list[dict[str, str]]]) -> bytes:
    """A CSV datapackage: every HSDS table (those with no rows as a header alone) and the
    specification's descriptor, so that a validator or another directory reads it as is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(descriptor(), indent=2))
        for table, file_name in paths().items():
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns()[table], extrasaction="raise", lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(tables.get(table, []))
            archive.writestr(file_name, text.getvalue())
    return buffer.getvalue()
