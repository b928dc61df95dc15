"""The access log: one entry per thing done, a chain that shows tampering, and who may read it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, models, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from services import audit, audit_anchor
from services.actions import people
from services.audit import GENESIS, entry_hash
from services.auth import account_named
from services.management.commands import verify_audit
from services.models.audit import AuditEvent, AuditLogIsAppendOnly
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.people import Exoneree
from services.selectors import audit_chain
from services.selectors.audit_trail import failed_sign_ins_of
from tests.factories import StaffFactory
from tests.test_cases import error_beside

Action = AuditEvent.Action


def entries_since(first_new_pk: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=first_new_pk).order_by("pk"))


def last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def only_entry_since(start: int) -> AuditEvent:
    entries = entries_since(start)
    assert len(entries) == 1, [(e.action, e.target) for e in entries]
    return entries[0]


# --- every action leaves exactly one entry ------------------------------------------------------


def test_opening_a_person_is_one_entry_per_page(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    start = last_pk()

    assert client.get(marcus.get_absolute_url()).status_code == 200

    entry = only_entry_since(start)
    assert (entry.action, entry.actor, entry.exoneree, entry.organization) == (
        Action.RECORD_VIEWED,
        world.caseworker1,
        marcus,
        world.org1,
    )
    assert entry.target == f"Exoneree {marcus.pk}"
    assert entry.ip_address == "127.0.0.1"


@pytest.mark.parametrize("record", ["referral", "assessment"])
def test_opening_a_record_under_a_person_names_the_record(login, world, record):
    obj = getattr(world.marcus, record)
    client = login("director1")  # a director's reading is logged like anyone's
    start = last_pk()

    assert client.get(reverse(f"{record}_detail", args=[obj.pk])).status_code == 200

    entry = only_entry_since(start)
    assert entry.action == Action.RECORD_VIEWED
    assert entry.actor == world.director1
    assert entry.exoneree == world.marcus.exoneree
    assert entry.target == f"{obj._meta.verbose_name.capitalize()} {obj.pk}"


def test_a_refused_opening_leaves_no_entry(login, world):
    client = login("caseworker2")
    start = last_pk()

    assert client.get(world.marcus.exoneree.get_absolute_url()).status_code == 404

    assert entries_since(start) == []


def test_revealing_the_ssn_is_one_entry(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    start = last_pk()

    client.post(reverse("exoneree_ssn_reveal", args=[marcus.pk]))

    entry = only_entry_since(start)
    assert (entry.action, entry.actor, entry.exoneree) == (Action.SSN_REVEALED, world.caseworker1, marcus)
    assert marcus.ssn not in json.dumps(entry.changes) + entry.target


def test_signing_in_and_out_and_failing_are_entries(client, world):
    start = last_pk()
    client.post(reverse("login"), {"username": "caseworker1", "password": "wrong password"})
    failed = only_entry_since(start)
    assert (failed.action, failed.actor, failed.username, failed.organization) == (
        Action.SIGN_IN_FAILED,
        None,
        "caseworker1",
        world.org1,
    )
    assert "wrong password" not in json.dumps(failed.changes)

    start = last_pk()
    world.caseworker1.set_password("the right password 1")
    world.caseworker1.save()
    device = TOTPDevice.objects.create(user=world.caseworker1, name="Authenticator app", confirmed=True)
    client.post(reverse("login"), {"username": "caseworker1", "password": "the right password 1"})
    password = only_entry_since(start)
    assert (password.action, password.actor) == (Action.PASSWORD_ACCEPTED, world.caseworker1)

    start = last_pk()
    client.post(reverse("two_factor_verify"), {"code": f"{totp(device.bin_key):06d}"})
    signed_in = only_entry_since(start)
    assert (signed_in.action, signed_in.actor) == (Action.SIGNED_IN, world.caseworker1)

    start = last_pk()
    client.post(reverse("logout"))
    assert only_entry_since(start).action == Action.SIGNED_OUT


def test_a_failed_sign_in_typed_with_capitals_belongs_to_the_accounts_organization(client, world):
    """A phone capitalizing the first letter signs in as the account (services.auth), so its
    failures are that account's too, where the director reads them."""
    start = last_pk()
    client.post(reverse("login"), {"username": " Caseworker1 ", "password": "wrong password"})

    entry = only_entry_since(start)
    assert (entry.action, entry.username, entry.organization) == (Action.SIGN_IN_FAILED, "Caseworker1", world.org1)


def test_a_failed_sign_in_with_an_unknown_name_belongs_to_no_organization(client, world):
    start = last_pk()
    client.post(reverse("login"), {"username": "nobody-here", "password": "whatever"})

    entry = only_entry_since(start)
    assert (entry.action, entry.username, entry.organization) == (Action.SIGN_IN_FAILED, "nobody-here", None)


def failed_sign_ins_shown(director: Any, staff: Any) -> list[str]:
    """The usernames of the failed sign-ins the director's log lists for this staff member."""
    response = director.get(reverse("audit_log"), {"staff": staff.pk, "action": Action.SIGN_IN_FAILED})
    assert response.status_code == 200
    return [row.entry.username for row in response.context["rows"]]


