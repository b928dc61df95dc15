"""What people notice when they use the case pages: what is saved, what is refused, what is shown.

Personas and their records come from tests/conftest.py (Marcus is caseworker1's, Thomas is
caseworker2's, Anita is org2's).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import get_perms

from services import access, audit
from services.actions import follow_ups as follow_up_actions
from services.actions import messages as needs_actions_messages
from services.actions import needs as needs_actions
from services.actions import people as people_actions
from services.actions import staff as staff_actions
from services.choices import NeedStatus, NoteVisibility, ReferralStatus, ResourceStatus, Role
from services.lifecycle import NEED_TRANSITIONS, REFERRAL_TRANSITIONS
from services.models.audit import AuditEvent
from services.models.casework import Assessment, CaseNote
from services.models.directory import Provider, Resource
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.organizations import StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralEvent
from tests.factories import (
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    ProviderFactory,
    ReferralFactory,
    ResourceFactory,
    StaffFactory,
    UserFactory,
    consent_for,
)

User = get_user_model()

INTAKE = {
    "legal_name": "Nadia Newcomer",
    "preferred_language": "en",
    "contact_preference": "in_person",
    "reminder_channel": "email",
}
MOMENT = datetime(2025, 3, 4, 15, 30, tzinfo=UTC)
BEFORE_BIRTH = "This is before the date of birth: check the year."
PASSWORD = "a long and unusual passphrase 7"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def error_beside(response, field: str) -> str:
    """The text of the error list rendered beside a field (services/_field.html), or fail."""
    html = response.content.decode()
    match = re.search(rf'<(ul|div|p)\b[^>]*\bid="id_{field}_errors?"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no error shown beside {field!r}"
    return unescape(match.group(2))


def url(name: str, obj=None) -> str:
    return reverse(name, args=[obj.pk] if obj is not None else [])


# --- exonerees ---------------------------------------------------------------------------------


def test_intake_saves_the_person_in_my_caseload_with_permissions(login, world):
    response = login("caseworker1").post(
        url("exoneree_create"), {**INTAKE, "ssn": "900-55-1234", "conviction_state": "tx"}
    )

    nadia = Exoneree.objects.get(legal_name="Nadia Newcomer")
    assert response.status_code == 302
    assert response.url == nadia.get_absolute_url()
    assert nadia.organization == world.org1
    assert nadia.ssn == "900551234"
    assert nadia.conviction_state == "TX"
    assert list(nadia.caseworkers.all()) == [world.caseworker1]
    assert set(get_perms(world.caseworker1, nadia)) == {"view_exoneree", "change_exoneree"}
    assert get_perms(world.caseworker2, nadia) == []
    assert login("caseworker1").get(nadia.get_absolute_url()).status_code == 200
    assert login("caseworker2").get(nadia.get_absolute_url()).status_code == 404


def test_a_record_that_already_holds_a_never_issued_number_is_still_saved_by_staff_and_the_person(login, world):
    """The rule is for a number typed now: a placeholder stored before it keeps the record
    savable (its contact wishes, staff's other edits), until someone types a real number."""
    marcus = world.marcus.exoneree
    marcus.ssn = "000000000"
    marcus.save(update_fields=["ssn", "ssn_index"])
    wishes = {
        "contact_preference": "in_person",
        "reminder_channel": "email",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
    }

    assert login("exoneree1").post(reverse("my_contact_wishes"), wishes).status_code == 302
    assert Exoneree.objects.get(pk=marcus.pk).contact_preference == "in_person"


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("ssn", {"ssn": "12345"}, "Enter the 9 digits of the Social Security number"),
        ("ssn", {"ssn": "900-12-345X"}, "Enter the 9 digits of the Social Security number"),
        ("ssn", {"ssn": "000-00-0000"}, "No Social Security number is written like this"),
        ("ssn", {"ssn": "666-12-3456"}, "No Social Security number is written like this"),
        ("ssn", {"ssn": "912-00-3456"}, "No Social Security number is written like this"),
        (
            "release_date",
            {"conviction_date": "2010-05-01", "release_date": "2009-01-01"},
            "Release cannot be before conviction.",
        ),
        (
            "exoneration_date",
            {"conviction_date": "2010-05-01", "exoneration_date": "2001-01-01"},
            "Exoneration cannot be before conviction.",
        ),
        # 1958 typed for 1985: the years wrongfully incarcerated are counted from it.
        ("conviction_date", {"date_of_birth": "1985-03-02", "conviction_date": "1958-06-01"}, BEFORE_BIRTH),
        ("release_date", {"date_of_birth": "1985-03-02", "release_date": "1958-06-01"}, BEFORE_BIRTH),
        # A code mistyped, not a text to shorten: said as the code's own mistake.
        ("conviction_state", {"conviction_state": "TEX"}, "Use the two-letter state code, like TX"),
        ("conviction_state", {"conviction_state": "T1"}, "Use the two-letter state code"),
        ("conviction_state", {"conviction_state": "XX"}, "like TX (US for a federal conviction)"),  # no such state
        ("legal_name", {"legal_name": ""}, "Give their legal name, as on their papers."),
        ("date_of_birth", {"date_of_birth": "1970-13-45"}, "Enter a valid date."),
        ("email", {"email": "not-an-address"}, "Enter a valid email address."),
        # Reminders with nothing to send them to: said now, not by a reminder that never comes.
        ("reminder_channel", {"appointment_reminders": "on", "reminder_channel": "sms"}, "need a phone number"),
        ("reminder_channel", {"appointment_reminders": "on", "phone": "(312) 555-0199"}, "need an email address"),
        # Nobody reminds a person who asked not to be contacted (as their own form says).
        (
            "appointment_reminders",
            {"appointment_reminders": "on", "contact_preference": "do_not_contact", "email": "n@example.org"},
            "They chose “Do not contact”, so no reminders can be sent to them.",
        ),
    ],
)
def test_intake_with_bad_input_is_400_with_the_error_beside_the_field(login, world, field, data, message):
    people = Exoneree.objects.count()

    response = login("caseworker1").post(url("exoneree_create"), {**INTAKE, **data})

    assert response.status_code == 400
    assert message in error_beside(response, field)
    assert Exoneree.objects.count() == people


def test_a_birth_date_in_the_future_is_the_one_mistake_said_not_the_dates_after_it(login, world):
    """Walkthrough: born 2030 (for 1970) put "This is before the date of birth: check the year."
    under the conviction, release and exoneration dates too, four red boxes for one slip."""
    dates = {"conviction_date": "2010-05-01", "release_date": "2026-12-01", "exoneration_date": "2026-11-20"}

    response = login("caseworker1").post(url("exoneree_create"), {**INTAKE, **dates, "date_of_birth": "2030-04-02"})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"date_of_birth"}
    assert "This date is in the future." in error_beside(response, "date_of_birth")
    assert BEFORE_BIRTH not in response.content.decode()


