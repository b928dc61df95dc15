"""No lost work at the idle timeout (issue 21 #7): a warning with "Stay signed in" before the
sign-out, and a form posted after it comes back, once signed in again, with its text."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
import time_machine
from django import forms
from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from services.middleware import LAST_ACTIVITY
from services.models.api import ApiToken
from services.models.directory import TaxonomyTerm
from services.models.needs import Need
from services.models.people import Exoneree
from services.views.common import restore
from tests.test_merge import marcus_twin

T0 = datetime(2030, 5, 6, 15, 0, tzinfo=UTC)
WORDS = "He wants a place near his sister's, on the bus line to the clinic."
# What the page says when it gives a form back: typed, or only chosen (radios, boxes, lists).
TYPED = "Here is what you typed before you were signed out. Check it, then save."
CHOSEN = "Here is what you chose before you were signed out. Check it, then save."


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def need_form(world) -> str:
    return reverse("need_create", args=[world.marcus.exoneree.pk])


def post_after_the_timeout(client, world, traveller, **data):
    url = need_form(world)
    client.get(url)
    traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF + 1))
    fields = {"domain": "housing", "description": WORDS, "priority": "high", "opened_on": "2030-05-06", **data}
    return client.post(url, fields, HTTP_REFERER=f"http://testserver{url}")


def sent_again_after_the_timeout(login, persona: str, url: str, data: dict, idle_minutes: int):
    """`persona` opens `url`, is idle past the sign-out, sends `data` there, signs in again and
    opens it: the answer to the sending, and the page then."""
    with time_machine.travel(T0, tick=False) as traveller:
        client = login(persona)
        client.get(url)
        traveller.shift(timedelta(minutes=idle_minutes + 1))
        response = client.post(url, data, HTTP_REFERER=f"http://testserver{url}")
        return response, login(persona).get(url)


def test_a_form_posted_after_the_timeout_comes_back_with_its_text_once_signed_in_again(login, world):
    needs = Need.objects.count()
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        response = post_after_the_timeout(client, world, traveller)
        notice = client.get(response.url).content.decode()

        assert response.url == f"{reverse(settings.LOGIN_URL)}?next={need_form(world).replace('/', '%2F')}"
        assert "What you typed is kept for a few minutes" in notice
        assert Need.objects.count() == needs  # nothing saved behind their back
        kept = [caches["shared"].get(key) for key in caches["shared"]._cache]  # locmem: the raw values
        assert kept and all(WORDS not in str(value) for value in kept)  # encrypted

        client = login("caseworker1")
        again = client.get(need_form(world))
        page = again.content.decode()
        assert WORDS.replace("'", "&#x27;") in page
        assert "Here is what you typed before you were signed out" in page
        assert again.context["form"].is_bound is False  # shown to check, not saved
        assert WORDS.replace("'", "&#x27;") not in client.get(need_form(world)).content.decode()  # taken once


def test_someone_else_on_the_same_page_does_not_get_it(login, world):
    world.marcus.exoneree.caseworkers.add(world.caseworker2)
    with time_machine.travel(T0, tick=False) as traveller:
        post_after_the_timeout(login("caseworker1"), world, traveller)
        page = login("caseworker2").get(need_form(world)).content.decode()

    assert "sister" not in page


def test_passwords_codes_tokens_and_social_security_numbers_are_never_kept(world, rf):
    from services.lib import kept_forms

    request = rf.post("/x/", {"password": "s3cret", "otp_token": "123456", "ssn": "900123456", "note": "kept words"})
    request.user = world.caseworker1

    assert kept_forms.form_keep(request)
    take = rf.get("/x/")
    take.user = world.caseworker1
    assert kept_forms.form_take(take) == {"note": ["kept words"]}


def test_a_post_from_another_page_keeps_nothing(login, world):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        client.get("/dashboard/")
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF + 1))
        response = client.post(need_form(world), {"description": WORDS})

    assert response.url == reverse(settings.LOGIN_URL)  # no "kept for a few minutes", no way back
    assert not [key for key in caches["shared"]._cache if "kept-form" in key]


def test_stay_signed_in_restarts_the_idle_clock(login, world):
    with time_machine.travel(T0, tick=False) as traveller:
        client = login("caseworker1")
        client.get("/dashboard/")
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF - 1))
        stay = client.post(reverse("session_keep_alive"), HTTP_X_REQUESTED_WITH="fetch")
        assert client.session[LAST_ACTIVITY] == T0.timestamp() + (settings.SESSION_IDLE_MINUTES_STAFF - 1) * 60
        traveller.shift(timedelta(minutes=settings.SESSION_IDLE_MINUTES_STAFF - 1))
        still = client.get("/dashboard/")
        plain = client.post(reverse("session_keep_alive"), {"next": "/dashboard/"})

    assert stay.status_code == 204
    assert still.status_code == 200
    assert (plain.status_code, plain.url) == (302, "/dashboard/")


def test_every_signed_in_page_carries_the_warning_with_its_clock(login, world):
    staff = login("caseworker1").get("/dashboard/").content.decode()
    person = login("exoneree1").get(reverse("my_plan")).content.decode()
    analyst = login("analyst").get(reverse("network_figures")).content.decode()
    anonymous = login("anonymous").get(reverse(settings.LOGIN_URL)).content.decode()

    assert f'data-idle-seconds="{settings.SESSION_IDLE_MINUTES_STAFF * 60}"' in staff
    assert f'data-idle-seconds="{settings.SESSION_IDLE_MINUTES_EXONEREE * 60}"' in person
    assert f'data-idle-seconds="{settings.SESSION_IDLE_MINUTES_STAFF * 60}"' in analyst
    assert 'id="idle-warning"' not in anonymous
    assert "services/idle" in staff  # the script (static: no inline script, CSP kept)


def test_the_warning_says_what_is_kept_after_the_sign_out_not_that_it_is_lost(login, world):
    """It said typed words "would be lost", though a form sent after the idle sign-out is kept
    (services.lib.kept_forms) for the same person and page: the banner says so, and for how long."""
    from services.lib.kept_forms import KEPT_SECONDS

    staff = login("caseworker1").get(need_form(world)).content.decode()
    person = login("exoneree1")
    person.post(reverse("set_language"), {"language": "es"})
    spanish = person.get(reverse("my_plan")).content.decode()

    banner = re.search(r'<div id="idle-warning".*?</div>', staff, re.S).group(0)
    assert "would be lost" not in banner
    # Nor that nothing is lost: a form that posts to another page (a follow-up marked done, a
    # referral's update) is not given back.
    assert "not lost" not in banner and "Save what you are typing before then." in banner
    assert f"sign in again within {KEPT_SECONDS // 60} minutes: most pages give it back" in banner
    assert f"vuelva a iniciar sesión antes de {KEPT_SECONDS // 60} minutos: la mayoría de las páginas" in spanish


def test_the_session_clocks_start_at_a_sign_in_before_any_request():
    """Their receiver lives with the middleware, which a server loads with its first request;
    the app connects it when it starts, so a sign-in before then (a test client's, a shell's)
    starts the clocks too. Before, such a session's first page wrote the session again."""
    code = (
        "import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'reentry.settings'; django.setup(); "
        "print('services.middleware' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True
    )

    assert result.stdout.strip().splitlines()[-1] == "True", result.stderr[-2000:]


