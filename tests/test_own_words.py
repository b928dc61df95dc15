"""The person's own words, wherever they write them (a message, an ask, their answer to a
referral or an appointment, a few words about a paper they send): text made only of
characters nobody sees is not words. A box they must fill says so as an empty one does; a
box they may leave empty says what is wrong (services.forms.widgets.OwnWordsField), in their
language, beside the box, and what they saved before stays as it was."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from services.choices import AppointmentAnswer, PersonAnswer, ReferralStatus
from services.forms.asks import AskForm
from services.forms.documents import MyDocumentForm
from services.forms.messages import MessageForm
from services.forms.provider import AppointmentAnswerForm, PersonAnswerForm
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests import sample_files
from tests.conftest import World
from tests.test_cases import error_beside

# Zero-width space, word joiner, byte order mark, zero-width joiner, and spaces around them.
INVISIBLE = " \u200b\u2060\ufeff\u200d "

NOT_SEEN = {
    "en": "We cannot see any letters in what you wrote. Write it again, or leave this box empty.",
    "es": "No vemos ninguna letra en lo que escribió. Escríbalo de nuevo, o deje esta casilla vacía.",
}

# Each form the person fills in, what else it needs, the box they write in, and what it says
# of a box of invisible characters in English and in Spanish.
PERSONS_FORMS = [
    (MessageForm, {"about": []}, {}, "text", {"en": "Write your message.", "es": "Escriba su mensaje."}),
    (
        AskForm,
        {},
        {"priority": "high"},
        "words",
        {"en": "Tell us what you need help with.", "es": "Díganos con qué necesita ayuda."},
    ),
    (PersonAnswerForm, {}, {"answer": PersonAnswer.NOT_YET}, "words", NOT_SEEN),
    (AppointmentAnswerForm, {}, {"answer": AppointmentAnswer.COMING}, "words", NOT_SEEN),
    (MyDocumentForm, {"exoneree": None}, {"kind": "state_id"}, "title", NOT_SEEN),
]


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "kwargs", "data", "field", "said"), PERSONS_FORMS)
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_box_the_person_writes_in_refuses_invisible_text(world, form_class, kwargs, data, field, said, language):
    if "exoneree" in kwargs:
        kwargs = {**kwargs, "exoneree": world.marcus.exoneree}
    with translation.override(language):
        form = form_class({**data, field: INVISIBLE}, **kwargs)
        assert not form.is_valid()
        assert form.errors[field] == [said[language]]


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "kwargs", "data", "field", "said"), PERSONS_FORMS)
def test_words_with_an_invisible_character_among_them_are_taken(world, form_class, kwargs, data, field, said):
    if "exoneree" in kwargs:
        kwargs = {**kwargs, "exoneree": world.marcus.exoneree}
    form = form_class({**data, field: "Ok\u200b, gracias"}, **kwargs)
    form.is_valid()  # the paper's form wants a file too: only this box is looked at
    assert field not in form.errors
    assert form.cleaned_data[field] == "Ok\u200b, gracias"


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "kwargs", "data", "field"), [row[:4] for row in PERSONS_FORMS[2:]])
def test_a_box_they_may_leave_empty_still_may_be(world, form_class, kwargs, data, field):
    if "exoneree" in kwargs:
        kwargs = {**kwargs, "exoneree": world.marcus.exoneree}
    form = form_class({**data, field: "  "}, **kwargs)
    form.is_valid()
    assert field not in form.errors
    assert form.cleaned_data[field] == ""


@pytest.mark.parametrize("language", ["en", "es"])
def test_invisible_words_to_a_referral_are_refused_and_the_earlier_answer_stays(login, world: World, language):
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.SENT, person_answer=PersonAnswer.NOT_YET, person_words="Nobody called me back"
    )
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)

    response = login("exoneree1").post(
        reverse("my_referral_answer", args=[referral.pk]), {"answer": PersonAnswer.YES, "words": INVISIBLE}
    )

    assert response.status_code == 400
    assert NOT_SEEN[language] in error_beside(response, f"r{referral.pk}_words")
    assert f'value="yes" id="id_r{referral.pk}_yes" checked>' in response.content.decode()  # their new choice
    referral.refresh_from_db()
    assert (referral.person_answer, referral.person_words) == (PersonAnswer.NOT_YET, "Nobody called me back")


@pytest.mark.parametrize("language", ["en", "es"])
def test_invisible_words_to_an_appointment_are_refused_and_the_earlier_answer_stays(login, world: World, language):
    visit = world.marcus.follow_up
    FollowUp.objects.filter(pk=visit.pk).update(
        shared_with_exoneree=True, person_answer=AppointmentAnswer.ANOTHER_TIME, person_words="I work mornings"
    )
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language=language)

    response = login("exoneree1").post(
        reverse("my_appointment_answer", args=[visit.pk]), {"answer": AppointmentAnswer.COMING, "words": INVISIBLE}
    )

    assert response.status_code == 400
    assert NOT_SEEN[language] in error_beside(response, f"a{visit.pk}_words")
    assert f'id="id_a{visit.pk}_coming" checked>' in response.content.decode()  # their new choice, as sent
    visit.refresh_from_db()
    assert (visit.person_answer, visit.person_words) == (AppointmentAnswer.ANOTHER_TIME, "I work mornings")


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_paper_sent_with_invisible_words_about_it_is_refused_beside_them(login, world: World, language):
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    photo = sample_files.upload(sample_files.photo(), "IMG_0003.HEIC")

    response = client.post(reverse("my_document_upload"), {"kind": "state_id", "title": INVISIBLE, "file": photo})

    assert response.status_code == 400
    assert NOT_SEEN[language] in error_beside(response, "title")
    assert not Document.objects.exists()
