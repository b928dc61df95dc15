"""What the demo seed holds: people, caseloads, stories, directory, histories, plans.

Seeded once for the module (tests/test_seed_demo.py runs the command itself: fresh, twice,
with and without a password).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from services import reminders
from services.access import exonerees_visible_to
from services.choices import (
    AssessmentDomain,
    AssessmentKind,
    NeedDomain,
    NoteVisibility,
    ReferralStatus,
    ReminderKind,
    ReminderStatus,
    Role,
    TransferStatus,
)
from services.lifecycle import CLAIM_NOT_FILED
from services.models.casework import Assessment
from services.models.directory import Provider, Resource, ResourceDomain
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, RecordClearance
from services.models.needs import Need
from services.models.notifications import Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.models.transfers import Transfer
from services.selectors.documents import documents_page
from tests.conftest import built_for_the_module, verify_second_factor
from tests.test_seed_demo import (  # noqa: F401 (dev_settings: a fixture)
    DEMO_USERNAMES,
    DEV_SETTINGS,
    EXONEREE_NAMES,
    EXONEREE_USERNAMES,
    PASSWORD,
    STAFF_USERNAMES,
    dev_settings,
    seed,
    sign_in_request,
    snapshot,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
DEMO_ORGANIZATIONS = ("Midwest Exoneree Reentry Project", "Gulf Coast Innocence Reentry")


@pytest.fixture(scope="module")
def seeded_for_the_module(request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any) -> Any:
    def seed_and_count() -> dict[str, int]:
        with override_settings(**DEV_SETTINGS):  # as dev_settings sets them for each test
            seed(password=PASSWORD)
            return snapshot()

    with built_for_the_module(request, django_db_blocker, seed_and_count) as counts:
        yield counts


@pytest.fixture
def seeded(seeded_for_the_module: dict[str, int], db: None) -> dict[str, int]:
    """The demo as `seed_demo` leaves it, seeded once for this module (each seed takes
    seconds); what a test writes is rolled back after it. The counts of its rows."""
    return seeded_for_the_module


def test_seed_twice_creates_the_same_data(seeded):
    seed(password=PASSWORD)
    assert snapshot() == seeded
    assert set(User.objects.values_list("username", flat=True)) == DEMO_USERNAMES
    assert Organization.objects.count() == 2
    assert Exoneree.objects.count() == 7


def test_every_demo_account_logs_in_with_the_password(seeded):
    for username in DEMO_USERNAMES:
        user = User.objects.get(username=username)
        assert user.email == f"{username}@example.org"
        assert authenticate(sign_in_request(), username=username, password=PASSWORD) == user, username


def test_roles_and_organizations(seeded):
    roles = dict(StaffMember.objects.values_list("user__username", "role"))
    assert roles == {
        "director1": Role.DIRECTOR,
        "caseworker1": Role.CASEWORKER,
        "caseworker2": Role.CASEWORKER,
        "director2": Role.DIRECTOR,
        "caseworker3": Role.CASEWORKER,
    }
    logins = dict(Exoneree.objects.filter(user__isnull=False).values_list("user__username", "legal_name"))
    assert logins == {
        "exoneree1": "Marcus Webb",
        "exoneree2": "Thomas Okafor",
        "exoneree3": "Anita Brooks",
        "exoneree4": "Delia Ruiz",
        "exoneree5": "Rosa Delgado",
    }
    midwest = Organization.objects.get(name="Midwest Exoneree Reentry Project")
    gulf = Organization.objects.get(name="Gulf Coast Innocence Reentry")
    assert (midwest.timezone, gulf.timezone) == ("America/Chicago", "America/New_York")


def visible_names(username: str) -> set[str]:
    return set(exonerees_visible_to(User.objects.get(username=username)).values_list("legal_name", flat=True))


def test_caseloads_are_assigned_with_permissions(seeded):
    assert visible_names("caseworker1") == {"Marcus Webb", "Delia Ruiz"}
    assert visible_names("caseworker2") == {"Thomas Okafor", "Ray Castillo"}
    assert visible_names("caseworker3") == {"Anita Brooks", "Samuel Price", "Rosa Delgado"}
    assert visible_names("director1") == {"Marcus Webb", "Delia Ruiz", "Thomas Okafor", "Ray Castillo"}
    assert visible_names("director2") == {"Anita Brooks", "Samuel Price", "Rosa Delgado"}


def test_a_demo_person_is_found_by_their_phone_number_typed_another_way(seeded):
    """Marcus Webb's number as a call shows it (+1, digits only) finds him on People."""
    marcus = Exoneree.objects.get(legal_name="Marcus Webb")
    caller = "+1" + re.sub(r"[^0-9]", "", marcus.phone)
    caseworker, client = User.objects.get(username="caseworker1"), Client()
    client.force_login(caseworker)
    verify_second_factor(client, caseworker)

    response = client.get(reverse("exoneree_list"), {"q": caller})

    assert marcus.phone == "(312) 555-0150"
    assert [person.legal_name for person in response.context["page"]] == ["Marcus Webb"]
    assert not client.get(reverse("exoneree_list"), {"q": caller[:-1]}).context["page"].paginator.count


