"""Retention and legal hold (issue 23): closed cases past the organization's years are purged
or de-identified once a director confirmed them, never while on legal hold; the purge leaves
no row, file or blind index of the person, the access log still verifies, the counts stay."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.urls import reverse
from django.utils import timezone

from services import outcome_counts, retention
from services.actions import emergency
from services.actions import messages as message_actions
from services.actions import retention as actions
from services.choices import RetentionMode
from services.fields import BlindIndexField, EncryptedMixin
from services.lib import vault
from services.models.audit import AuditEvent
from services.models.casework import CaseNote
from services.models.documents import Document
from services.models.enrolments import Enrolment
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.notifications import Notification, Reminder
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.retention import LegalHold, RetentionReview
from services.reminder_plans import reminders_plan_for_follow_ups
from services.selectors import records
from tests.conftest import World
from tests.factories import FollowUpFactory, close_case, consent_for
from tests.sample_files import document_for

TODAY = date(2026, 6, 1)


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def years_ago(years: int, days: int = 0) -> date:
    return retention.add_years(TODAY, -years) - timedelta(days=days)


@pytest.fixture
def due(world: World) -> World:
    """Marcus's case closed eight years ago (org1 keeps seven), with one of everything: papers,
    messages, consents, reminders, staff notifications naming him; his count in the figures."""
    marcus = world.marcus.exoneree
    document_for(marcus, world.caseworker1, title="Texas ID")
    message_actions.message_send(by=world.exoneree1, exoneree=marcus, text="Hello", from_person=True, about={})
    consent_for(marcus, world.marcus.resource.provider)
    FollowUpFactory(exoneree=marcus, assigned_to=world.caseworker1, due_at=timezone.now() + timedelta(days=3))
    reminders_plan_for_follow_ups(FollowUp.objects.filter(exoneree=marcus))
    close_case(marcus, years_ago(8))
    for organization in (world.org1, world.org2):
        outcome_counts.recount(organization)
    return world


def confirm(world: World, person: Exoneree) -> None:
    actions.retention_confirm(by=world.director1, exoneree=Exoneree.objects.get(pk=person.pk))


def run(**kwargs: Any) -> retention.RunResult:
    return retention.run_due(today=TODAY, **kwargs)


# --- what belongs to a person, generated from the models' relations --------------------------------


def rows_of(pk: int) -> dict[type, set[Any]]:
    """Every row that hangs off person `pk`, following every foreign key of every model (so a
    new model is covered): the rows pointing at the person, at those rows, and so on. The
    access log is left out: it keeps the person's number, by design (services/models/audit.py)."""
    found: dict[type, set[Any]] = {Exoneree: {pk}}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models(include_auto_created=True):
            if model is AuditEvent:
                continue
            for field in model._meta.concrete_fields:
                target = field.related_model._meta.concrete_model if field.is_relation else None
                if target not in found:
                    continue
                rows = set(model.objects.filter(**{f"{field.attname}__in": found[target]}).values_list("pk", flat=True))
                if not rows <= found.get(model, set()):
                    found.setdefault(model, set()).update(rows)
                    grew = True
    return found


def blind_indexes() -> list[tuple[type, str]]:
    return [
        (model, field.attname)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, BlindIndexField)
    ]


def assert_the_log_verifies() -> None:
    call_command("verify_audit", stdout=io.StringIO())


def test_the_relations_walk_finds_the_persons_rows(due: World) -> None:
    """Guards the check below: it must see what hangs off a person before the purge."""
    found = rows_of(due.marcus.exoneree.pk)
    for model in (Need, FollowUp, CaseNote, Document, Reminder, Enrolment):
        assert found.get(model), model.__name__