def test_reminders_by_text_are_saved_with_a_phone_and_a_mistyped_one_says_only_what_is_wrong(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    data = {**INTAKE, "legal_name": marcus.legal_name, "appointment_reminders": "on", "reminder_channel": "sms"}

    mistyped = client.post(url("exoneree_edit", marcus), {**data, "phone": "555"})
    saved = client.post(url("exoneree_edit", marcus), {**data, "phone": "(312) 555-0199"})

    assert mistyped.status_code == 400
    assert set(mistyped.context["form"].errors) == {"phone"}
    assert saved.status_code == 302
    marcus.refresh_from_db()
    assert (marcus.appointment_reminders, marcus.reminder_channel, marcus.phone) == (True, "sms", "(312) 555-0199")


def test_staff_cannot_turn_reminders_on_for_someone_who_chose_do_not_contact(login, world):
    """Walkthrough: the person's own form refused it, staff's saved it (and no reminder ever came)."""
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    data = {**INTAKE, "legal_name": marcus.legal_name, "email": "marcus.private@example.net"}
    data |= {"contact_preference": "do_not_contact", "reminder_channel": "email"}

    refused = client.post(url("exoneree_edit", marcus), {**data, "appointment_reminders": "on"})
    saved = client.post(url("exoneree_edit", marcus), data)

    assert refused.status_code == 400
    assert set(refused.context["form"].errors) == {"appointment_reminders"}
    assert "untick “Remind them of their appointments”" in error_beside(refused, "appointment_reminders")
    assert saved.status_code == 302
    marcus.refresh_from_db()
    assert (marcus.contact_preference, marcus.appointment_reminders) == ("do_not_contact", False)


def test_editing_with_an_empty_ssn_keeps_it_and_no_page_shows_it(login, world):
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    full = ("900123456", "900-12-3456", "900 12 3456")

    form_page = client.get(url("exoneree_edit", marcus)).content.decode()
    response = client.post(url("exoneree_edit", marcus), {**INTAKE, "legal_name": marcus.legal_name, "ssn": ""})

    assert response.status_code == 302
    marcus.refresh_from_db()
    assert marcus.ssn == "900123456"
    assert "3456" in form_page  # the last four, so they know one is on file
    pages = {
        "edit form": form_page,
        "detail": client.get(marcus.get_absolute_url()).content.decode(),
        "director's detail": login("director1").get(marcus.get_absolute_url()).content.decode(),
        "refused edit": login("caseworker1")
        .post(url("exoneree_edit", marcus), {**INTAKE, "conviction_state": "TEX"})
        .content.decode(),
    }
    for name, page in pages.items():
        for number in full:
            assert number not in page, f"full SSN on the {name} page"


def test_editing_with_a_new_ssn_replaces_it(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(
        url("exoneree_edit", marcus), {**INTAKE, "legal_name": marcus.legal_name, "ssn": "900-99-8888"}
    )

    assert response.status_code == 302
    marcus.refresh_from_db()
    assert marcus.ssn == "900998888"


def test_refused_edit_saves_nothing(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(
        url("exoneree_edit", marcus),
        {**INTAKE, "legal_name": "Renamed", "conviction_date": "1990-06-01", "release_date": "1980-01-01"},
    )

    assert response.status_code == 400
    assert "Release cannot be before conviction." in error_beside(response, "release_date")
    marcus.refresh_from_db()
    assert marcus.legal_name == "Marcus Whitfield"
    assert marcus.release_date == date(2015, 9, 30)


def test_people_list_counts_each_open_need_once(login, world):
    marcus = world.marcus.exoneree
    NeedFactory(exoneree=marcus)  # two open needs in all
    FollowUpFactory.create_batch(2, exoneree=marcus, assigned_to=world.caseworker1)  # three open follow-ups

    response = login("caseworker1").get(url("exoneree_list"))

    rows = {person.pk: person for person in response.context["page"]}
    assert rows[marcus.pk].open_needs == 2


# --- needs -------------------------------------------------------------------------------------

NEED = {"domain": "income", "description": "Apply for SSI", "priority": "high", "opened_on": "2025-01-15"}


def test_need_create(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(url("need_create", marcus), NEED)

    assert response.status_code == 302
    need = Need.objects.latest("pk")
    assert response.url == f"{marcus.get_absolute_url()}#need-{need.pk}"  # the page shows the new need
    assert f'id="need-{need.pk}"' in login("caseworker1").get(marcus.get_absolute_url()).content.decode()
    assert need.description == "Apply for SSI"
    assert need.exoneree == marcus
    assert need.created_by == world.caseworker1
    assert need.status == NeedStatus.OPEN
    assert need.opened_on == date(2025, 1, 15)


def test_need_create_with_bad_input_saves_nothing(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(url("need_create", marcus), {**NEED, "domain": "astrology"})

    assert response.status_code == 400
    assert "Select a valid choice" in error_beside(response, "domain")
    assert "Apply for SSI" not in [need.description for need in Need.objects.all()]


def test_a_need_with_no_kind_chosen_says_what_to_choose(login, world):
    """It said Django's bare "This field is required." beside the list of kinds."""
    marcus = world.marcus.exoneree
    needs = Need.objects.count()

    response = login("caseworker1").post(url("need_create", marcus), {**NEED, "domain": ""})

    assert response.status_code == 400
    beside = error_beside(response, "domain")
    assert "Choose the kind of need, like Housing." in beside
    assert "This field is required" not in beside
    assert Need.objects.count() == needs


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("need_create", "opened_on"),  # a need recorded in 2030 made the figures' waits negative
        ("exoneree_edit", "date_of_birth"),
        ("exoneree_edit", "exoneration_date"),
    ],
)
def test_a_day_that_has_not_come_is_refused_beside_its_field(login, world, name, field):
    marcus = world.marcus.exoneree
    tomorrow_but_one = timezone.localdate() + timedelta(days=2)
    client = login("caseworker1")
    form = client.get(url(name, marcus)).context["form"]
    posted = {**{key: value for key, value in form.initial.items() if value is not None}, **NEED}
    posted = {key: value for key, value in posted.items() if key in form.fields}

    response = client.post(url(name, marcus), {**posted, field: tomorrow_but_one.isoformat()})

    assert response.status_code == 400
    assert "This date is in the future. Enter the day it happened." in error_beside(response, field)


@pytest.mark.parametrize(
    ("name", "field"),
    [("need_create", "opened_on"), ("exoneree_edit", "date_of_birth"), ("exoneree_edit", "exoneration_date")],
)
def test_a_day_far_beyond_the_calendar_is_told_once(login, world, name, field):
    """Year 3000 in a day that has happened: one message beside it, not two at once."""
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    form = client.get(url(name, marcus)).context["form"]
    posted = {**{key: value for key, value in form.initial.items() if value is not None}, **NEED}
    posted = {key: value for key, value in posted.items() if key in form.fields}

    response = client.post(url(name, marcus), {**posted, field: "3000-01-01"})

    assert response.status_code == 400
    assert len(response.context["form"].errors[field]) == 1, response.context["form"].errors[field]


def test_every_day_that_must_have_happened_is_held_to_the_calendar_too():
    """validate_past_date leaves the years past the calendar to validate_sensible_date."""
    from django.apps import apps

    from services.models.validators import validate_past_date, validate_sensible_date

    fields = [f for m in apps.get_app_config("services").get_models() for f in m._meta.get_fields()]
    past = [f for f in fields if validate_past_date in getattr(f, "validators", [])]
    assert past and all(validate_sensible_date in f.validators for f in past)


@pytest.mark.parametrize("recorded_on", ["0001-01-01", "1850-05-05", "1900-01-01", "2006-03-01"])
def test_a_need_recorded_more_than_ten_years_ago_is_a_slip_of_the_year(login, world, recorded_on):
    """1900 was saved, and the dashboard said "Housing … since Jan 1, 1900"."""
    marcus = world.marcus.exoneree
    client = login("caseworker1")

    nine_years_ago = timezone.localdate() - timedelta(days=365 * 9)

    response = client.post(url("need_create", marcus), {**NEED, "opened_on": recorded_on})
    later = client.post(url("need_create", marcus), {**NEED, "opened_on": nine_years_ago.isoformat()})

    assert response.status_code == 400
    assert "This is more than 10 years ago: check the year." in error_beside(response, "opened_on")
    assert later.status_code == 302  # late from the paper file, within ten years


def test_an_old_need_keeps_its_day_when_edited(login, world):
    need = world.marcus.need
    Need.objects.filter(pk=need.pk).update(opened_on=date(2001, 5, 1))

    response = login("caseworker1").post(url("need_edit", need), {**NEED, "opened_on": "2001-05-01"})

    assert response.status_code == 302
    need.refresh_from_db()
    assert need.opened_on == date(2001, 5, 1) and need.description == NEED["description"]


def test_need_edit(login, world):
    need = world.marcus.need

    response = login("caseworker1").post(url("need_edit", need), {**NEED, "description": "A one-bedroom"})

    assert response.status_code == 302
    need.refresh_from_db()
    assert need.description == "A one-bedroom"
    assert need.domain == "income"


def test_needs_show_what_needs_doing_first_and_fold_the_closed_ones(login, world):
    marcus = world.marcus.exoneree
    Need.objects.filter(exoneree=marcus).delete()
    today = timezone.localdate()

    def need(words, priority, status=NeedStatus.OPEN, age=0):
        closed = today if status in (NeedStatus.MET, NeedStatus.NO_LONGER_WANTED) else None
        return NeedFactory(
            exoneree=marcus,
            description=words,
            priority=priority,
            status=status,
            opened_on=today - timedelta(days=age),
            closed_on=closed,
        )

    need("Met long ago", "urgent", NeedStatus.MET, age=90)
    need("Low and old", "low", age=60)
    need("Urgent and new", "urgent", age=1)
    need("High, newer", "high", NeedStatus.IN_PROGRESS, age=2)
    need("High, older", "high", age=30)
    need("Withdrawn", "medium", NeedStatus.NO_LONGER_WANTED, age=5)

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()

    section = page[page.index('id="needs"') :]
    open_part, closed_part = section.split('<details class="closed-needs">', 1)
    order = ["Urgent and new", "High, older", "High, newer", "Low and old"]
    assert [open_part.index(words) for words in order] == sorted(open_part.index(words) for words in order)
    assert "Met long ago" not in open_part and "Withdrawn" not in open_part
    assert "Closed (2)" in closed_part and "Met long ago" in closed_part and "Withdrawn" in closed_part


@pytest.mark.parametrize("record", ["need", "referral"])
def test_records_stay_editable_after_their_creators_account_is_deleted(login, world, record):
    former = StaffFactory(organization=world.org1).user
    need = NeedFactory(exoneree=world.marcus.exoneree, created_by=former)
    referral = ReferralFactory(need=need, resource=world.marcus.resource, created_by=former)
    former.delete()  # created_by is SET_NULL: the records outlive the account
    if record == "need":
        edit, data = url("need_edit", need), {**NEED, "description": "Still needed"}
    else:
        edit, data = url("referral_edit", referral), {"resource": world.marcus.resource.pk, "note": "Still needed"}

    response = login("caseworker1").post(edit, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    need.refresh_from_db()
    referral.refresh_from_db()
    assert "Still needed" in (need.description, referral.note)


NEED_PAIRS = [(a, b) for a in NeedStatus.values for b in NeedStatus.values]


@pytest.mark.parametrize(("current", "target"), NEED_PAIRS, ids=[f"{a}->{b}" for a, b in NEED_PAIRS])
def test_need_status_follows_the_lifecycle(login, world, current, target):
    need = world.marcus.need
    Need.objects.filter(pk=need.pk).update(status=current, closed_on=None)

    response = login("caseworker1").post(url("need_status", need), {"status": target})

    need.refresh_from_db()
    if target in NEED_TRANSITIONS[current]:
        assert response.status_code == 302
        assert need.status == target
        closes = target in (NeedStatus.MET, NeedStatus.NO_LONGER_WANTED)
        assert need.closed_on == (timezone.localdate() if closes else None)
    else:
        assert response.status_code == 409
        assert need.status == current
        assert need.closed_on is None


def test_need_reopened_clears_closed_on(login, world):
    need = world.marcus.need
    client = login("caseworker1")
    client.post(url("need_status", need), {"status": "met"})

    response = client.post(url("need_status", need), {"status": "open"})

    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.status, need.closed_on) == (NeedStatus.OPEN, None)


@pytest.mark.parametrize("target", [NeedStatus.MET, NeedStatus.NO_LONGER_WANTED])
def test_a_need_closed_with_referrals_still_open_says_which_they_are(login, world, target):
    need = NeedFactory(exoneree=world.marcus.exoneree)
    accepted = ReferralFactory(need=need, resource__name="Harbor House", status=ReferralStatus.ACCEPTED)
    ReferralFactory(need=need, resource__name="Second Step", status=ReferralStatus.DRAFT)
    ReferralFactory(need=need, resource__name="Long Done", status=ReferralStatus.COMPLETED)

    response = login("caseworker1").post(url("need_status", need), {"status": target}, follow=True)

    page = unescape(response.content.decode())
    assert "Its 2 referrals are still open: Harbor House (accepted), Second Step (draft)." in page
    assert "Long Done (" not in page
    accepted.refresh_from_db()
    assert accepted.status == ReferralStatus.ACCEPTED  # named, never ended for the caseworker


def test_a_need_closed_with_one_referral_open_names_it_and_none_when_all_ended(login, world):
    need = NeedFactory(exoneree=world.marcus.exoneree)
    referral = ReferralFactory(need=need, resource__name="Harbor House", status=ReferralStatus.IN_PROGRESS)
    client = login("caseworker1")

    page = unescape(client.post(url("need_status", need), {"status": "met"}, follow=True).content.decode())
    assert "Its referral to Harbor House (in progress) is still open: record how it ended, or cancel it." in page

    client.post(url("need_status", need), {"status": "open"})
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.COMPLETED)
    page = unescape(client.post(url("need_status", need), {"status": "met"}, follow=True).content.decode())
    assert "Need marked met." in page and "still open" not in page


def test_need_status_unknown_value_is_400(login, world):
    response = login("caseworker1").post(url("need_status", world.marcus.need), {"status": "solved"})

    assert response.status_code == 400
    world.marcus.need.refresh_from_db()
    assert world.marcus.need.status == NeedStatus.OPEN


# --- referrals ---------------------------------------------------------------------------------


def test_referral_create_records_a_draft_and_moves_the_need_along(login, world):
    need = world.marcus.need

    response = login("caseworker1").post(url("referral_create", need), {"resource": world.marcus.resource.pk})

    referral = Referral.objects.latest("pk")
    assert response.status_code == 302
    assert response.url == referral.get_absolute_url()
    assert (referral.need, referral.resource, referral.status) == (need, world.marcus.resource, ReferralStatus.DRAFT)
    assert referral.created_by == world.caseworker1
    event = referral.events.get()
    assert (event.from_status, event.to_status, event.by) == ("", ReferralStatus.DRAFT, world.caseworker1)
    need.refresh_from_db()
    assert need.status == NeedStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "resource",
    [
        lambda w: w.anita.resource,  # another organization's directory
        lambda w: ResourceFactory(organization=w.org1, status=ResourceStatus.INACTIVE),
    ],
    ids=["other-organization", "inactive"],
)
def test_referral_to_a_resource_not_on_offer_is_refused(login, world, resource):
    referrals, events = Referral.objects.count(), ReferralEvent.objects.count()

    response = login("caseworker1").post(url("referral_create", world.marcus.need), {"resource": resource(world).pk})

    assert response.status_code == 400
    assert "Select a valid choice" in error_beside(response, "resource")
    assert (Referral.objects.count(), ReferralEvent.objects.count()) == (referrals, events)


ALL_PAIRS = [(a, b) for a in ReferralStatus.values for b in ReferralStatus.values]
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in REFERRAL_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in REFERRAL_TRANSITIONS[a]]
# What a move needs besides the status (a reason to decline, the outcome to complete).
EXTRA = {
    ReferralStatus.DECLINED: {"decline_reason": "No beds left"},
    ReferralStatus.COMPLETED: {"got_service": "yes", "helped": "no", "feedback": "Too far away"},
}