def test_identifiers_are_fictional(seeded):
    for exoneree in Exoneree.objects.all():
        assert re.fullmatch(r"9\d{8}", exoneree.ssn), exoneree.legal_name
        assert re.search(r"555-01\d\d$", exoneree.phone), exoneree.phone
        assert exoneree.conviction_date < exoneree.release_date
        assert abs((exoneree.release_date - exoneree.exoneration_date).days) <= 30
        for claim in exoneree.compensation_claims.all():
            assert claim.filing_deadline > exoneree.exoneration_date, exoneree.legal_name
    assert set(Exoneree.objects.filter(preferred_language="es").values_list("legal_name", flat=True)) == {
        "Delia Ruiz",
        "Ray Castillo",
        "Rosa Delgado",
    }
    today = timezone.localdate()
    days_left = [c.days_to_deadline(today) for c in CompensationClaim.objects.filter(stage__in=CLAIM_NOT_FILED)]
    assert any(0 <= days <= 90 for days in days_left), days_left
    for resource in Resource.objects.all():
        assert re.search(r"555-01\d\d$", resource.phone), resource.phone


def test_every_demo_person_has_a_claim_with_its_story(seeded):
    claims = {c.exoneree.legal_name: c for c in CompensationClaim.objects.select_related("exoneree")}
    stages = {name: claim.stage for name, claim in claims.items()}
    assert stages == {
        "Marcus Webb": "assessing",
        "Delia Ruiz": "awarded",
        "Thomas Okafor": "filed",
        "Ray Castillo": "attorney_engaged",
        "Anita Brooks": "attorney_engaged",
        "Samuel Price": "not_eligible",
        "Rosa Delgado": "assessing",
    }
    assert claims["Anita Brooks"].deadline_basis == "override" and claims["Anita Brooks"].override_reason
    assert claims["Marcus Webb"].deadline_basis == "statute" and "ILCS" in claims["Marcus Webb"].deadline_citation
    ray = claims["Ray Castillo"]
    assert Reminder.objects.filter(compensation_claim=ray, status=ReminderStatus.PENDING).exists()
    delia = RecordClearance.objects.filter(exoneree__legal_name="Delia Ruiz", status="confirmed_clear")
    assert Reminder.objects.filter(record_clearance__in=delia, kind=ReminderKind.RECORD_RECHECK).exists()


def test_resource_directory(seeded):
    statuses = set()
    for organization in Organization.objects.all():
        resources = Resource.objects.filter(organization=organization)
        assert resources.count() >= 30
        covered = set(
            ResourceDomain.objects.filter(resource__organization=organization).values_list("domain", flat=True)
        )
        assert covered == set(NeedDomain.values) - {NeedDomain.OTHER}  # "something else": only asked for
        assert resources.filter(languages__contains="Spanish").exists()
        assert not resources.exclude(provider__organization=organization).exists()
        statuses |= set(resources.values_list("status", flat=True))
    assert {"active", "temporarily_closed", "inactive"} <= statuses
    cities = [
        set(Resource.objects.filter(organization=o).values_list("city", flat=True)) for o in Organization.objects.all()
    ]
    assert not cities[0] & cities[1]


def test_every_referral_status_appears(seeded):
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    for referral in Referral.objects.all():
        events = list(referral.events.order_by("at", "pk"))
        assert events[0].to_status == ReferralStatus.DRAFT
        assert events[-1].to_status == referral.status
        assert all(event.by_id == referral.created_by_id for event in events)
    assert any(r.decline_reason for r in Referral.objects.filter(status=ReferralStatus.DECLINED))
    assert any(r.feedback for r in Referral.objects.filter(status=ReferralStatus.COMPLETED, got_service__isnull=False))


