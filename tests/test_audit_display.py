"""The access log reads as sentences a director can check: labelled values in the
organization's time, records named, and a run of openings shown as one row (issue 21 #4).
The log itself keeps every entry."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from services import audit
from services.actions import documents, follow_ups
from services.lib import paging, uploads
from services.models.audit import AuditEvent
from services.models.documents import Document, DocumentKind
from services.models.enrolments import Enrolment
from services.models.people import Exoneree
from services.selectors import audit_trail, plans
from services.selectors.audit_display import group_runs, log_rows, records_named, rows_from, run_heads
from services.selectors.plans import VISITS_SHOWN
from services.views import director
from tests import sample_files
from tests.factories import FollowUpFactory, StaffFactory

MOMENT = datetime(2026, 12, 4, 16, 50, tzinfo=UTC)  # 11:50 in Chicago
DAY = 24 * 60  # minutes


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def opened(world, time_machine):
    """An opening of a record at MOMENT + minutes (called in time order: the chain's order)."""

    def open_at(reader, minutes_after: float, exoneree=None) -> AuditEvent:
        exoneree = exoneree or world.marcus.exoneree
        time_machine.move_to(MOMENT + timedelta(minutes=minutes_after), tick=False)
        return audit.record(
            AuditEvent.Action.RECORD_VIEWED, actor=reader, exoneree=exoneree, target=audit.describe(exoneree)
        )

    return open_at


def newest_first(world, exoneree=None) -> list[AuditEvent]:
    openings = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED)
    return list(openings.filter(exoneree=exoneree or world.marcus.exoneree).order_by("-pk"))


def test_openings_by_one_reader_each_within_half_an_hour_are_one_row(world, opened):
    for minutes in (0, 2, 3, 5, 6, 7):  # 11:50 to 11:57
        opened(world.caseworker1, minutes)
    opened(world.caseworker1, 7 + 31)  # a new visit: 31 minutes after the last

    rows = group_runs(newest_first(world))

    assert [(row.times, row.first_at, row.entry.at) for row in rows] == [
        (1, None, MOMENT + timedelta(minutes=38)),
        (6, MOMENT, MOMENT + timedelta(minutes=7)),
    ]
    assert len(newest_first(world)) == 7  # every entry kept


def test_another_reader_or_person_between_openings_starts_a_new_row(world, opened):
    opened(world.caseworker1, 0)
    opened(world.director1, 1)
    opened(world.caseworker1, 2)
    opened(world.caseworker1, 3, exoneree=world.thomas.exoneree)

    rows = group_runs(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED).order_by("-pk"))

    assert [row.times for row in rows] == [1, 1, 1, 1]


@pytest.mark.parametrize("gap", [30, 29.9])
def test_the_half_hour_counts_from_the_previous_opening(world, opened, gap):
    opened(world.caseworker1, 0)
    opened(world.caseworker1, gap)

    assert [row.times for row in group_runs(newest_first(world))] == [2]


def test_a_case_is_named_by_the_day_it_opened(world):
    """The log's Record column read "4: 2025-01-17–" for a case."""
    case = Enrolment.objects.create(
        exoneree=world.marcus.exoneree, opened_on=date(2025, 1, 17), closed_on=date(2025, 3, 1)
    )

    with translation.override("en"):
        assert records_named([audit.describe(case)]) == {audit.describe(case): "Case opened Jan 17, 2025"}


def test_a_changed_follow_up_reads_as_labelled_values_in_the_organizations_time(world, settings, time_machine):
    time_machine.move_to(MOMENT - timedelta(days=1), tick=False)
    world.org1.timezone = "America/Chicago"
    world.org1.save()
    world.marcus.exoneree.caseworkers.add(world.caseworker2)
    item = FollowUpFactory(
        exoneree=world.marcus.exoneree, title="SNAP interview", assigned_to=world.caseworker1, due_at=MOMENT
    )
    item.assigned_to = world.caseworker2
    item.due_at = MOMENT + timedelta(minutes=40, microseconds=123456)
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=item)

    with timezone.override("America/Chicago"), translation.override("en"):  # staff pages are English
        [row] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED))

    assert row.record == "Follow-up “SNAP interview”"
    assert row.details == [
        ("When", "Dec 4, 2026 10:50 a.m. → Dec 4, 2026 11:30 a.m."),
        ("Assigned to", "Casey Onewell → Chris Twofold"),
    ]