def test_the_lifecycle_has_both_allowed_and_refused_moves():
    assert len(ALLOWED) == 11  # accepted → unresolved: the provider could not do it after all
    assert len(ALLOWED) + len(REFUSED) == len(ReferralStatus.values) ** 2


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_referral_transition_records_who_and_when(login, world, time_machine, current, target):
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=current)
    time_machine.move_to(MOMENT, tick=False)
    consent_for(world.marcus.exoneree, referral.resource.provider)  # sending needs one

    response = login("caseworker1").post(
        url("referral_transition", referral), {"status": target, "note": "Called them", **EXTRA.get(target, {})}
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == referral.get_absolute_url()
    referral.refresh_from_db()
    assert referral.status == target
    assert referral.status_changed_at == MOMENT
    event = referral.events.latest("pk")
    assert (event.from_status, event.to_status) == (current, target)
    assert (event.by, event.at, event.note) == (world.caseworker1, MOMENT, "Called them")
    if target == ReferralStatus.DECLINED:
        assert referral.decline_reason == "No beds left"
    if target == ReferralStatus.COMPLETED:
        assert (referral.got_service, referral.helped, referral.feedback) == (True, False, "Too far away")


@pytest.mark.parametrize("current", [ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS])
def test_what_the_person_said_when_it_did_not_work_out_is_kept_and_shown(login, world, current):
    """The page asks "What did they say about it?" when marking it unresolved; the answer was
    dropped without a word (kept only for a completed referral)."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=current)
    client = login("caseworker1")

    response = client.post(
        url("referral_transition", referral), {"status": "unresolved", "feedback": "He moved to Ohio"}
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.feedback) == (ReferralStatus.UNRESOLVED, "He moved to Ohio")
    assert "<dt>Feedback</dt><dd>He moved to Ohio</dd>" in client.get(referral.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_refused_referral_transition_changes_nothing(login, world, current, target):
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=current)
    events = ReferralEvent.objects.count()

    response = login("caseworker1").post(
        url("referral_transition", referral), {"status": target, **EXTRA.get(target, {})}
    )

    if current == target:  # pressed twice: what the first press did stands, and is said
        assert response.status_code == 302 and response.url == referral.get_absolute_url()
    else:
        assert response.status_code in (400, 409)
    if REFERRAL_TRANSITIONS[current] and current != target:  # an open referral shows its form, with the reason
        assert error_beside(response, "status")
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason, referral.got_service) == (current, "", None)
    assert ReferralEvent.objects.count() == events


def test_why_it_was_declined_is_marked_for_declined_and_stands_with_its_help_line_without_a_script(login, world):
    """The box showed before Declined was chosen: the page's script (shown_for.js, the site's
    own file) shows it for Declined only; without the script it stays, with the line saying when."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)

    html = login("caseworker1").get(url("referral_detail", referral)).content.decode()

    assert re.search(
        r'<div data-shown-by="status" data-shown-for="declined">\s*<div class="field[^"]*">\s*'
        r'<label for="id_decline_reason">',
        html,
    )
    assert "“Why was it declined?” is needed when declined." in html
    assert re.search(r'<script src="[^"]*/services/shown_for[^"]*\.js" defer></script>', html)  # the site's own file
    assert " hidden" not in re.search(r'<div data-shown-by="status"[^>]*>', html).group(0)  # the script hides it