def test_filtering_by_a_staff_member_finds_their_failed_sign_ins(client, login, world):
    """The walkthrough: a failed sign-in keeps the username typed, not the account, and the
    filter by staff member hid caseworker2's wrong password and wrong code from the director."""
    world.caseworker2.set_password("the right password 2")
    world.caseworker2.save()
    TOTPDevice.objects.create(user=world.caseworker2, name="Authenticator app", confirmed=True)
    start = last_pk()
    stranger = Client()
    stranger.post(reverse("login"), {"username": "Caseworker2", "password": "wrong"})  # a phone's capital
    stranger.post(reverse("login"), {"username": "caseworker1", "password": "wrong"})  # a colleague
    stranger.post(reverse("login"), {"username": "nobody-here", "password": "wrong"})
    stranger.post(reverse("login"), {"username": "caseworker2", "password": "the right password 2"})
    stranger.post(reverse("two_factor_verify"), {"code": "654321x"})  # never a code

    director = login("director1")

    assert failed_sign_ins_shown(director, world.caseworker2) == ["caseworker2", "Caseworker2"]
    assert failed_sign_ins_shown(director, world.caseworker1) == ["caseworker1"]
    # Unfiltered by action, her entries since: the failures and the password that passed.
    rows = director.get(reverse("audit_log"), {"staff": world.caseworker2.pk}).context["rows"]
    assert [row.entry.action for row in rows if row.entry.pk > start] == [
        Action.SIGN_IN_FAILED,
        Action.PASSWORD_ACCEPTED,
        Action.SIGN_IN_FAILED,
    ]


def test_a_username_typed_as_another_account_is_named_is_that_accounts_failure(client, login, world):
    """As the sign-in reads it (services.auth.account_named): an account named exactly as typed
    comes first, so its failures are not those of the account in small letters."""
    capitals = StaffFactory(user__username="CaseWorker2", organization=world.org1).user
    Client().post(reverse("login"), {"username": "CaseWorker2", "password": "wrong"})
    Client().post(reverse("login"), {"username": "caseworker2", "password": "wrong"})

    director = login("director1")

    assert failed_sign_ins_shown(director, world.caseworker2) == ["caseworker2"]
    assert failed_sign_ins_shown(director, capitals) == ["CaseWorker2"]


def test_reassigning_a_caseload_is_one_entry_naming_before_and_after(login, world):
    marcus = world.marcus.exoneree
    client = login("director1")
    start = last_pk()

    response = client.post(reverse("caseload_edit", args=[marcus.pk]), {"caseworkers": [world.caseworker2.pk]})

    assert response.status_code == 302
    entry = only_entry_since(start)
    assert entry.action == Action.CASELOAD_REASSIGNED
    assert entry.exoneree == marcus
    assert entry.changes == {"caseworkers": [[world.caseworker1.get_full_name()], [world.caseworker2.get_full_name()]]}


