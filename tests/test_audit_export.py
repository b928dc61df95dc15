"""The access log's CSV says what its page says: the page's columns, and each entry's values as
its row shows them (a person by name, a record by what it is, details labelled, the time in
the organization's zone), one line per entry, nothing the page leaves out."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services import audit
from services.models.audit import AuditEvent
from tests.factories import FollowUpFactory

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

MOMENT = datetime(2026, 12, 4, 16, 50, 7, 250_000, tzinfo=UTC)
DAY = {"from": "2026-12-04", "to": "2026-12-04"}  # the entries below, not the world's own
CELL = re.compile(r'<td data-label="([^"]+)">(.*?)</td>', re.S)
WHEN = re.compile(r'<time datetime="([^"]+)">')


@pytest.fixture
def logged(world, time_machine):
    """Entries of every shape a director reads: openings of Marcus's file (three in a run),
    a follow-up changed (its record and an assignee by id), a paper's storage (the page leaves
    it out), a sign-in that named no account, and an account changed."""
    marcus = world.marcus.exoneree
    time_machine.move_to(MOMENT, tick=False)
    for minutes in range(3):
        time_machine.move_to(MOMENT + timedelta(minutes=minutes), tick=False)
        opened = {"actor": world.caseworker1, "exoneree": marcus, "target": audit.describe(marcus)}
        audit.record(AuditEvent.Action.RECORD_VIEWED, **opened)
    item = FollowUpFactory(exoneree=marcus, title="SNAP interview", assigned_to=world.caseworker1)
    before = audit.stored(item)
    item.assigned_to = world.caseworker2
    item.save()
    audit.record_change(world.caseworker1, item, before, exoneree=marcus)
    audit.record(
        AuditEvent.Action.RECORD_CHANGED,
        actor=world.caseworker1,
        exoneree=marcus,
        target="Consent 1",
        changes={"categories": [["contact", "housing"], ["contact"]], "storage_name": "documents/92/x.sealed"},
    )
    audit.record(
        AuditEvent.Action.SIGN_IN_FAILED, username="nobody@org1", organization_id=world.org1.pk, target="Password"
    )
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=world.director1,
        target=audit.describe(world.caseworker2),
        changes={"is_active": [True, False]},
    )
    return item


def page_rows(client) -> list[dict[str, str]]:
    """The log page's rows as a reader sees them: each cell's words by its column, a dash read
    as nothing, and the moment the row's <time> carries."""
    page = client.get(reverse("audit_log"), DAY).content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = []
    for tr in body.split("<tr>")[1:]:
        cells = {label: " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split()) for label, html in CELL.findall(tr)}
        rows.append({**{k: "" if v == "—" else v for k, v in cells.items()}, "When": WHEN.search(tr).group(1)})
    return rows


def csv_lines(client, **params: str) -> list[list[str]]:
    response = client.get(reverse("audit_log"), {**DAY, **params, "format": "csv"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_the_pages_columns_and_each_entry_reads_as_its_row(world, login, logged):
    """The CSV wrote the record as "Exoneree" or "Follow up 12", the changes as JSON with ids
    ("assigned_to": [2, 3]) and the time in UTC, where the page names them in the organization's time."""
    client = login("director1")
    shown = page_rows(client)

    header, *lines = csv_lines(client)

    assert header == ["When", "Who", "What", "Person", "Record", "Details", "From"]
    # The page's run of three openings, a minute apart, is three lines, each read as the run's
    # row at its own minute (the export of the log just made is the CSV's first line, not yet
    # on the page).
    run = next(row for row in shown if "3 times" in row["What"])
    newest = datetime.fromisoformat(run["When"])
    openings = [
        {**run, "What": "Opened a record", "When": (newest - timedelta(minutes=k)).isoformat()} for k in range(3)
    ]
    expanded = [row for row in shown if row is not run]
    expanded[shown.index(run) : shown.index(run)] = openings
    assert len(lines) == len(expanded) + 1 and lines[0][2] == "Exported"
    for line, row in zip(lines[1:], expanded, strict=True):
        when = datetime.fromisoformat(row["When"]).replace(microsecond=0)
        assert datetime.fromisoformat(line[0]) == when and line[0] == when.isoformat()  # the same zone, to the second
        assert line[1:] == [row[column] for column in header[1:]], (line, row)
    said = client.get(reverse("audit_log")).content.decode()
    assert "one line per entry (each opening of a run on its own line)" in said
    changed = next(line for line in lines if line[4] == "Follow-up “SNAP interview”")
    assert changed[3] == world.marcus.exoneree.display_name
    assert changed[5] == f"Assigned to: {world.caseworker1.get_full_name()} → {world.caseworker2.get_full_name()}"


def test_the_csv_holds_nothing_the_page_leaves_out(world, login, logged):
    client = login("director1")

    text = "\n".join(",".join(line) for line in csv_lines(client))

    assert "documents/92/x.sealed" not in text and "storage" not in text.lower()  # a paper's storage
    assert f"Follow up {logged.pk}" not in text and "Exoneree " not in text  # ids, as the log keeps them
    assert '"assigned_to"' not in text and "{" not in text  # no JSON
    assert "nobody@org1" in text  # a sign-in that named no account: the username typed, as the page shows


def test_the_csv_follows_the_pages_filters(world, login, logged):
    client = login("director1")

    header, *lines = csv_lines(client, action=AuditEvent.Action.RECORD_VIEWED)

    assert [line[2] for line in lines] == ["Opened a record"] * 3
    assert {line[4] for line in lines} == {f"Profile of {world.marcus.exoneree.display_name}"}


def test_naming_the_records_costs_a_query_per_kind_not_per_entry(world, login, logged):
    client = login("director1")

    def read() -> tuple[int, int]:
        """The CSV's queries and lines."""
        with CaptureQueriesContext(connection) as captured:
            lines = csv_lines(client)
        return len(captured), len(lines)

    few, short = read()
    for _ in range(20):
        changed = FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1)
        before = audit.stored(changed)
        changed.assigned_to = world.caseworker2
        changed.save()
        audit.record_change(world.caseworker1, changed, before, exoneree=world.marcus.exoneree)

    many, long = read()
    assert long >= short + 20 and many == few
