"""Break-the-glass: a caseworker opens a record outside their caseload for a stated reason,
read-only, for BREAK_GLASS_HOURS; it is logged and a director reviews it afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services import access
from services.actions import emergency
from services.choices import EmergencyReview, Role
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.notifications import Notification
from tests.conftest import verify_second_factor
from tests.factories import ExonereeFactory, StaffFactory, UserFactory

REASON = "He called the hotline in crisis; his caseworker is away."


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def ask(client, world, **overrides):
    data = {"legal_name": "Thomas Okafor", "date_of_birth": "1970-03-14", "reason": REASON, "confirm": "on"}
    return client.post(reverse("emergency_access_request"), data | overrides)


def test_the_grant_opens_the_record_read_only_and_is_logged(login, world):
    client = login("caseworker1")
    thomas = world.thomas.exoneree
    assert client.get(thomas.get_absolute_url()).status_code == 404

    response = ask(client, world)

    assert response.status_code == 302 and response.url == thomas.get_absolute_url()
    page = client.get(thomas.get_absolute_url())
    assert page.status_code == 200
    assert "Emergency access: read-only" in page.content.decode()
    assert not access.can_change_exoneree(world.caseworker1, thomas)
    assert client.get(reverse("need_create", args=[thomas.pk])).status_code == 403
    grant = EmergencyAccess.objects.get()
    assert (grant.user, grant.exoneree, grant.reason) == (world.caseworker1, thomas, REASON)
    assert grant.expires_at - grant.granted_at == timedelta(hours=4)
    entry = AuditEvent.objects.get(action=AuditEvent.Action.EMERGENCY_ACCESS)
    assert (entry.actor, entry.exoneree) == (world.caseworker1, thomas)
    assert REASON not in str(entry.changes)  # the reason stays in the encrypted grant


def test_the_message_and_the_banner_give_the_same_end_in_the_organizations_time(login, world):
    client = login("caseworker1")

    ask(client, world)

    grant = EmergencyAccess.objects.get()
    page = client.get(world.thomas.exoneree.get_absolute_url()).content.decode()
    end = timezone.localtime(grant.expires_at)
    shown = f"{end:%b} {end.day}, {end.year} {end.hour % 12 or 12}:{end:%M} {'a.m.' if end.hour < 12 else 'p.m.'}"
    assert f"Emergency access, read-only, until {shown}; your director was told." in page
    assert f"read-only until {shown}; it is logged" in page
    assert "UTC" not in page and "..</p>" not in page


def test_the_search_by_ssn_works_too(login, world):
    response = ask(login("caseworker1"), world, legal_name="", date_of_birth="", ssn="900-23-4567")

    assert response.status_code == 302
    assert EmergencyAccess.objects.get().exoneree == world.thomas.exoneree


def test_the_directors_are_notified(login, world):
    ask(login("caseworker1"), world)

    notice = Notification.objects.get(user=world.director1)
    assert "Casey Onewell" in notice.text and "Thomas Okafor" in notice.text
    grant = EmergencyAccess.objects.get()
    assert notice.url == reverse("emergency_reviews") + f"#grant-{grant.pk}"  # the card of that grant
    assert not Notification.objects.filter(user=world.director2).exists()


def searches(user) -> list[dict]:
    return [e.changes for e in AuditEvent.objects.filter(action=AuditEvent.Action.EMERGENCY_SEARCH, actor=user)]


@pytest.mark.parametrize("who", ["Thomas Okafor", "Nobody Atall"], ids=["a match", "no match"])
def test_without_the_confirmation_nothing_is_searched_and_the_answer_is_the_same(login, world, who):
    # Before the reason and the confirmation the page must not say whether a record matches:
    # else trying birth dates one by one would find anyone's.
    response = ask(login("caseworker1"), world, legal_name=who, confirm="")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Tick the box to confirm" in page
    assert "One record matches" not in page and "No single record" not in page
    assert searches(world.caseworker1) == []
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize(
    "overrides, result",
    [
        ({"legal_name": "Nobody Atall"}, "no single match"),
        ({"date_of_birth": "1970-03-15"}, "no single match"),  # a wrong guess at the birth date
        ({"legal_name": "Marcus Whitfield"}, "already on the caseload"),
        ({}, "opened"),
    ],
    ids=["unknown-name", "wrong-birth-date", "own-caseload", "match"],
)
def test_every_search_is_logged_misses_too(login, world, overrides, result):
    ask(login("caseworker1"), world, **overrides)

    [logged] = searches(world.caseworker1)
    assert logged["result"] == result
    assert logged["by"] == "name and birth date"
    assert "Thomas" not in str(logged) and "1970" not in str(logged)  # what was typed is not kept


def test_searches_are_capped_per_hour_and_the_directors_are_told(login, world, settings, time_machine):
    settings.BREAK_GLASS_SEARCHES_PER_HOUR = 3
    time_machine.move_to(timezone.now(), tick=False)
    client = login("caseworker1")
    for day in (1, 2, 3):
        assert ask(client, world, date_of_birth=f"1970-01-0{day}").status_code == 400
    told = Notification.objects.filter(user=world.director1, text__contains="limit of 3 emergency searches")
    assert told.count() == 1
    assert not Notification.objects.filter(user=world.director2).exists()

    # The right birth date now: refused all the same, unsearched, and logged.
    response = ask(client, world)
    assert response.status_code == 400
    assert "the most allowed" in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    assert [s["result"] for s in searches(world.caseworker1)][0] == "refused: hourly limit reached"
    assert told.count() == 1  # told once, when the limit was reached

    time_machine.shift(timedelta(hours=1, seconds=1))
    assert ask(login("caseworker1"), world).status_code == 302


def test_a_refused_search_is_logged_even_though_the_request_fails(world):
    from services.models.people import Exoneree

    candidate = Exoneree(legal_name="Nobody Atall", date_of_birth=world.thomas.exoneree.date_of_birth)
    with pytest.raises(ValidationError):
        emergency.emergency_access_request(by=world.caseworker1, candidate=candidate, reason=REASON)

    assert searches(world.caseworker1) == [{"result": "no single match", "by": "name and birth date"}]


def test_a_reason_of_invisible_characters_is_refused(login, world):
    invisible = "\u200b" * 25 + "\u00a0\u2060\ufeff \t\n"

    response = ask(login("caseworker1"), world, reason=invisible)

    assert response.status_code == 400
    assert not EmergencyAccess.objects.exists()
    with pytest.raises(ValidationError):
        emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.thomas.exoneree, reason=invisible)
    assert searches(world.caseworker1) == []


def test_emergency_access_does_not_reveal_the_full_ssn(login, world):
    client = login("caseworker1")
    ask(client, world)
    thomas = world.thomas.exoneree

    assert "Show full number" not in client.get(thomas.get_absolute_url()).content.decode()
    response = client.post(reverse("exoneree_ssn_reveal", args=[thomas.pk]))
    assert response.status_code == 403
    assert "900234567" not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SSN_REVEALED).exists()
    # His own caseworker still can.
    assert login("caseworker2").post(reverse("exoneree_ssn_reveal", args=[thomas.pk])).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"reason": "urgent"},  # under 20 characters
        {"legal_name": "Thomas Okafo"},  # not exact
        {"legal_name": "Anita Ramirez"},  # another organization's
        {"legal_name": "", "date_of_birth": ""},  # nothing to search by
    ],
    ids=["short-reason", "inexact-name", "other-organization", "no-search"],
)
def test_refused_requests_grant_nothing(login, world, overrides):
    response = ask(login("caseworker1"), world, **overrides)

    assert response.status_code == 400
    assert not EmergencyAccess.objects.exists()
    assert login("caseworker1").get(world.anita.exoneree.get_absolute_url()).status_code == 404


def test_a_person_already_on_the_caseload_is_not_a_glass_access(login, world):
    response = ask(login("caseworker1"), world, legal_name="Marcus Whitfield")

    assert response.status_code == 400
    assert not EmergencyAccess.objects.exists()


def test_asking_again_while_the_access_is_open_goes_to_the_record(login, world):
    """It was refused with "This person is already on your caseload: open them from People",
    though they are on no caseload of the caseworker's and People does not list them."""
    client = login("caseworker1")
    ask(client, world)

    again = ask(client, world)

    assert again.status_code == 302 and again.url == world.thomas.exoneree.get_absolute_url()
    assert EmergencyAccess.objects.count() == 1  # the open access, not a second one
    searched = AuditEvent.objects.filter(action=AuditEvent.Action.EMERGENCY_SEARCH).order_by("pk")
    assert searched.last().changes["result"] == "already open by emergency access"


