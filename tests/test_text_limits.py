"""Free text has bounds a reader would accept: a maximum length the model and the form both
enforce, a minimum that counts only visible characters, and a printable plan of bounded size."""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import re
from html import unescape

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from services.actions import referrals
from services.choices import AppointmentAnswer, NoteVisibility, PersonAnswer, ReferralStatus
from services.fields import TEXT_MAX_LENGTH, BoundedTextField, BoundedTextMixin, EncryptedTextField
from services.forms.asks import AskForm
from services.forms.documents import MyDocumentForm
from services.forms.messages import MessageForm
from services.forms.provider import AppointmentAnswerForm, PersonAnswerForm
from services.forms.widgets import Lengths, LineBreaksAsOne, PlainLengths
from services.lib.text import MinVisibleLengthValidator, visible_length
from services.models.casework import CaseNote
from services.models.directory import Resource
from services.models.follow_ups import FollowUp
from services.models.messages import MESSAGE_MAX_LENGTH, Message
from services.models.needs import Need

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00a0\u2003\u2028 \t\n"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.mark.parametrize(
    "text, seen",
    [("", 0), (INVISIBLE * 3, 0), ("a\u200bb", 2), ("  Él llamó  ", 7), ("👋🏽", 2)],
)
def test_visible_length_counts_what_a_reader_sees(text, seen):
    assert visible_length(text) == seen


def test_the_minimum_counts_visible_characters_only():
    validator = MinVisibleLengthValidator(3)
    validator("abc")
    with pytest.raises(ValidationError, match="at least 3"):
        validator("ab" + INVISIBLE * 10)


def every_text_field() -> list[models.Field]:
    from django.apps import apps

    return [
        field
        for model in apps.get_app_config("services").get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField)
    ]


# Written by the app itself, never typed by anyone: a key canary's ciphertext; the kept
# record's fields as they were before a merge (each already bounded by its own field); the
# names folded for search (each from a bounded name field, services.fields.FoldedNameField).
MACHINE_WRITTEN = {
    "KeyCanary.check_value",
    "Merge.kept_before",
    "Exoneree.legal_name_folded",
    "Exoneree.preferred_name_folded",
}


def test_every_text_field_of_the_app_is_bounded_by_the_model():
    typed = [f for f in every_text_field() if f"{f.model.__name__}.{f.name}" not in MACHINE_WRITTEN]
    unbounded = [f"{f.model.__name__}.{f.name}" for f in typed if not isinstance(f, BoundedTextMixin)]
    assert unbounded == []
    for field in typed:
        assert any(getattr(v, "limit_value", None) == field.max_length for v in field.validators), field


@pytest.mark.django_db
def test_an_overlong_note_is_refused_beside_the_field_and_nothing_is_saved(login, world):
    marcus = world.marcus.exoneree
    before = CaseNote.objects.count()

    response = login("caseworker1").post(
        reverse("note_create", args=[marcus.pk]),
        {"text": "x" * (TEXT_MAX_LENGTH + 1), "visibility": NoteVisibility.STAFF},
    )

    assert response.status_code == 400
    assert f"Please keep this to {TEXT_MAX_LENGTH} characters or fewer." in response.content.decode()
    assert CaseNote.objects.count() == before


@pytest.mark.django_db
def test_the_model_refuses_overlong_text_whatever_the_form(world):
    need = world.marcus.need
    need.description = "x" * (TEXT_MAX_LENGTH + 1)
    with pytest.raises(ValidationError) as refused:
        need.full_clean()
    assert "description" in refused.value.message_dict
    resource = world.marcus.resource
    resource.eligibility = "x" * (TEXT_MAX_LENGTH + 1)
    with pytest.raises(ValidationError):
        resource.full_clean()


def test_the_default_bound_stays_out_of_the_migrations():
    _, _, _, kwargs = EncryptedTextField(blank=True).deconstruct()
    assert "max_length" not in kwargs
    _, _, _, kwargs = EncryptedTextField(max_length=50).deconstruct()
    assert kwargs["max_length"] == 50
    assert Resource._meta.get_field("description").max_length == TEXT_MAX_LENGTH


@pytest.mark.parametrize("kind", [BoundedTextField, EncryptedTextField])
@translation.override("en")  # the message is read in English, whatever an earlier test left active
def test_a_new_bounded_field_keeps_its_arguments_and_refuses_text_past_its_bound(kind):
    # Built here, not taken from a model: the models' fields were built at import.
    field = kind("Notes", blank=True)
    assert (field.verbose_name, field.blank, field.max_length) == ("Notes", True, TEXT_MAX_LENGTH)
    field.clean("x" * TEXT_MAX_LENGTH, None)
    with pytest.raises(ValidationError, match=f"at most {TEXT_MAX_LENGTH}"):
        field.clean("x" * (TEXT_MAX_LENGTH + 1), None)

    short = kind(max_length=5)
    short.clean("x" * 5, None)
    with pytest.raises(ValidationError, match="at most 5"):
        short.clean("x" * 6, None)
    assert short.deconstruct()[3] == {"max_length": 5}


