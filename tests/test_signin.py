"""Signing in and staying signed in: lockout, two-step sign-in, timeouts, password changes,
reset links, and the security headers every response carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from services.actions.staff import has_chosen_a_password
from services.auth import invitation_taken_up
from services.lib.links import invitation_link
from services.models.audit import AuditEvent
from services.models.people import Exoneree
from tests.conftest import World, verify_second_factor
from tests.test_access import PAGES, Page
from tests.test_cases import error_beside

PASSWORD = "correct-horse-battery-9"
NEW_PASSWORD = "another-long-phrase-42"
LOGIN_URL = "/accounts/login/"
VERIFY_URL = "/accounts/two-factor/"
SETUP_URL = "/accounts/two-factor/setup/"
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
User = get_user_model()


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture(autouse=True)
def fast_hasher(settings: Any) -> None:
    """Real sign-ins in these tests: a quick hasher, the slow one proves nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str, password: str = PASSWORD, address: str = "203.0.113.7") -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def authenticator(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"


def wrong_codes(client: Client, times: int, traveller: Any) -> list[int]:
    """Wrong codes at the code page, each typed once django-otp's wait after the one before it
    is over (1, 2, 4 … seconds): a code typed sooner is looked at by no device, counts for
    nothing (tests/test_signin_throttle.py). The answers' status codes."""
    answers = []
    for attempt in range(times):
        traveller.shift(timedelta(seconds=2 ** (attempt - 1) if attempt else 0))
        answers.append(client.post(VERIFY_URL, {"code": "000000x"}, REMOTE_ADDR="203.0.113.7").status_code)
    return answers


# --- lockout ----------------------------------------------------------------------------------


def fail(client: Client, username: str, times: int, address: str = "203.0.113.7") -> None:
    for attempt in range(1, times + 1):
        status = sign_in(client, username, "wrong-password", address).status_code
        assert status == (429 if attempt >= settings.AXES_FAILURE_LIMIT else 200)


def test_lockout_after_repeated_failures_shows_a_page_and_is_logged(world: World):
    with_password(world.caseworker1)
    client = Client()

    fail(client, "caseworker1", settings.AXES_FAILURE_LIMIT - 1)
    response = sign_in(client, "caseworker1", "wrong-password")  # the last failure allowed
    refused = sign_in(client, "caseworker1")  # now even the right password is refused

    assert response.status_code == 429
    assert refused.status_code == 429
    assert "Sign-in paused" in refused.content.decode()
    assert "Content-Security-Policy" in refused
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED, username="caseworker1")
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 1  # every refused try is in the access log


def test_lockout_is_per_username_and_address(world: World):
    with_password(world.caseworker1)
    with_password(world.caseworker2)
    client = Client()
    fail(client, "caseworker1", settings.AXES_FAILURE_LIMIT)

    assert sign_in(Client(), "caseworker1", address="198.51.100.9").status_code == 302  # from elsewhere
    assert sign_in(Client(), "caseworker2").status_code == 302  # a colleague at the same address


def test_lockout_ends_after_the_cool_off(world: World):
    with_password(world.caseworker1)
    with time_machine.travel(T0, tick=False) as traveller:
        fail(Client(), "caseworker1", settings.AXES_FAILURE_LIMIT)
        assert sign_in(Client(), "caseworker1").status_code == 429
        traveller.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
        assert sign_in(Client(), "caseworker1").status_code == 302


def test_a_capital_letter_or_a_space_typed_around_the_username_still_signs_in(world: World):
    """A phone or caps lock that capitalizes the first letter, a space pasted with the name:
    every username the app makes is in small letters, so that is not a wrong username."""
    with_password(world.caseworker1)
    with_password(world.exoneree1)

    staff, person = Client(), Client()

    assert sign_in(staff, " Caseworker1 ").status_code == 302
    assert sign_in(person, "EXONEREE1").status_code == 302
    assert staff.session["_auth_user_id"] == str(world.caseworker1.pk)
    assert person.session["_auth_user_id"] == str(world.exoneree1.pk)
    assert sign_in(Client(), "caseworker 1").status_code == 200  # another name is still refused


def test_an_account_named_with_capitals_signs_in_as_named(world: World):
    """An operator's account made with `createsuperuser` may have capitals: typed exactly, it
    signs in; no other account is guessed from it."""
    admin = with_password(User.objects.create(username="OpsAdmin", is_staff=True, is_superuser=True))

    response = sign_in(Client(), "OpsAdmin")

    assert response.status_code == 302
    assert Client().post(LOGIN_URL, {"username": "opsadmin", "password": PASSWORD}).status_code == 200
    assert admin.username == "OpsAdmin"


def test_the_lockout_counts_every_way_of_typing_one_username_together(world: World):
    """Counted per spelling, "caseworker1", "Caseworker1", "CASEWORKER1"… would each get their
    own five tries: one account, one count."""
    with_password(world.caseworker1)
    client = Client()
    spellings = ["caseworker1", "Caseworker1", "CASEWORKER1", " caseworker1", "CaseWorker1"]

    statuses = [sign_in(client, spelling, "wrong-password").status_code for spelling in spellings]

    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert sign_in(Client(), "caseworker1").status_code == 429
    assert sign_in(Client(), "Caseworker1").status_code == 429


def test_director_unlocks_their_staff_member(world: World, login):
    with_password(world.caseworker1)
    fail(Client(), "caseworker1", settings.AXES_FAILURE_LIMIT)
    director = login("director1")

    page = director.get(reverse("staff_list")).content.decode()
    response = director.post(reverse("staff_unlock", args=[world.caseworker1.staff.pk]))

    assert "Unlock sign-in" in page
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="caseworker1").exists()
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED).latest("pk")
    assert entry.actor == world.director1
    assert entry.target == "Staff account caseworker1"
    assert entry.changes == {"sign_in_lockout": ["locked", "unlocked"]}
    assert sign_in(Client(), "caseworker1").status_code == 302
    assert "Unlock sign-in" not in director.get(reverse("staff_list")).content.decode()