def test_the_action_refuses_a_short_reason(world):
    with pytest.raises(ValidationError):
        emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.thomas.exoneree, reason="too short")


def test_access_expires(login, world, time_machine, settings):
    settings.BREAK_GLASS_HOURS = 2
    time_machine.move_to(timezone.now(), tick=False)
    client = login("caseworker1")
    ask(client, world)
    url = world.thomas.exoneree.get_absolute_url()

    time_machine.shift(timedelta(hours=2) - timedelta(seconds=1))
    client = login("caseworker1")  # a fresh session: the old one timed out while idle
    assert client.get(url).status_code == 200
    time_machine.shift(timedelta(seconds=1))
    assert client.get(url).status_code == 404
    assert world.thomas.exoneree not in access.exonerees_visible_to(world.caseworker1)


def test_the_visible_set_stays_one_query(world):
    emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.thomas.exoneree, reason=REASON)
    world.caseworker1._staff_cache = access.staff_of(world.caseworker1)

    with CaptureQueriesContext(connection) as queries:
        names = sorted(p.legal_name for p in access.exonerees_visible_to(world.caseworker1))

    assert names == ["Marcus Whitfield", "Thomas Okafor"]
    assert len(queries) == 1


def test_a_grant_gives_nothing_to_other_caseworkers(login, world):
    emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.thomas.exoneree, reason=REASON)

    assert login("caseworker3").get(world.thomas.exoneree.get_absolute_url()).status_code == 404