def test_a_created_record_and_an_encrypted_field_say_what_happened_without_values(world):
    item = FollowUpFactory.build(
        exoneree=world.marcus.exoneree,
        title="Clinic",
        details="private words",
        assigned_to=world.caseworker1,
        shared_with_exoneree=True,
    )
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=item)

    [row] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CREATED))

    details = dict(row.details)
    assert details["Details"] == "added"
    assert details["Assigned to"] == "Casey Onewell"
    assert details["It is their appointment: show it on their plan"] == "yes"
    assert "private words" not in str(row.details)


def test_the_directors_log_shows_no_ids_or_microseconds_and_one_row_per_run(world, opened, login):
    for minutes in range(6):
        opened(world.caseworker1, minutes)
    item = FollowUpFactory(exoneree=world.marcus.exoneree, title="SNAP interview", assigned_to=world.caseworker1)
    before = audit.stored(item)
    item.due_at = item.due_at + timedelta(hours=1, microseconds=5)
    item.save()
    audit.record_change(world.caseworker1, item, before, exoneree=world.marcus.exoneree)

    for name in ("audit_log", "exoneree_access_log"):
        args = [world.marcus.exoneree.pk] if name == "exoneree_access_log" else []
        page = login("director1").get(reverse(name, args=args)).content.decode()
        table = re.sub(r"<[^>]+>", "", page[page.index("<tbody>") : page.index("</tbody>")])  # the words shown

        assert "(6 times," in table
        assert "Follow-up “SNAP interview”" in table
        assert not re.search(r"\d:\d\d:\d\d", table), "a raw time with seconds"
        assert "Caseworkers: Casey Onewell" in table and "[" not in table
        assert f"Follow-up {item.pk}" not in table


def test_pages_of_the_log_are_counted_in_rows_and_never_cut_a_run(world, opened, login, monkeypatch):
    """A run longer than a page was shown as one row on page 1 ("Page 1 of 6") and again atop
    page 2 with the rest of its openings. Pages now count rows: the run is whole on its page."""
    monkeypatch.setattr(director, "AUDIT_PAGE_SIZE", 3)
    opened(world.caseworker2, 0)  # the oldest row
    for minutes in range(1, 8):  # 7 openings, one run: longer than a page of 3
        opened(world.caseworker1, minutes)
    opened(world.director1, 9)  # the newest two rows
    opened(world.caseworker1, 10)
    client = login("director1")

    def rows_of(page: int) -> tuple[list[str], str]:
        # Openings only: the director's own sign-in is an entry too. (The person's access log
        # pages the same way, services.views.director._log_page, but opening it is an opening.)
        html = client.get(reverse("audit_log"), {"page": page, "action": "record_viewed"}).content.decode()
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in body.split("<tr")[1:]], html

    (first, html), (second, _) = rows_of(1), rows_of(2)

    assert len(first) == 3 and "(7 times," in first[2]
    assert len(second) == 1 and "times" not in second[0] and world.caseworker2.get_full_name() in second[0]
    assert "Page 1 of 2" in html and "3 lines" not in html and "4 lines" in html


def test_the_rows_in_sql_are_the_rows_in_python(world, opened):
    """run_heads (what pages count) and group_runs (what a page shows) agree, gap by gap."""
    readers = [world.caseworker1, world.caseworker1, world.caseworker2, world.caseworker1]
    for i, minutes in enumerate((0, 30, 60, 61, 62, 93, 94, 95)):
        opened(readers[i % len(readers)] if i > 3 else world.caseworker1, minutes)
    entries = audit_trail.audit_log(world.org1, action=AuditEvent.Action.RECORD_VIEWED)

    heads = list(run_heads(entries))

    assert [h.pk for h in heads] == [row.entry.pk for row in group_runs(entries)]
    assert len(heads) < entries.count()
    assert rows_from(entries, heads[1:2]) == list(entries.filter(pk__lte=heads[1].pk, pk__gt=heads[2].pk))