@pytest.mark.parametrize("closed", [ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED])
def test_an_update_of_a_closed_referral_says_it_is_closed_and_what_can_still_be_done(login, world, closed):
    """Sent from a page left open while the referral was closed elsewhere, the update came back
    with an empty list of statuses to choose from."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=closed)

    response = login("caseworker1").post(url("referral_transition", referral), {"status": "accepted", "note": "x"})

    assert response.status_code == 409
    html = unescape(response.content.decode())
    label = ReferralStatus(closed).label.lower()
    assert f"Nothing was changed: the referral is {label}." in html
    assert f"This referral is closed. It is {label}, and its status cannot change any more." in html
    assert '<select name="status"' not in html
    assert f"{reverse('follow_up_create', args=[referral.need.exoneree_id])}?referral={referral.pk}" in html
    assert f"{reverse('follow_up_record_done', args=[referral.need.exoneree_id])}?referral={referral.pk}" in html
    assert reverse("referral_create", args=[referral.need_id]) in html  # the need is still open
    assert Referral.objects.get(pk=referral.pk).status == closed


def test_a_made_up_status_is_said_beside_the_status_box_and_keeps_the_note(login, world):
    """Unlike the provider's hidden move, the caseworker's status is a box on the page: the
    error stands beside it, and the note typed is still there."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)

    response = login("caseworker1").post(url("referral_transition", referral), {"status": "fly", "note": "Called Tue"})

    assert response.status_code == 400
    assert error_beside(response, "status") and '<select name="status"' in response.content.decode()
    assert "Called Tue</textarea>" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_transition_is_409_when_someone_else_moved_the_referral_first(login, world, monkeypatch):
    referral = world.marcus.referral
    real_get_referral = access.get_referral

    def get_referral_then_someone_cancels(user, pk, *, change=False):
        loaded = real_get_referral(user, pk, change=change)
        Referral.objects.filter(pk=pk).update(status=ReferralStatus.CANCELLED)  # another tab, meanwhile
        return loaded

    monkeypatch.setattr(access, "get_referral", get_referral_then_someone_cancels)

    response = login("caseworker1").post(url("referral_transition", referral), {"status": "sent"})

    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED
    assert not referral.events.filter(to_status=ReferralStatus.SENT).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_needs_a_reason_beside_the_field(login, world, reason):
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)

    response = login("caseworker1").post(
        url("referral_transition", referral), {"status": "declined", "decline_reason": reason}
    )

    assert response.status_code == 400
    assert "Say why the provider declined." in error_beside(response, "decline_reason")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_decline_reason_too_long_is_not_also_asked_for(login, world):
    """Beside "Ensure this value has at most 2000 characters" stood "Say why the provider
    declined.", though the caseworker had said why, at length."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.SENT)

    response = login("caseworker1").post(
        url("referral_transition", referral), {"status": "declined", "decline_reason": "x" * 2001}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["decline_reason"] == [
        "Please keep this to 2000 characters or fewer. You wrote 2001."
    ]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_completing_needs_did_they_get_the_service(login, world):
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.IN_PROGRESS)
    client = login("caseworker1")

    refused = client.post(url("referral_transition", referral), {"status": "completed", "helped": "yes"})
    accepted = client.post(url("referral_transition", referral), {"status": "completed", "got_service": "no"})

    assert refused.status_code == 400
    assert "Say whether the person got the service." in error_beside(refused, "got_service")
    assert accepted.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.got_service, referral.helped) == (ReferralStatus.COMPLETED, False, None)


def test_referral_edit_cannot_switch_to_another_organizations_resource(login, world):
    referral = world.marcus.referral

    response = login("caseworker1").post(
        url("referral_edit", referral), {"resource": world.anita.resource.pk, "note": "x"}
    )

    assert response.status_code == 400
    referral.refresh_from_db()
    assert (referral.resource, referral.note) == (world.marcus.resource, "")


def test_a_drafts_note_to_the_provider_is_bounded_when_edited_as_when_written(login, world):
    referral = world.marcus.referral
    data = {"resource": world.marcus.resource.pk, "note": "Call her after 3 p.m. " * 100}  # 2,200 characters

    written = login("caseworker1").post(url("referral_create", referral.need), data)
    edited = login("caseworker1").post(url("referral_edit", referral), data)

    for response in (written, edited):
        assert response.status_code == 400
        assert "Please keep this to 2000 characters or fewer." in error_beside(response, "note")
        assert "Call her after 3 p.m." in response.content.decode()  # the text typed is there to shorten
    referral.refresh_from_db()
    assert referral.note == ""


# --- follow-ups --------------------------------------------------------------------------------


def follow_up_data(world, **changes):
    return {
        "title": "Call the landlord back",
        "due_at": "2030-01-02T10:00",
        "assigned_to": world.caseworker1.pk,
        "shared_with_exoneree": "on",
        **changes,
    }


def test_follow_up_create_in_the_organizations_timezone(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(url("follow_up_create", marcus), follow_up_data(world))

    assert response.status_code == 302
    follow_up = FollowUp.objects.get(title="Call the landlord back")
    assert (follow_up.exoneree, follow_up.assigned_to, follow_up.created_by) == (
        marcus,
        world.caseworker1,
        world.caseworker1,
    )
    assert follow_up.due_at == datetime(2030, 1, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert follow_up.shared_with_exoneree is True


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("assigned_to", lambda w: {"assigned_to": w.caseworker3.pk}),  # staff of org2
        ("need", lambda w: {"need": w.thomas.need.pk}),  # someone else's need
        ("referral", lambda w: {"referral": w.thomas.referral.pk}),
        ("due_at", lambda w: {"due_at": "tomorrow-ish"}),
    ],
)
def test_follow_up_with_bad_input_saves_nothing(login, world, field, change):
    response = login("caseworker1").post(
        url("follow_up_create", world.marcus.exoneree), follow_up_data(world, **change(world))
    )

    assert response.status_code == 400
    assert error_beside(response, field)
    assert not FollowUp.objects.filter(title="Call the landlord back").exists()


@pytest.mark.parametrize(
    ("due_at", "message"),
    [
        # New York's clocks go from 2:00 to 3:00 on March 10, 2030, and from 2:00 back to 1:00 on November 3.
        (
            "2030-03-10T02:30",
            "That time does not exist on that day: clocks go forward an hour, so 2:30 a.m. is skipped "
            "(the clocks say 3:30 a.m. at that moment). Choose another time.",
        ),
        (
            "2030-11-03T01:30",
            "That time happens twice on that day: clocks go back an hour, so 1:30 a.m. comes round again. "
            "Choose an earlier or a later time.",
        ),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_is_refused_in_plain_words_beside_the_field(login, world, due_at, message):
    """Walkthrough: 02:30 on the spring-forward day got Django's message, naming the zone's key."""
    response = login("caseworker1").post(
        url("follow_up_create", world.marcus.exoneree), follow_up_data(world, due_at=due_at)
    )

    assert response.status_code == 400
    assert f"<li>{message}</li>" in error_beside(response, "due_at")
    assert "America/New_York" not in response.content.decode()
    assert not FollowUp.objects.filter(title="Call the landlord back").exists()


def test_the_hour_after_the_clocks_go_forward_is_taken(login, world):
    response = login("caseworker1").post(
        url("follow_up_create", world.marcus.exoneree), follow_up_data(world, due_at="2030-03-10T03:30")
    )

    assert response.status_code == 302
    assert FollowUp.objects.get(title="Call the landlord back").due_at == datetime(2030, 3, 10, 7, 30, tzinfo=UTC)


def test_a_follow_up_about_a_referral_of_another_need_is_refused_beside_the_referral(login, world):
    """Mental health need, shelter referral: it saved and read as one thing (found by a walk)."""
    marcus = world.marcus.exoneree
    other = needs_actions.need_create(
        by=world.caseworker1, exoneree=marcus, need=Need(domain="mental_health", description="Someone to talk to")
    )
    assert world.marcus.referral.need_id != other.pk
    data = follow_up_data(world, need=other.pk, referral=world.marcus.referral.pk)

    response = login("caseworker1").post(url("follow_up_create", marcus), data)

    assert response.status_code == 400
    assert "This referral is for another need." in error_beside(response, "referral")
    assert not FollowUp.objects.filter(title="Call the landlord back").exists()


def test_a_follow_up_saved_is_named_with_its_day_on_its_own_row_and_a_day_past_is_said(login, world):
    """Walkthrough: "Follow-up saved." at the top of the person page, the list of follow-ups
    below the needs, and a day picked a week back in the calendar read as any other."""
    marcus = world.marcus.exoneree
    client = login("caseworker1")
    earlier = (timezone.localtime() - timedelta(days=6)).replace(hour=10, minute=0)

    ahead = client.post(url("follow_up_create", marcus), follow_up_data(world), follow=True)
    past = client.post(
        url("follow_up_create", marcus),
        follow_up_data(world, title="Check the Medicaid letter", due_at=earlier.strftime("%Y-%m-%dT%H:%M")),
    )

    saved = FollowUp.objects.get(title="Call the landlord back")
    assert ahead.redirect_chain == [(f"{marcus.get_absolute_url()}#follow-up-{saved.pk}", 302)]
    said = [str(m) for m in ahead.context["messages"]]
    assert said == ["Follow-up saved: “Call the landlord back”, due Wed Jan 2, 2030 10:00 a.m."]
    late = FollowUp.objects.get(title="Check the Medicaid letter")
    assert past.url == f"{marcus.get_absolute_url()}#follow-up-{late.pk}"
    words = [str(m) for m in client.get(past.url).context["messages"]]
    day = f"{earlier:%a %b %-d, %Y} 10:00 a.m."
    assert words == [f"Follow-up saved: “Check the Medicaid letter”, due {day}, which has already passed."]


def test_follow_up_edit(login, world):
    follow_up = world.marcus.follow_up

    response = login("caseworker1").post(url("follow_up_edit", follow_up), follow_up_data(world, title="Moved"))

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.title == "Moved"


def test_done_twice_keeps_the_first_time_and_outcome(login, world, time_machine):
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    time_machine.move_to(MOMENT, tick=False)
    first = client.post(url("follow_up_done", follow_up), {"outcome": "He got the keys"})
    time_machine.move_to(MOMENT + timedelta(hours=2), tick=False)

    second = client.post(url("follow_up_done", follow_up), {"outcome": "Pressed twice"})

    assert (first.status_code, second.status_code) == (302, 302)
    assert first.url == world.marcus.exoneree.get_absolute_url()
    follow_up.refresh_from_db()
    assert (follow_up.done_at, follow_up.outcome) == (MOMENT, "He got the keys")


def test_done_from_the_dashboard_goes_back_there(login, world):
    response = login("caseworker1").post(url("follow_up_done", world.marcus.follow_up), {"next": "dashboard"})

    assert response.status_code == 302
    assert response.url == "/dashboard/"


def test_done_from_the_follow_up_list_goes_back_to_it_and_nowhere_else(login, world):
    client = login("caseworker1")
    back = reverse("follow_up_list") + "?due=week&page=1"
    follow_ups = [FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1) for _ in range(4)]

    listed = client.post(url("follow_up_done", follow_ups[0]), {"next": back})
    elsewhere = client.post(url("follow_up_done", follow_ups[1]), {"next": "https://evil.example/follow-ups/"})
    other_page = client.post(url("follow_up_done", follow_ups[2]), {"next": "/people/"})
    unparsable = client.post(url("follow_up_done", follow_ups[3]), {"next": "http://[/follow-ups/"})

    assert listed.url == back
    person = world.marcus.exoneree.get_absolute_url()
    assert elsewhere.url == other_page.url == unparsable.url == person


def test_htmx_done_returns_the_row_partial(login, world):
    follow_up = world.marcus.follow_up

    response = login("caseworker1").post(
        url("follow_up_done", follow_up), {"outcome": "Went well"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert [t.name for t in response.templates][0] == "services/_follow_up_row.html"
    assert "<html" not in html
    assert f'id="follow-up-{follow_up.pk}"' in html
    assert "Outcome: Went well" in html
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


def test_reopen(login, world):
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    client.post(url("follow_up_done", follow_up))

    response = client.post(url("follow_up_reopen", follow_up))

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_mark_done_records_who_and_undo_empties_it(login, world):
    """Who marked it done is kept with the time (the history names them); a second "Mark done"
    keeps the first, and Undo empties both, as the access log says."""
    follow_up = world.marcus.follow_up
    client = login("caseworker1")

    client.post(url("follow_up_done", follow_up), {"outcome": "Called"})
    follow_up_actions.follow_up_complete(by=world.caseworker2, follow_up=follow_up)  # already done

    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.done_by == world.caseworker1
    client.post(url("follow_up_reopen", follow_up))
    follow_up.refresh_from_db()
    assert follow_up.done_at is None and follow_up.done_by is None
    undone = AuditEvent.objects.filter(target=audit.describe(follow_up)).latest("pk")
    assert undone.actor == world.caseworker1 and undone.changes["done_by"] == [world.caseworker1.pk, None]


def test_mark_done_from_a_list_offers_undo_that_returns_to_the_list(login, world):
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    back = reverse("follow_up_list") + "?due=week"

    done = client.post(url("follow_up_done", follow_up), {"next": back, "outcome": "Signed the lease"}, follow=True)

    page = done.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.outcome == "Signed the lease"
    undo = url("follow_up_reopen", follow_up)
    assert f'action="{undo}"' in page and "Undo" in page
    response = client.post(undo, {"next": back})
    assert response.status_code == 302 and response.url == back
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_undo_in_the_dashboards_banner_returns_to_the_dashboard(login, world):
    """The banner's form sends the page's path; only the word "dashboard" was taken (walk)."""
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    done = client.post(url("follow_up_done", follow_up), {"next": "dashboard", "outcome": "Called"}, follow=True)

    banner = done.content.decode().split(f'action="{url("follow_up_reopen", follow_up)}"')[1].split("</form>")[0]
    response = client.post(url("follow_up_reopen", follow_up), {"next": reverse("dashboard")})

    assert f'name="next" value="{reverse("dashboard")}"' in banner
    assert response.status_code == 302 and response.url == reverse("dashboard")


@pytest.mark.parametrize("back", ["dashboard", "list"])
def test_mark_done_from_the_dashboard_or_a_list_offers_to_schedule_the_next_one(login, world, back):
    """Walkthrough: the person page's row offered "Schedule the next one" after "Mark done";
    the dashboard's and My follow-ups' banner had only Undo."""
    follow_up, need = world.marcus.follow_up, world.marcus.need
    follow_up.title = "<b>Call</b> the landlord"
    follow_up.save(update_fields=["title"])
    client = login("caseworker1")
    sent = {"next": "dashboard" if back == "dashboard" else reverse("follow_up_list"), "outcome": "Called"}

    page = client.post(url("follow_up_done", follow_up), sent, follow=True).content.decode()

    banner = page.split('<div class="messages" role="status">', 1)[1].split("</div>", 1)[0]
    link = re.search(r'<a href="([^"]+)">Schedule the next one</a>', banner)
    assert link, banner
    assert unescape(link.group(1)) == f"{url('follow_up_create', world.marcus.exoneree)}?need={need.pk}"
    assert "&lt;b&gt;Call&lt;/b&gt; the landlord" in banner and "<b>" not in banner
    form = client.get(unescape(link.group(1))).context["form"]
    assert str(form["need"].value()) == str(need.pk)


def test_htmx_done_offers_undo_in_the_row_and_undo_brings_the_row_back(login, world):
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    htmx = {"HX-Request": "true"}

    done = client.post(url("follow_up_done", follow_up), {}, headers=htmx).content.decode()
    assert ">Undo</button>" in done

    row = client.post(url("follow_up_reopen", follow_up), {}, headers=htmx)
    assert [t.name for t in row.templates][0] == "services/_follow_up_row.html"
    assert "Mark done" in row.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.done_at is None


def test_htmx_done_offers_to_schedule_the_next_one_about_the_same_need(login, world):
    """Walkthrough: after "Mark done" the next call was planned from "+ Schedule a follow-up"
    above the list, choosing the need again from the whole list of the person's needs."""
    follow_up, need = world.marcus.follow_up, world.marcus.need
    client = login("caseworker1")
    htmx = {"HX-Request": "true"}

    done = client.post(url("follow_up_done", follow_up), {}, headers=htmx).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*>Schedule the next one</a>', done)
    assert link, done
    assert unescape(link.group(1)) == f"{url('follow_up_create', world.marcus.exoneree)}?need={need.pk}"
    form = client.get(unescape(link.group(1))).context["form"]
    assert (str(form["need"].value()), form["assigned_to"].value()) == (str(need.pk), world.caseworker1.pk)

    # Once undone it is to do again, not to follow; and a row merely done long ago does not offer it.
    assert (
        "Schedule the next one"
        not in client.post(url("follow_up_reopen", follow_up), {}, headers=htmx).content.decode()
    )
    client.post(url("follow_up_done", follow_up), {}, headers=htmx)
    assert "Schedule the next one" not in client.get(world.marcus.exoneree.get_absolute_url()).content.decode()