# --- the director's review ----------------------------------------------------------------------


def grant(world) -> EmergencyAccess:
    return emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.thomas.exoneree, reason=REASON)


def test_the_director_sees_pending_reviews_with_the_reason(login, world):
    grant(world)

    page = login("director1").get(reverse("emergency_reviews")).content.decode()

    assert REASON in page and "Thomas Okafor" in page
    assert REASON not in login("director2").get(reverse("emergency_reviews")).content.decode()


@pytest.mark.parametrize("decision", [EmergencyReview.ACKNOWLEDGED, EmergencyReview.FLAGGED])
def test_the_director_reviews_it_once(login, world, decision):
    pending = grant(world)
    client = login("director1")
    url = reverse("emergency_review", args=[pending.pk])

    response = client.post(url, {"decision": decision, "note": "Checked with the team"})
    again = client.post(url, {"decision": EmergencyReview.ACKNOWLEDGED, "note": ""})

    pending.refresh_from_db()
    assert response.status_code == 302
    assert again.status_code == 400
    assert (pending.review, pending.reviewed_by, pending.review_note) == (
        decision,
        world.director1,
        "Checked with the team",
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EMERGENCY_REVIEWED).count() == 1


def test_flagging_needs_a_note_and_the_flag_stays_chosen(login, world):
    """The page came back with "Acknowledge" chosen again: the note typed next and saved
    recorded the access as acknowledged, not flagged."""
    pending = grant(world)

    response = login("director1").post(reverse("emergency_review", args=[pending.pk]), {"decision": "flagged"})

    pending.refresh_from_db()
    assert response.status_code == 400
    assert pending.review == EmergencyReview.PENDING
    html = response.content.decode()
    assert '<option value="flagged" selected>' in html
    assert '<option value="acknowledged" selected>' not in html


def test_a_review_is_a_choice_made_not_a_default(login, world):
    pending = grant(world)
    client = login("director1")

    page = client.get(reverse("emergency_reviews")).content.decode()
    response = client.post(reverse("emergency_review", args=[pending.pk]), {"decision": "", "note": "Seen"})

    assert '<option value="">Choose one</option>' in page.split(f'id="decision-{pending.pk}"')[1].split("</select>")[0]
    pending.refresh_from_db()
    assert response.status_code == 400 and pending.review == EmergencyReview.PENDING
    html = response.content.decode()
    assert "Choose whether to acknowledge it or flag it." in html
    assert f'id="note-{pending.pk}" rows="2">Seen</textarea>' in html


@pytest.mark.parametrize(("persona", "status"), [("director2", 404), ("caseworker1", 403), ("exoneree1", 403)])
def test_only_the_organizations_director_reviews(login, world, persona, status):
    pending = grant(world)

    response = login(persona).post(reverse("emergency_review", args=[pending.pk]), {"decision": "acknowledged"})

    pending.refresh_from_db()
    assert response.status_code == status
    assert pending.review == EmergencyReview.PENDING