def provider_opened(world, minutes_after: float, time_machine) -> None:
    """A provider saw what Marcus agreed to share (through a referral's link: no account)."""
    time_machine.move_to(MOMENT + timedelta(minutes=minutes_after), tick=False)
    marcus = world.marcus.exoneree
    audit.record(AuditEvent.Action.PROVIDER_OPENED, username="Workforce Center", exoneree=marcus, target="Referral")


def test_the_person_sees_one_line_per_reader_per_day_not_every_opening(world, opened, login, time_machine):
    """It read "Casey: 48 times, 11:50 to 11:53", "Workforce Center 3 times at 11:50", Casey once
    at 11:50, Workforce Center "6 times at 11:50": split, interleaved, and alarming (walk)."""
    for second in range(0, 180, 4):  # 45 openings in 3 minutes, a provider's in between
        opened(world.caseworker1, second / 60)
        if second % 40 == 0:
            provider_opened(world, second / 60 + 0.01, time_machine)
    opened(world.caseworker1, DAY + 10)  # the next day

    visits = audit_trail.visits_page(world.marcus.exoneree)["visits"]
    page = login("exoneree1").get(reverse("my_visits")).content.decode()
    words = re.sub(r"<[^>]+>", "", page[page.index("<h1>") : page.index("Should someone")])

    assert [(v["name"], v["start"], v["end"]) for v in visits] == [
        ("Casey Onewell", MOMENT + timedelta(minutes=DAY + 10), MOMENT + timedelta(minutes=DAY + 10)),
        ("Casey Onewell", MOMENT, MOMENT + timedelta(seconds=176)),
        ("Workforce Center", MOMENT + timedelta(seconds=0.6), MOMENT + timedelta(seconds=160.6)),
    ]
    assert "Casey Onewell (caseworker) looked at your file on December 5 at 12:00 p.m." in words
    assert "(caseworker) looked at your file on December 4, between 11:50 a.m. and 11:52 a.m." in words
    assert "Workforce Center saw what you agreed to share with them on December 4, between" in words
    assert words.count("Casey Onewell") == 2 and words.count("Workforce Center") == 1
    assert "times" not in words and ".." not in words  # no count of pages loaded; no "p.m.."


def test_the_plan_reads_the_visits_as_their_page_does(world, opened, login):
    for minutes in (0, 3, 7, 100):
        opened(world.caseworker1, minutes)

    page = login("exoneree1").get(reverse("my_plan")).content.decode()
    section = re.sub(r"<[^>]+>", "", page[page.index("openers-h") : page.index("print-h")])

    assert "(caseworker) looked at your file on December 4, between 11:50 a.m. and 1:30 p.m." in section
    assert section.count("Casey Onewell") == 1 and ".." not in section


def test_the_plan_shows_the_newest_visits_and_links_to_every_one(world, opened, login):
    for visit in range(VISITS_SHOWN + 2):  # each a day apart: one visit each
        opened(world.caseworker1, visit * DAY)
    client = login("exoneree1")
    oldest = "on December 4 at 11:50 a.m."

    plan = client.get(reverse("my_plan")).content.decode()
    section = plan[plan.index("openers-h") : plan.index("print-h")]
    every = client.get(reverse("my_visits")).content.decode()

    every = every[every.index("<h1>") : every.index("Should someone")]
    assert section.count("<li>") == VISITS_SHOWN and oldest not in section
    assert f'<a href="{reverse("my_visits")}">See 2 earlier visits</a>' in section
    assert every.count("<li>") == VISITS_SHOWN + 2 and oldest in every


