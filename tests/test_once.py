"""A form sent twice saves once (services.lib.once, services.middleware.FormSentOnceMiddleware):
a double click, a phone that sends again, the browser's "resubmit" made two needs, two notes,
two messages, counted twice in the outcomes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from services.lib import once
from services.models.casework import CaseNote
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World, verify_second_factor
from tests.test_access import PAGES, Page

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

ONCE = re.compile(r'<input type="hidden" name="once" value="([^"]+)">')
ALREADY_SAVED = "This was already saved."
STILL_SAVING = "This was already sent and is still being saved."
BY_NAME = {page.name: page for page in PAGES}

# The forms that create something (by the access table's name), the page that shows the form
# when it is not the address it posts to, and the rows a second saving would add.
FORMS: list[tuple[str, Callable[[World], str] | None, type[Model]]] = [
    ("need_create", None, Need),
    ("follow_up_create", None, FollowUp),
    ("follow_up_record_done", None, FollowUp),
    ("note_create", None, CaseNote),
    ("exoneree_create", None, Exoneree),
    ("referral_create", None, Referral),
    ("claim_create", None, CompensationClaim),
    ("document_upload", None, Document),
    ("exoneree_messages", None, Message),
    ("my_messages", None, Message),
    ("my_ask", lambda w: reverse("my_plan"), Need),
    ("my_appointment_answer", lambda w: reverse("my_plan"), Notification),
]


@pytest.fixture(autouse=True)
def _short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sending again waits seconds for the first; here a fraction of one."""
    monkeypatch.setattr(once, "WAIT_SECONDS", 0.2)
    monkeypatch.setattr(once, "POLL_SECONDS", 0.05)


def signed_in(world: World, persona: str) -> Client:
    client = Client()
    client.force_login(world.user(persona))
    if persona.startswith(("caseworker", "director")):
        verify_second_factor(client, world.user(persona))
    return client


def token_on(client: Client, url: str, action: str) -> str:
    """The key of the form on page `url` that posts to `action`."""
    page = client.get(url)
    assert page.status_code == 200
    for attributes, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page.content.decode(), re.DOTALL):
        posts_to = re.search(r'\baction="([^"]*)"', attributes)
        if (posts_to.group(1) if posts_to else url) == action and (key := ONCE.search(body)):
            return key.group(1)
    raise AssertionError(f"no form on {url} posting to {action} carries a key")


def sent_twice(client: Client, page: Page, world: World, key: str, **headers: Any) -> tuple[Any, Any]:
    url = page.url(world)
    return (
        client.post(url, {**page.data(world), "once": key}, **headers),
        client.post(url, {**page.data(world), "once": key}, **headers),
    )


@pytest.mark.parametrize(("name", "shown_at", "model"), FORMS, ids=[name for name, *_ in FORMS])
def test_a_form_sent_twice_saves_once_and_both_go_to_the_same_place(world, name, shown_at, model) -> None:
    page = BY_NAME[name]
    client = signed_in(world, page.owner)
    url = page.url(world)
    key = token_on(client, shown_at(world) if shown_at else url, url)
    before = model.objects.count()

    first, second = sent_twice(client, page, world, key)

    assert model.objects.count() == before + 1
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"] == page.done(world)
    assert ALREADY_SAVED in client.get(second["Location"]).content.decode()


def test_the_upload_script_is_sent_where_the_first_upload_went(world) -> None:
    """services/static/services/documents.js sends the form itself and follows HX-Redirect."""
    page = BY_NAME["document_upload"]
    client = signed_in(world, "caseworker1")
    key = token_on(client, page.url(world), page.url(world))

    first, second = sent_twice(client, page, world, key, HTTP_HX_REQUEST="true")

    assert Document.objects.filter(exoneree=world.marcus.exoneree).count() == 1
    assert first["HX-Redirect"] == second["HX-Redirect"] == page.done(world)