def test_the_ssn_typed_is_never_echoed_into_the_page(login, world):
    response = ask(login("caseworker1"), world, legal_name="", date_of_birth="", ssn="900234567", confirm="")

    assert response.status_code == 400
    assert "900234567" not in response.content.decode()


def test_the_grantee_ends_it_early_and_the_record_closes_at_once(login, world):
    client = login("caseworker1")
    ask(client, world)
    grant = EmergencyAccess.objects.get()

    response = client.post(reverse("emergency_access_end", args=[grant.pk]))

    assert response.url == reverse("dashboard")
    assert client.get(world.thomas.exoneree.get_absolute_url()).status_code == 404
    grant.refresh_from_db()
    assert not grant.is_active
    assert grant.review == EmergencyReview.PENDING  # the director still reviews it
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED).get()
    assert (entry.actor, entry.exoneree) == (world.caseworker1, world.thomas.exoneree)
    assert entry.changes["ended_early"] == [False, True]


def test_the_director_ends_it(login, world):
    ask(login("caseworker1"), world)
    grant = EmergencyAccess.objects.get()

    response = login("director1").post(reverse("emergency_access_end", args=[grant.pk]))

    assert response.url == reverse("emergency_reviews")
    assert not access.exonerees_visible_to(world.caseworker1).filter(pk=world.thomas.exoneree.pk).exists()


def test_ending_an_ended_grant_is_refused_with_a_reason(login, world):
    client = login("caseworker1")
    ask(client, world)
    grant = EmergencyAccess.objects.get()
    client.post(reverse("emergency_access_end", args=[grant.pk]))
    entries = AuditEvent.objects.count()

    again = client.post(reverse("emergency_access_end", args=[grant.pk]))

    assert again.status_code == 409
    assert "already ended" in again.content.decode()
    assert AuditEvent.objects.count() == entries


# --- a caseworker of the same organization who holds no grant -----------------------------------
# The organization filter stops a caseworker of another organization before any grant rule is
# asked, so only a colleague of the grantee shows that each rule looks at the grant's holder.


@pytest.fixture
def colleague(world, client):
    """caseworker4: same organization as the grantee, no caseload, no grant; signed in."""
    user = UserFactory(username="caseworker4", first_name="Quinn", last_name="Bystander")
    StaffFactory(user=user, organization=world.org1, role=Role.CASEWORKER)
    client.force_login(user)
    verify_second_factor(client, user)
    return user


def pages_of(case) -> list[str]:
    """Every page that shows a piece of this person's record."""
    person = case.exoneree.pk
    return [
        reverse("exoneree_detail", args=[person]),
        reverse("exoneree_history", args=[person]),
        reverse("exoneree_done_follow_ups", args=[person]),
        reverse("referral_detail", args=[case.referral.pk]),
        reverse("need_edit", args=[case.need.pk]),
        reverse("follow_up_edit", args=[case.follow_up.pk]),
        reverse("note_edit", args=[case.staff_note.pk]),
        reverse("assessment_detail", args=[case.assessment.pk]),
    ]


def test_a_grant_opens_nothing_to_a_colleague_of_the_grantee(world, client, colleague):
    thomas = world.thomas
    grant(world)

    assert [client.get(url).status_code for url in pages_of(thomas)] == [404] * len(pages_of(thomas))
    assert not access.exonerees_visible_to(colleague).exists()
    for loader, record in [
        (access.get_exoneree, thomas.exoneree),
        (access.get_need, thomas.need),
        (access.get_referral, thomas.referral),
        (access.get_follow_up, thomas.follow_up),
        (access.get_note, thomas.staff_note),
        (access.get_assessment, thomas.assessment),
    ]:
        with pytest.raises(Http404):
            loader(colleague, record.pk)


def test_the_grantee_reads_everything_under_the_person_and_changes_nothing(world):
    thomas = world.thomas
    grant(world)
    grantee = world.caseworker1

    assert access.get_exoneree(grantee, thomas.exoneree.pk) == thomas.exoneree
    for loader, record in [
        (access.get_need, thomas.need),
        (access.get_referral, thomas.referral),
        (access.get_follow_up, thomas.follow_up),
        (access.get_note, thomas.staff_note),
        (access.get_assessment, thomas.assessment),
    ]:
        assert loader(grantee, record.pk) == record
        with pytest.raises(PermissionDenied):
            loader(grantee, record.pk, change=True)
    with pytest.raises(PermissionDenied):
        access.get_exoneree(grantee, thomas.exoneree.pk, change=True)