def test_a_plan_with_more_openings_than_it_reads_says_there_are_more_than_it_counted(world, opened, login, monkeypatch):
    monkeypatch.setattr(audit_trail, "VISITS_READ", 5)
    monkeypatch.setattr(plans, "VISITS_SHOWN", 2)
    for visit in range(12):  # 12 visits, a day apart: the plan reads the newest 5 openings
        opened(world.caseworker1, visit * DAY)
    client = login("exoneree1")

    plan = client.get(reverse("my_plan")).content.decode()
    monkeypatch.setattr(plans, "VISITS_SHOWN", 4)
    fewer_counted = client.get(reverse("my_plan")).content.decode()

    # 4 whole days read (the fifth opening's may go on past them), 2 shown: 10 are earlier
    assert "See more than 2 earlier visits</a>" in plan
    assert "See earlier visits</a>" in fewer_counted and "See more than" not in fewer_counted


def test_a_plan_with_few_visits_links_to_no_other_page(world, opened, login):
    opened(world.caseworker1, 0)

    plan = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert "on December 4 at 11:50 a.m." in plan and reverse("my_visits") not in plan


def test_every_visit_reads_in_spanish_for_a_spanish_speaker(world, opened, login):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    for visit in range(VISITS_SHOWN + 1):
        opened(world.caseworker1, visit * DAY)
    client = login("exoneree1")

    plan = client.get(reverse("my_plan")).content.decode()
    every = client.get(reverse("my_visits")).content.decode()

    assert "Ver 1 visita anterior" in plan
    assert "Quién ha visto su expediente" in every and "Who has looked" not in every


def test_every_visit_is_on_a_page_of_visits_none_twice_and_none_cut(world, opened, login, monkeypatch):
    monkeypatch.setattr(audit_trail, "VISITS_READ", 5)
    for visit in range(4):  # four days of two openings each: 8 openings
        opened(world.caseworker1, visit * DAY)
        opened(world.caseworker1, visit * DAY + 1)
    client = login("exoneree1")

    pages, url = [], reverse("my_visits")
    while url:
        response = client.get(url)
        pages.append([(v["start"], v["times"]) for v in response.context["visits"]])
        earlier = response.context["earlier"]
        url = f"{reverse('my_visits')}?before={earlier}" if earlier else ""

    # 5 openings read: two whole days and the first opening of a third, left whole to the next page
    assert [len(page) for page in pages] == [2, 2]
    assert [visit for page in pages for visit in page] == [
        (MOMENT + timedelta(minutes=days * DAY), 2) for days in (3, 2, 1, 0)
    ]
    assert "Earlier visits" in client.get(reverse("my_visits")).content.decode()


def test_a_day_longer_than_a_page_goes_on_on_the_next_and_says_so(world, opened, login, monkeypatch):
    monkeypatch.setattr(audit_trail, "VISITS_READ", 3)
    opened(world.caseworker1, -DAY)  # the day before
    for minute in range(5):
        opened(world.caseworker1, minute)
    client = login("exoneree1")

    first = audit_trail.visits_page(world.marcus.exoneree)
    second = audit_trail.visits_page(world.marcus.exoneree, before=first["earlier"])
    first_page = client.get(reverse("my_visits")).content.decode()
    second_page = client.get(reverse("my_visits"), {"before": first["earlier"]}).content.decode()

    assert [v["times"] for v in first["visits"]] == [3] and [v["times"] for v in second["visits"]] == [2, 1]
    assert (first["continued_day"], first["continues_day"]) == (None, MOMENT.date())
    assert (second["continued_day"], second["continues_day"], second["earlier"]) == (MOMENT.date(), None, None)
    assert "More visits on December 4 are on the page of earlier visits." in first_page
    assert "December 4, continued from the page of newer visits:" in second_page
    assert "continued" not in first_page and "More visits on" not in second_page
    assert [v["times"] for v in audit_trail.every_visit(world.marcus.exoneree)] == [5, 1]  # the copy: whole days


def test_a_page_that_reads_the_very_first_opening_links_to_no_earlier_page(world, opened, login, monkeypatch):
    monkeypatch.setattr(audit_trail, "VISITS_READ", 4)
    for visit in range(4):  # exactly as many openings as a page reads, a day apart
        opened(world.caseworker1, visit * DAY)

    page = audit_trail.visits_page(world.marcus.exoneree)
    listed = login("exoneree1").get(reverse("my_visits")).content.decode()
    opened(world.caseworker1, 4 * DAY)  # one more: now the first opening is on an earlier page
    with_more = audit_trail.visits_page(world.marcus.exoneree)

    assert len(page["visits"]) == 4 and page["earlier"] is None
    assert "Earlier visits" not in listed and listed.count("Casey Onewell") == 4
    assert len(with_more["visits"]) == 3 and with_more["earlier"] is not None