def test_a_purge_leaves_no_row_file_or_blind_index_and_the_log_verifies(
    due: World, time_machine, django_capture_on_commit_callbacks
) -> None:
    time_machine.move_to(TODAY)
    marcus = Exoneree.objects.get(pk=due.marcus.exoneree.pk)
    marcus.phone = "(312) 555-0150"  # every blind index of a person filled, the phone's too
    marcus.save()
    confirm(due, marcus)
    before = rows_of(marcus.pk)
    files = list(Document.objects.filter(exoneree=marcus).values_list("storage_name", flat=True))
    indexes = {(model, name): getattr(marcus, name) for model, name in blind_indexes() if model is Exoneree}
    assert files and all(vault.storage().exists(name) for name in files)
    assert all(indexes.values())
    assert Notification.objects.filter(url__startswith=f"/people/{marcus.pk}/").exists()  # "Marcus wrote…"
    reason = "He called the crisis line tonight and we need his medication list"
    emergency.emergency_access_grant(by=due.caseworker2, exoneree=marcus, reason=reason)
    assert Notification.objects.filter(text__contains=marcus.display_name).exists()  # "… to Marcus's record"
    # One written before such notices linked to their grant.
    Notification.objects.create(
        user=due.director1,
        text=f"Chris Twofold used emergency access to {marcus.display_name}'s record. Review it.",
        url=reverse("emergency_reviews"),
    )
    counts = outcome_counts.stored(due.org1)
    assert counts

    with django_capture_on_commit_callbacks(execute=True):  # the files leave after the commit
        result = run()

    assert (result.done, result.skipped) == (1, 0)
    assert not Exoneree.objects.filter(pk=marcus.pk).exists()
    for model, pks in before.items():
        assert not model.objects.filter(pk__in=pks).exists(), f"{model._meta.label} rows of the person are left"
    assert rows_of(marcus.pk) == {Exoneree: {marcus.pk}}  # nothing points at the person any more
    assert not any(vault.storage().exists(name) for name in files)
    for (model, name), value in indexes.items():
        assert not model.objects.filter(**{name: value}).exists()
    assert not Notification.objects.filter(url__startswith=f"/people/{marcus.pk}/").exists()
    assert not Notification.objects.filter(text__contains=marcus.display_name).exists()
    # Their login is emptied and closed; staff's accounts are untouched.
    login = get_user_model().objects.get(pk=due.exoneree1.pk)
    assert (login.username, login.email, login.is_active, login.has_usable_password()) == (
        f"purged-{login.pk}",
        "",
        False,
        False,
    )
    # One entry says what happened, without saying who; the chain still verifies.
    (entry,) = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_PURGED)
    assert entry.target == f"Person {marcus.pk} purged under retention"
    assert entry.exoneree_id is None and entry.organization_id == due.org1.pk
    assert "Marcus" not in f"{entry.target} {entry.changes} {entry.username}"
    assert_the_log_verifies()
    # The counts of past periods are as they were, and stay so through a recount.
    assert outcome_counts.stored(due.org1) == counts
    outcome_counts.recount(due.org1)
    assert outcome_counts.stored(due.org1) == counts
    assert outcome_counts.counted(due.org1) == counts
    # Everyone else is still there.
    assert Exoneree.objects.filter(pk=due.thomas.exoneree.pk).exists()


def test_a_legal_hold_stops_it_until_lifted(due: World) -> None:
    marcus = due.marcus.exoneree
    confirm(due, marcus)
    actions.legal_hold_place(by=due.director1, exoneree=marcus, reason="Civil suit pending in Harris County")

    assert run().done == 0
    assert Exoneree.objects.filter(pk=marcus.pk).exists()

    actions.legal_hold_lift(by=due.director1, exoneree=marcus, reason="The suit settled")
    assert run().done == 1
    assert not Exoneree.objects.filter(pk=marcus.pk).exists()


def test_a_hold_placed_while_the_case_was_open_stops_it_after_the_case_closes(login, world: World) -> None:
    """A lawsuit starts while the person is still served: the director holds the record from
    the person's page; years after the case closes, the purge still passes it by."""
    marcus = world.marcus.exoneree
    placed = login("director1").post(
        reverse("exoneree_legal_hold", args=[marcus.pk]), {"reason": "Civil suit pending in Harris County"}
    )
    assert placed.status_code == 302
    close_case(marcus, years_ago(8))
    # Confirmed for this closing (as a director could have before the hold: it is refused after).
    RetentionReview.objects.create(exoneree=marcus, case_closed_on=marcus.case_closed_on, confirmed_by=world.director1)

    assert marcus.pk not in {p.pk for p in retention.ready(world.org1, TODAY)}
    assert run().done == 0
    assert Exoneree.objects.filter(pk=marcus.pk).exists()

    actions.legal_hold_lift(by=world.director1, exoneree=marcus, reason="The suit settled")
    assert run().done == 1
    assert not Exoneree.objects.filter(pk=marcus.pk).exists()


def test_a_case_on_hold_cannot_be_confirmed(due: World) -> None:
    marcus = due.marcus.exoneree
    actions.legal_hold_place(by=due.director1, exoneree=marcus, reason="Civil suit pending")
    with pytest.raises(Exception, match="legal hold"):
        confirm(due, marcus)
    assert not RetentionReview.objects.exists()