def test_a_grant_opens_only_the_person_it_names(world):
    grant(world)
    ray = ExonereeFactory(organization=world.org1, legal_name="Ray Castillo", caseworkers=[world.caseworker2])

    visible = set(access.exonerees_visible_to(world.caseworker1))

    assert visible == {world.marcus.exoneree, world.thomas.exoneree}
    assert ray not in visible


def test_a_colleague_cannot_end_someone_elses_grant(world, client, colleague):
    pending = grant(world)

    response = client.post(reverse("emergency_access_end", args=[pending.pk]))

    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.is_active
    with pytest.raises(Http404):
        access.get_emergency_grant_to_end(colleague, pending.pk)
    assert access.get_emergency_grant_to_end(world.caseworker1, pending.pk) == pending
    assert access.get_emergency_grant_to_end(world.director1, pending.pk) == pending
    with pytest.raises(Http404):
        access.get_emergency_grant_to_end(world.director2, pending.pk)
    with pytest.raises(PermissionDenied):
        access.get_emergency_grant_to_end(world.exoneree2, pending.pk)


def test_a_colleague_neither_sees_nor_reviews_grants(world, client, colleague):
    pending = grant(world)

    assert client.get(reverse("emergency_reviews")).status_code == 403
    response = client.post(reverse("emergency_review", args=[pending.pk]), {"decision": "acknowledged"})
    assert response.status_code == 403
    assert not access.emergency_grants_visible_to(colleague).exists()
    assert not access.emergency_grants_visible_to(world.caseworker1).exists()  # the grantee neither
    assert list(access.emergency_grants_visible_to(world.director1)) == [pending]
    assert not access.emergency_grants_visible_to(world.director2).exists()
    with pytest.raises(PermissionDenied):
        access.get_emergency_grant(colleague, pending.pk)
    assert access.get_emergency_grant(world.director1, pending.pk) == pending


def test_a_colleagues_own_grant_opens_the_record_to_them_alone(world, client, colleague):
    emergency.emergency_access_grant(by=colleague, exoneree=world.marcus.exoneree, reason=REASON)

    assert client.get(world.marcus.exoneree.get_absolute_url()).status_code == 200
    assert set(access.exonerees_visible_to(colleague)) == {world.marcus.exoneree}
    assert set(access.exonerees_visible_to(world.caseworker2)) == {world.thomas.exoneree}


def test_only_a_caseworker_asks_for_a_record_of_their_own_organization(world, colleague):
    assert access.get_exoneree_for_emergency(colleague, world.thomas.exoneree.pk) == world.thomas.exoneree
    with pytest.raises(Http404):
        access.get_exoneree_for_emergency(colleague, world.anita.exoneree.pk)
    for someone in (world.director1, world.exoneree1, world.root):
        with pytest.raises(PermissionDenied):
            access.get_exoneree_for_emergency(someone, world.thomas.exoneree.pk)


def test_an_expired_grant_opens_nothing(world, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    pending = grant(world)

    time_machine.move_to(pending.expires_at, tick=False)

    assert not access.active_emergency_grants(world.caseworker1).exists()
    assert world.thomas.exoneree not in access.exonerees_visible_to(world.caseworker1)


def test_the_review_settles_every_directors_notification(login, world):
    """It still said "Review it." and showed as new after the review was saved (walk)."""
    other = StaffFactory(organization=world.org1, role=Role.DIRECTOR).user
    pending = grant(world)
    unrelated = Notification.objects.create(user=world.director1, text="Review it.", url=reverse("audit_log"))

    login("director1").post(reverse("emergency_review", args=[pending.pk]), {"decision": "acknowledged"})

    notices = Notification.objects.filter(url=pending.get_review_url())
    assert {notice.user for notice in notices} == {world.director1, other}
    for notice in notices:
        assert notice.read_at is not None
        assert notice.text == "Casey Onewell used emergency access to Thomas Okafor's record. Reviewed."
    unrelated.refresh_from_db()
    assert (unrelated.text, unrelated.read_at) == ("Review it.", None)