def test_every_exoneree_has_a_case_history(seeded):
    now = timezone.now()
    for exoneree in Exoneree.objects.all():
        name = exoneree.legal_name
        assert 3 <= exoneree.needs.count() <= 5, name
        assert all(need.own_words for need in exoneree.needs.all()), name
        assert Referral.objects.filter(need__exoneree=exoneree).exists(), name
        assert exoneree.follow_ups.filter(due_at__lt=now).exists(), name
        assert exoneree.follow_ups.filter(due_at__gt=now).exists(), name
        assert exoneree.notes.filter(visibility=NoteVisibility.STAFF).exists(), name
        assert exoneree.notes.filter(visibility=NoteVisibility.SHARED).exists(), name
        intake = exoneree.assessments.get(kind=AssessmentKind.INTAKE)
        assert set(intake.scores.values_list("domain", flat=True)) == set(AssessmentDomain.values), name
        assert exoneree.caseworkers.count() == 1, name
    assert Need.objects.filter(status="met").exists()
    assert Need.objects.filter(status="in_progress").exists()
    assert any(f.outcome for f in FollowUp.objects.filter(done_at__isnull=False))
    assert FollowUp.objects.filter(done_at__isnull=True, due_at__lt=now).exists()  # overdue
    assert Assessment.objects.filter(kind=AssessmentKind.INTERIM).values("exoneree").distinct().count() >= 2


def test_the_check_ins_after_release_are_planned_as_intake_plans_them(seeded):
    """Through intake's action: from before the first one the file says was done (done on its day,
    an hour after its time, with what came of it), else only those still ahead; all the
    caseworker's own, never on the person's plan, and no reminder of a day gone by left to send."""
    now = timezone.now()
    check_ins: dict[str, dict[int, FollowUp]] = {}
    for follow_up in FollowUp.objects.filter(release_check__isnull=False).select_related("exoneree"):
        check_ins.setdefault(follow_up.exoneree.legal_name, {})[follow_up.release_check] = follow_up
    assert {name: sorted(days) for name, days in check_ins.items()} == {
        "Marcus Webb": [7, 30, 90, 180, 365],  # released 40 days ago
        "Thomas Okafor": [180, 365],
        "Ray Castillo": [365],
        "Anita Brooks": [30, 90, 180, 365],
        "Rosa Delgado": [30, 90, 180, 365],  # released 90 days ago: the 90-day one is today's
    }  # Delia Ruiz and Samuel Price: their year after release is over, none done in the file
    done = {(name, days) for name, by_days in check_ins.items() for days, f in by_days.items() if f.done_at}
    assert done == {
        ("Marcus Webb", 7),
        ("Marcus Webb", 30),
        ("Thomas Okafor", 180),
        ("Ray Castillo", 365),
        ("Anita Brooks", 30),
        ("Anita Brooks", 90),
        ("Anita Brooks", 180),
        ("Rosa Delgado", 30),
    }
    for by_days in check_ins.values():
        for follow_up in by_days.values():
            assert follow_up.assigned_to_id == follow_up.exoneree.caseworkers.get().pk
            assert not follow_up.shared_with_exoneree
            if follow_up.done_at:
                assert follow_up.done_at - follow_up.due_at == timedelta(hours=1)
                assert follow_up.outcome and follow_up.done_by_id == follow_up.assigned_to_id
            else:
                assert follow_up.due_at.date() >= timezone.localdate() - timedelta(days=1)
            late = Reminder.objects.filter(follow_up=follow_up, status=ReminderStatus.PENDING, send_at__lte=now)
            assert not late.exists()

    rosa = check_ins["Rosa Delgado"][90]
    assert rosa.title in signed_in("caseworker3").get("/dashboard/").content.decode()  # due today


def test_the_only_people_named_are_the_demo_exonerees(seeded):
    names = set(Exoneree.objects.values_list("legal_name", flat=True))
    names |= set(Exoneree.objects.exclude(preferred_name="").values_list("preferred_name", flat=True))
    assert names == EXONEREE_NAMES
    for user in User.objects.filter(username__in=STAFF_USERNAMES):
        assert user.first_name in {"Caseworker", "Director"}, user.first_name
        assert user.last_name in {"One", "Two", "Three"}, user.last_name
    for user in User.objects.filter(username__in=EXONEREE_USERNAMES):
        assert user.get_full_name() == user.exoneree.legal_name


def test_a_new_password_replaces_the_old_one(seeded):
    seed(password="another-pass-456!")
    assert authenticate(sign_in_request(), username="caseworker1", password="another-pass-456!") is not None
    assert authenticate(sign_in_request(), username="caseworker1", password=PASSWORD) is None


def test_every_resource_has_an_intake_address_and_a_provider_email_waits_in_the_console(seeded):
    """`make run` prints the provider's email with its link within a minute: the notice of
    caseworker1's sent referral is queued (one, however many runs), the history's are not."""
    seed(password=PASSWORD)  # a second run
    assert not Resource.objects.filter(intake_email="").exists()
    assert all(email.endswith(".example.org") for email in Resource.objects.values_list("intake_email", flat=True))
    waiting = Reminder.objects.filter(kind=ReminderKind.REFERRAL_NOTICE, status=ReminderStatus.PENDING)
    (notice,) = waiting
    assert notice.referral.status == ReferralStatus.SENT
    assert notice.referral.need.exoneree.caseworkers.filter(username="caseworker1").exists()
    mail.outbox.clear()
    for reminder_id in reminders.reminders_claim_due():
        reminders.reminder_send(reminder_id)
    (email,) = [m for m in mail.outbox if "/p/" in m.body]
    assert email.to == [notice.referral.resource.intake_email]


