"""The provider's language (Provider.language): the emails to the provider are written in it,
the page their link opens starts in it, and a visitor who switches that page to the other
language keeps their choice. Directors set it on the resource form."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services.actions import provider_answers
from services.choices import ReminderKind
from services.models.audit import AuditEvent
from services.models.directory import Provider
from services.models.notifications import Reminder
from services.models.referrals import ProviderQuestion
from tests.conftest import World
from tests.test_cases import error_beside
from tests.test_provider_spanish import ENGLISH_WORDS
from tests.test_referral_loop import LINK, deliver, page, send

pytestmark = pytest.mark.world_built_once

QUESTION = "¿Puede empezar el lunes?"
# Each email's subject, and a sentence of its body, in each language.
WORDS = {
    ReminderKind.REFERRAL_NOTICE: {
        "en": ("A referral from {org} is waiting for you", "has referred someone to you for"),
        "es": ("Tiene una derivación de {org}", "le ha derivado a una persona para"),
    },
    ReminderKind.PROVIDER_NUDGE: {
        "en": ("Reminder: a referral from {org} is waiting for your answer", "is still waiting for your answer"),
        "es": ("Recordatorio: una derivación de {org} espera su respuesta", "todavía espera su respuesta"),
    },
    ReminderKind.PROVIDER_REPLY: {
        "en": ("{org} has answered your question about a referral", "The answer is on the referral's page"),
        "es": ("{org} respondió su pregunta sobre una derivación", "La respuesta está en la página de la derivación"),
    },
}
LINK_DAYS = {"en": "The link works for", "es": "El enlace sirve durante"}


def _provider_reads(world: World, language: str) -> None:
    Provider.objects.filter(pk=world.marcus.resource.provider_id).update(language=language)


def _email_of(world: World, kind: str) -> mail.EmailMultiAlternatives:
    """The provider's email of this kind for Marcus's referral, as the worker sends it."""
    referral = send(world)
    (token,) = deliver()
    if kind == ReminderKind.PROVIDER_NUDGE:
        Reminder.objects.filter(referral=referral, kind=kind).update(send_at=timezone.now() - timedelta(minutes=1))
    elif kind == ReminderKind.PROVIDER_REPLY:
        assert Client().post(page(token), {"move": "question", "question": QUESTION}).status_code == 302
        question = ProviderQuestion.objects.get()
        provider_answers.provider_question_answer(by=world.caseworker1, question=question, text="Sí.")
    deliver()
    assert Reminder.objects.get(referral=referral, kind=kind).status == "sent"
    return [m for m in mail.outbox if m.to == [referral.resource.referral_email]][-1]


@pytest.mark.parametrize("kind", list(WORDS))
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_providers_emails_are_in_the_providers_language(world: World, kind: str, language: str) -> None:
    """English is every provider's language until a director sets another."""
    assert world.marcus.resource.provider.language == "en"
    if language != "en":
        _provider_reads(world, language)

    message = _email_of(world, kind)

    org = world.org1.name
    subject, sentence = WORDS[kind][language]
    html = message.alternatives[0][0]
    assert message.subject == subject.format(org=org)
    for body in (message.body, html):
        assert sentence in body.replace("\n", " ") and LINK_DAYS[language] in body
    assert f'<html lang="{language}">' in html
    marcus = world.marcus.exoneree
    for text in (message.subject, message.body, html):
        for name in (marcus.display_name, marcus.legal_name, marcus.legal_name.split()[-1]):
            assert name not in text
    if language == "es":
        # Nothing English left but what was typed: the names of the organization, the
        # resource and the caseworker, and the link.
        typed = [org, world.marcus.resource.name, world.caseworker1.get_full_name(), *LINK.findall(message.body)]
        text = message.subject + " " + message.body
        for value in typed:
            text = text.replace(value, " ")
        assert not ENGLISH_WORDS.findall(text), text


# --- the page the link opens --------------------------------------------------------------------


def _lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.content.decode())[1]


@pytest.fixture
def token(world: World) -> str:
    send(world)
    (token,) = deliver()
    mail.outbox.clear()
    return token


@pytest.mark.parametrize(("language", "browser"), [("es", "en"), ("en", "es")])
def test_the_page_opens_in_the_providers_language_whatever_the_browser_asks(
    world: World, token: str, language: str, browser: str
) -> None:
    """The page goes on in the language of the email its link came in."""
    _provider_reads(world, language)

    response = Client(HTTP_ACCEPT_LANGUAGE=browser).get(page(token))

    assert response.status_code == 200
    assert _lang(response) == language and response["Content-Language"] == language
    words = "Aceptar la derivación" if language == "es" else "Accept the referral"
    assert words in response.content.decode()