def test_a_form_sent_back_with_its_errors_leaves_the_key_free(world) -> None:
    page = BY_NAME["note_create"]
    client = signed_in(world, "caseworker1")
    url = page.url(world)
    key = token_on(client, url, url)
    empty = {**page.data(world), "text": "", "once": key}

    assert client.post(url, empty).status_code == 400
    assert client.post(url, empty).status_code == 400  # the same again: refused again, not "already saved"
    corrected = client.post(url, {**page.data(world), "once": key})

    assert corrected.status_code == 302
    assert CaseNote.objects.filter(exoneree=world.marcus.exoneree).count() == 3  # the two of the world, and this


def test_the_same_page_sent_again_with_other_words_is_saved(world) -> None:
    """The Back button, a change, Send: the same key with other content is another sending."""
    page = BY_NAME["my_messages"]
    client = signed_in(world, "exoneree1")
    url = page.url(world)
    key = token_on(client, url, url)

    client.post(url, {"text": "Can we meet on Friday?", "about": "", "once": key})
    client.post(url, {"text": "Or on Monday?", "about": "", "once": key})

    assert sorted(Message.objects.values_list("text", flat=True)) == ["Can we meet on Friday?", "Or on Monday?"]


def test_one_persons_key_does_not_hold_back_anothers(world) -> None:
    marcus, thomas = signed_in(world, "exoneree1"), signed_in(world, "exoneree2")
    key = token_on(marcus, reverse("my_messages"), reverse("my_messages"))
    words = {"text": "Can we meet on Friday?", "about": "", "once": key}

    assert marcus.post(reverse("my_messages"), words).status_code == 302
    assert thomas.post(reverse("my_messages"), words).status_code == 302

    assert sorted(Message.objects.values_list("exoneree", flat=True)) == sorted(
        [world.marcus.exoneree.pk, world.thomas.exoneree.pk]
    )


@pytest.mark.parametrize(
    "junk",
    ["x" * 23, "x" * 10_000, "short", "a\x00" * 11, "ñ" * 22, "../../" + "a" * 16, ["a" * 22, "b" * 22, "x"], ""],
    ids=["one too long", "10,000 characters", "too short", "NUL bytes", "not ASCII", "a path", "a list", "empty"],
)
def test_a_key_not_of_ours_is_ignored(world, junk) -> None:
    """Not a key the page made: the form is sent as if it had none (each sending saves)."""
    client = signed_in(world, "exoneree1")
    words = {"text": "Can we meet on Friday?", "about": "", "once": junk}

    answers = [client.post(reverse("my_messages"), words).status_code for _ in range(2)]

    assert answers == [302, 302]
    assert Message.objects.count() == 2


def pending(world: World, persona: str, url: str, data: dict[str, Any]) -> None:
    """Claim the sending as a first one still being saved would (in another process)."""
    request = RequestFactory().post(url, data)
    request.user = world.user(persona)
    assert caches[once.SHARED].add(once.claim_name(request), once.PENDING)


@pytest.mark.parametrize(
    ("referer", "back_to"),
    [
        ("http://testserver/my-plan/messages/?page=2", "http://testserver/my-plan/messages/?page=2"),
        ("https://elsewhere.example/my-plan/", "/"),
        ("", "/"),
    ],
    ids=["the form's page", "another site", "none"],
)
def test_a_sending_again_while_the_first_is_still_saving_is_not_saved(world, referer, back_to) -> None:
    client = signed_in(world, "exoneree1")
    url = reverse("my_messages")
    words = {"text": "Can we meet on Friday?", "about": "", "once": token_on(client, url, url)}
    pending(world, "exoneree1", url, words)

    answer = client.post(url, words, HTTP_REFERER=referer)

    assert answer.status_code == 302 and answer["Location"] == back_to
    assert not Message.objects.exists()
    assert STILL_SAVING in client.get(reverse("my_messages")).content.decode()