def test_a_message_typed_before_the_timeout_comes_back_on_the_messages_page(login, world):
    """The page promised to keep the text, and the messages page showed an empty box (walk)."""
    url = reverse("exoneree_messages", args=[world.marcus.exoneree.pk])
    data = {"text": WORDS, "about": ""}
    response, again = sent_again_after_the_timeout(login, "caseworker1", url, data, settings.SESSION_IDLE_MINUTES_STAFF)

    assert response.url.endswith("?next=" + url.replace("/", "%2F"))
    assert WORDS.replace("'", "&#x27;") in again.content.decode()
    assert "Here is the message you wrote before you were signed out. Check it, then send it." in again.content.decode()
    assert not world.marcus.exoneree.messages.exists()


def test_the_persons_contact_wishes_sent_after_the_timeout_come_back_on_their_page(login, world):
    """The banner says a form sent after the sign-out is given back on most pages, and the sign-in
    page that it is kept on the page: "How to reach me" was kept, and showed the stored wishes
    again instead."""
    url = reverse("my_contact_wishes")
    wishes = {"contact_preference": "mail", "reminder_channel": "email", "quiet_hours_start": "21:35"}
    response, again = sent_again_after_the_timeout(
        login, "exoneree1", url, wishes, settings.SESSION_IDLE_MINUTES_EXONEREE
    )

    assert response.url.endswith("?next=" + url.replace("/", "%2F"))
    assert again.context["form"]["quiet_hours_start"].value() == "21:35"
    assert again.context["form"]["contact_preference"].value() == "mail"
    assert CHOSEN in again.content.decode()
    assert not again.context["form"].is_bound  # shown to check, not saved
    assert Exoneree.objects.get(pk=world.marcus.exoneree.pk).quiet_hours_start is None