def test_changing_a_staff_role_is_one_entry(login, world):
    member = world.caseworker2.staff
    for follow_up in world.thomas.exoneree.follow_ups.all():
        follow_up.assigned_to = world.caseworker1
        follow_up.save()
    world.thomas.exoneree.caseworkers.clear()
    world.thomas.exoneree.user_permissions.all().delete()
    client = login("director1")
    start = last_pk()

    response = client.post(
        reverse("staff_edit", args=[member.pk]),
        {
            "first_name": "Test",
            "last_name": "Colleague",
            "email": member.user.email,
            "role": "director",
            "title": "Deputy",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:1000]
    entry = only_entry_since(start)
    assert entry.action == Action.PERMISSION_CHANGED
    assert entry.changes["role"] == ["caseworker", "director"]


def test_a_change_names_plain_fields_from_what_to_what_and_encrypted_ones_only_as_changed(login, world):
    need = world.marcus.need
    old_description = need.description
    client = login("caseworker1")
    start = last_pk()

    response = client.post(
        reverse("need_edit", args=[need.pk]),
        {
            "domain": need.domain,
            "description": "A new private description",
            "own_words": need.own_words,
            "priority": "urgent",
            "opened_on": need.opened_on.isoformat(),
        },
    )

    assert response.status_code == 302
    entry = only_entry_since(start)
    assert entry.action == Action.RECORD_CHANGED
    assert entry.changes == {"description": "changed", "priority": [need.priority, "urgent"]}
    stored = json.dumps(entry.changes) + entry.target
    assert "A new private description" not in stored
    assert old_description not in stored


def test_exporting_the_log_is_itself_an_entry(login, world):
    client = login("director1")
    client.get(world.marcus.exoneree.get_absolute_url())
    start = last_pk()

    response = client.get(reverse("audit_log"), {"action": Action.RECORD_VIEWED, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["When", "Who", "What"]
    assert [row[2] for row in rows[1:]] == ["Opened a record"]
    entry = only_entry_since(start)
    assert entry.action == Action.EXPORTED
    assert entry.changes == {"filters": {"action": Action.RECORD_VIEWED}}


# --- append-only and the chain ------------------------------------------------------------------


def test_the_app_cannot_change_or_delete_an_entry(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    entry = AuditEvent.objects.latest("pk")

    entry.target = "something else"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=entry.pk).update(target="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()


def make_entries(login, world, n: int = 5) -> list[AuditEvent]:
    client = login("caseworker1")
    for _ in range(n):
        client.get(world.marcus.exoneree.get_absolute_url())
    return list(AuditEvent.objects.order_by("pk"))


def test_every_entry_is_chained_to_the_one_before(login, world):
    entries = make_entries(login, world)

    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(entry_hash(entry) == entry.hash for entry in entries)
    call_command("verify_audit", stdout=io.StringIO())


def test_an_entry_with_any_text_hashes_as_verify_audit_recomputes_it(world):
    """On PostgreSQL the database hashes the entry; the text must be the one Python hashes."""
    odd = 'Zoë "the" \\ back\nslash, 🙂 O\'Brien'
    entry = audit.record(
        Action.RECORD_CHANGED,
        actor=world.caseworker1,
        exoneree=world.marcus.exoneree,
        target=odd,
        changes={"zeta": [1, 2.5, None, True], "alpha": {"nested": odd}, "Ä": ""},
        ip_address="2001:db8::1",
    )

    stored = AuditEvent.objects.get(pk=entry.pk)
    assert stored.hash == entry.hash == entry_hash(stored)
    assert stored.prev_hash == entry.prev_hash
    call_command("verify_audit", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serializes writers at BEGIN")
@pytest.mark.django_db(transaction=True)
def test_writers_at_the_same_time_never_chain_to_the_same_entry(world):
    from django.db import connections

    start = last_pk()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with transaction.atomic():
                    audit.record(Action.SIGNED_IN, username=f"writer-{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    entries = entries_since(start)
    assert len(entries) == 40
    assert len({entry.prev_hash for entry in entries}) == 40
    call_command("verify_audit", stdout=io.StringIO())


def raw(sql: str, params: list[object]) -> None:
    """SQL behind the app's back; on PostgreSQL with triggers off, as a database superuser
    could do."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_a_row_changed_in_the_database_is_found_and_named(login, world):
    entries = make_entries(login, world)
    victim = entries[2]

    raw("UPDATE services_auditevent SET username = %s WHERE id = %s", ["someone-else", victim.pk])

    with pytest.raises(CommandError, match=f"Entry {victim.pk} .* was changed"):
        call_command("verify_audit", stdout=io.StringIO())


def test_a_row_deleted_in_the_database_is_found_and_named(login, world):
    entries = make_entries(login, world)
    victim, next_one = entries[2], entries[3]

    raw("DELETE FROM services_auditevent WHERE id = %s", [victim.pk])

    with pytest.raises(CommandError, match=f"Entry {next_one.pk} .* does not follow entry {entries[1].pk}"):
        call_command("verify_audit", stdout=io.StringIO())


def test_a_rewritten_row_with_a_recomputed_hash_still_breaks_the_chain(login, world):
    entries = make_entries(login, world)
    victim = entries[1]
    victim.username = "forged"
    forged_hash = entry_hash(victim)

    raw("UPDATE services_auditevent SET username = %s, hash = %s WHERE id = %s", ["forged", forged_hash, victim.pk])

    with pytest.raises(CommandError, match=f"Entry {entries[2].pk} .* does not follow entry {victim.pk}"):
        call_command("verify_audit", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    ["UPDATE services_auditevent SET username = 'x'", "DELETE FROM services_auditevent"],
    ids=["update", "delete"],
)
def test_postgresql_refuses_update_and_delete(login, world, sql):
    make_entries(login, world, n=1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)

    assert AuditEvent.objects.exclude(username="x").count() == AuditEvent.objects.count() > 0


# --- who reads the log --------------------------------------------------------------------------


def test_director_two_sees_nothing_of_organization_one(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    login("caseworker3").get(world.anita.exoneree.get_absolute_url())

    page = login("director2").get(reverse("audit_log")).content.decode()

    assert world.anita.exoneree.display_name in page
    assert world.marcus.exoneree.display_name not in page
    assert "caseworker1" not in page


def test_the_log_filters_by_staff_member_person_action_and_dates(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    login("caseworker2").get(world.thomas.exoneree.get_absolute_url())
    client = login("director1")

    def shown(**filters: object) -> list[AuditEvent]:
        response = client.get(reverse("audit_log"), filters)
        assert response.status_code == 200
        return list(response.context["page"])

    by_caseworker1 = shown(staff=world.caseworker1.pk, action=Action.RECORD_VIEWED)
    assert {e.exoneree for e in by_caseworker1} == {world.marcus.exoneree}
    assert {e.exoneree for e in shown(person="Thomas", action=Action.RECORD_VIEWED)} == {world.thomas.exoneree}
    # The person is found as on People: accents and case ignored.
    assert {e.exoneree for e in shown(person="THÓMAS", action=Action.RECORD_VIEWED)} == {world.thomas.exoneree}
    assert shown(**{"from": "2000-01-01", "to": "2000-01-31"}) == []
    # Today in the organization's zone, as the log reads its dates (not the machine's: in the
    # evening in New York, UTC is already on the next day).
    today = timezone.localdate(timezone=ZoneInfo(world.org1.timezone))
    assert len(shown(**{"from": today.isoformat()})) >= 2


def test_bad_dates_in_the_filter_are_a_400_beside_the_field(login, world):
    response = login("director1").get(reverse("audit_log"), {"from": "2026-02-30", "to": "1700-01-01"})

    assert response.status_code == 400
    assert error_beside(response, "from")
    assert error_beside(response, "to")
    assert list(response.context["page"]) == []  # an unreadable filter shows nothing, not everything


def test_a_refused_filter_says_why_nothing_is_shown_and_offers_no_download(login, world):
    """It said "0 lines" and offered "Download these entries (CSV)", which only came back to the
    same page: a director read that nothing had happened in the period."""
    client = login("director1")
    response = client.get(reverse("audit_log"), {"from": "2026-12-10", "to": "2026-12-01"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "The end of the period cannot be before its start." in error_beside(response, "to")
    assert "No entries are shown until the filter is corrected: see the message beside it." in page
    assert "0 lines" not in page and "format=csv" not in page
    assert "format=csv" in client.get(reverse("audit_log"), {"from": "2026-12-01"}).content.decode()


def test_the_dates_read_as_on_the_outcomes_page_and_a_link_saved_with_their_old_names_still_works(login, world):
    """The log's dates were "start" and "end" in the address, the outcomes page's "from" and
    "to": both read "From" and "To" now, and a saved link still filters the same."""
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    client = login("director1")
    today = timezone.localdate(timezone=ZoneInfo(world.org1.timezone))
    yesterday = (today - timedelta(days=1)).isoformat()

    page = client.get(reverse("audit_log")).content.decode()
    old = client.get(reverse("audit_log"), {"start": "2000-01-01", "end": "2000-01-31"})
    old_today = client.get(reverse("audit_log"), {"start": today.isoformat()})
    both = client.get(reverse("audit_log"), {"from": today.isoformat(), "start": "2000-01-01", "end": "2000-01-31"})
    refused = client.get(reverse("audit_log"), {"start": today.isoformat(), "end": yesterday})

    assert '<label for="id_from">From</label>' in page and '<label for="id_to">To</label>' in page
    assert 'name="start"' not in page and 'name="end"' not in page
    assert old.status_code == 200 and list(old.context["page"]) == []
    assert old.context["form"]["from"].value() == "2000-01-01"  # shown in the new boxes
    assert len(old_today.context["page"]) >= 1
    assert list(both.context["page"]) == []  # "from" given: "start" is not read for it
    assert refused.status_code == 400 and "cannot be before its start" in error_beside(refused, "to")


def test_an_export_names_its_dates_as_the_address_does(login, world):
    client = login("director1")
    start = last_pk()

    client.get(reverse("audit_log"), {"start": "2030-01-01", "to": "2030-01-31", "format": "csv"})

    entry = only_entry_since(start)
    assert entry.changes == {"filters": {"from": "2030-01-01", "to": "2030-01-31"}}


def test_an_export_is_named_for_its_period_and_filters_never_a_name(login, world):
    """It was access-log-<today>.csv whatever the filters: two different downloads, one name."""
    client = login("director1")
    today = timezone.localdate()

    def name(**params: Any) -> str:
        response = client.get(reverse("audit_log"), {**params, "format": "csv"})
        return response["Content-Disposition"].removeprefix('attachment; filename="').removesuffix('"')

    assert name(**{"from": "2030-01-01", "to": "2030-01-31"}) == "access-log_2030-01-01_2030-01-31.csv"
    assert name(**{"from": "2030-01-01"}) == f"access-log_2030-01-01_{today:%Y-%m-%d}.csv"
    assert name() == f"access-log_start_{today:%Y-%m-%d}.csv"
    staff_named = name(staff=world.caseworker1.pk, action="record_viewed", person="Marcus")
    assert (
        staff_named == f"access-log_start_{today:%Y-%m-%d}_record_viewed_staff-{world.caseworker1.pk}_person-search.csv"
    )
    assert "Marcus" not in staff_named


def test_the_exoneree_sees_who_opened_their_file(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    login("director1").get(world.marcus.exoneree.get_absolute_url())
    login("director2").get(world.marcus.exoneree.get_absolute_url())  # 404: not logged

    page = login("exoneree1").get(reverse("my_plan")).content.decode()

    section = page[page.index("Who has looked at your file") :]
    assert world.caseworker1.get_full_name() in section
    assert world.director1.get_full_name() in section
    assert world.director2.get_full_name() not in section
    assert "127.0.0.1" not in section  # names and roles, not internal details


# --- what the review found ----------------------------------------------------------------------


def test_a_formula_typed_as_a_username_is_not_a_formula_in_the_export(client, login, world):
    client.post(reverse("login"), {"username": '=HYPERLINK("http://evil.example","x")', "password": "p"})
    # A username naming no account belongs to no organization: make it one of org1's.
    director = login("director1")
    world.caseworker1.username = '=HYPERLINK("http://evil.example","x")'
    world.caseworker1.save()
    client.post(reverse("login"), {"username": world.caseworker1.username, "password": "wrong"})

    response = director.get(reverse("audit_log"), {"action": Action.SIGN_IN_FAILED, "format": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][1] == "'" + world.caseworker1.username  # Who: the username typed, defused


def test_saving_an_entry_again_under_its_id_is_refused(login, world):
    login("caseworker1").get(world.marcus.exoneree.get_absolute_url())
    entry = AuditEvent.objects.latest("pk")
    copy = AuditEvent(**{f.attname: getattr(entry, f.attname) for f in AuditEvent._meta.concrete_fields})
    copy.target = "rewritten"

    with pytest.raises(AuditLogIsAppendOnly):
        copy.save()

    assert AuditEvent.objects.get(pk=entry.pk).target == entry.target


@pytest.mark.parametrize(
    ("hops", "remote", "forwarded", "logged"),
    [
        (0, "2001:DB8::1", "", "2001:db8::1"),  # canonical form, so the hash survives the column
        (0, "not-an-address", "", None),
        (1, "10.0.0.5", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the client's own claim is ignored
    ],
)
def test_the_address_logged_is_the_clients_as_far_as_our_proxies_say(
    settings, login, world, hops, remote, forwarded, logged
):
    settings.TRUSTED_PROXY_HOPS = hops
    client = login("caseworker1")
    headers = {"REMOTE_ADDR": remote, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})}

    client.get(world.marcus.exoneree.get_absolute_url(), **headers)

    entry = AuditEvent.objects.latest("pk")
    assert entry.ip_address == logged
    call_command("verify_audit", stdout=io.StringIO())


def test_a_deactivated_staff_members_failed_sign_in_shows_in_their_organization(client, world):
    world.caseworker1.is_active = False
    world.caseworker1.save()
    start = last_pk()

    client.post(reverse("login"), {"username": "caseworker1", "password": "anything"})

    assert only_entry_since(start).organization == world.org1


def test_a_duplicate_warning_about_a_record_one_cannot_see_is_logged_against_it(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker2")
    start = last_pk()

    client.post(
        reverse("exoneree_create"),
        {
            "legal_name": "Probe Person",
            "preferred_language": "en",
            "contact_preference": "in_person",
            "reminder_channel": "email",
            "ssn": marcus.ssn,
        },
    )

    entry = only_entry_since(start)
    assert (entry.action, entry.actor, entry.exoneree) == (Action.DUPLICATE_WARNING, world.caseworker2, marcus)


def test_an_edit_records_only_what_it_saved(world):
    from services.models.people import Exoneree

    marcus = Exoneree.objects.get(pk=world.marcus.exoneree.pk)  # loaded with the login linked
    Exoneree.objects.filter(pk=marcus.pk).update(user=None)  # meanwhile, elsewhere
    old_pronouns = marcus.pronouns
    marcus.pronouns = "they/them"
    start = last_pk()

    people.exoneree_update(by=world.caseworker1, exoneree=marcus)

    entry = only_entry_since(start)
    assert entry.changes == {"pronouns": [old_pronouns, "they/them"]}


def test_a_snapshot_holds_every_value_but_the_key_the_derived_columns_and_the_save_time(world):
    """The blind indexes and folded names only repeat the fields they are made from."""
    marcus = Exoneree.objects.get(pk=world.marcus.exoneree.pk)

    values = audit.snapshot(marcus)

    derived = {"ssn_index", "name_dob_index", "phone_index", "legal_name_folded", "preferred_name_folded"}
    left_out = {"id", *derived, "updated_at"}
    assert set(values) == {f.attname for f in Exoneree._meta.concrete_fields} - left_out
    assert (values["ssn"], values["organization_id"], values["created_at"]) == (
        "900123456",
        world.org1.pk,
        marcus.created_at,
    )
    assert audit.snapshot(None) == {}
    marcus.pronouns = "they/them"
    assert audit.stored(marcus)["pronouns"] != "they/them"  # the row as saved, not the object


def test_a_creation_lists_a_box_ticked_and_leaves_out_one_left_empty(world):
    ticked = {"shared_with_exoneree": True, "title": "Visit"}
    left = {"shared_with_exoneree": False, "title": "Visit"}

    assert audit.changes_between(FollowUp, {}, ticked) == {
        "shared_with_exoneree": [None, True],
        "title": [None, "Visit"],
    }
    assert audit.changes_between(FollowUp, {}, left) == {"title": [None, "Visit"]}


def test_a_creation_lists_the_values_given_and_a_change_the_values_changed(world):
    need = Need.objects.get(pk=world.marcus.need.pk)
    need.closed_on = None
    values = audit.snapshot(need)
    plain = {name: [None, value] for name, value in values.items() if value not in (None, "", False, [])}
    plain = {name.removesuffix("_id"): [None, str(v) if isinstance(v, date) else v] for name, (_, v) in plain.items()}

    assert audit.changes_between(Need, {}, values) == plain | {"description": "set"}
    assert plain["opened_on"] == [None, need.opened_on.isoformat()] and "closed_on" not in plain
    after = values | {"priority": "urgent", "description": "New words", "closed_on": date(2026, 1, 2)}
    assert audit.changes_between(Need, values, after) == {
        "priority": [need.priority, "urgent"],
        "description": "changed",
        "closed_on": [None, "2026-01-02"],
    }
    assert audit.changes_between(Need, after, values) == {
        "priority": ["urgent", need.priority],
        "description": "changed",
        "closed_on": ["2026-01-02", None],  # emptied: a change like any other
    }


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (None, None),
        (True, True),
        (False, False),
        (0, 0),
        (2.5, 2.5),
        ("text", "text"),
        (date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_a_value_is_logged_as_json_keeps_it_or_as_its_text(value, kept):
    assert audit._plain(value) == kept and type(audit._plain(value)) is type(kept)


def test_a_recorded_change_names_what_the_save_wrote_and_whether_it_created_the_record(world):
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    need = Need.objects.get(pk=world.marcus.need.pk)
    before = audit.snapshot(need)
    start = last_pk()

    audit.record_change(world.caseworker1, need, before, exoneree=marcus)
    assert entries_since(start) == []  # nothing changed: no entry
    audit.record_change(world.caseworker1, need, before, exoneree=marcus, extra={"file": "replaced"})
    need.priority, need.status, need.exoneree = "urgent", "met", thomas
    audit.record_change(world.caseworker1, need, before, exoneree=marcus, fields=["priority", "exoneree"])
    audit.record_change(world.caseworker2, need, {}, exoneree=thomas, fields=["priority"], extra={"from": "x"})

    assert [(e.action, e.actor, e.exoneree, e.target, e.changes) for e in entries_since(start)] == [
        (Action.RECORD_CHANGED, world.caseworker1, marcus, f"Need {need.pk}", {"file": "replaced"}),
        (
            Action.RECORD_CHANGED,
            world.caseworker1,
            marcus,
            f"Need {need.pk}",
            {"priority": [before["priority"], "urgent"], "exoneree": [marcus.pk, thomas.pk]},  # not the status
        ),
        (
            Action.RECORD_CREATED,
            world.caseworker2,
            thomas,
            f"Need {need.pk}",
            {"priority": [None, "urgent"], "from": "x"},
        ),
    ]


def test_an_entry_takes_its_name_and_organization_from_what_it_is_given(world):
    def entry(**kwargs: object) -> tuple[object, ...]:
        saved = AuditEvent.objects.get(pk=audit.record(Action.SIGNED_IN, **kwargs).pk)
        return (saved.username, saved.organization_id, saved.target)

    assert entry() == ("", None, "")
    assert entry(actor=world.caseworker3) == ("caseworker3", world.org2.pk, "")
    assert entry(actor=world.caseworker3, username="typed") == ("typed", world.org2.pk, "")
    assert entry(exoneree=world.marcus.exoneree) == ("", world.org1.pk, "")
    assert entry(username="u" * 200, target="t" * 300) == ("u" * 150, None, "t" * 200)  # the columns' lengths


@pytest.mark.parametrize(("method", "logged"), [("GET", True), ("HEAD", True), ("POST", False)])
def test_an_opening_is_logged_for_a_page_read_once_per_request(world, method, logged):
    marcus, referral = world.marcus.exoneree, world.marcus.referral
    start = last_pk()
    audit.record_view(world.caseworker1, marcus)  # outside a request: nothing to log
    token = audit._request.set(audit.RequestContext(ip_address="198.51.100.7", method=method))
    try:
        audit.record_view(world.caseworker1, marcus, referral)
        audit.record_view(world.caseworker1, marcus)
    finally:
        audit._request.reset(token)

    expected = [(world.caseworker1, marcus, f"Referral {referral.pk}", "198.51.100.7")] if logged else []
    assert [(e.actor, e.exoneree, e.target, e.ip_address) for e in entries_since(start)] == expected


# --- every hashed column, and a chain longer than one batch -------------------------------------
# The columns are read from the model, so a column added later is tampered with here too, and
# fails until the canonical form (the text the hash covers) includes it.

HASHED = [f for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "hash"}]


def altered(field, value: object) -> object:
    """Another value of the same column, one a forger might write."""
    if field.is_relation:
        return field.related_model.objects.exclude(pk=value).order_by("pk").values_list("pk", flat=True).first()
    if field.choices:
        return next(choice for choice, _ in field.choices if choice != value)
    if isinstance(field, models.DateTimeField):
        return value + timedelta(microseconds=1)
    if isinstance(field, models.JSONField):
        return value | {"tampered": True}
    if isinstance(field, models.GenericIPAddressField):
        return "192.0.2.1" if value != "192.0.2.1" else "192.0.2.2"
    if isinstance(field, models.CharField):
        return value[:-1] + ("0" if value[-1:] != "0" else "1")
    pytest.fail(f"no forged value for AuditEvent.{field.name} ({type(field).__name__}): teach altered() one")


def full_entries(world, n: int) -> list[AuditEvent]:
    """Entries with every column filled in (none left null, so changing any one shows)."""
    return [
        audit.record(
            Action.RECORD_CHANGED,
            actor=world.caseworker1,
            exoneree=world.marcus.exoneree,
            target=f"Need {i}",
            changes={"status": ["open", "met"], "notes": "changed"},
            ip_address="198.51.100.7",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("field", HASHED, ids=[f.name for f in HASHED])
def test_changing_any_hashed_column_of_an_entry_is_found(world, field):
    entries = full_entries(world, 3)
    victim = AuditEvent.objects.get(pk=entries[1].pk)
    value = getattr(victim, field.attname)
    assert value not in (None, ""), f"{field.name} is empty in the test entry: nothing to tamper with"
    forged = altered(field, value)
    assert forged not in (None, value)

    raw(
        f"UPDATE services_auditevent SET {connection.ops.quote_name(field.column)} = %s WHERE id = %s",  # noqa: S608
        [field.get_db_prep_save(forged, connection), victim.pk],
    )

    assert getattr(AuditEvent.objects.get(pk=victim.pk), field.attname) == forged
    with pytest.raises(CommandError, match=rf"^Entry {victim.pk} \("):
        call_command("verify_audit", stdout=io.StringIO())


def test_the_hashed_text_of_a_known_entry_never_changes():
    """Every stored hash was computed over this exact text (and PostgreSQL builds it from the
    same pieces, see _insert_chained_postgresql): a different text would make every entry
    already written look tampered with. Keys of `changes` are sorted, because PostgreSQL's
    jsonb hands them back in its own order."""
    entry = AuditEvent(
        prev_hash="a" * 64,
        at=datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=ZoneInfo("America/New_York")),
        actor_id=7,
        username="casey",
        organization_id=3,
        action=Action.RECORD_CHANGED,
        exoneree_id=11,
        target="Need 5",
        changes={"zeta": [1, None], "alpha": "changed"},
        ip_address="2001:db8::1",
    )

    assert audit.canonical(entry) == (
        '["' + "a" * 64 + '","2030-01-02T08:04:05.000006+00:00",7,"casey",3,"record_changed",11,"Need 5",'
        '{"alpha":"changed","zeta":[1,null]},"2001:db8::1"]'
    )
    assert entry_hash(entry) == hashlib.sha256(audit.canonical(entry).encode()).hexdigest()
    bare = AuditEvent(prev_hash=GENESIS, at=entry.at, action=Action.SIGNED_IN, changes=None, ip_address=None)
    assert (
        audit.canonical(bare)
        == f'["{GENESIS}","2030-01-02T08:04:05.000006+00:00",null,"",null,"signed_in",null,"",{{}},""]'
    )


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 2000])
def test_a_chain_longer_than_a_batch_verifies_across_batches(world, batch_size):
    entries = full_entries(world, 7)
    count = AuditEvent.objects.count()
    out = io.StringIO()

    call_command("verify_audit", batch_size=batch_size, stdout=out)

    assert out.getvalue().strip() == f"The access log is intact: {count} entries, last hash {entries[-1].hash}."


@pytest.mark.parametrize("victim", [2, 3, 6], ids=["first-of-second-batch", "second-of-a-batch", "first-of-last-batch"])
def test_a_removal_at_or_after_a_batch_boundary_is_found(world, victim):
    entries = full_entries(world, 8)

    raw("DELETE FROM services_auditevent WHERE id = %s", [entries[victim].pk])

    after, before = entries[victim + 1], entries[victim - 1]
    with pytest.raises(CommandError, match=f"^Entry {after.pk} .* does not follow entry {before.pk}:"):
        call_command("verify_audit", batch_size=2, stdout=io.StringIO())


def test_a_change_in_a_later_batch_is_found(world):
    entries = full_entries(world, 7)

    raw("UPDATE services_auditevent SET target = %s WHERE id = %s", ["Need 99", entries[5].pk])

    with pytest.raises(CommandError, match=f"^Entry {entries[5].pk} .* was changed after it was written.$"):
        call_command("verify_audit", batch_size=2, stdout=io.StringIO())


def test_an_empty_log_is_intact(db):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == f"The access log is intact: 0 entries, last hash {GENESIS}."


def test_a_forged_first_entry_does_not_follow_the_start_of_the_log(world):
    entries = full_entries(world, 2)
    first = AuditEvent.objects.order_by("pk").first()

    raw("UPDATE services_auditevent SET prev_hash = %s WHERE id = %s", [entries[0].hash, first.pk])

    with pytest.raises(CommandError, match=f"^Entry {first.pk} .* does not follow the start of the log: "):
        call_command("verify_audit", stdout=io.StringIO())


def test_the_batch_size_from_the_command_line_reads_the_log_a_batch_at_a_time(world):
    full_entries(world, 7)
    count = AuditEvent.objects.count()
    out = io.StringIO()

    with CaptureQueriesContext(connection) as queries:
        call_command("verify_audit", "--batch-size", "2", stdout=out)

    reads = [q for q in queries.captured_queries if 'FROM "services_auditevent"' in q["sql"] and "LIMIT 2" in q["sql"]]
    assert len(reads) == -(-count // 2) + 1  # every batch, and the empty one that ends the loop
    assert out.getvalue().startswith(f"The access log is intact: {count} entries")


def test_forwarded_addresses_separated_by_comma_and_space_are_read(rf, settings):
    settings.TRUSTED_PROXY_HOPS = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")

    assert audit.client_ip(request) == "198.51.100.1"


def test_the_commands_help_says_where_a_checkpoints_count_and_head_come_from():
    parser = verify_audit.Command().create_parser("manage.py", "verify_audit")
    text = " ".join(parser.format_help().split())

    assert "--count COUNT a checkpoint's count, from the log output" in text
    assert "--head HEAD that checkpoint's head (the hash of its last entry)" in text
    # Without options the log is read 2,000 entries at a time: a long log never sits in memory whole.
    assert parser.parse_args([]).batch_size == 2000


@pytest.mark.parametrize("half", [["--count", "3"], ["--head", GENESIS]])
def test_a_checkpoint_given_by_halves_is_refused(db, half):
    with pytest.raises(CommandError, match=r"^Give --count and --head together \(both from one checkpoint line\)\.$"):
        call_command("verify_audit", *half, stdout=io.StringIO())


# --- the directors' chain check (the audit page's "Check that the log is whole") ------------------


def checked(login, persona: str = "director1") -> tuple[str, Any]:
    response = login(persona).get(reverse("audit_check"))
    assert response.status_code == 200
    return " ".join(response.content.decode().split()), response.context["report"]


def test_a_director_reads_that_the_log_is_whole_with_their_organizations_entries(login, world):
    full_entries(world, 3)
    ours = AuditEvent.objects.filter(organization=world.org1)

    page, report = checked(login)

    assert report.whole and report.from_start
    assert report.ours == ours.count() and report.checked == AuditEvent.objects.count()
    assert f"The access log is whole: {ours.count()} entries of your organization, from " in page
    assert "check out" in page
    assert "the whole log" in page
    # Its times written as the log writes them, so an entry can be found there.
    first = timezone.localtime(ours.order_by("at").first().at)
    assert date_format(first, "M j, Y g:i a") in page


def test_a_changed_entry_of_the_organization_is_named_with_its_time(login, world):
    entries = full_entries(world, 3)
    raw("UPDATE services_auditevent SET target = %s WHERE id = %s", ["Need 99", entries[1].pk])

    page, report = checked(login)

    assert not report.whole
    assert "The access log is not whole." in page
    assert "The entry “Changed a record” written " in page  # found on the log by its time and action
    assert f"was changed after it was written (entry number {entries[1].pk}, for whoever runs Reentry)" in page
    assert "up to where the chain breaks" in page and "the whole log" not in page
    # what came before the break still checks out, and says so
    assert report.ours == AuditEvent.objects.filter(organization=world.org1, pk__lt=entries[1].pk).count()


def test_removed_entries_are_placed_before_the_next_one(login, world):
    entries = full_entries(world, 3)
    raw("DELETE FROM services_auditevent WHERE id = %s", [entries[1].pk])

    page, _ = checked(login)

    assert "Entries were removed just before the entry “" in page
    assert f"(entry number {entries[2].pk}, for whoever runs Reentry)" in page


def test_another_organizations_broken_entry_is_told_by_its_time_only(login, world):
    theirs = audit.record(Action.RECORD_VIEWED, actor=world.caseworker3, exoneree=world.anita.exoneree, target="X 1")
    raw("UPDATE services_auditevent SET target = %s WHERE id = %s", ["X 2", theirs.pk])

    page, report = checked(login)

    assert not report.whole and report.broken_pk is None
    assert "An entry of another organization on this site, written " in page
    assert f"Entry {theirs.pk}" not in page and "Opened a record" not in page


def test_the_check_reads_the_newest_part_only_and_says_so(login, world, monkeypatch):
    entries = full_entries(world, 4)
    # older than the part checked: not found, and the page says what it did not check
    raw("UPDATE services_auditevent SET target = %s WHERE id = %s", ["Need 99", entries[0].pk])
    monkeypatch.setattr(audit_chain, "CHAIN_CHECK_WINDOW", 3)

    page, report = checked(login)

    assert report.whole and not report.from_start and report.checked == 3
    assert "The newest part of the access log is whole: " in page
    assert "What was checked: the newest 3 entries of the log (written since " in page
    assert "Older entries were not checked here" in page
    with pytest.raises(CommandError, match=f"^Entry {entries[0].pk} "):  # the command still sees it
        call_command("verify_audit", stdout=io.StringIO())


def test_an_end_cut_off_after_a_checkpoint_is_told(login, world):
    entries = full_entries(world, 3)
    audit_anchor.audit_checkpoint_write()
    raw("DELETE FROM services_auditevent WHERE id = %s", [entries[-1].pk])

    page, report = checked(login)

    assert report.end_missing and not report.whole
    assert "Its newest entries were removed" in page


def test_the_check_is_for_directors(login, world):
    assert login("caseworker1").get(reverse("audit_check")).status_code == 403
    assert login("director1").post(reverse("audit_check")).status_code == 405


def test_the_failed_sign_ins_a_staff_filter_finds_are_those_sign_in_reads_as_theirs(db):
    """audit_trail.failed_sign_ins_of restates, as a query, the rule auth.account_named reads a
    typed username by. Tied here: for every account, the failures the filter finds are exactly
    those whose typed username sign-in would have taken for that account."""
    accounts = [get_user_model().objects.create(username=name) for name in ("casey", "CASEY", "Mixed", "dana")]
    typed = ["casey", "Casey", " casey ", "CASEY", "Mixed", "mixed", "MIXED", " Mixed", "dana ", "DANA", "nobody"]
    failures = [audit.record(Action.SIGN_IN_FAILED, username=name) for name in typed]

    for account in accounts:
        found = set(AuditEvent.objects.filter(failed_sign_ins_of(account)).values_list("username", flat=True))
        theirs = {entry.username for entry in failures if account_named(entry.username) == account}
        assert found == theirs, account.username
    assert account_named("Casey") == accounts[0] and account_named("CASEY") == accounts[1]  # the rule's two sides