def test_the_dashboards_lists_take_an_outcome_and_tag_what_is_overdue(login, world):
    follow_up = world.marcus.follow_up
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=timezone.now() - timedelta(days=1))
    client = login("caseworker1")

    page = client.get(reverse("dashboard")).content.decode()
    overdue = page[page.index(f'id="follow-up-{follow_up.pk}"') :][:1500]
    assert 'name="outcome"' in overdue and "Overdue" in overdue

    # The caseload's row says it too, as People does: its next follow-up is overdue.
    caseload = page[page.index('id="caseload-h"') :]
    row = caseload[caseload.index(world.marcus.exoneree.get_absolute_url()) :]
    assert "Overdue" in row[: row.index("</tr>")]

    client.post(url("follow_up_done", follow_up), {"next": "dashboard", "outcome": "Called back"})
    follow_up.refresh_from_db()
    assert follow_up.outcome == "Called back"


def test_my_follow_ups_and_open_needs_are_always_in_the_caseworkers_menu(login, world):
    nav = login("caseworker1").get(reverse("exoneree_list")).content.decode()
    nav = nav[nav.index("<nav") : nav.index("</nav>")]
    assert reverse("follow_up_list") in nav and reverse("need_list") in nav


# --- notes -------------------------------------------------------------------------------------


def test_only_shared_notes_appear_on_the_plan(login, world):
    client = login("caseworker1")
    marcus = world.marcus.exoneree
    client.post(url("note_create", marcus), {"text": "New staff-only remark", "visibility": NoteVisibility.STAFF})
    client.post(url("note_create", marcus), {"text": "New shared reminder", "visibility": NoteVisibility.SHARED})

    plan = login("exoneree1").get(url("my_plan")).content.decode()

    assert CaseNote.objects.filter(exoneree=marcus, author=world.caseworker1).count() == 4
    assert world.marcus.shared_note.text in plan
    assert "New shared reminder" in plan
    assert world.marcus.staff_note.text not in plan
    assert "New staff-only remark" not in plan


def test_a_colleague_on_the_case_reads_but_cannot_rewrite_a_note(login, world):
    marcus, note = world.marcus.exoneree, world.marcus.staff_note
    people_actions.caseload_assign(
        by=world.director1, exoneree=marcus, caseworkers=[world.caseworker1, world.caseworker2]
    )
    client = login("caseworker2")

    detail = client.get(marcus.get_absolute_url())
    edit_page = client.get(url("note_edit", note))
    edit = client.post(url("note_edit", note), {"text": "Rewritten", "visibility": "staff"})

    assert detail.status_code == 200
    assert note.text in detail.content.decode()
    assert (edit_page.status_code, edit.status_code) == (403, 403)
    note.refresh_from_db()
    assert note.text == "Staff only: Marcus is wary of phones"


def test_the_author_edits_their_note(login, world):
    note = world.marcus.staff_note

    response = login("caseworker1").post(url("note_edit", note), {"text": "Prefers texts", "visibility": "shared"})

    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.text, note.visibility, note.author) == ("Prefers texts", "shared", world.caseworker1)


# --- assessments -------------------------------------------------------------------------------


def test_assessment_create_with_scores(login, world):
    marcus = world.marcus.exoneree

    response = login("caseworker1").post(
        url("assessment_create", marcus),
        {"kind": "interim", "taken_on": "2025-02-01", "score_housing": "3", "score_income": "5"},
    )

    assert response.status_code == 302
    assessment = Assessment.objects.latest("pk")
    assert (assessment.exoneree, assessment.kind, assessment.taken_by) == (marcus, "interim", world.caseworker1)
    assert {s.domain: s.score for s in assessment.scores.all()} == {"housing": 3, "income": 5}


@pytest.mark.parametrize("score", ["0", "6", "-1", "three"])
def test_assessment_score_out_of_range_is_refused(login, world, score):
    assessments = Assessment.objects.count()

    response = login("caseworker1").post(
        url("assessment_create", world.marcus.exoneree),
        {"kind": "interim", "taken_on": "2025-02-01", "score_housing": score},
    )

    assert response.status_code == 400
    assert "Select a valid choice" in error_beside(response, "score_housing")
    assert Assessment.objects.count() == assessments


def test_assessment_without_any_score_is_refused(login, world):
    assessments = Assessment.objects.count()

    response = login("caseworker1").post(
        url("assessment_create", world.marcus.exoneree), {"kind": "interim", "taken_on": "2025-02-01"}
    )

    assert response.status_code == 400
    assert "Score at least one domain." in response.content.decode()
    assert Assessment.objects.count() == assessments


def test_assessment_edit_replaces_the_scores(login, world):
    assessment = world.marcus.assessment

    response = login("caseworker1").post(
        url("assessment_edit", assessment), {"kind": "intake", "taken_on": "2025-01-10", "score_housing": "4"}
    )

    assert response.status_code == 302
    assert {s.domain: s.score for s in assessment.scores.all()} == {"housing": 4}


# --- exoneree invitations ----------------------------------------------------------------------