def test_a_sending_again_goes_on_when_the_first_was_refused_meanwhile(world, monkeypatch) -> None:
    client = signed_in(world, "exoneree1")
    url = reverse("my_messages")
    words = {"text": "Can we meet on Friday?", "about": "", "once": token_on(client, url, url)}
    pending(world, "exoneree1", url, words)
    sleep = once.time.sleep

    def first_refused(seconds: float) -> None:  # the first sending's form came back with errors
        caches[once.SHARED].clear()
        sleep(seconds)

    monkeypatch.setattr(once.time, "sleep", first_refused)

    assert client.post(url, words).status_code == 302
    assert Message.objects.count() == 1


def test_the_message_is_in_the_persons_language(world) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    page = BY_NAME["my_messages"]
    client = signed_in(world, "exoneree1")
    url = page.url(world)

    _, second = sent_twice(client, page, world, token_on(client, url, url))

    assert "Esto ya estaba guardado." in client.get(second["Location"]).content.decode()


def test_a_cache_out_of_reach_does_not_stop_the_form(world, monkeypatch) -> None:
    def out_of_reach(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError

    monkeypatch.setattr(caches[once.SHARED], "add", out_of_reach)
    client = signed_in(world, "exoneree1")

    answer = client.post(reverse("my_messages"), {"text": "Hello", "about": "", "once": "a" * 22})

    assert answer.status_code == 302
    assert Message.objects.count() == 1


def provider_question(world: World, text: str = "Does Marcus have a driver's license?") -> tuple[Client, str, dict]:
    """Marcus's referral sent and its link emailed: the provider's client, its page (whose
    address holds the link's token) and a question with its form's key."""
    from tests.test_referral_loop import deliver, page, send

    send(world)
    url = page(deliver()[-1])
    provider = Client()
    return provider, url, {"move": "question", "question": text, "once": token_on(provider, url, url)}


def by_address_request(url: str, data: dict | None = None) -> Any:
    request = RequestFactory().post(url, data or {})
    request.user = AnonymousUser()
    setattr(request, once.BY_ADDRESS, True)
    return request


def test_the_providers_question_sent_twice_is_asked_once(world) -> None:
    """The provider's page has no account: its address (the link's token) says whose sending."""
    from services.models.referrals import ProviderQuestion

    provider, url, question = provider_question(world)

    first, second = provider.post(url, question), provider.post(url, question)

    assert ProviderQuestion.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert ALREADY_SAVED in provider.get(second["Location"]).content.decode()


def test_a_spanish_providers_question_sent_twice_is_told_so_in_spanish(world) -> None:
    """The page speaks the provider's language whatever the browser asks; what the middleware
    says before the view runs (already saved, too many forms) follows the language cookie the
    page sets (a review found it English on a Spanish page)."""
    from services.models.directory import Provider

    Provider.objects.filter(pk=world.marcus.referral.resource.provider_id).update(language="es")
    provider, url, question = provider_question(world)  # its GET set the cookie: no choice was made

    provider.post(url, question)
    second = provider.post(url, question, follow=True)

    page = second.content.decode()
    assert "Esto ya estaba guardado." in page and ALREADY_SAVED not in page


def test_the_cache_never_holds_the_providers_address(world, monkeypatch) -> None:
    """The link's token is the provider's secret: the shared cache keeps "this page", never it."""
    kept: list[str | None] = []
    settle = once.settle
    monkeypatch.setattr(once, "settle", lambda name, went_to: kept.append(went_to) or settle(name, went_to))
    provider, url, question = provider_question(world)

    provider.post(url, question)

    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert kept and all(token not in (value or "") for value in kept)
    assert once.address_of(kept[0], by_address_request(url)).startswith(url)


def test_a_providers_sending_again_while_the_first_is_saving_goes_back_to_its_page(world) -> None:
    """The provider's page is sent with no Referer: back to the page itself, not the sign-in page."""
    provider, url, question = provider_question(world)
    caches["shared"].add(once.claim_name(by_address_request(url, question)), once.PENDING)

    answer = provider.post(url, question)

    assert answer.status_code == 302 and answer["Location"] == url


def test_a_signed_out_sending_is_never_claimed(world) -> None:
    """A form posted after the session ended goes to the sign-in page and is kept, to be sent
    again once signed in: claiming it then would refuse that second sending as 'already saved'."""
    page = BY_NAME["note_create"]
    client = signed_in(world, "caseworker1")
    url = page.url(world)
    key = token_on(client, url, url)
    client.logout()

    assert Client().post(url, {**page.data(world), "once": key}).status_code == 302  # to the sign-in page
    client = signed_in(world, "caseworker1")
    again = client.post(url, {**page.data(world), "once": key})

    assert again.status_code == 302 and again["Location"] == page.done(world)
    assert CaseNote.objects.filter(exoneree=world.marcus.exoneree).count() == 3  # the two of the world, and this


def test_a_refusal_said_on_the_plan_is_said_again_when_sent_twice(world, login) -> None:
    """The provider declined after the plan was opened: "Did you get help?" sent twice (a double
    click) was refused the first time and told "already saved" the second, nothing saved."""
    from services.choices import ReferralStatus

    referral = world.marcus.referral
    url = reverse("my_referral_answer", args=[referral.pk])
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.IN_PROGRESS)
    person = signed_in(world, "exoneree1")
    key = token_on(person, reverse("my_plan"), url)
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.DECLINED)
    answer = {"answer": "yes", "words": "", "once": key}

    first, second = person.post(url, answer, follow=True), person.post(url, answer, follow=True)

    assert ALREADY_SAVED not in first.content.decode() and ALREADY_SAVED not in second.content.decode()
    referral.refresh_from_db()
    assert referral.person_answer == ""


