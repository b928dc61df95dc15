"""The demo seed: idempotent, DEBUG only, its password and second factors (what it holds:
test_seed_demo_contents.py)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import UserObjectPermission

from services.actions.consent import consent_revoke
from services.choices import ConsentRevokedHow, ReminderKind, ReminderStatus
from services.models.casework import Assessment, AssessmentScore, CaseNote
from services.models.consent import Consent, ConsentCategoryRow
from services.models.directory import Provider, Resource, ResourceDomain
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim, RecordClearance
from services.models.needs import Need
from services.models.notifications import Reminder
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree, ExonereeUserObjectPermission
from services.models.referrals import Referral, ReferralEvent

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "demo-pass-123!"
STAFF_USERNAMES = {"director1", "caseworker1", "caseworker2", "director2", "caseworker3"}
EXONEREE_USERNAMES = {"exoneree1", "exoneree2", "exoneree3", "exoneree4", "exoneree5"}
DEMO_USERNAMES = STAFF_USERNAMES | EXONEREE_USERNAMES
EXONEREE_NAMES = {
    "Marcus Webb",
    "Delia Ruiz",
    "Thomas Okafor",
    "Ray Castillo",
    "Anita Brooks",
    "Samuel Price",
    "Rosa Delgado",  # issue 19: a Spanish-speaking person in the second organization too
}
# The test runner turns DEBUG off; seed_demo is a development tool and needs it on.
DEV_SETTINGS = {"DEBUG": True, "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"]}
PASSWORD_LINE = re.compile(r"Password for every demo account: (\S+)")


@pytest.fixture(autouse=True)
def dev_settings(settings):
    for name, value in DEV_SETTINGS.items():
        setattr(settings, name, value)


def sign_in_request():
    """The lockout backend (django-axes) checks every sign-in against the client's address."""
    return RequestFactory().post("/accounts/login/")


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    models = (
        Organization,
        User,
        StaffMember,
        Exoneree,
        ExonereeUserObjectPermission,
        UserObjectPermission,
        Need,
        Referral,
        ReferralEvent,
        FollowUp,
        CaseNote,
        Assessment,
        AssessmentScore,
        Consent,
        ConsentCategoryRow,
        Provider,
        Resource,
        ResourceDomain,
        CompensationClaim,
        RecordClearance,
    )
    return {model.__name__: model.objects.count() for model in models}


def test_given_password_is_not_echoed():
    output = seed(password=PASSWORD)
    assert PASSWORD not in output
    assert "caseworker1" in output


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "already-seeded"])
def test_without_password_prints_one_that_works(existing):
    if existing:
        seed(password=PASSWORD)
    output = seed()
    match = PASSWORD_LINE.search(output)
    assert match, output
    password = match.group(1)
    assert password != PASSWORD
    for username in DEMO_USERNAMES:
        assert authenticate(sign_in_request(), username=username, password=password) is not None, username
        assert username in output


def test_a_generated_password_is_kept_for_the_next_run(settings):
    first = PASSWORD_LINE.search(seed()).group(1)
    kept = settings.DEMO_PASSWORD_FILE
    assert kept.read_text().strip() == first
    assert kept.stat().st_mode & 0o777 == 0o600  # the password's file is the owner's alone

    again = PASSWORD_LINE.search(seed()).group(1)
    assert again == first  # a restart of `make run` signs nobody out
    assert authenticate(sign_in_request(), username="caseworker1", password=first) is not None

    kept.unlink()
    assert PASSWORD_LINE.search(seed()).group(1) != first


def test_the_sign_in_pages_say_how_to_sign_into_the_demo_in_debug_only(client, settings):
    assert "Demo: sign in as caseworker1" in client.get("/accounts/login/").content.decode()
    settings.DEBUG = False
    assert "Demo:" not in client.get("/accounts/login/").content.decode()


def test_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed(password=PASSWORD)
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_demo_staff_pass_two_step_sign_in_with_the_printed_secret():
    """`make run`: a demo staff member signs in with the password and a code from the printed secret."""
    out = seed(password=PASSWORD)
    client = Client()

    for username in STAFF_USERNAMES:
        secret = re.search(rf"^\s+{username}\s+([A-Z2-7]+)$", out, re.MULTILINE).group(1)
        code = f"{totp(base64.b32decode(secret)):06d}"
        printed = StringIO()
        call_command("demo_code", username, stdout=printed, stderr=StringIO())
        assert printed.getvalue().strip() == code

        client.post("/accounts/login/", {"username": username, "password": PASSWORD})
        response = client.post("/accounts/two-factor/", {"code": code, "next": "/"})
        assert response.status_code == 302, response.content[:500]
        assert response.url == "/"
        assert client.get("/", follow=True).status_code == 200
        client.post("/accounts/logout/")


def test_demo_secrets_stay_the_same_on_every_run():
    seed(password=PASSWORD)
    first = dict(TOTPDevice.objects.values_list("user__username", "key"))
    seed(password=PASSWORD)
    second = dict(TOTPDevice.objects.values_list("user__username", "key"))

    assert first == second
    assert set(second) == STAFF_USERNAMES


def test_the_demo_has_a_follow_up_due_two_minutes_after_seeding(time_machine):
    start = datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    seed(password=PASSWORD)
    time_machine.move_to(start + timedelta(hours=1), tick=False)
    seed(password=PASSWORD)

    [demo] = FollowUp.objects.filter(title__startswith="Demo:")
    assert demo.assigned_to.username == "caseworker1"
    assert demo.due_at == start + timedelta(hours=1, minutes=2)
    due = Reminder.objects.get(follow_up=demo, kind=ReminderKind.DUE)
    assert (due.status, due.send_at, due.recipient.username) == (ReminderStatus.PENDING, demo.due_at, "caseworker1")


def rays_consents_with_gulf_coast() -> Any:
    ray = Exoneree.objects.get(legal_name="Ray Castillo")
    return Consent.objects.filter(exoneree=ray, provider__member_organization__name="Gulf Coast Innocence Reentry")


@pytest.mark.parametrize("ended", ["revoked", "expired"])
def test_a_run_after_the_demo_consent_ended_gives_a_current_one_back(ended):
    """Ray's consent to a transfer, revoked or run out while trying the demo: the next run gives
    him a current one again (a transfer can be tried), and the run after it adds none."""
    seed(password=PASSWORD)
    [consent] = rays_consents_with_gulf_coast()
    if ended == "revoked":
        consent_revoke(by=User.objects.get(username="caseworker1"), consent=consent, how=ConsentRevokedHow.STAFF)
    else:
        Consent.objects.filter(pk=consent.pk).update(ends_on=timezone.localdate() - timedelta(days=1))

    seed(password=PASSWORD)
    seed(password=PASSWORD)

    current = [consent for consent in rays_consents_with_gulf_coast() if consent.is_current()]
    assert len(current) == 1 and rays_consents_with_gulf_coast().count() == 2
    assert set(current[0].categories) == {"contact", "transfer", "staff_notes"}
    assert {user.username for user in User.objects.all()} >= DEMO_USERNAMES