@pytest.mark.parametrize("before", ["abc", "-1", "1e3", "9" * 40, "١٢"])
def test_a_page_of_visits_that_cannot_exist_is_refused_with_a_reason(world, login, before):
    response = login("exoneree1").get(reverse("my_visits"), {"before": before})

    assert response.status_code == 400
    assert "That page of visits does not exist." in response.content.decode()


def test_a_page_of_visits_before_every_opening_is_empty_and_leads_back(world, opened, login):
    opened(world.caseworker1, 0)

    page = login("exoneree1").get(reverse("my_visits"), {"before": "1"}).content.decode()

    assert "Casey Onewell" not in page and "Newest visits" in page and "Earlier visits" not in page


def test_a_visit_names_a_reader_without_a_full_name_by_username_and_says_what_it_showed(world, opened, time_machine):
    world.caseworker1.first_name = world.caseworker1.last_name = ""
    world.caseworker1.save()
    opened(world.caseworker1, 0)
    time_machine.move_to(MOMENT + timedelta(minutes=1), tick=False)
    audit.record(AuditEvent.Action.SSN_REVEALED, actor=world.director1, exoneree=world.marcus.exoneree, target="SSN")

    visits = audit_trail.visits_page(world.marcus.exoneree)["visits"]

    assert [(v["name"], str(v["role"]), v["ssn"], v["times"]) for v in visits] == [
        (world.director1.get_full_name(), "Director", True, 1),
        (world.caseworker1.username, "Caseworker", False, 1),
    ]


def test_a_run_within_one_minute_reads_as_at_that_minute(world, opened, login):
    for seconds in (0, 10, 20):
        opened(world.caseworker1, seconds / 60)

    page = login("director1").get(reverse("exoneree_access_log", args=[world.marcus.exoneree.pk])).content.decode()
    table = re.sub(r"<[^>]+>", "", page[page.index("<tbody>") : page.index("</tbody>")])

    assert "(3 times at 11:50 a.m.)" in table and "11:50 a.m.–11:50 a.m." not in table


def test_the_person_reads_a_run_within_one_minute_as_at_that_minute(world, opened, login):
    """It read "3 times on December 4, 2026, 11:50 a.m. to 11:50 a.m." (walk)."""
    for seconds in (0, 10, 20):
        opened(world.caseworker1, seconds / 60)
    client = login("exoneree1")

    english = client.get(reverse("my_visits")).content.decode()
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    spanish = client.get(reverse("my_visits")).content.decode()

    assert "(caseworker) looked at your file on December 4 at 11:50 a.m.</li>" in english
    assert "vio su expediente el 4 de diciembre a las 11:50.</li>" in spanish
    assert "11:50 y las 11:50" not in spanish


def test_what_a_reader_did_runs_on_into_when_without_a_colon(world, opened, login, time_machine):
    """It read "…downloaded one of your papers: on December 4…" (walk); now what they did follows when."""
    time_machine.move_to(MOMENT, tick=False)
    audit.record(
        AuditEvent.Action.DOCUMENT_DOWNLOADED, actor=world.caseworker1, exoneree=world.marcus.exoneree, target="Paper"
    )

    page = login("exoneree1").get(reverse("my_visits")).content.decode()

    when = "on December 4 at 11:50 a.m."
    assert f"(caseworker) looked at your file {when} They downloaded papers from your file.</li>" in page


def caseworker_wrote(world, action: str, target: str, changes: dict) -> None:
    """An entry of Marcus's caseworker's about his record, with what it changed."""
    audit.record(action, actor=world.caseworker1, exoneree=world.marcus.exoneree, target=target, changes=changes)