def test_a_username_with_capitals_shows_locked_out_and_is_unlocked(world: World, login):
    """An organization code typed with capitals in the admin makes usernames with capitals;
    their lockout is counted in small letters, and the staff page reads it so."""
    world.caseworker1.username = "casey@HL"
    with_password(world.caseworker1)
    fail(Client(), "casey@HL", settings.AXES_FAILURE_LIMIT)
    director = login("director1")

    assert "Unlock sign-in" in director.get(reverse("staff_list")).content.decode()
    director.post(reverse("staff_unlock", args=[world.caseworker1.staff.pk]))

    assert not AccessAttempt.objects.exists()
    assert "Unlock sign-in" not in director.get(reverse("staff_list")).content.decode()
    assert sign_in(Client(), "casey@HL").status_code == 302


def test_director_unlock_also_lifts_the_devices_throttle(world: World, login):
    device = authenticator(world.caseworker1)
    for _ in range(6):  # six wrong codes: django-otp makes the next try wait 32 seconds
        device.throttle_increment()

    login("director1").post(reverse("staff_unlock", args=[world.caseworker1.staff.pk]))

    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    assert device.verify_is_allowed() == (True, None)


def test_director_of_another_organization_cannot_unlock(world: World, login):
    fail(Client(), "caseworker1", settings.AXES_FAILURE_LIMIT)

    response = login("director2").post(reverse("staff_unlock", args=[world.caseworker1.staff.pk]))

    assert response.status_code == 404
    assert AccessAttempt.objects.filter(username="caseworker1").exists()


def test_operator_unlocks_with_the_management_command(world: World):
    with_password(world.caseworker1)
    fail(Client(), "caseworker1", settings.AXES_FAILURE_LIMIT)

    call_command("unlock_sign_in", "caseworker1", stdout=StringIO())

    assert sign_in(Client(), "caseworker1").status_code == 302


# --- two-step sign-in: enforced for staff ------------------------------------------------------

# The pages a session that owes its second factor may still open: the two that collect it.
SECOND_FACTOR_PAGES = {"two_factor_verify", "two_factor_setup"}
# The provider's page needs no account: its token is the key, whoever holds it, signed in or not.
TOKEN_PAGES = {"provider_referral"}
# The HSDS API answers as the REST API: a 403 to a session that owes its second step (below).
API_PAGES = {"hsds_services", "hsds_service", "hsds_organizations", "hsds_organization"}
GUARDED = [page for page in PAGES if page.name not in SECOND_FACTOR_PAGES | TOKEN_PAGES | API_PAGES]


def password_only(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", GUARDED, ids=lambda p: p.name)
def test_staff_without_second_factor_reach_only_the_code_page(client, world: World, page: Page):
    if page.setup:
        page.setup(world)
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)
    url = page.url(world)

    response = client.post(url, page.data(world) if page.data else {}) if page.post_only else client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY_URL + "?next=")


@pytest.mark.parametrize("page", [page for page in PAGES if page.name in API_PAGES], ids=lambda p: p.name)
def test_the_hsds_api_refuses_a_session_that_owes_its_second_step(client, world: World, page: Page):
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    response = client.get(page.url(world))

    assert response.status_code == 403 and response.json() == {"detail": ["Sign in with your second step first."]}


@pytest.mark.parametrize("name", ["dashboard", "exoneree_list", "notification_list", "home", "account"])
def test_staff_without_a_device_are_sent_to_enrol(client, world: World, name: str):
    password_only(client, world.director1)

    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url == f"{SETUP_URL}?next=%2F{reverse(name)[1:].replace('/', '%2F')}"


def test_htmx_partial_without_second_factor_gets_a_full_page_redirect(client, world: World):
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    response = client.post(
        reverse("follow_up_done", args=[world.marcus.follow_up.pk]), {"outcome": "x"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(VERIFY_URL)
    world.marcus.follow_up.refresh_from_db()
    assert world.marcus.follow_up.done_at is None


def test_password_change_needs_the_second_factor(client, world: World):
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response.url.startswith(VERIFY_URL)


def test_exoneree_is_not_forced(client, world: World):
    password_only(client, world.exoneree1)

    assert client.get(reverse("my_plan")).status_code == 200


def test_exoneree_who_enrolled_is_held_to_it(client, world: World):
    device = authenticator(world.exoneree1)
    password_only(client, world.exoneree1)

    assert client.get(reverse("my_plan")).url.startswith(VERIFY_URL)
    response = client.post(VERIFY_URL, {"code": current_code(device), "next": "/my-plan/"})
    assert response.url == "/my-plan/"
    assert client.get(reverse("my_plan")).status_code == 200


# --- enrolment and verification ---------------------------------------------------------------


def test_first_staff_sign_in_enrols_an_authenticator(world: World):
    with_password(world.caseworker1)
    client = Client()

    assert sign_in(client, "caseworker1").url == "/"
    assert client.get("/").url == f"{SETUP_URL}?next=%2F"
    page = client.get(SETUP_URL + "?next=/dashboard/")
    device = TOTPDevice.objects.get(user=world.caseworker1, confirmed=False)
    secret = page.context["secret"].replace(" ", "")
    html = page.content.decode()
    assert "<svg" in html
    assert secret in html.replace(" ", "")
    assert client.get(SETUP_URL).context["secret"].replace(" ", "") == secret  # same secret until confirmed
    assert "backup codes" not in page.context["form"].fields["code"].help_text  # none yet: they come after

    wrong = client.post(SETUP_URL, {"code": "000000" if current_code(device) != "000000" else "111111"})
    assert "did not work" in wrong.content.decode()
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):  # a failure throttles the next try
        done = client.post(SETUP_URL, {"code": current_code(device), "next": "/dashboard/"})

    device.refresh_from_db()
    assert device.confirmed
    codes = done.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert client.get("/dashboard/").status_code == 200
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED).latest("pk")
    assert (entry.actor, entry.changes) == (world.caseworker1, {"two_step_sign_in": [False, True]})