@pytest.mark.django_db
def test_a_decline_reason_of_invisible_characters_is_refused(world):
    referral = world.marcus.referral
    for status in (ReferralStatus.SENT,):
        referral.status = status
        referral.save(update_fields=["status"])
    with pytest.raises(ValidationError):
        referrals.referral_transition(
            by=world.caseworker1, referral=referral, status=ReferralStatus.DECLINED, decline_reason=INVISIBLE * 4
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


BLANK = "\u200b\u200b"  # two zero-width spaces: a row that looks empty


@pytest.mark.parametrize(
    ("persona", "page", "data", "field", "model", "message"),
    [
        (
            "caseworker1",
            "need_create",
            lambda w: {"domain": "income", "description": BLANK, "priority": "high"},
            "description",
            Need,
            "Describe the need, in plain words: they read it on their plan.",
        ),
        (
            "caseworker1",
            "follow_up_create",
            lambda w: {"title": BLANK, "due_at": "2030-01-02T10:00", "assigned_to": w.caseworker1.pk},
            "title",
            FollowUp,
            "Say what is to be done, in a few words.",
        ),
        (
            "caseworker1",
            "note_create",
            lambda w: {"text": BLANK, "visibility": NoteVisibility.STAFF},
            "text",
            CaseNote,
            "Write the note.",
        ),
        ("exoneree1", "my_messages", lambda w: {"text": BLANK}, "text", Message, "Write your message."),
        ("exoneree1", "my_ask", lambda w: {"words": BLANK, "priority": "medium"}, "words", Need, "Tell us what you"),
    ],
)
@translation.override("en")
def test_required_text_of_invisible_characters_only_is_refused_beside_the_field(
    login, world, persona, page, data, field, model, message
):
    before = model.objects.count()
    address = reverse(page) if persona == "exoneree1" else reverse(page, args=[world.marcus.exoneree.pk])

    response = login(persona).post(address, data(world))

    assert response.status_code == 400
    beside = re.search(rf'id="id_{field}_errors?"[^>]*>(.*?)</', response.content.decode(), re.S)
    assert beside and message in unescape(beside.group(1))
    assert model.objects.count() == before


@pytest.mark.django_db
def test_the_printable_plan_bounds_what_it_renders(login, world):
    Need.objects.filter(pk=world.marcus.need.pk).update(description="")  # written through the field below
    need = Need.objects.get(pk=world.marcus.need.pk)
    need.description = "word " * (TEXT_MAX_LENGTH // 5)
    need.save(update_fields=["description"])

    response = login("exoneree1").get(reverse("my_plan_pdf"))

    assert response.status_code == 200
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages)
    assert text.count("word") < 250  # 1,000 characters of it, not 10,000


# The person's own forms: a text past its bound is told in plain words (letters and spaces, not
# "characters"), not in Django's "Ensure this value has at most 2000 characters (it has 2001)."
# (services.forms.widgets.PlainLengths).
PERSONS_FORMS = [
    (AskForm, {}, {"priority": "high"}, "words", 2000),
    (MessageForm, {"about": []}, {}, "text", MESSAGE_MAX_LENGTH),
    (PersonAnswerForm, {}, {"answer": PersonAnswer.choices[0][0]}, "words", 2000),
    (AppointmentAnswerForm, {}, {"answer": AppointmentAnswer.choices[0][0]}, "words", 2000),
    (MyDocumentForm, {"exoneree": None}, {"kind": "state_id"}, "title", 200),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "kwargs", "data", "field", "limit"), PERSONS_FORMS)
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "This is too long: at most {limit} letters and spaces. You wrote {wrote}."),
        ("es", "Es demasiado largo: como máximo {limit} letras y espacios. Usted escribió {wrote}."),
    ],
)
def test_the_persons_own_forms_say_too_long_in_plain_words(
    world, form_class, kwargs, data, field, limit, language, words
):
    if "exoneree" in kwargs:
        kwargs = {**kwargs, "exoneree": world.marcus.exoneree}
    with translation.override(language):
        form = form_class({**data, field: "x" * (limit + 3)}, **kwargs)
        assert not form.is_valid()
        assert form.errors[field] == [words.format(limit=limit, wrote=limit + 3)]