# --- a cap on the claims one sender may make (once.within_cap) -----------------------------------

TOO_MANY = "What you typed was not saved."


def sent_with_new_keys(client: Client, url: str, data: dict[str, Any], times: int, **headers: Any) -> list[Any]:
    """The form sent `times` times, each with a key of its own (as a flood of made-up keys is)."""
    return [client.post(url, {**data, "once": once.new_token()}, **headers) for _ in range(times)]


def claims_in_the_cache() -> list[str]:
    return [key for key in caches[once.SHARED]._cache if "once:" in key]


def test_past_the_cap_a_form_is_not_saved_and_the_page_says_so(world, settings) -> None:
    settings.FORM_RATE_PER_SENDER = 3
    client = signed_in(world, "exoneree1")
    url = reverse("my_messages")
    words = {"text": "Can we meet on Friday?", "about": ""}
    back = "http://testserver" + url

    answers = sent_with_new_keys(client, url, words, 5, HTTP_REFERER=back)

    assert [answer.status_code for answer in answers] == [302, 302, 302, 429, 429]
    assert Message.objects.count() == 3
    assert len(claims_in_the_cache()) == 3  # the refused left no claim behind
    page = answers[-1].content.decode()
    assert TOO_MANY in page and "wait a few minutes" in page
    assert f'<a href="{back}">Go back to the form</a>' in page
    assert answers[-1]["Cache-Control"].startswith("no-store")  # a signed-in page, as any


def test_the_cap_is_counted_per_account(world, settings) -> None:
    settings.FORM_RATE_PER_SENDER = 2
    marcus, thomas = signed_in(world, "exoneree1"), signed_in(world, "exoneree2")
    url, words = reverse("my_messages"), {"text": "Hello", "about": ""}
    sent_with_new_keys(marcus, url, words, 3)

    assert [answer.status_code for answer in sent_with_new_keys(thomas, url, words, 2)] == [302, 302]
    assert Message.objects.filter(exoneree=world.thomas.exoneree).count() == 2
    assert Message.objects.filter(exoneree=world.marcus.exoneree).count() == 2