@pytest.fixture
def nadia(world):
    """A new person in caseworker1's caseload, with no login yet."""
    return ExonereeFactory(
        organization=world.org1,
        legal_name="Nadia Newcomer",
        email="nadia@example.org",
        ssn="900778899",
        date_of_birth=date(1968, 7, 21),
        address="77 Quietwater Lane, Houston TX",
        caseworkers=[world.caseworker1],
    )


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def invite(login, nadia, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return login("caseworker1").post(
            url("exoneree_invite", nadia), {"username": "nnewcomer", "email": "nadia@example.org"}
        )


def link_path(message) -> str:
    match = re.search(r"https?://\S+/accounts/invite/\S+/\S+/", message.body)
    assert match, message.body
    return urlparse(match.group(0)).path


def choose_password(path: str) -> tuple[Client, object]:
    """Follow an invitation link in a fresh browser and submit a password."""
    browser = Client()
    landing = browser.get(path, follow=True)
    return browser, browser.post(
        landing.redirect_chain[-1][0] if landing.redirect_chain else path,
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
    )


def test_invite_creates_a_login_and_sends_one_email_without_personal_details(
    login, world, nadia, django_capture_on_commit_callbacks
):
    response = invite(login, nadia, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == nadia.get_absolute_url()
    user = User.objects.get(username=f"nnewcomer@{world.org1.code}")
    nadia.refresh_from_db()
    assert nadia.user == user
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia@example.org"]
    assert link_path(message).startswith("/accounts/invite/")
    html = message.alternatives[0][0]
    assert link_path(message) in html
    for part in (message.subject, message.body, html):
        words = part.replace(link_path(message), "")  # its random token may hold "8899" or "1968"
        for secret in ("900778899", "900-77-8899", "8899", "1968", "Quietwater", "07/21", "July 21"):
            assert secret not in words


def test_invite_with_a_taken_username_sends_nothing(login, world, nadia, django_capture_on_commit_callbacks):
    User.objects.create(username=f"nnewcomer@{world.org1.code}")

    response = invite(login, nadia, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert f"nnewcomer@{world.org1.code} is taken" in error_beside(response, "username")
    nadia.refresh_from_db()
    assert nadia.user is None
    assert mail.outbox == []


def test_invitation_link_sets_a_password_once(login, world, nadia, fast_hasher, django_capture_on_commit_callbacks):
    invite(login, nadia, django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])

    browser, first = choose_password(path)
    user = User.objects.get(username=f"nnewcomer@{world.org1.code}")
    assert first.status_code == 302
    assert first.url == reverse("invitation_done")
    assert user.check_password(PASSWORD)
    # Through the sign-in page: the lockout backend needs the request (Client.login gives none).
    signed_in = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert browser.get("/").url == "/my-plan/"

    second = Client().get(path, follow=True)
    assert second.status_code == 200
    assert second.context["validlink"] is False
    assert "<h1>This invitation link no longer works</h1>" in second.content.decode()  # not a reset's words
    done = browser.get(reverse("invitation_done")).content.decode()
    assert "<h1>Your password is saved</h1>" in done and "reset" not in done.lower()
    User.objects.filter(pk=user.pk).update(password="!unusable")
    _, reused = choose_password(path)
    user.refresh_from_db()
    assert not user.has_usable_password()  # the used link set nothing
    assert reused.status_code == 200


@pytest.mark.parametrize(("seconds_after", "works"), [(-60, True), (60, False)])
def test_invitation_link_expires(
    login, world, nadia, fast_hasher, time_machine, django_capture_on_commit_callbacks, seconds_after, works
):
    time_machine.move_to(MOMENT, tick=False)
    invite(login, nadia, django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    time_machine.move_to(MOMENT + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + seconds_after), tick=False)

    _, response = choose_password(path)

    user = User.objects.get(username=f"nnewcomer@{world.org1.code}")
    assert user.check_password(PASSWORD) is works
    assert response.status_code == (302 if works else 200)


def test_invite_again_when_a_login_exists_resends_one_link(login, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login("caseworker1").post(url("exoneree_invite", world.marcus.exoneree))

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.exoneree1.email]
    assert link_path(mail.outbox[0])


# --- resource directory ------------------------------------------------------------------------

RESOURCE = {"name": "Rapid rehousing", "domains": ["housing", "income"], "status": "active", "city": "Houston"}


def test_director_creates_a_resource_with_a_new_provider(login, world):
    response = login("director1").post(url("resource_create"), {**RESOURCE, "new_provider_name": "Fresh Start"})

    resource = Resource.objects.get(name="Rapid rehousing")
    assert response.status_code == 302
    assert response.url == resource.get_absolute_url()
    assert resource.organization == world.org1
    assert resource.provider == Provider.objects.get(organization=world.org1, name="Fresh Start")
    assert set(resource.domain_rows.values_list("domain", flat=True)) == {"housing", "income"}


def test_director_edits_a_resource(login, world):
    resource = world.marcus.resource

    response = login("director1").post(
        url("resource_edit", resource),
        {**RESOURCE, "provider": resource.provider.pk, "name": "Housing Help 2", "domains": ["employment"]},
    )

    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.name == "Housing Help 2"
    assert list(resource.domain_rows.values_list("domain", flat=True)) == ["employment"]


@pytest.mark.parametrize(
    "provider",
    [lambda w: {"provider": w.anita.resource.provider.pk}, lambda w: {}],
    ids=["other-organizations-provider", "no-provider"],
)
def test_resource_without_a_provider_of_ours_is_refused(login, world, provider):
    response = login("director1").post(url("resource_create"), {**RESOURCE, **provider(world)})

    assert response.status_code == 400
    assert error_beside(response, "provider")
    assert not Resource.objects.filter(name="Rapid rehousing").exists()


def test_a_provider_chosen_and_a_new_one_typed_is_refused_beside_the_new_name(login, world):
    """Both given, a new provider was made without a word beside the one chosen."""
    chosen = world.marcus.resource.provider
    providers = Provider.objects.count()

    response = login("director1").post(
        url("resource_create"), {**RESOURCE, "provider": chosen.pk, "new_provider_name": "Fresh Start"}
    )

    assert response.status_code == 400
    assert "Choose a provider or type a new one, not both." in error_beside(response, "new_provider_name")
    assert 'value="Fresh Start"' in response.content.decode() and 'value="Rapid rehousing"' in response.content.decode()
    assert Provider.objects.count() == providers
    assert not Resource.objects.filter(name="Rapid rehousing").exists()


@pytest.fixture
def directory(world):
    workforce = ProviderFactory(organization=world.org1, name="Workforce Solutions")
    ResourceFactory(organization=world.org1, provider=workforce, name="Job Corps", domains=["employment"])
    ResourceFactory(organization=world.org1, name="Food Pantry", domains=["basic"])
    ResourceFactory(organization=world.org1, name="Old Shelter", domains=["housing"], status=ResourceStatus.INACTIVE)
    ResourceFactory(organization=world.org2, name="Job Corps Dallas", domains=["employment"])


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["Food Pantry", "Job Corps", "Marcus Housing Help", "Thomas Housing Help"]),
        ("?q=job", ["Job Corps"]),
        ("?q=workforce", ["Job Corps"]),
        ("?q=housing+thomas", ["Thomas Housing Help"]),
        ("?q=food", ["Food Pantry"]),
        # A need's name finds what serves it, whatever the resource is called.
        ("?q=basic", ["Food Pantry"]),
        ("?q=Employment", ["Job Corps"]),
        ("?q=job+training", ["Job Corps"]),  # "Employment and job training"
        ("?q=mental", []),
        ("?q=lawyer", []),
        ("?q=pantry", ["Food Pantry"]),
        ("?q=meal", ["Food Pantry"]),  # a word for a need's name: basic needs
        ("?q=work", ["Job Corps"]),  # employment, and in "Workforce Solutions"
        ("?q=od", []),  # a short word only where a word starts ("Food" is no match)
        ("?q=fo", ["Food Pantry"]),
        ("?q=foods", ["Food Pantry"]),  # a need's word: basic needs
        ("?domain=employment", ["Job Corps"]),
        ("?domain=housing", ["Marcus Housing Help", "Thomas Housing Help"]),
        ("?domain=housing&status=all", ["Marcus Housing Help", "Old Shelter", "Thomas Housing Help"]),
        ("?status=inactive", ["Old Shelter"]),
    ],
)
def test_resource_search_and_domain_filter(login, world, directory, query, names):
    response = login("caseworker1").get(url("resource_list") + query)

    assert response.status_code == 200
    assert [r.name for r in response.context["page"]] == names
    html = response.content.decode()
    for name in {"Food Pantry", "Job Corps", "Old Shelter", "Job Corps Dallas"} - set(names):
        assert f">{name}<" not in html


def test_resource_filter_with_an_unknown_domain_is_400(login, world):
    assert login("caseworker1").get(url("resource_list") + "?domain=astrology").status_code == 400


# --- caseloads and staff -----------------------------------------------------------------------


def test_reassigning_moves_access_at_once(login, world):
    case = world.marcus
    pages = [
        case.exoneree.get_absolute_url(),
        url("exoneree_edit", case.exoneree),
        url("need_edit", case.need),
        url("referral_detail", case.referral),
        url("follow_up_edit", case.follow_up),
        url("assessment_detail", case.assessment),
    ]
    assert [login("caseworker1").get(page).status_code for page in pages] == [200] * len(pages)

    response = login("director1").post(url("caseload_edit", case.exoneree), {"caseworkers": [world.caseworker2.pk]})

    assert response.status_code == 302
    assert [login("caseworker1").get(page).status_code for page in pages] == [404] * len(pages)
    assert [login("caseworker2").get(page).status_code for page in pages] == [200] * len(pages)
    assert get_perms(world.caseworker1, case.exoneree) == []
    assert set(get_perms(world.caseworker2, case.exoneree)) == {"view_exoneree", "change_exoneree"}
    dashboard = login("caseworker1").get(url("dashboard")).content.decode()
    assert "Marcus" not in dashboard


def test_cannot_assign_a_caseworker_of_another_organization(login, world):
    marcus = world.marcus.exoneree

    response = login("director1").post(url("caseload_edit", marcus), {"caseworkers": [world.caseworker3.pk]})

    assert response.status_code == 400
    assert list(marcus.caseworkers.all()) == [world.caseworker1]
    assert get_perms(world.caseworker3, marcus) == []


def test_staff_create_sends_an_invitation(login, world, django_capture_on_commit_callbacks):
    data = {
        "first_name": "Nia",
        "last_name": "Newhire",
        "email": "nia@example.org",
        "username": "nnewhire",
        "role": Role.CASEWORKER,
        "title": "Peer mentor",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = login("director1").post(url("staff_create"), data)

    assert response.status_code == 302
    member = StaffMember.objects.get(user__username=f"nnewhire@{world.org1.code}")
    assert (member.organization, member.role, member.title) == (world.org1, Role.CASEWORKER, "Peer mentor")
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nia@example.org"]
    assert "Harbor Light" in mail.outbox[0].subject
    assert link_path(mail.outbox[0])


def test_a_colleagues_email_address_is_refused_beside_the_field_whatever_its_case(login, world):
    User.objects.filter(pk=world.caseworker2.pk).update(email="casey.two@example.org")
    User.objects.filter(pk=world.caseworker3.pk).update(email="elsewhere@example.org")  # another organization's
    data = {"first_name": "Ana", "last_name": "Lopez", "username": "alopez", "role": Role.CASEWORKER}
    client = login("director1")
    same_staff = {**data, "email": "Casey.Two@example.org"}

    refused = client.post(url("staff_create"), same_staff)
    other_org = client.post(url("staff_create"), {**data, "email": "elsewhere@example.org"})

    assert refused.status_code == 400
    assert "Someone on your staff already has this email address." in error_beside(refused, "email")
    assert other_org.status_code == 302  # that another organization knows it is not told


def invited(world) -> StaffMember:
    """A caseworker invited and not yet signed in: no usable password (as every test account)."""
    return StaffFactory(user__username="nia@org1", user__email="nia@example.org", organization=world.org1)


def with_a_password(member: StaffMember) -> StaffMember:
    member.user.set_password("chosen long ago, by them")
    member.user.save(update_fields=["password"])
    return member


def test_staff_list_tells_who_has_not_taken_up_their_invitation_and_sends_it_again(
    login, world, django_capture_on_commit_callbacks
):
    member = invited(world)
    with_a_password(world.caseworker2.staff)
    client = login("director1")
    rows = {row.split("</td>")[0]: row for row in client.get(url("staff_list")).content.decode().split("<tr><td>")}
    assert "Invited; has not chosen a password yet" in rows[member.user.get_full_name()]
    assert "Invited" not in rows[world.caseworker2.get_full_name()]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("staff_invite", member), follow=True)

    assert "The invitation went again, to nia@example.org." in unescape(response.content.decode())
    assert [message.to for message in mail.outbox] == [["nia@example.org"]]
    assert link_path(mail.outbox[0])
    event = AuditEvent.objects.filter(target=f"Staff account {member.user.username}").latest("pk")
    assert event.changes == {"invitation": "sent again"}