def test_a_visitor_who_switches_keeps_their_choice(world: World, token: str) -> None:
    _provider_reads(world, "es")
    client = Client()
    assert _lang(client.get(page(token))) == "es"
    events = AuditEvent.objects.count()

    switched = client.post(page(token), {"language": "en"})

    assert AuditEvent.objects.count() == events  # nothing of the referral answered or changed

    assert switched.status_code == 302 and switched.url == page(token)
    assert switched["Referrer-Policy"] == "no-referrer" and "no-store" in switched["Cache-Control"]
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    again = client.get(page(token))
    assert _lang(again) == "en" and "Accept the referral" in again.content.decode()
    # An answer after the switch is thanked in the chosen language.
    asked = client.post(page(token), {"move": "question", "question": QUESTION}, follow=True)
    assert "Thank you. The caseworker has been told." in asked.content.decode()
    assert ProviderQuestion.objects.count() == 1  # that one, not the switch
    # And back to Spanish.
    client.post(page(token), {"language": "es"})
    assert _lang(client.get(page(token))) == "es"


def test_the_switch_works_on_a_stopped_links_page(world: World, token: str) -> None:
    _provider_reads(world, "es")
    provider_answers.referral_link_revoke(by=world.caseworker1, referral=world.marcus.referral)
    client = Client()
    assert client.get(page(token)).status_code == 410

    client.post(page(token), {"language": "en"})

    gone = client.get(page(token))
    assert gone.status_code == 410 and _lang(gone) == "en"


def test_an_unknown_language_is_refused_with_a_reason_and_nothing_kept(world: World, token: str) -> None:
    _provider_reads(world, "es")
    client = Client()

    response = client.post(page(token), {"language": "xx"}, follow=True)

    assert response.status_code == 200 and _lang(response) == "es"
    assert "Elija inglés o español." in response.content.decode()
    # Kept: the page's own language (the provider's, which the page remembers), never "xx".
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


# --- the directory ------------------------------------------------------------------------------

RESOURCE = {"name": "Rapid rehousing", "domains": ["housing"], "status": "active", "city": "Houston"}


def _edit(login, world: World, **data: object):
    resource = world.marcus.resource
    form = {**RESOURCE, "provider": resource.provider_id, **data}
    return login("director1").post(reverse("resource_edit", args=[resource.pk]), form)


def test_a_director_sets_the_providers_language_and_sees_it(login, world: World) -> None:
    resource = world.marcus.resource

    response = _edit(login, world, provider_language="es")

    assert response.status_code == 302
    assert Provider.objects.get(pk=resource.provider_id).language == "es"
    entry = AuditEvent.objects.get(target=f"Provider {resource.provider_id}")
    assert entry.actor == world.director1 and "language" in str(entry.changes)
    detail = login("caseworker1").get(resource.get_absolute_url()).content.decode()
    assert "The provider's language</dt><dd>Español</dd>" in unescape(detail)
    form = login("director1").get(reverse("resource_edit", args=[resource.pk])).content.decode()
    assert re.search(r'<option value="es" selected>Español</option>', form)


def test_a_new_resource_leaves_its_providers_language_as_it_is(login, world: World) -> None:
    """Nobody chose English: a new resource of a provider reading Spanish does not change it."""
    _provider_reads(world, "es")

    response = login("director1").post(
        reverse("resource_create"), {**RESOURCE, "provider": world.marcus.resource.provider_id}
    )

    assert response.status_code == 302
    assert Provider.objects.get(pk=world.marcus.resource.provider_id).language == "es"


def test_a_new_provider_made_on_the_form_gets_the_language_chosen(login, world: World) -> None:
    response = login("director1").post(
        reverse("resource_create"), {**RESOURCE, "new_provider_name": "Casa Nueva", "provider_language": "es"}
    )

    assert response.status_code == 302
    assert Provider.objects.get(organization=world.org1, name="Casa Nueva").language == "es"


def test_moving_a_resource_to_another_provider_does_not_give_it_the_old_ones_language(login, world: World) -> None:
    """The language the form showed was the old provider's: left as it was, it is not the new one's."""
    _provider_reads(world, "es")
    other = Provider.objects.create(organization=world.org1, name="Otra Casa")

    response = _edit(login, world, provider=other.pk, provider_language="es")

    assert response.status_code == 302
    assert Provider.objects.get(pk=other.pk).language == "en"
    assert Provider.objects.get(pk=world.marcus.resource.provider_id).language == "es"


def test_an_unknown_provider_language_is_refused_beside_the_field(login, world: World) -> None:
    response = _edit(login, world, provider_language="fr", name="Changed name")

    assert response.status_code == 400
    assert "Select a valid choice" in error_beside(response, "provider_language")
    assert 'value="Changed name"' in response.content.decode()
    assert Provider.objects.get(pk=world.marcus.resource.provider_id).language == "en"