def test_unconfirmed_cases_are_not_purged(due: World) -> None:
    assert run().done == 0
    assert Exoneree.objects.filter(pk=due.marcus.exoneree.pk).exists()


@pytest.mark.parametrize("closed", [years_ago(7, days=-1), None], ids=["one day short", "open"])
def test_cases_not_yet_due_are_untouched(due: World, closed: date | None) -> None:
    marcus = due.marcus.exoneree
    if closed:
        close_case(marcus, closed)
        confirm(due, marcus)
    else:
        Exoneree.objects.filter(pk=marcus.pk).update(case_closed_on=None)

    assert run().done == 0
    assert Exoneree.objects.filter(pk=marcus.pk).exists()


def test_due_on_the_day_seven_years_after_closing(due: World) -> None:
    marcus = due.marcus.exoneree
    close_case(marcus, years_ago(7))
    confirm(due, marcus)

    assert run().done == 1


def test_a_confirmation_is_for_one_closing(due: World) -> None:
    """Reopened and closed again: the old confirmation does not carry over."""
    marcus = due.marcus.exoneree
    confirm(due, marcus)
    close_case(marcus, years_ago(8, days=10))

    assert run().done == 0


def test_a_dry_run_changes_nothing_and_says_how_many(due: World) -> None:
    confirm(due, due.marcus.exoneree)
    out = io.StringIO()

    call_command("purge_due", "--dry-run", stdout=out)

    assert "1 case(s) would be removed" in out.getvalue()
    assert Exoneree.objects.filter(pk=due.marcus.exoneree.pk).exists()


def test_the_command_purges_in_batches_and_prints_progress(due: World, monkeypatch, time_machine) -> None:
    time_machine.move_to(TODAY)
    monkeypatch.setattr(retention, "BATCH", 1)
    confirm(due, due.marcus.exoneree)
    close_case(due.thomas.exoneree, years_ago(9))
    confirm(due, due.thomas.exoneree)
    out = io.StringIO()

    call_command("purge_due", stdout=out)

    lines = out.getvalue().splitlines()
    assert f"{due.org1.name}: removed 1 so far (0 skipped)" in lines
    assert f"{due.org1.name}: removed 2 so far (0 skipped)" in lines
    assert lines[-1].startswith("Removed 2 case(s)")
    assert not Exoneree.objects.filter(pk__in=[due.marcus.exoneree.pk, due.thomas.exoneree.pk]).exists()
    assert_the_log_verifies()


def test_deidentify_drops_who_they_were_and_keeps_the_counts(due: World, django_capture_on_commit_callbacks) -> None:
    Organization.objects.filter(pk=due.org1.pk).update(retention_mode=RetentionMode.DEIDENTIFY)
    marcus = due.marcus.exoneree
    marcus.phone = "(312) 555-0150"
    marcus.save(update_fields=["phone"])  # indexed, for the People search by number
    confirm(due, marcus)
    counts = outcome_counts.stored(due.org1)
    needs = Need.objects.filter(exoneree=marcus).count()
    files = list(Document.objects.filter(exoneree=marcus).values_list("storage_name", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        assert run().done == 1

    kept = Exoneree.objects.get(pk=marcus.pk)
    assert kept.deidentified_at is not None
    assert kept.legal_name == f"Person {marcus.pk}"
    assert (kept.ssn, kept.ssn_index, kept.name_dob_index, kept.email, kept.phone, kept.address) == ("",) * 6
    assert kept.phone_index == "" and marcus.phone_index
    assert not records.exoneree_list(due.director1, q="(312) 555-0150", case="all").exists()
    # Nor can a search find them by their name: the folded copies hold none of it.
    assert (kept.legal_name_folded, kept.preferred_name_folded) == (f"person {marcus.pk}", "")
    assert not records.exoneree_list(due.director1, q="whitfield", case="all").exists()
    assert kept.date_of_birth is None and kept.user_id is None
    assert kept.release_date == marcus.release_date  # the counts read it
    # Free text: none left, on any row of theirs.
    found = rows_of(marcus.pk)
    for model, pks in found.items():
        texts = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | EncryptedMixin) and not f.choices
        ]
        for row in model.objects.filter(pk__in=pks).values(*texts):
            for name, value in row.items():
                assert "Marcus" not in str(value), f"{model.__name__}.{name}: {value}"
    assert not CaseNote.objects.filter(exoneree=marcus).exists()
    assert not Document.objects.filter(exoneree=marcus).exists()
    assert not any(vault.storage().exists(name) for name in files)
    assert Need.objects.filter(exoneree=marcus).count() == needs
    assert Need.objects.get(pk=due.marcus.need.pk).description == ""
    assert outcome_counts.stored(due.org1) == counts
    outcome_counts.recount(due.org1)
    assert outcome_counts.stored(due.org1) == counts
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_DEIDENTIFIED, exoneree_id=marcus.pk).exists()
    assert_the_log_verifies()
    # Once de-identified, it is not due again.
    assert run().done == 0