def test_the_invitation_is_not_sent_again_to_someone_who_chose_a_password(
    login, world, django_capture_on_commit_callbacks
):
    member = with_a_password(world.caseworker2.staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = login("director1").post(url("staff_invite", member))

    assert response.status_code == 409
    assert "“Forgot your password?”" in unescape(response.content.decode())
    assert mail.outbox == []


def test_an_invitations_address_is_corrected_and_the_invitation_goes_to_the_new_one(
    login, world, django_capture_on_commit_callbacks
):
    member = invited(world)
    data = {
        "first_name": member.user.first_name,
        "last_name": member.user.last_name,
        "email": " nia.newhire@example.org ",
        "role": Role.CASEWORKER,
        "title": "",
        "is_active": "on",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = login("director1").post(url("staff_edit", member), data, follow=True)

    assert "Saved. The invitation went again, to nia.newhire@example.org." in unescape(response.content.decode())
    member.user.refresh_from_db()
    assert member.user.email == "nia.newhire@example.org"
    assert [message.to for message in mail.outbox] == [["nia.newhire@example.org"]]
    event = AuditEvent.objects.filter(target=f"Staff account {member.user.username}").latest("pk")
    assert event.changes == {"email": ["nia@example.org", "nia.newhire@example.org"]}


def test_an_invitations_address_cannot_become_a_colleagues(login, world):
    member = invited(world)
    data = {
        "first_name": "Test",
        "last_name": "Colleague",
        "email": world.caseworker2.email.upper(),
        "role": Role.CASEWORKER,
        "title": "",
        "is_active": "on",
    }

    response = login("director1").post(url("staff_edit", member), data)

    assert response.status_code == 400
    assert "Someone on your staff already has this email address." in error_beside(response, "email")
    member.user.refresh_from_db()
    assert member.user.email == "nia@example.org"


def test_the_address_of_someone_who_chose_a_password_is_theirs(login, world, django_capture_on_commit_callbacks):
    member = with_a_password(world.caseworker2.staff)
    before = member.user.email
    client = login("director1")
    form = client.get(url("staff_edit", member)).content.decode()
    assert re.search(r'<input type="email" name="email"[^>]* disabled', form)
    assert "only they can change their address" in form
    data = {
        "first_name": "Test",
        "last_name": "Colleague",
        "email": "director.owns.it@example.org",
        "role": Role.CASEWORKER,
        "title": "",
        "is_active": "on",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("staff_edit", member), data)

    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.email == before
    assert mail.outbox == []
    with pytest.raises(ValidationError, match="only they can change"):
        staff_actions.staff_update(
            by=world.director1, member=member, role=Role.CASEWORKER, title="", is_active=True, email="x@example.org"
        )


def test_a_colleague_with_a_password_and_no_address_can_still_be_edited(login, world):
    member = with_a_password(world.caseworker2.staff)
    User.objects.filter(pk=member.user_id).update(email="")  # made in the admin, which asks for none
    data = {
        "first_name": "Test",
        "last_name": "Colleague",
        "role": Role.CASEWORKER,
        "title": "Peer mentor",
        "is_active": "on",
    }

    response = login("director1").post(url("staff_edit", member), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.title == "Peer mentor"


@pytest.mark.parametrize("taken_up", ["signed in", "second factor", "password"])
def test_an_account_taken_up_in_any_way_keeps_its_address_even_its_letters_case(
    world, taken_up, django_capture_on_commit_callbacks
):
    member = world.caseworker2.staff
    user = member.user
    if taken_up == "signed in":
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())  # password since switched off
    elif taken_up == "second factor":
        User.objects.filter(pk=user.pk).update(last_login=None)
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    else:
        with_a_password(member)
    member = StaffMember.objects.select_related("user").get(pk=member.pk)

    with pytest.raises(ValidationError, match="only they can change"), django_capture_on_commit_callbacks(execute=True):
        staff_actions.staff_update(
            by=world.director1, member=member, role=Role.CASEWORKER, title="", is_active=True, email=user.email.upper()
        )
    with pytest.raises(ValidationError, match="already chosen a password"):
        staff_actions.staff_invitation_resend(by=world.director1, member=member)
    assert mail.outbox == []


def test_the_invitation_goes_again_a_few_times_an_hour_and_no_more(login, world, django_capture_on_commit_callbacks):
    member = invited(world)
    client = login("director1")

    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post(url("staff_invite", member)).status_code for _ in range(4)]

    assert answers == [302, 302, 302, 409]
    assert len(mail.outbox) == staff_actions.INVITATIONS_AGAIN_PER_HOUR == 3


def test_a_caseworker_who_still_has_people_is_switched_off_at_once_and_their_people_moved_next(login, world):
    client = login("director1")
    marcus = world.marcus.exoneree

    response = client.post(
        url("staff_edit", world.caseworker1.staff),
        {
            "first_name": "Test",
            "last_name": "Colleague",
            "email": world.caseworker1.email,
            "role": "caseworker",
            "title": "",
        },
        follow=True,
    )

    world.caseworker1.refresh_from_db()
    assert not world.caseworker1.is_active  # access ends now
    assert response.redirect_chain[-1][0] == reverse("caseload_move", args=[world.caseworker1.pk])
    page = unescape(response.content.decode())
    assert "can no longer sign in. Their reminders have stopped: move the people" in page
    assert marcus.display_name in page  # the people they carry, to move
    unassigned = client.get(reverse("exoneree_list") + "?case=unassigned").context["page"]
    assert marcus in list(unassigned)  # nobody who can sign in carries him
    moved = client.post(
        reverse("caseload_move", args=[world.caseworker1.pk]), {"everyone": "on", "to_caseworker": world.caseworker2.pk}
    )
    assert moved.status_code == 302
    assert list(marcus.caseworkers.all()) == [world.caseworker2]
    assert marcus not in list(client.get(reverse("exoneree_list") + "?case=unassigned").context["page"])
    assert login("caseworker1").get(reverse("dashboard")).status_code == 302  # signed out: to the sign-in page


def test_a_switched_off_caseworker_is_nobodys_contact_assignee_or_listener(login, world, client):
    marcus = world.marcus.exoneree
    both = [world.caseworker1, world.caseworker2]
    people_actions.caseload_assign(by=world.director1, exoneree=marcus, caseworkers=both)
    User.objects.filter(pk=world.caseworker1.pk).update(is_active=False)

    plan = login("exoneree1").get(reverse("my_plan")).content.decode()
    form = login("caseworker2").get(reverse("follow_up_create", args=[marcus.pk])).context["form"]
    needs_actions_messages.message_send(by=world.exoneree1, exoneree=marcus, text="Anyone there?", from_person=True)
    marcus.caseworkers.remove(world.caseworker2)  # only the switched-off one left
    needs_actions_messages.message_send(by=world.exoneree1, exoneree=marcus, text="Hello?", from_person=True)

    contacts = plan[plan.index('id="call-h"') : plan.index("</section>", plan.index('id="call-h"'))]
    assert world.caseworker1.get_full_name() not in contacts and world.caseworker2.get_full_name() in contacts
    assert list(form.fields["assigned_to"].queryset) == [world.caseworker2]
    told = [n.user for n in Notification.objects.filter(text__endswith="sent you a message.").order_by("pk")]
    assert told == [world.caseworker2, world.director1]  # nobody who can sign in carries him: the director


# --- homes and the plan ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("caseworker1", "/dashboard/"),
        ("caseworker3", "/dashboard/"),
        ("director1", "/director/"),
        ("director2", "/director/"),
        ("exoneree1", "/my-plan/"),
        ("exoneree3", "/my-plan/"),
        ("root", "/admin/"),
        ("anonymous", "/accounts/login/?next=/"),
    ],
)
def test_home_sends_each_role_to_its_page(login, world, persona, home):
    response = login(persona).get("/")

    assert response.status_code == 302
    assert response.url == home


def test_someone_without_a_role_is_told_so(client, db):
    client.force_login(UserFactory())

    home = client.get("/")
    no_role = client.get(home.url)

    assert home.url == "/no-role/"
    assert no_role.status_code == 403


def test_my_plan_shows_only_my_own_record(login, world):
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.SENT)
    ReferralFactory(need=world.marcus.need, resource=ResourceFactory(organization=world.org1, name="Draft Place"))
    FollowUpFactory(exoneree=world.marcus.exoneree, title="Internal case review", shared_with_exoneree=False)

    response = login("exoneree1").get(url("my_plan"))

    assert response.status_code == 200
    html = response.content.decode()
    for mine in ("Marcus", world.marcus.need.description, "Marcus Housing Help", "Visit Marcus at home"):
        assert mine in html
    for other in ("Thomas", "Okafor", "Anita", "Ramirez"):
        assert other not in html
    for hidden in ("Draft Place", "Internal case review", world.marcus.staff_note.text):
        assert hidden not in html


def test_my_plan_shows_the_next_20_dates_and_the_latest_10_missed_ones(login, world):
    person, now = world.marcus.exoneree, timezone.now()
    world.marcus.follow_up.delete()

    def dated(hours: int, **extra) -> FollowUp:
        extra.setdefault("shared_with_exoneree", True)
        return FollowUpFactory(exoneree=person, due_at=now + timedelta(hours=hours), **extra)

    ahead = [dated(hours) for hours in range(25, 1, -1)]  # created latest first
    behind = [dated(-hours) for hours in range(1, 15)]
    dated(-1, done_at=now)
    dated(1, shared_with_exoneree=False)

    context = login("exoneree1").get(url("my_plan")).context

    assert list(context["upcoming"]) == sorted(ahead, key=lambda f: f.due_at)[:20]
    assert list(context["missed"]) == behind[:10]  # the latest first