def test_the_spanish_speakers_plans_read_as_one_language(seeded):
    for username in ("exoneree4", "exoneree5"):  # one in each organization; one seeding for both
        spanish_plan_has_no_english(username)


def test_delia_reads_the_hours_the_directory_has_in_spanish(seeded):
    """The demo's services a Spanish reader is sent to have their hours typed in Spanish too
    (Resource.hours_es): on her Spanish plan she reads those, never the English ones (the
    English hours where none are typed in Spanish: tests/test_resource_spanish.py)."""
    text = signed_in("exoneree4").get("/my-plan/").content.decode()
    referred = Resource.objects.filter(referrals__need__exoneree__user__username="exoneree4").distinct()

    assert [r for r in referred if r.hours_es and f"Horario: {r.hours_es}" in text]
    assert not [r for r in referred if r.hours and f"Horario: {r.hours}" in text]


def spanish_plan_has_no_english(username: str) -> None:
    """Issue 19: a Spanish-speaking person in each organization, whose needs, words,
    appointments and shared notes are in Spanish: the plan has no English left but the
    directory's names and addresses (what staff typed into the directory)."""
    from tests.test_i18n import ENGLISH_WORDS, _visible_text

    user = User.objects.get(username=username)
    person = user.exoneree
    assert person.preferred_language == "es"
    client = Client()
    client.force_login(user)

    text = _visible_text(client.get("/my-plan/").content.decode())

    assert "Hola" in text
    typed_by_staff = [person.organization.name, person.first_name, person.display_name, "Reentry", "English", username]
    for need in person.needs.all():
        for referral in need.referrals.all():
            resource = referral.resource
            typed_by_staff += [resource.name, resource.provider.name, resource.address, resource.city, resource.hours]
            typed_by_staff += [resource.phone, referral.provider_contact]
    for caseworker in person.caseworkers.all():
        typed_by_staff += [caseworker.get_full_name(), caseworker.email, caseworker.staff.title, caseworker.staff.phone]
    for value in sorted(filter(None, typed_by_staff), key=len, reverse=True):
        text = text.replace(value, " ")
    leftovers = sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)})
    assert not leftovers, f"English on {username}'s Spanish plan: {leftovers} in {text!r}"


def test_marcus_key_papers_say_his_id_need_was_met(seeded):
    """His need "Birth certificate and state ID." was met with a completed referral: his key
    papers checklist tells staff so, and asks for copies, instead of only "missing"."""
    [marcus] = [person for person in Exoneree.objects.all() if person.legal_name == "Marcus Webb"]

    rows = {row["kind"]: row for row in documents_page(marcus)["document_checklist"]}

    assert {kind for kind, row in rows.items() if row["need_met"]} == {"birth_certificate", "state_id"}


def signed_in(username: str) -> Client:
    """A client of the demo account, past both steps of signing in."""
    client, user = Client(), User.objects.get(username=username)
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def test_director1_can_transfer_ray_to_gulf_coast_and_director2_answers_it_under_transfers(seeded):
    """A transfer needs a consent with the provider that is the receiving organization; the demo
    has one linked each way and Ray's consent (he has no sign-in of his own), so a transfer can be
    tried (walk: /people/4/transfer/ always refused)."""
    midwest, gulf = (Organization.objects.get(name=name) for name in DEMO_ORGANIZATIONS)
    linked = set(Provider.objects.filter(member_organization__isnull=False).values_list("organization", "name"))
    assert linked == {(midwest.pk, gulf.name), (gulf.pk, midwest.name)}
    [ray] = [person for person in Exoneree.objects.all() if person.legal_name == "Ray Castillo"]

    response = signed_in("director1").post(
        reverse("transfer_propose", args=[ray.pk]), {"to_organization": gulf.pk, "parts": ["needs", "staff_notes"]}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = Transfer.objects.get(exoneree=ray)
    assert (transfer.status, transfer.to_organization) == (TransferStatus.PENDING, gulf)
    director2 = signed_in("director2")
    answer = reverse("transfer_answer", args=[transfer.pk])
    waiting = director2.get(reverse("transfer_list")).content.decode()
    assert answer in waiting and "Ray Castillo" in waiting
    assert reverse("transfer_list") in director2.get(reverse("director_dashboard")).content.decode()

    assert director2.post(answer, {"decision": "accept"}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED
    assert (transfer.received_as.organization, transfer.received_as.legal_name) == (gulf, "Ray Castillo")
