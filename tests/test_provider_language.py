"""The provider's language (Provider.language): the emails to the provider are written in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from services.actions import provider_answers
from services.choices import ReminderKind
from services.models.directory import Provider
from services.models.notifications import Reminder
from services.models.referrals import ProviderQuestion
from tests.conftest import World
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