# --- the dashboard and its lists ---------------------------------------------------------------


def _overdue(world, n: int, *, days: int = 1) -> list[FollowUp]:
    due = timezone.now() - timedelta(days=days)
    return [
        FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, due_at=due - timedelta(hours=i))
        for i in range(n)
    ]


def test_dashboard_shows_the_first_rows_of_each_section_and_counts_them_all(login, world):
    oldest = _overdue(world, 12)[-1]
    FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1)  # due in 3 days
    for _ in range(11):
        NeedFactory(exoneree=world.marcus.exoneree, priority="low")
    urgent = NeedFactory(exoneree=world.marcus.exoneree, priority="urgent", description="Needs insulin today")
    for _ in range(11):
        ExonereeFactory(organization=world.org1, caseworkers=[world.caseworker1])

    response = login("caseworker1").get(url("dashboard"))

    context, html = response.context, unescape(response.content.decode())
    assert [len(context[name]) for name in ("overdue", "due_soon", "caseload", "open_needs")] == [10, 2, 10, 10]
    assert (context["overdue_count"], context["due_soon_count"]) == (12, 2)
    assert (context["caseload_count"], context["open_needs_count"]) == (12, 13)
    assert context["overdue"][0] == oldest  # the longest overdue first
    assert context["open_needs"][0] == urgent
    assert context["caseload"][0] == world.marcus.exoneree  # the next follow-up comes first
    assert "Overdue follow-ups (12)" in html
    assert f'href="{reverse("follow_up_list")}?due=overdue">See all 12 overdue follow-ups' in html
    assert f'href="{reverse("need_list")}">See all 13 open needs' in html
    assert f'href="{reverse("exoneree_list")}">See all 12 people' in html
    assert "See all 2 follow-ups" not in html  # everything due soon is on the page already


def test_follow_up_list_shows_my_open_follow_ups_by_when_they_are_due(login, world):
    overdue = _overdue(world, 2)
    soon = world.marcus.follow_up  # due in 3 days
    later = FollowUpFactory(
        exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, due_at=timezone.now() + timedelta(days=30)
    )
    FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, done_at=timezone.now())
    FollowUpFactory(exoneree=world.thomas.exoneree, assigned_to=world.caseworker2, due_at=overdue[0].due_at)
    client = login("caseworker1")

    def listed(due: str) -> list[FollowUp]:
        return list(client.get(reverse("follow_up_list"), {"due": due}).context["page"])

    assert listed("overdue") == [overdue[1], overdue[0]]
    assert listed("week") == [soon]
    assert listed("") == [overdue[1], overdue[0], soon, later]


def test_each_follow_up_on_my_list_opens_its_own_row_on_the_persons_page(login, world):
    """The titles were not links: rescheduling one took finding the person, then the follow-up."""
    follow_up = world.marcus.follow_up
    client = login("caseworker1")

    listed = client.get(reverse("follow_up_list")).content.decode()
    person_page = client.get(reverse("exoneree_detail", args=[follow_up.exoneree_id])).content.decode()

    anchor = f"{reverse('exoneree_detail', args=[follow_up.exoneree_id])}#follow-up-{follow_up.pk}"
    link = re.search(rf'<a href="{re.escape(anchor)}">(.*?)</a>', listed, re.S)
    assert link and unescape(re.sub(r"<[^>]+>", "", link.group(1))) == follow_up.title
    row = re.search(rf'<li id="follow-up-{follow_up.pk}"[^>]*>(.*?)</li>', person_page, re.S)
    assert row and reverse("follow_up_edit", args=[follow_up.pk]) in row.group(1)


def test_follow_up_list_pages_through_them_all(login, world):
    _overdue(world, 51)

    client = login("caseworker1")
    first = client.get(reverse("follow_up_list"), {"due": "overdue"})
    second = client.get(reverse("follow_up_list"), {"due": "overdue", "page": 2})

    assert (len(first.context["page"]), len(second.context["page"])) == (50, 1)
    assert "Page 1 of 2" in first.content.decode()


def test_a_director_reads_one_caseworkers_open_follow_ups_or_everyones_without_marking_them_done(login, world):
    overdue = _overdue(world, 2)  # caseworker1's
    theirs = FollowUpFactory(
        exoneree=world.thomas.exoneree, assigned_to=world.caseworker2, due_at=timezone.now() - timedelta(days=1)
    )
    FollowUpFactory(exoneree=world.anita.exoneree, assigned_to=world.caseworker3, due_at=theirs.due_at)  # org2
    client = login("director1")

    def listed(**query: object) -> list[FollowUp]:
        response = client.get(reverse("follow_up_list"), {"due": "overdue", **query})
        assert response.status_code == 200
        return list(response.context["page"])

    assert listed(caseworker=world.caseworker1.pk) == [overdue[1], overdue[0]]
    assert listed(caseworker=world.caseworker2.pk) == [theirs]
    assert set(listed()) == {*overdue, theirs}  # everyone's, in their organization only
    html = client.get(reverse("follow_up_list"), {"caseworker": world.caseworker1.pk, "due": "overdue"}).content
    assert b"Mark done" not in html  # done is the caseworker's to say
    assert f'href="?caseworker={world.caseworker1.pk}&amp;due=week"'.encode() in html  # the filter kept


@pytest.mark.parametrize("caseworker", ["x", "999999", "director1", "caseworker3"])
def test_a_director_naming_no_caseworker_of_theirs_is_told_beside_the_field(login, world, caseworker):
    _overdue(world, 1)
    theirs = FollowUpFactory(exoneree=world.anita.exoneree, assigned_to=world.caseworker3)
    value = str(getattr(world, caseworker).pk) if hasattr(world, caseworker) else caseworker

    response = login("director1").get(reverse("follow_up_list"), {"caseworker": value})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert theirs not in response.context["page"]


@pytest.mark.parametrize("persona", ["caseworker1", "director1"])
def test_a_due_the_list_does_not_know_is_told_beside_its_choices_and_left_out(login, world, persona):
    """`?due=bogus` listed every open follow-up without a word, as if "All open" had been
    chosen. It is said as a bad caseworker is: 400, beside the choices, and left out."""
    overdue = _overdue(world, 1)
    soon = world.marcus.follow_up  # due in 3 days
    FollowUpFactory(exoneree=world.thomas.exoneree, assigned_to=world.caseworker2, due_at=overdue[0].due_at)

    response = login(persona).get(reverse("follow_up_list"), {"due": "bogus", "caseworker": world.caseworker1.pk})

    assert response.status_code == 400
    assert "Not a choice here: choose Overdue, Due in the next 7 days or All open." in error_beside(response, "due")
    html = response.content.decode()
    assert 'aria-describedby="id_due_error"' in html and 'aria-current="page">All open' in html
    assert 'name="due" value="bogus"' not in html  # the caseworker form does not carry it on
    assert list(response.context["page"]) == [*overdue, soon]  # caseworker1's, every open one


def test_a_caseworker_naming_a_colleague_still_sees_only_their_own_follow_ups(login, world):
    mine = _overdue(world, 1)
    FollowUpFactory(exoneree=world.thomas.exoneree, assigned_to=world.caseworker2, due_at=mine[0].due_at)

    response = login("caseworker1").get(
        reverse("follow_up_list"), {"caseworker": world.caseworker2.pk, "due": "overdue"}
    )

    assert list(response.context["page"]) == mine
    assert b"Mark done" in response.content


def test_need_list_shows_the_open_needs_of_my_people_most_urgent_first(login, world):
    person = world.marcus.exoneree
    old = world.marcus.need  # medium, opened today
    high = NeedFactory(exoneree=person, priority="high")
    urgent = NeedFactory(exoneree=person, priority="urgent")
    NeedFactory(exoneree=person, status=NeedStatus.MET)
    NeedFactory(exoneree=world.thomas.exoneree, priority="urgent")

    response = login("caseworker1").get(reverse("need_list"))

    assert list(response.context["page"]) == [urgent, high, old]
    assert "Marcus needs an apartment" in response.content.decode()


def test_a_colleagues_misspelled_name_is_corrected_and_logged(login, world):
    member = world.caseworker2.staff
    data = {"first_name": "Christopher", "last_name": "Twofold", "email": member.user.email, "role": Role.CASEWORKER}

    response = login("director1").post(url("staff_edit", member), {**data, "title": "", "is_active": "on"})

    assert response.status_code == 302
    member.user.refresh_from_db()
    assert member.user.get_full_name() == "Christopher Twofold"
    event = AuditEvent.objects.filter(target=f"Staff account {member.user.username}").latest("pk")
    assert event.changes["first_name"] == ["Chris", "Christopher"]


def test_a_username_typed_in_capitals_is_taken_in_small_letters(login, world, django_capture_on_commit_callbacks):
    data = {"first_name": "Maria", "last_name": "Lopez", "email": "mlopez@example.org", "role": Role.CASEWORKER}

    client = login("director1")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("staff_create"), {**data, "username": "MLopez", "title": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert StaffMember.objects.filter(user__username=f"mlopez@{world.org1.code}").exists()
    page = client.get(response.url).content.decode()
    assert f"was emailed an invitation to sign in as mlopez@{world.org1.code}." in page  # as saved


@pytest.mark.parametrize("typed", ["😀", "%", "-", " * "])
def test_a_name_search_without_letters_or_numbers_is_refused_beside_its_box(login, world, typed):
    """It matched everyone ("4 matches for “😀”"): People, and the access log's person filter."""
    people = login("caseworker1").get(reverse("exoneree_list"), {"q": typed})
    assert people.status_code == 400
    assert "Type part of a name: letters or numbers." in error_beside(people, "q")
    assert "matches for" not in people.content.decode()

    log = login("director1").get(reverse("audit_log"), {"person": typed})
    assert log.status_code == 400
    assert "Type part of a name: letters or numbers." in error_beside(log, "person")

    found = login("caseworker1").get(reverse("exoneree_list"), {"q": "Marcus"})
    assert found.status_code == 200 and "1 match for “Marcus”" in found.content.decode()