def test_a_papers_title_typed_before_the_timeout_comes_back_on_the_upload_page(login, world):
    """The upload page posts to itself, so its fields were kept, and never given back."""
    url = reverse("document_upload", args=[world.marcus.exoneree.pk])
    data = {"title": WORDS}
    response, again = sent_again_after_the_timeout(login, "caseworker1", url, data, settings.SESSION_IDLE_MINUTES_STAFF)

    assert response.url.endswith("?next=" + url.replace("/", "%2F"))
    assert WORDS.replace("'", "&#x27;") in again.content.decode()
    # The file is never kept: the page asks for it again, rather than let Save answer "choose a file".
    assert "Here is what you typed before you were signed out. Choose the file again" in again.content.decode()


class Wishes(forms.Form):
    """A box ticked as saved, boxes of which some were saved ticked, a text, a disabled box."""

    reminders = forms.BooleanField(required=False, initial=True)
    ways = forms.MultipleChoiceField(
        choices=[("mail", "Mail"), ("text", "Text")], widget=forms.CheckboxSelectMultiple, initial=["text"]
    )
    note = forms.CharField(initial="as saved")
    locked = forms.BooleanField(required=False, initial=True, disabled=True)


def test_a_box_left_unticked_comes_back_unticked_and_a_field_not_sent_as_it_was():
    """An unticked box is not in a POST: the box came back as saved (ticked) instead."""
    form = Wishes()

    assert restore(form, {"note": ["typed"], "other": ["x"]}) is True
    assert form["reminders"].value() is False and "checked" not in str(form["reminders"])
    assert form["ways"].value() == [] and "checked" not in str(form["ways"])
    assert form["note"].value() == "typed"
    assert form["locked"].value() is True  # a disabled box is never sent: its absence says nothing

    ticked = Wishes()
    restore(ticked, {"reminders": ["on"], "ways": ["mail", "text"]})
    assert ticked["reminders"].value() is True and ticked["ways"].value() == ["mail", "text"]
    assert ticked["note"].value() == "as saved"  # not sent: not on the page, left as it was


def test_a_post_that_was_not_this_forms_unticks_nothing():
    form = Wishes()

    assert restore(form, {"query": ["housing"]}) is False
    assert form["reminders"].value() is True and form["ways"].value() == ["text"]