def test_enrolment_is_refused_once_a_device_exists(client, world: World):
    """Else a stolen password could enrol the thief's own phone."""
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    response = client.post(SETUP_URL, {"code": "123456"})

    assert response.url == VERIFY_URL
    assert TOTPDevice.objects.filter(user=world.caseworker1).count() == 1


def test_sign_in_with_password_then_code(world: World):
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")

    redirected = client.get("/dashboard/")
    bad = client.post(VERIFY_URL, {"code": "12345x", "next": "/dashboard/"})
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):  # a failure throttles the next try
        good = client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"})

    assert redirected.url == f"{VERIFY_URL}?next=%2Fdashboard%2F"
    assert bad.status_code == 400
    assert "did not work" in bad.content.decode()
    assert good.url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_admin_needs_the_second_factor(world: World):
    """An operator's password alone never opens /admin/: they enrol, then type codes."""
    with_password(world.root)
    client = Client()

    anonymous = client.get("/admin/", follow=True).redirect_chain[-1][0]
    forged = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    sign_in(client, "root")
    first = client.get("/admin/", follow=True).redirect_chain[-1][0]
    device = authenticator(world.root)
    later = client.get("/admin/", follow=True).redirect_chain[-1][0]
    coded = client.post(VERIFY_URL, {"code": current_code(device), "next": "/admin/"})

    assert anonymous == "/accounts/login/?next=/admin/"
    assert forged.url == "/accounts/login/?next=/admin/"  # the admin's own form is not used
    assert first == f"{SETUP_URL}?next=%2Fadmin%2F"
    assert later == f"{VERIFY_URL}?next=%2Fadmin%2F"
    assert coded.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_refuses_a_verified_user_who_is_not_an_operator(login):
    client = login("director1")  # both steps passed, but no admin rights

    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 200
    assert "not authorized" in response.content.decode()


def test_wrong_code_is_a_failed_sign_in(world: World):
    with_password(world.caseworker1)
    authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")

    response = client.post(VERIFY_URL, {"code": "654321x"}, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 400
    assert "did not work" in error_beside(response, "code")
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).get()
    assert (entry.username, entry.changes, entry.ip_address) == (
        "caseworker1",
        {"step": "one-time code"},
        "203.0.113.7",
    )
    attempt = AccessAttempt.objects.get(username="caseworker1", ip_address="203.0.113.7")
    assert attempt.failures_since_start == 1
    assert "654321" not in attempt.post_data


# --- what the access log says of a sign-in ---------------------------------------------------

SIGN_IN_ENTRIES = [
    AuditEvent.Action.PASSWORD_ACCEPTED,
    AuditEvent.Action.SIGNED_IN,
    AuditEvent.Action.SIGN_IN_FAILED,
]


def sign_in_log() -> list[tuple[str, Any, str, str | None]]:
    """The access log's sign-in entries, oldest first: what, by whom, the username, from where."""
    entries = AuditEvent.objects.filter(action__in=SIGN_IN_ENTRIES).order_by("pk")
    return [(entry.action, entry.actor, entry.username, entry.ip_address) for entry in entries]


def test_a_right_password_then_a_wrong_code_is_no_sign_in_in_the_access_log(world: World):
    """The walkthrough: a stolen password stopped at the code must not read "Signed in"."""
    with_password(world.caseworker2)
    authenticator(world.caseworker2)
    client = Client()
    sign_in(client, "caseworker2")

    client.post(VERIFY_URL, {"code": "654321x"}, REMOTE_ADDR="203.0.113.7")

    assert sign_in_log() == [
        (AuditEvent.Action.PASSWORD_ACCEPTED, world.caseworker2, "caseworker2", "203.0.113.7"),
        (AuditEvent.Action.SIGN_IN_FAILED, None, "caseworker2", "203.0.113.7"),
    ]


def test_signed_in_is_written_once_when_the_code_passes(world: World):
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")

    client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"}, REMOTE_ADDR="203.0.113.8")
    client.get("/dashboard/")
    client.get(VERIFY_URL)  # already through: the page sends them on, and logs nothing more

    assert sign_in_log() == [
        (AuditEvent.Action.PASSWORD_ACCEPTED, world.caseworker1, "caseworker1", "203.0.113.7"),
        (AuditEvent.Action.SIGNED_IN, world.caseworker1, "caseworker1", "203.0.113.8"),
    ]


def test_a_first_sign_in_is_signed_in_once_the_new_authenticator_is_confirmed(client, world: World):
    password_only(client, world.director1)
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=world.director1, confirmed=False)

    client.post(SETUP_URL, {"code": current_code(device)})

    assert [action for action, *_ in sign_in_log()] == [
        AuditEvent.Action.PASSWORD_ACCEPTED,
        AuditEvent.Action.SIGNED_IN,
    ]


def test_a_password_is_the_whole_sign_in_of_an_account_without_a_second_step(world: World):
    with_password(world.exoneree1)

    sign_in(Client(), "exoneree1")

    assert sign_in_log() == [(AuditEvent.Action.SIGNED_IN, world.exoneree1, "exoneree1", "203.0.113.7")]