def test_the_nightly_notice_tells_the_directors_30_days_ahead_once(due: World) -> None:
    marcus = due.marcus.exoneree
    close_case(marcus, retention.add_years(TODAY + timedelta(days=30), -7))

    assert retention.notify_upcoming(today=TODAY) == 1
    (notice,) = Notification.objects.filter(user=due.director1)
    assert notice.url == reverse("retention_review")
    assert "1 closed case reach" in notice.text
    assert "Marcus" not in notice.text
    assert not Notification.objects.filter(user=due.director2).exists()
    assert retention.notify_upcoming(today=TODAY + timedelta(days=1)) == 0


def test_the_nightly_task_is_scheduled(settings) -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "services.tasks.retention_notice" in tasks


# --- the director's page ----------------------------------------------------------------------------


def test_the_page_lists_due_and_upcoming_cases_with_their_date(login, due: World, time_machine) -> None:
    time_machine.move_to(TODAY)
    close_case(due.thomas.exoneree, retention.add_years(TODAY + timedelta(days=20), -7))
    anita = due.anita.exoneree
    close_case(anita, years_ago(8))

    response = login("director1").get(reverse("retention_review"))

    html = response.content.decode()
    assert response.status_code == 200
    people = response.context["people"]
    assert [p.pk for p in people] == [due.marcus.exoneree.pk, due.thomas.exoneree.pk]
    assert [p.is_due for p in people] == [True, False]
    assert people[1].purge_on == TODAY + timedelta(days=20)
    assert "Anita" not in html  # another organization's


def test_the_director_confirms_and_holds_from_the_page(login, due: World, time_machine) -> None:
    time_machine.move_to(TODAY)
    client = login("director1")
    pk = due.marcus.exoneree.pk

    refused = client.post(reverse("retention_confirm", args=[pk]), {})
    assert refused.status_code == 400
    assert "Tick the box to confirm." in refused.content.decode()
    assert not RetentionReview.objects.exists()

    done = client.post(reverse("retention_confirm", args=[pk]), {"confirm": "on"}, follow=True)
    assert done.redirect_chain[0][1] == 302
    # Due already: it goes at the purge's next run, not "once it is due".
    assert "Confirmed. The record is due: it is removed at the next run of the retention purge." in (
        done.content.decode()
    )
    (review,) = RetentionReview.objects.all()
    assert (review.exoneree_id, review.case_closed_on, review.confirmed_by) == (
        pk,
        due.marcus.exoneree.case_closed_on,
        due.director1,
    )

    empty = client.post(reverse("legal_hold_place", args=[pk]), {"reason": "   "})
    assert empty.status_code == 400
    assert not LegalHold.objects.exists()
    client.post(reverse("legal_hold_place", args=[pk]), {"reason": "Records requested by a court"})
    (hold,) = LegalHold.objects.all()
    assert (hold.reason, hold.placed_by, hold.is_active) == ("Records requested by a court", due.director1, True)
    assert "Records requested by a court" in client.get(reverse("retention_review")).content.decode()

    # Lifting lets the record go: like placing, it needs its reason, beside the field.
    for blank in ("", "   ", "\u200b\u200b"):
        refused = client.post(reverse("legal_hold_lift", args=[pk]), {"reason": blank})
        assert refused.status_code == 400
        assert f'id="lift-reason-{pk}-error"' in refused.content.decode()
        hold.refresh_from_db()
        assert hold.is_active
    client.post(reverse("legal_hold_lift", args=[pk]), {"reason": "The court released the records"})
    hold.refresh_from_db()
    assert (hold.is_active, hold.lifted_by, hold.lift_reason) == (
        False,
        due.director1,
        "The court released the records",
    )
    entries = AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_REVIEWED, exoneree_id=pk)
    assert [e.changes for e in entries.order_by("pk")] == [
        {"confirmed": "purge"},
        {"legal_hold": "placed"},
        {"legal_hold": "lifted"},
    ]