@pytest.mark.django_db
def test_an_overlong_ask_is_told_in_plain_words_beside_the_field(login, world):
    response = login("exoneree1").post(reverse("my_ask"), {"words": "x" * 2001, "priority": "high"})

    assert response.status_code == 400
    html = unescape(response.content.decode())
    beside = re.search(r'<div id="id_words_error"[^>]*>(.*?)</div>', html, re.S)
    assert beside and "This is too long: at most 2000 letters and spaces. You wrote 2001." in beside.group(1)
    assert "Ensure this value" not in html and "characters" not in beside.group(1)


# A browser sends each line break of a box as "\r\n"; the box's maxlength and its counter
# count it as one (services.forms.widgets.LineBreaksAsOne).
LINES = "\r\n".join(["Called the housing office.", "", "They want the ID first."])  # 50 characters sent


def text_of(length: int) -> str:
    """A text of exactly `length` characters as the person typed it, line breaks counted as one,
    sent as a browser sends it."""
    typed = LINES.replace("\r\n", "\n")
    return (typed + "x" * (length - len(typed))).replace("\n", "\r\n")


@pytest.mark.django_db
def test_a_persons_message_typed_up_to_the_limit_with_line_breaks_is_taken_and_kept_with_one_per_line(login, world):
    text = text_of(MESSAGE_MAX_LENGTH)
    assert len(text) == MESSAGE_MAX_LENGTH + 2

    response = login("exoneree1").post(reverse("my_messages"), {"text": text})

    assert response.status_code == 302
    kept = Message.objects.get().text
    assert len(kept) == MESSAGE_MAX_LENGTH and kept.startswith("Called the housing office.\n\nThey want")
    assert "\r" not in kept


@pytest.mark.django_db
def test_a_staff_note_typed_up_to_the_limit_with_line_breaks_is_taken_and_kept_with_one_per_line(login, world):
    before = CaseNote.objects.count()

    response = login("caseworker1").post(
        reverse("note_create", args=[world.marcus.exoneree.pk]),
        {"text": text_of(TEXT_MAX_LENGTH), "visibility": NoteVisibility.STAFF},
    )

    assert response.status_code == 302
    assert CaseNote.objects.count() == before + 1
    kept = CaseNote.objects.latest("pk").text
    assert len(kept) == TEXT_MAX_LENGTH and "\r" not in kept


@pytest.mark.django_db
def test_one_character_past_the_limit_is_still_too_long_and_a_lone_carriage_return_is_a_line_break(world):
    form = AskForm({"words": text_of(2000) + "x", "priority": "high"})
    assert not form.is_valid()
    assert "You wrote 2001." in form.errors["words"][0]
    form = AskForm({"words": "One\rTwo", "priority": "high"})
    assert form.is_valid() and form.cleaned_data["words"] == "One\nTwo"


# Signed out, read by staff and the person alike, and bounded where nobody types that far (a
# one-time code, an email address): Django's own words are left there.
SIGNED_OUT = {"OneTimeCodeForm", "PasswordResetRequestForm"}


def every_form() -> list[type[forms.BaseForm]]:
    import services.forms

    return [
        form
        for module in pkgutil.iter_modules(services.forms.__path__)
        for _name, form in inspect.getmembers(importlib.import_module(f"services.forms.{module.name}"), inspect.isclass)
        if issubclass(form, forms.BaseForm) and form.__module__ == f"services.forms.{module.name}"
    ]


def test_every_form_with_a_box_of_several_lines_counts_a_line_break_as_one():
    found = [
        form
        for form in every_form()
        if any(isinstance(field.widget, forms.Textarea) for field in form.base_fields.values())
    ]
    assert len(found) > 20  # the staff's forms and the person's
    assert [form.__name__ for form in found if not issubclass(form, LineBreaksAsOne)] == []


def test_every_form_with_a_length_limit_says_too_long_in_its_readers_words():
    """The person's in letters and spaces, staff's in characters, each as the counter below the
    box says (templates/base.html), never Django's "Ensure this value has at most 150 characters
    (it has 162)." (services.forms.widgets.Lengths)."""
    bounded = [
        form for form in every_form() if any(getattr(field, "max_length", None) for field in form.base_fields.values())
    ]
    assert len(bounded) > 30
    assert [f.__name__ for f in bounded if not issubclass(f, Lengths) and f.__name__ not in SIGNED_OUT] == []
    persons = {form_class for form_class, *_ in PERSONS_FORMS}
    assert {form for form in bounded if issubclass(form, PlainLengths) and form.too_long is PlainLengths.too_long} == (
        persons
    )