def test_a_box_the_person_unticked_before_the_timeout_comes_back_unticked_on_how_to_reach_me(login, world):
    """Walk: "Remind me before my appointments", unticked and sent after the sign-out, came back
    ticked (as saved) once signed in again; saved like that, the person's choice was lost."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(appointment_reminders=True)
    url = reverse("my_contact_wishes")
    wishes = {"contact_preference": "mail", "reminder_channel": "email"}  # the box left unticked
    response, again = sent_again_after_the_timeout(
        login, "exoneree1", url, wishes, settings.SESSION_IDLE_MINUTES_EXONEREE
    )

    assert response.url.endswith("?next=" + url.replace("/", "%2F"))
    box = re.search(r'<input[^>]*name="appointment_reminders"[^>]*>', again.content.decode()).group(0)
    assert "checked" not in box
    assert again.context["form"]["appointment_reminders"].value() is False
    assert Exoneree.objects.get(pk=world.marcus.exoneree.pk).appointment_reminders is True  # nothing saved


# Staff pages that post to themselves, whose fields were kept and never given back (walk).
TOKEN_NAME = "CRM sync for the Harbor Light weekly report"


class GivenBack(NamedTuple):
    url: str
    sent: dict[str, str]
    shown: dict[str, str]  # what the form shows again, field by field
    saved: Callable[[], bool]  # whether anything was saved behind the person's back
    said: str


def api_tokens(world) -> GivenBack:
    sent = {"name": TOKEN_NAME, "scope": "write", "days": "30"}
    return GivenBack(reverse("api_token_list"), sent, sent, ApiToken.objects.filter(name=TOKEN_NAME).exists, TYPED)


def merge(world) -> GivenBack:
    twin = marcus_twin(world)
    twin.address = "99 Other Road"  # Marcus's own is kept unless the director chooses the other
    twin.save()
    url = reverse("merge_people", args=[world.marcus.exoneree.pk, twin.pk])
    chosen = {"address": "duplicate"}
    return GivenBack(url, chosen, chosen, lambda: Exoneree.objects.get(pk=twin.pk).merged_into_id is not None, CHOSEN)


def taxonomy_terms(world) -> GivenBack:
    term = TaxonomyTerm.objects.create(organization=world.org1, hsds_id="t-food", name="Food pantry")
    chosen = {f"term_{term.pk}": "food"}
    mapped = TaxonomyTerm.objects.exclude(domain="").exists
    return GivenBack(reverse("hsds_terms"), {**chosen, "page": "1"}, chosen, mapped, CHOSEN)


@pytest.mark.parametrize(
    ("persona", "page"), [("caseworker1", api_tokens), ("director1", merge), ("director1", taxonomy_terms)]
)
def test_what_staff_typed_or_chose_before_the_timeout_comes_back_on_their_page(login, world, persona, page):
    given = page(world)
    response, again = sent_again_after_the_timeout(
        login, persona, given.url, given.sent, settings.SESSION_IDLE_MINUTES_STAFF
    )

    assert response.url.endswith("?next=" + given.url.replace("/", "%2F"))
    assert {name: again.context["form"][name].value() for name in given.shown} == given.shown
    assert given.said in again.content.decode()
    assert not again.context["form"].is_bound and not given.saved()  # shown to check, not saved


def test_a_file_sent_after_the_timeout_is_not_kept_and_the_sign_in_page_does_not_say_it_is(login, world):
    """The HSDS import page holds a file and nothing typed: nothing is kept, nothing promised."""
    url = reverse("hsds_import")
    upload = SimpleUploadedFile("directory.json", b'{"organizations": []}', content_type="application/json")
    response, again = sent_again_after_the_timeout(
        login, "director1", url, {"file": upload}, settings.SESSION_IDLE_MINUTES_STAFF
    )

    assert response.url == reverse(settings.LOGIN_URL)  # no "kept for a few minutes", no way back
    assert not [key for key in caches["shared"]._cache if "kept-form" in key]
    assert "Here is what you typed" not in again.content.decode()


@pytest.mark.parametrize(
    ("page", "sent", "said"),
    [
        (
            "my_messages",
            {"text": "Necesito ayuda con la renta", "about": ""},
            "Aquí está el mensaje que escribió antes de que se cerrara su sesión. Revíselo y envíelo.",
        ),
        (
            "my_contact_wishes",
            {"contact_preference": "mail", "reminder_channel": "email"},
            "Aquí está lo que eligió antes de que se cerrara su sesión. Revíselo y guárdelo.",
        ),
        (
            "my_document_upload",
            {"kind": "state_id", "title": "Mi identificación"},
            "Elija el archivo otra vez (no se pudo conservar) y luego guarde el papel.",
        ),
    ],
)
def test_the_person_is_told_in_their_language_what_came_back_and_what_to_press(login, world, page, sent, said):
    """One sentence ("what you typed ... then save") was shown on every page: but the person had
    chosen, not typed, on "How to reach me", sends a message rather than saves it, and must
    choose their photo again. In Spanish for a person who reads Spanish."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    url = reverse(page)
    _, again = sent_again_after_the_timeout(login, "exoneree1", url, sent, settings.SESSION_IDLE_MINUTES_EXONEREE)

    assert said in again.content.decode()