def test_a_hold_or_confirmation_refused_for_the_cases_state_says_why_at_the_top(login, due: World) -> None:
    """A second director, or an old tab: the case is already on hold, so its forms are no
    longer on the page; the reason is said where the director can read it."""
    pk = due.marcus.exoneree.pk
    client = login("director1")
    client.post(reverse("legal_hold_place", args=[pk]), {"reason": "Records requested by a court"})

    again = client.post(reverse("legal_hold_place", args=[pk]), {"reason": "Again"})
    confirmed = client.post(reverse("retention_confirm", args=[pk]), {"confirm": "on"})

    assert (again.status_code, confirmed.status_code) == (409, 409)
    assert "already on legal hold" in again.content.decode()
    assert "Lift the hold first" in confirmed.content.decode()
    assert LegalHold.objects.count() == 1 and not RetentionReview.objects.exists()


def test_an_open_case_has_no_retention_page_actions(login, world: World) -> None:
    response = login("director1").post(reverse("retention_confirm", args=[world.marcus.exoneree.pk]), {"confirm": "on"})
    assert response.status_code == 404


def test_the_access_log_reads_after_a_purge(login, due: World) -> None:
    """The log's entries keep a purged person's number, with no record behind it: the log's
    page and its CSV show them without a name."""
    marcus = due.marcus.exoneree
    confirm(due, marcus)
    run()
    client = login("director1")

    page = client.get(reverse("audit_log"))
    csv = b"".join(client.get(reverse("audit_log") + "?format=csv").streaming_content).decode()

    assert page.status_code == 200
    assert f"Person {marcus.pk} purged under retention" in page.content.decode()
    assert f"Person {marcus.pk} purged under retention" in csv
    assert "Marcus Whitfield" not in page.content.decode() + csv


def test_the_page_says_one_year_in_the_singular_and_what_happens_then_in_small_letters(login, world: World) -> None:
    Organization.objects.filter(pk=world.org1.pk).update(retention_years=1)

    page = login("director1").get(reverse("retention_review")).content.decode()

    assert "Closed cases are kept 1 year after they close. Then: delete the record." in page


def test_after_a_purge_the_outcomes_and_their_lists_say_the_counts_keep_what_was_removed(login, due: World) -> None:
    """The kept counts keep what a purged person added; their records are gone from the lists:
    the page and the list behind a cell say so, for a period that began before the purge."""
    marcus = due.marcus.exoneree
    client = login("director1")
    period = {"from": (timezone.localdate() - timedelta(days=30)).isoformat(), "to": timezone.localdate().isoformat()}
    cell = period | {"figure": "referrals", "group": "sent", "measure": "count"}
    before = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_PURGED, organization=due.org1).count()
    note = "removed under retention since"
    assert note not in client.get(reverse("outcome_dashboard"), period).content.decode()

    confirm(due, marcus)
    run()

    for response in (client.get(reverse("outcome_dashboard"), period), client.get(reverse("outcome_records"), cell)):
        page = " ".join(response.content.decode().split()).replace("&#x27;", "'")
        assert response.status_code == 200
        said = "person's record was" if before == 0 else "people's records were"
        assert f"{before + 1} {said} removed under retention since" in page
        assert "are kept counts: they still include what" in page
        assert "Marcus" not in page
    # A need's list lost the person with their records, as its count did: no note there.
    needs = period | {"figure": "needs", "group": "housing", "measure": "opened"}
    assert note not in client.get(reverse("outcome_records"), needs).content.decode()


def test_a_case_confirmed_before_its_day_is_told_that_day(login, due: World, time_machine) -> None:
    time_machine.move_to(TODAY)
    marcus = due.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(case_closed_on=years_ago(7, days=-10))  # due in ten days
    Organization.objects.filter(pk=due.org1.pk).update(retention_mode=RetentionMode.DEIDENTIFY)

    done = login("director1").post(reverse("retention_confirm", args=[marcus.pk]), {"confirm": "on"}, follow=True)

    day = retention.add_years(years_ago(7, days=-10), 7)
    assert f"Confirmed. The record will be de-identified when it is due, on {day:%B} {day.day}, {day.year}." in (
        done.content.decode()
    )


@pytest.mark.parametrize("page", ["retention_review", "transfer_list"])
def test_the_directors_page_leads_back_to_the_overview(login, world: World, page: str) -> None:
    """As Settings, API tokens and Outcomes do: retention and transfers had no way back."""
    html = login("director1").get(reverse(page)).content.decode()

    assert f'<p class="back"><a href="{reverse("director_dashboard")}">← Overview</a></p>' in html