def test_a_consents_kinds_read_as_words_and_a_papers_storage_is_left_out(world):
    """The log showed "['contact', 'housing'], ['contact']" and a paper's storage name and key (walk)."""
    caseworker_wrote(
        world,
        AuditEvent.Action.RECORD_CHANGED,
        "Consent 1",
        {
            "categories": [["contact", "housing"], ["contact"]],
            "storage_name": "documents/92/x.sealed",
            "data_key": "set",
            "file_id": [None, "92b2"],
        },
    )

    caseworker_wrote(  # a consent made: no kinds before (as the demo's history keeps it)
        world,
        AuditEvent.Action.RECORD_CREATED,
        "Consent 2",
        {"categories": [None, ["medical"]], "kinds": [["a", ["b"]], "c", None]},
    )

    [row] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED))
    [made] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CREATED))

    assert row.details == [("Categories", "Contact details, Housing → Contact details")]
    assert sorted(made.details) == [("Categories", "Medical"), ("Kinds", "a, b, c, —")]  # PostgreSQL orders keys


def test_an_assessments_scores_read_by_area_before_and_after(world):
    """The log showed "Score income: —, 1" and "Score childrens education: 2, 3"."""
    caseworker_wrote(
        world,
        AuditEvent.Action.RECORD_CHANGED,
        "Assessment 1",
        {"score income": [None, 1], "score childrens_education": [2, 3]},
    )

    [row] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED))

    assert sorted(row.details) == [("Score: Children's education", "2 → 3"), ("Score: Income", "1")]


def test_records_within_words_are_named_and_account_changes_read_before_and_after(world, login):
    marcus = world.marcus.exoneree
    audit.record(
        AuditEvent.Action.EXPORTED,
        actor=world.caseworker1,
        exoneree=marcus,
        target=f"Plan of {audit.describe(marcus)} (PDF)",
    )
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=world.director1,
        target="Staff account nia@org1",
        changes={"role": [None, "caseworker"], "is_active": [True, False], "title": ["", "Peer mentor"]},
    )
    moment = "2026-12-04 16:50:00+00:00"
    audit.record(
        AuditEvent.Action.RECORD_CHANGED,
        actor=world.caseworker1,
        exoneree=marcus,
        target=audit.describe(world.marcus.referral),
        changes={"status_changed_at": [moment, "2026-12-04 16:50:09+00:00"], "status": ["draft", "sent"]},
    )

    exported, account, changed = log_rows(AuditEvent.objects.order_by("-pk")[:3])[::-1]

    assert exported.record == f"Plan of {marcus.display_name} (PDF)"
    assert dict(account.details) == {"Role": "Caseworker", "Is active": "yes → no", "Title": "Peer mentor"}
    assert dict(changed.details) == {"Status": "Draft → Sent"}  # a time moved by seconds says nothing


def test_a_change_between_two_names_that_read_alike_stays_in_the_log(world):
    twin = StaffFactory(organization=world.org1, user__first_name="Casey", user__last_name="Onewell").user
    item = FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1)
    before = audit.stored(item)
    item.assigned_to = twin
    item.save()
    audit.record_change(world.caseworker1, item, before, exoneree=world.marcus.exoneree)

    [row] = log_rows(AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED).order_by("-pk")[:1])

    assert dict(row.details)["Assigned to"] == "Casey Onewell → Casey Onewell"  # two people: kept


def test_a_wrong_codes_step_reads_once_in_its_row(world, login):
    """It was both the record and the detail: "Step: one-time code" twice on one row."""
    audit.record(
        AuditEvent.Action.SIGN_IN_FAILED,
        username="caseworker2",
        organization_id=world.org1.pk,
        target="Step: one-time code",
        changes={"step": "one-time code"},
    )

    response = login("director1").get(reverse("audit_log"), {"action": AuditEvent.Action.SIGN_IN_FAILED})

    row = response.context["rows"][0]
    assert (row.record, row.details) == ("Step: one-time code", [])
    assert response.content.decode().count("Step: one-time code") == 1