@pytest.mark.parametrize(
    ("language", "username", "password", "code"),
    [
        ("en", "Type your username.", "Type your password.", "Type the code your app shows now."),
        (
            "es",
            "Escriba su nombre de usuario.",
            "Escriba su contraseña.",
            "Escriba el código que su aplicación muestra ahora.",
        ),
    ],
)
def test_an_empty_box_at_sign_in_says_what_to_type(world: World, language, username, password, code):
    """Each box said "This field is required." ("Este campo es requerido."): the first words
    a person new to phones reads from us."""
    with_password(world.exoneree1)
    authenticator(world.exoneree1)
    Exoneree.objects.filter(user=world.exoneree1).update(preferred_language=language)  # once signed in
    client = Client(HTTP_ACCEPT_LANGUAGE=language)

    empty = client.post(LOGIN_URL, {"username": "", "password": ""})

    assert empty.context["form"].errors == {"username": [username], "password": [password]}
    sign_in(client, "exoneree1")
    no_code = client.post(VERIFY_URL, {"code": ""})
    assert no_code.context["form"].errors == {"code": [code]}


@pytest.mark.parametrize(("language", "words"), [("en", "You are signed out."), ("es", "Se cerró su sesión.")])
def test_signing_out_says_so_on_the_sign_in_page(world: World, language, words):
    """The person landed on "Sign in" with no word that the sign-out had worked."""
    Exoneree.objects.filter(user=world.exoneree1).update(preferred_language=language)
    client = Client()
    client.force_login(with_password(world.exoneree1))
    client.get(reverse("my_plan"))  # their pages set the language cookie the sign-in page reads

    page = client.post("/accounts/logout/", follow=True)

    assert page.redirect_chain[-1][0] == LOGIN_URL
    assert [str(m) for m in page.context["messages"]] == [words]
    assert words in unescape(page.content.decode())
    assert [str(m) for m in Client().post("/accounts/logout/", follow=True).context["messages"]] == []