def test_the_cap_ends_with_its_window(world, settings) -> None:
    settings.FORM_RATE_PER_SENDER = 2
    client = signed_in(world, "exoneree1")
    url, words = reverse("my_messages"), {"text": "Hello", "about": ""}

    with time_machine.travel(datetime.now(tz=UTC), tick=False) as traveller:
        sent_with_new_keys(client, url, words, 2)
        traveller.shift(timedelta(seconds=settings.FORM_RATE_WINDOW_SECONDS - 5))
        still = sent_with_new_keys(client, url, words, 1)[0]
        traveller.shift(timedelta(seconds=10))
        again = sent_with_new_keys(client, url, words, 1)[0]

    assert still.status_code == 429
    assert again.status_code == 302
    assert Message.objects.count() == 3


def test_past_the_cap_the_page_is_in_the_persons_language(world, settings) -> None:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    settings.FORM_RATE_PER_SENDER = 1
    client = signed_in(world, "exoneree1")

    answer = sent_with_new_keys(client, reverse("my_messages"), {"text": "Hola", "about": ""}, 2)[-1]

    page = answer.content.decode()
    assert answer.status_code == 429
    assert "Lo que usted escribió no se guardó." in page and "espere unos minutos" in page
    assert '<a href="/">Ir a su página de inicio</a>' in page  # sent with no Referer
    assert TOO_MANY not in page


def test_past_the_cap_a_warning_names_the_account_once_a_window(world, settings, caplog) -> None:
    settings.FORM_RATE_PER_SENDER = 1
    client = signed_in(world, "exoneree1")

    sent_with_new_keys(client, reverse("my_messages"), {"text": "Hello", "about": ""}, 4)

    warnings = [record.getMessage() for record in caplog.records if record.name == once.logger.name]
    assert warnings == [f"forms refused past the cap (1 claims a window): account {world.user('exoneree1').pk}"]


def test_the_providers_page_is_capped_by_its_address(world, settings, caplog) -> None:
    """A page of no account: its sender is its address, hashed; the link's token is never in a
    cache key or the log, and the 429 is as private as the page."""
    from services.models.referrals import ProviderQuestion

    settings.FORM_RATE_PER_SENDER = 2
    provider, url, question = provider_question(world)
    token = url.rstrip("/").rsplit("/", 1)[-1]

    answers = sent_with_new_keys(provider, url, {"move": "question", "question": "Is he free on Monday?"}, 3)

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert ProviderQuestion.objects.count() == 2
    refused = answers[-1]
    assert refused["Cache-Control"] == "no-store, private" and refused["Referrer-Policy"] == "no-referrer"
    page = refused.content.decode()
    assert TOO_MANY in page and f'<a href="{url}">Go back to the form</a>' in page
    assert 'class="language-switch"' not in page
    assert all(token not in key for key in caches[once.SHARED]._cache)
    assert all(token not in record.getMessage() for record in caplog.records)
    # Counted per address: this page's is spent, another link's page is not held back by it,
    assert not once.within_cap(by_address_request(url))
    assert once.within_cap(by_address_request(reverse("provider_referral", args=["x" * 43])))
    # nor is an account.
    marcus = signed_in(world, "exoneree1")
    assert marcus.post(reverse("my_messages"), {"text": "Hi", "about": "", "once": once.new_token()}).status_code == 302


def test_a_cache_that_cannot_count_does_not_stop_the_form(world, settings, monkeypatch) -> None:
    def out_of_reach(*args: Any, **kwargs: Any) -> int:
        raise ConnectionError

    settings.FORM_RATE_PER_SENDER = 1
    monkeypatch.setattr(caches[once.SHARED], "incr", out_of_reach)
    client = signed_in(world, "exoneree1")

    answers = sent_with_new_keys(client, reverse("my_messages"), {"text": "Hello", "about": ""}, 3)

    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert Message.objects.count() == 3