def test_a_long_log_is_counted_only_a_few_pages_past_the_one_asked_for(world, opened, login, monkeypatch):
    """Counting every row meant reading the whole filtered log (where each row begins is a
    window over it): about a second a page for a large organization. It is counted only as far
    as AHEAD_PAGES past the page asked for, and the page says there is more."""
    monkeypatch.setattr(director, "AUDIT_PAGE_SIZE", 1)
    monkeypatch.setattr(paging, "AHEAD_PAGES", 2)
    readers = [world.caseworker1, world.caseworker2]
    for minutes in range(6):  # six rows: each opening by another reader than the one before
        opened(readers[minutes % 2], minutes)
    client = login("director1")

    def page(number: int | str) -> str:
        return client.get(reverse("audit_log"), {"page": number, "action": "record_viewed"}).content.decode()

    first, fourth, last, past = page(1), page(4), page(6), page(99)

    assert "Page 1 of more than 3" in first and "More than 3 lines" in first and "Next →" in first
    assert "Page 4 of 6" in fourth and "6 lines" in fourth  # counted to the end: exact again
    assert "Page 6 of 6" in last and "Next →" not in last
    assert "Page 6 of 6" in past  # past the end: the last page, as before
    assert "Page 1 of more than 3" in page("x") and "Page 6 of 6" in page(10**30)


def test_look_ahead_paginator_counts_no_further_than_it_must(db, monkeypatch):
    monkeypatch.setattr(paging, "AHEAD_PAGES", 2)
    counted = paging.LookAheadPaginator(list(range(100)), 10, asked="2")
    assert (counted.count, counted.counted_all, counted.num_pages) == (40, False, 4)
    assert paging.LookAheadPaginator(list(range(25)), 10, asked=None).counted_all
    assert paging.asked_page("-3") == 1 and paging.asked_page(10**30) == paging.LAST_PAGE_ASKED


def test_a_long_value_shows_its_start_in_the_row_and_the_whole_in_a_fold_and_the_csv(world, login):
    """A resource's 10,000-character description filled one row of Details (walk)."""
    long = "word " * 2000
    audit.record(
        AuditEvent.Action.RECORD_CHANGED,
        actor=world.director1,
        target="Resource 1",
        changes={"description": ["Short", long], "name": ["Food bank", "Food pantry"]},
    )
    director1 = login("director1")

    page = director1.get(reverse("audit_log"), {"action": AuditEvent.Action.RECORD_CHANGED}).content.decode()

    start = f"Short → {long}"[:199] + "…"
    assert f'<summary><span class="short">{start}</span>' in page
    assert page.count(long) == 1 and f"</summary>Short → {long}</details>" in page  # the fold holds it whole
    assert "Food bank → Food pantry" in page  # a short one as it was
    csv = b"".join(director1.get(reverse("audit_log"), {"format": "csv"}).streaming_content).decode()
    assert long.strip() in csv


def test_a_new_version_of_a_paper_says_what_it_replaces_in_words(world, login, time_machine):
    """The detail read "Replaces: 11", an id no director can check; the old version's title is
    encrypted (the log says only "Title: added") and stays out of it."""
    time_machine.move_to(datetime(2026, 3, 2, 18, tzinfo=UTC), tick=False)
    old = documents.document_upload(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        document=Document(kind=DocumentKind.STATE_ID, title="QZXoldtitle"),
        content=uploads.clean(sample_files.pdf()),
    )
    time_machine.move_to(datetime(2026, 3, 4, 18, tzinfo=UTC), tick=False)
    new = documents.document_upload(
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        document=Document(kind=DocumentKind.STATE_ID),
        content=uploads.clean(sample_files.pdf()),
        replaces=old,
    )

    page = login("director1").get(reverse("exoneree_access_log", args=[world.marcus.exoneree.pk]))

    html = unescape(page.content.decode())
    assert "Replaces: State ID or driver's license added Mar 2, 2026" in html
    assert f"Replaces: {old.pk}" not in html
    assert "QZXoldtitle" not in html
    created = AuditEvent.objects.get(action=AuditEvent.Action.RECORD_CREATED, target=audit.describe(new))
    assert created.changes["replaces"] == [None, old.pk]  # the log keeps the id; only the page words it