@pytest.mark.parametrize(
    ("browser", "cookie", "words"),
    [("es", "", "Se cerró su sesión."), ("en", "es", "Se cerró su sesión."), ("en", "", "You are signed out.")],
)
def test_staff_signing_out_are_told_in_the_sign_in_pages_language(world: World, browser, cookie, words):
    """Staff pages are English, the sign-in page follows the cookie or the browser: the word
    that the sign-out worked is in the page's language, not in the staff pages' (a review)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=browser)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    client.force_login(world.caseworker1)

    page = client.post("/accounts/logout/", follow=True)

    assert [str(m) for m in page.context["messages"]] == [words]
    assert words in unescape(page.content.decode())


def test_an_exoneree_who_enrolled_is_signed_in_at_the_code(world: World):
    with_password(world.exoneree1)
    device = authenticator(world.exoneree1)
    client = Client()
    sign_in(client, "exoneree1")
    password_step = [action for action, *_ in sign_in_log()]

    client.post(VERIFY_URL, {"code": current_code(device)})

    assert password_step == [AuditEvent.Action.PASSWORD_ACCEPTED]
    assert [action for action, *_ in sign_in_log()] == [
        AuditEvent.Action.PASSWORD_ACCEPTED,
        AuditEvent.Action.SIGNED_IN,
    ]


def test_the_password_again_on_a_session_past_its_code_is_a_sign_in(world: World):
    """django.contrib.auth.login keeps the session of the same user, code passed and all: no
    code is asked, so the sign-in is complete at the password."""
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")
    client.post(VERIFY_URL, {"code": current_code(device)})

    sign_in(client, "caseworker1")

    assert client.get("/dashboard/").status_code == 200  # no code asked again
    assert [action for action, *_ in sign_in_log()] == [
        AuditEvent.Action.PASSWORD_ACCEPTED,
        AuditEvent.Action.SIGNED_IN,
        AuditEvent.Action.SIGNED_IN,
    ]


def test_a_code_just_used_says_so_and_does_not_count_toward_the_lockout(world: World):
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    address = {"REMOTE_ADDR": "203.0.113.7"}
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        code = current_code(device)
        first = Client()
        sign_in(first, "caseworker1")
        assert first.post(VERIFY_URL, {"code": code}, **address).status_code == 302
        # A second browser, the same code (within the same 30 seconds).
        second = Client()
        sign_in(second, "caseworker1")
        response = second.post(VERIFY_URL, {"code": code}, **address)
        counted = AccessAttempt.objects.filter(username="caseworker1", failures_since_start__gt=0).exists()
        traveller.shift(timedelta(seconds=1))  # the authenticator's wait after refusing it
        wrong = second.post(VERIFY_URL, {"code": "000000"}, **address)

    assert response.status_code == 400
    message = error_beside(response, "code")
    assert "just used" in message and "did not work" not in message
    assert not counted
    # A wrong code still counts.
    assert "did not work" in error_beside(wrong, "code")
    assert AccessAttempt.objects.get(username="caseworker1").failures_since_start == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == 1


def test_wrong_codes_lock_the_account_out(world: World):
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")

    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        answers = wrong_codes(client, 5, traveller)
        traveller.shift(timedelta(minutes=5))  # past the device's own wait
        again = client.post(VERIFY_URL, {"code": current_code(device)}, REMOTE_ADDR="203.0.113.7")

    assert settings.AXES_FAILURE_LIMIT == 5
    assert answers == [400, 400, 400, 400, 429]
    assert again.url.startswith(LOGIN_URL)  # the half-signed-in session was ended
    assert sign_in(Client(), "caseworker1").status_code == 429  # and the password is refused too


def test_a_good_code_forgives_the_wrong_ones_before_it(world: World):
    """Four wrong codes, then the right one: the next sign-in starts again from five tries."""
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    address = {"REMOTE_ADDR": "203.0.113.7"}
    client = Client()
    sign_in(client, "caseworker1")
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        wrong = wrong_codes(client, 4, traveller)
        traveller.shift(timedelta(minutes=5))  # past the device's own wait
        good = client.post(VERIFY_URL, {"code": current_code(device)}, **address)
        forgiven = AccessAttempt.objects.filter(username="caseworker1").count()
        client.post("/accounts/logout/")
        later = Client()
        sign_in(later, "caseworker1")
        one_more_wrong = later.post(VERIFY_URL, {"code": "000000x"}, **address).status_code

    assert wrong == [400, 400, 400, 400]
    assert good.status_code == 302
    assert forgiven == 0
    assert one_more_wrong == 400  # without the reset this fifth failure would lock the account (429)


def test_typing_the_password_again_keeps_the_count_of_wrong_codes(world: World):
    """Four wrong codes, the password again, one more wrong code: that is five, locked out."""
    with_password(world.caseworker1)
    authenticator(world.caseworker1)
    address = {"REMOTE_ADDR": "203.0.113.7"}
    first = Client()
    sign_in(first, "caseworker1")
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        wrong = wrong_codes(first, 4, traveller)
        second = Client()
        password_again = sign_in(second, "caseworker1")
        traveller.shift(timedelta(seconds=8))  # the device's wait after the fourth
        fifth = second.post(VERIFY_URL, {"code": "000000x"}, **address)

    assert wrong == [400, 400, 400, 400]
    assert password_again.status_code == 302
    assert AccessAttempt.objects.get(username="caseworker1").failures_since_start == 5
    assert fifth.status_code == 429
    assert sign_in(Client(), "caseworker1").status_code == 429


def test_a_right_password_alone_forgives_only_an_account_without_a_second_step(world: World):
    with_password(world.caseworker1)  # staff: the code is still to come
    with_password(world.exoneree1)  # no authenticator: the password is the whole sign-in
    fail(Client(), "caseworker1", 2)
    fail(Client(), "exoneree1", 2)

    sign_in(Client(), "caseworker1")
    sign_in(Client(), "exoneree1")

    assert AccessAttempt.objects.filter(username="caseworker1").exists()
    assert not AccessAttempt.objects.filter(username="exoneree1").exists()


def test_session_key_and_csrf_token_change_when_the_code_passes(world: World):
    with_password(world.caseworker1)
    device = authenticator(world.caseworker1)
    client = Client()
    sign_in(client, "caseworker1")
    half_signed_in = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get(VERIFY_URL)
    csrf_before = client.cookies[settings.CSRF_COOKIE_NAME].value

    client.post(VERIFY_URL, {"code": current_code(device), "next": "/dashboard/"})

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != half_signed_in
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != csrf_before
    assert client.get("/dashboard/").status_code == 200
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = half_signed_in
    assert stale.get("/dashboard/").url.startswith(LOGIN_URL)  # the old key opens nothing


def test_session_key_changes_when_enrolment_confirms(client, world: World):
    password_only(client, world.director1)
    client.get(SETUP_URL)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    device = TOTPDevice.objects.get(user=world.director1)

    client.post(SETUP_URL, {"code": current_code(device)})

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert client.get("/director/").status_code == 200


def test_code_page_never_redirects_off_site(client, world: World):
    device = authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    response = client.post(VERIFY_URL, {"code": current_code(device), "next": "https://evil.example/"})

    assert response.url == "/"


def test_backup_code_works_once(world: World):
    with_password(world.caseworker1)
    authenticator(world.caseworker1)
    backup = StaticDevice.objects.create(user=world.caseworker1, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")

    first = Client()
    sign_in(first, "caseworker1")
    used = first.post(VERIFY_URL, {"code": "ABCD 2345", "next": "/dashboard/"})
    second = Client()
    sign_in(second, "caseworker1")
    reused = second.post(VERIFY_URL, {"code": "abcd2345", "next": "/dashboard/"})

    assert used.url == "/dashboard/"
    assert reused.status_code == 400
    assert second.get("/dashboard/").status_code == 302


def test_new_backup_codes_replace_the_old_ones(login, world: World):
    with_password(world.caseworker1)
    client = login("caseworker1")
    old = client.post(reverse("two_factor_backup_codes"), {"password": PASSWORD}).context["codes"]

    new = client.post(reverse("two_factor_backup_codes"), {"password": PASSWORD}).context["codes"]

    tokens = set(StaticToken.objects.filter(device__user=world.caseworker1).values_list("token", flat=True))
    assert tokens == set(new)
    assert not tokens & set(old)


def test_new_backup_codes_need_the_password_again(login, world: World):
    with_password(world.caseworker1)
    client = login("caseworker1")
    page = client.get(reverse("account")).content.decode()
    old = client.post(reverse("two_factor_backup_codes"), {"password": PASSWORD}).context["codes"]

    missing = client.post(reverse("two_factor_backup_codes"), {}, REMOTE_ADDR="203.0.113.7")
    wrong = client.post(reverse("two_factor_backup_codes"), {"password": "not-it-at-all"}, REMOTE_ADDR="203.0.113.7")

    assert 'name="password"' in page
    assert missing.status_code == wrong.status_code == 400
    assert "not your password" in error_beside(wrong, "password")
    tokens = set(StaticToken.objects.filter(device__user=world.caseworker1).values_list("token", flat=True))
    assert tokens == set(old)  # unchanged
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED, username="caseworker1")
    assert failed.count() == 2  # each refusal is a failed sign-in, counted toward the lockout
    assert AccessAttempt.objects.get(username="caseworker1").failures_since_start == 2


def test_wrong_passwords_for_new_backup_codes_end_in_the_lockout(login, world: World):
    with_password(world.caseworker1)
    client = login("caseworker1")
    url = reverse("two_factor_backup_codes")

    answers = [client.post(url, {"password": "wrong"}, REMOTE_ADDR="203.0.113.7").status_code for _ in range(5)]

    assert answers == [400, 400, 400, 400, 429]
    assert client.get("/dashboard/").url.startswith(LOGIN_URL)  # the session was ended


def test_exoneree_may_enrol_from_the_account_page(client, world: World):
    password_only(client, world.exoneree1)

    page = client.get(reverse("account")).content.decode()
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=world.exoneree1)
    client.post(SETUP_URL, {"code": current_code(device)})

    assert "Set up a sign-in code" in page
    device.refresh_from_db()
    assert device.confirmed
    assert "On." in client.get(reverse("account")).content.decode()


# --- timeouts ---------------------------------------------------------------------------------


def test_staff_idle_timeout(login):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        assert client.get("/dashboard/").status_code == 200
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF - 1))
        assert client.get("/dashboard/").status_code == 200  # activity restarts the clock
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF + 1))
        response = client.get("/dashboard/")
        page = client.get(response.url)

    assert response.url == f"{LOGIN_URL}?next=%2Fdashboard%2F"
    assert "without activity" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGNED_OUT).exists()


def test_exoneree_idle_timeout_is_longer(login):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("exoneree1")
        assert client.get("/my-plan/").status_code == 200
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF + 5))
        assert client.get("/my-plan/").status_code == 200
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_EXONEREE + 1))
        assert client.get("/my-plan/").url.startswith(LOGIN_URL)


def test_absolute_session_lifetime(login):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        for _ in range(settings.SESSION_ABSOLUTE_HOURS * 3):  # busy all day, never idle
            assert client.get("/dashboard/").status_code == 200
            traveller.shift(timedelta(minutes=20))
        traveller.shift(timedelta(minutes=1))
        response = client.get("/dashboard/")
        page = client.get(response.url)

    assert response.url.startswith(LOGIN_URL)
    assert "signed in for a long time" in page.content.decode()


def test_signing_in_again_restarts_the_lifetime(world: World):
    with_password(world.exoneree1)
    client = Client()
    with time_machine.travel(T0, tick=False) as traveller:
        sign_in(client, "exoneree1")
        for _ in range(settings.SESSION_ABSOLUTE_HOURS * 2 - 2):  # active every half hour, for 11 hours
            traveller.shift(timedelta(minutes=30))
            assert client.get("/my-plan/").status_code == 200
        assert sign_in(client, "exoneree1").status_code == 302  # the same person, signing in again
        traveller.shift(timedelta(minutes=50))
        assert client.get("/my-plan/").status_code == 200  # 11 h 50 after the first sign-in
        traveller.shift(timedelta(minutes=30))
        assert client.get("/my-plan/").status_code == 200  # and past 12 h


def test_timeout_on_an_htmx_request_redirects_the_whole_page(login, world: World):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        client.get("/dashboard/")
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF + 1))
        response = client.get("/people/", headers={"HX-Request": "true"})

    assert response["HX-Redirect"].startswith(LOGIN_URL)


# --- passwords: changed, reset, invitation links ----------------------------------------------


def test_password_change_signs_out_every_other_session(world: World):
    with_password(world.caseworker1)
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.force_login(world.caseworker1)
        verify_second_factor(client, world.caseworker1)

    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert here.get("/dashboard/").status_code == 200  # this session carries on
    assert elsewhere.get("/dashboard/").url.startswith(LOGIN_URL)


def test_the_password_change_speaks_plainly_and_leads_back(world: World):
    """Django's page said "Password change", "Old password", "New password confirmation", put
    its rules in a list inside a paragraph, and had no way back."""
    user = with_password(world.exoneree1)
    client = Client()
    client.force_login(user)

    page = client.get(reverse("password_change")).content.decode()
    wrong = client.post(
        reverse("password_change"),
        {"old_password": "not-it-at-all", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"},
    )
    done = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    ).content.decode()

    assert "<h1>Change your password</h1>" in page and "Your current password" in page
    assert "New password again" in page and "confirmation" not in page
    help_text = page.split('id="id_new_password1_helptext">')[1].split("</div>")[0]
    assert "<ul>" not in help_text
    assert "At least 10 letters, numbers or signs." in page and f'href="{reverse("account")}"' in page
    assert "That is not your current password. Type it again." in error_beside(wrong, "old_password")
    assert "Type the new password in both boxes again." in error_beside(wrong, "new_password2")
    assert "<h1>Your password is changed</h1>" in done and f'href="{reverse("account")}"' in done


def test_the_password_change_reads_in_spanish(world: World):
    world.marcus.exoneree.preferred_language = "es"
    world.marcus.exoneree.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(with_password(world.exoneree1))

    page = client.get(reverse("password_change")).content.decode()

    assert "<h1>Cambiar su contraseña</h1>" in page and "Su contraseña actual" in page
    assert "La contraseña nueva otra vez" in page and "Volver a su cuenta" in page


@pytest.mark.parametrize(
    ("language", "current", "new", "again"),
    [
        (
            "en",
            "Type your current password.",
            "Choose a new password and type it here.",
            "Type the new password here again.",
        ),
        (
            "es",
            "Escriba su contraseña actual.",
            "Elija una contraseña nueva y escríbala aquí.",
            "Escriba aquí otra vez la contraseña nueva.",
        ),
    ],
)
def test_an_empty_password_box_says_what_to_type(world: World, language, current, new, again):
    """The change and the invitation answered empty boxes with "This field is required."."""
    Exoneree.objects.filter(user=world.exoneree1).update(preferred_language=language)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(with_password(world.exoneree1))
    changed = client.post(reverse("password_change"), {"old_password": "", "new_password1": "", "new_password2": ""})
    invited = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = invited.get(invitation_link(world.exoneree2).removeprefix(settings.SITE_URL), follow=True)
    chosen = invited.post(page.redirect_chain[-1][0], {"new_password1": "", "new_password2": ""})

    assert changed.context["form"].errors == {
        "old_password": [current],
        "new_password1": [new],
        "new_password2": [again],
    }
    assert chosen.context["form"].errors == {"new_password1": [new], "new_password2": [again]}


def test_the_invitation_and_the_reset_link_ask_for_the_new_password_in_plain_words(
    world: World, django_capture_on_commit_callbacks
):
    user = with_password(world.caseworker1)
    user.email = "casey@example.org"
    user.save()
    invited = invitation_link(world.caseworker2).removeprefix(settings.SITE_URL)
    reset = reset_link("casey@example.org", Client(), django_capture_on_commit_callbacks)

    for link in (invited, reset):
        page = Client().get(link, follow=True).content.decode()

        assert "New password again" in page and "confirmation" not in page
        if link == invited:  # a new account's page, in its own words
            assert "<h1>Choose your password</h1>" in page
        help_text = page.split('id="id_new_password1_helptext">')[1].split("</div>")[0]
        assert "<ul>" not in help_text and "At least 10 letters, numbers or signs." in help_text


def reset_link(email: str, client: Client, capture: Any) -> str:
    with capture(execute=True):
        client.post(reverse("password_reset"), {"email": email})
    return re.search(r"https?://\S+/reset/\S+/", mail.outbox[-1].body).group(0)


def test_the_reset_link_opens_in_the_persons_language_whatever_the_browser_says(
    world: World, django_capture_on_commit_callbacks
):
    """The email went in Spanish; a phone browser set to English opens its link in Spanish too."""
    user = with_password(world.exoneree1)
    user.email = "marcus.reset@example.org"
    user.save()
    Exoneree.objects.filter(user=user).update(preferred_language="es")
    link = reset_link("marcus.reset@example.org", Client(), django_capture_on_commit_callbacks)

    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get(link, follow=True)
    refused = browser.post(page.redirect_chain[-1][0], {"new_password1": "x", "new_password2": "y"})

    assert '<html lang="es">' in page.content.decode()
    assert '<html lang="es">' in refused.content.decode() and refused.status_code == 200
    assert "Guardar mi contraseña" in unescape(page.content.decode())
    # A link that does not work (a guessed or tampered token) tells nothing of the account.
    guessed = Client(HTTP_ACCEPT_LANGUAGE="en").get(link.rstrip("/").rsplit("/", 1)[0] + "/x-guessed/", follow=True)
    assert guessed.context["validlink"] is False and '<html lang="en">' in guessed.content.decode()


def test_password_reset_signs_out_everywhere_and_the_link_works_once(world: World, django_capture_on_commit_callbacks):
    user = with_password(world.caseworker1)
    user.email = "casey@example.org"
    user.save()
    elsewhere = Client()
    elsewhere.force_login(user)
    verify_second_factor(elsewhere, user)
    visitor = Client()

    link = reset_link("casey@example.org", visitor, django_capture_on_commit_callbacks)
    form = visitor.get(link, follow=True)
    done = visitor.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)

    assert done.url == reverse("password_reset_complete")
    assert elsewhere.get("/dashboard/").url.startswith(LOGIN_URL)
    assert again.context["validlink"] is False
    assert "expired or was already used" in again.content.decode()


def test_password_reset_link_expires(world: World, django_capture_on_commit_callbacks):
    user = with_password(world.caseworker1)
    user.email = "casey@example.org"
    user.save()
    with time_machine.travel(T0, tick=False) as traveller:
        link = reset_link("casey@example.org", Client(), django_capture_on_commit_callbacks)
        traveller.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
        response = Client().get(link, follow=True)

    assert response.context["validlink"] is False


def test_invitation_link_works_once(world: World):
    link = invitation_link(world.caseworker2).removeprefix(settings.SITE_URL)
    client = Client()
    form = client.get(link, follow=True)

    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)

    assert form.context["validlink"] is True
    assert done.url == reverse("invitation_done")
    assert again.context["validlink"] is False


def test_invitation_link_expires(world: World):
    with time_machine.travel(T0, tick=False) as traveller:
        link = invitation_link(world.caseworker2).removeprefix(settings.SITE_URL)
        traveller.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
        response = Client().get(link, follow=True)

    assert response.context["validlink"] is False


def test_reset_page_does_not_reveal_whether_an_account_exists(world: World, django_capture_on_commit_callbacks):
    with_password(world.caseworker1)
    world.caseworker1.email = "casey@example.org"
    world.caseworker1.save()
    answers = []
    queued = []
    for email in ("casey@example.org", "nobody@example.org"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = Client().post(reverse("password_reset"), {"email": email})
        answers.append((response.status_code, response.url))
        queued.append(len(callbacks))
    assert answers[0] == answers[1] == (302, reverse("password_reset_done"))
    assert queued == [1, 1]  # the same work in the request either way: one queued task

    for email in ("casey@example.org", "nobody@example.org"):
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(reverse("password_reset"), {"email": email})
    assert [message.to for message in mail.outbox] == [["casey@example.org"]]


def reset_requests(addresses: list[tuple[str, str]], capture: Any) -> list[tuple[int, str, int]]:
    """Each (email, client address) posted once: the answer, and how many emails it queued."""
    answers = []
    for email, client_address in addresses:
        with capture(execute=False) as queued:
            response = Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=client_address)
        answers.append((response.status_code, response.url, len(queued)))
    return answers


def test_password_reset_is_throttled_per_address_silently(world: World, django_capture_on_commit_callbacks):
    sent = (302, reverse("password_reset_done"), 1)
    dropped = (302, reverse("password_reset_done"), 0)
    clients = [f"198.51.100.{n}" for n in range(5)]

    answers = reset_requests([("casey@example.org", client) for client in clients], django_capture_on_commit_callbacks)
    other = reset_requests([("dana@example.org", clients[0])], django_capture_on_commit_callbacks)

    assert settings.PASSWORD_RESET_PER_HOUR_PER_ADDRESS == 3
    assert answers == [sent, sent, sent, dropped, dropped]  # the same answer, nothing queued
    assert other == [sent]


def test_password_reset_is_throttled_per_client_address(world: World, django_capture_on_commit_callbacks):
    sent = (302, reverse("password_reset_done"), 1)
    dropped = (302, reverse("password_reset_done"), 0)
    emails = [f"person{n}@example.org" for n in range(6)]

    answers = reset_requests([(email, "203.0.113.50") for email in emails], django_capture_on_commit_callbacks)
    elsewhere = reset_requests([(emails[-1], "203.0.113.51")], django_capture_on_commit_callbacks)

    assert settings.PASSWORD_RESET_PER_HOUR_PER_CLIENT == 5
    assert answers == [sent] * 5 + [dropped]
    assert elsewhere == [sent]


def test_password_reset_throttle_ends_after_the_hour(world: World, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as traveller:
        reset_requests([("casey@example.org", "198.51.100.1")] * 3, django_capture_on_commit_callbacks)
        over = reset_requests([("casey@example.org", "198.51.100.2")], django_capture_on_commit_callbacks)
        traveller.shift(timedelta(hours=1, seconds=1))
        later = reset_requests([("casey@example.org", "198.51.100.2")], django_capture_on_commit_callbacks)

    assert over[0][2] == 0
    assert later[0][2] == 1


def test_an_invitation_is_taken_up_by_the_same_rule_in_a_query_and_for_one_account(world):
    """`auth.invitation_taken_up()` (the overview, the caseworker picker) and
    `staff.has_chosen_a_password` (the staff list, sending it again) must agree on every kind of account."""
    accounts = get_user_model().objects
    fresh = accounts.create_user("invited-only", password=None)
    chose = accounts.create_user("chose-a-password", password=PASSWORD)
    signed_in = accounts.create_user("signed-in-then-switched-off", password=None, last_login=timezone.now())
    enrolled = accounts.create_user("second-factor-only", password=None)
    authenticator(enrolled)
    unconfirmed = accounts.create_user("unconfirmed-device", password=None)
    TOTPDevice.objects.create(user=unconfirmed, name="Half set up", confirmed=False)
    ours = [fresh, chose, signed_in, enrolled, unconfirmed]

    by_query = set(
        accounts.filter(invitation_taken_up(), pk__in=[u.pk for u in ours]).values_list("username", flat=True)
    )
    one_by_one = {u.username for u in ours if has_chosen_a_password(u)}

    assert by_query == one_by_one == {"chose-a-password", "signed-in-then-switched-off", "second-factor-only"}


# --- headers and the content security policy --------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


def csp_directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    ("persona", "path", "status"),
    [
        ("anonymous", LOGIN_URL, 200),
        ("anonymous", "/no-such-page/", 404),
        ("anonymous", "/dashboard/", 302),
        ("anonymous", "/accounts/password_reset/", 200),
        ("anonymous", "/healthz/", 200),
        ("caseworker1", "/dashboard/", 200),
        ("caseworker1", "/director/", 403),
        ("caseworker1", "/people/999999/", 404),
        ("exoneree1", "/my-plan/", 200),
    ],
)
def test_security_headers_on_every_response(login, persona: str, path: str, status: int):
    response = login(persona).get(path)

    assert response.status_code == status
    assert csp_directives(response["Content-Security-Policy"]) == csp_directives(CSP)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [LOGIN_URL, "/no-such-page/"])
def test_hsts_in_production(db, path: str):
    with override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        response = Client().get(path, secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"hx-on", re.I), "hx-on attribute (evaluated as script)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_no_inline_script_or_style():
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in TEMPLATES.rglob("*.html")
        if not path.is_relative_to(TEMPLATES / "emails")  # emails are not served under the policy
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_enrolment_page_qr_code_needs_no_inline_style(login, world: World, client):
    password_only(client, world.director1)

    html = client.get(SETUP_URL).content.decode()

    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "style" not in svg
    assert "<script" not in svg


def test_enrolment_on_the_phone_itself_offers_a_link_its_authenticator_app_opens(client, world: World):
    """A phone cannot scan its own screen (found by a walk as an exoneree): the same account
    as the picture, as an otpauth:// link, and the key it holds is the one the page shows."""
    Exoneree.objects.filter(user=world.exoneree1).update(preferred_language="es")
    password_only(client, with_password(world.exoneree1))

    html = unescape(client.get(SETUP_URL).content.decode())

    link = re.search(r'<a href="(otpauth://totp/[^"]+)">Ábralo en su aplicación de autenticación</a>', html)
    assert link and "¿Lo prepara en este mismo teléfono?" in html
    secret = re.search(r'<code class="secret">([^<]+)</code>', html)[1].replace(" ", "")
    assert f"secret={secret}" in link[1]


def test_the_code_page_shows_no_menu_until_the_code_passes(client, world: World):
    authenticator(world.caseworker1)
    password_only(client, world.caseworker1)

    page = client.get(VERIFY_URL).content.decode()

    assert reverse("dashboard") not in page and reverse("exoneree_list") not in page
    assert "Sign out" in page


def test_on_a_development_machine_the_sign_in_page_says_where_the_demo_password_is_kept(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.DEMO_PASSWORD_FILE = tmp_path / "demo-password"
    settings.DEBUG = True
    assert f"kept in {tmp_path / 'demo-password'}." in client.get(LOGIN_URL).content.decode()

    settings.DEBUG = False
    assert "demo-password" not in client.get(LOGIN_URL).content.decode()


def test_the_spanish_invitation_welcomes_without_assuming_a_gender(world: World):
    link = invitation_link(world.caseworker2).removeprefix(settings.SITE_URL)

    page = Client(headers={"accept-language": "es"}).get(link, follow=True).content.decode()

    assert "Le damos la bienvenida." in page and "Bienvenido" not in page
