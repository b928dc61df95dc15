"""Issue 19: the person answers the appointments on their plan; the caseworker sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.actions import follow_ups
from services.choices import AppointmentAnswer
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.notifications import Notification
from tests.factories import FollowUpFactory
from tests.test_contact_wishes import last_entry
from tests.test_encryption import raw

WORDS = "I work that morning at the warehouse"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def answer_url(follow_up: FollowUp) -> str:
    return reverse("my_appointment_answer", args=[follow_up.pk])


def test_the_person_asks_for_another_time_and_the_caseworker_sees_it(login, world):
    visit = world.marcus.follow_up
    before = last_entry()  # pks, not a count: PostgreSQL's sequence is not reset between tests

    response = login("exoneree1").post(answer_url(visit), {"answer": "another_time", "words": WORDS})

    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.person_answer, visit.person_words) == (AppointmentAnswer.ANOTHER_TIME, WORDS)
    assert WORDS not in raw(FollowUp, "person_words", visit.pk)
    assert AuditEvent.objects.filter(pk__gt=before, action=AuditEvent.Action.RECORD_CHANGED).count() == 1
    [notice] = Notification.objects.filter(user=world.caseworker1)
    assert "I need another time" in notice.text and WORDS not in notice.text

    plan = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert "You said “I need another time”" in plan

    client = login("caseworker1")
    page = client.get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert "They say: “I need another time”" in page and WORDS in page
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "They say: “I need another time”" in dashboard  # on the follow-up's row, due this week


def test_the_answer_can_change_and_a_new_time_asks_again(login, world):
    visit = world.marcus.follow_up
    client = login("exoneree1")
    client.post(answer_url(visit), {"answer": "another_time", "words": WORDS})
    client.post(answer_url(visit), {"answer": "coming", "words": ""})
    visit.refresh_from_db()
    assert (visit.person_answer, visit.person_words) == ("coming", "")

    visit.due_at += timedelta(days=2)
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=visit)
    visit.refresh_from_db()
    assert (visit.person_answer, visit.person_answered_at) == ("", None)


def test_a_bad_answer_says_why_and_saves_nothing(login, world):
    response = login("exoneree1").post(answer_url(world.marcus.follow_up), {"answer": "maybe", "words": "x"})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_a{world.marcus.follow_up.pk}_answer_error"' in html
    assert FollowUp.objects.get(pk=world.marcus.follow_up.pk).person_answer == ""


def test_words_sent_without_an_answer_come_back_with_the_reason_and_are_not_lost(login, world):
    visit = world.marcus.follow_up
    FollowUp.objects.filter(pk=visit.pk).update(person_answer="coming", person_words="Earlier words")

    response = login("exoneree1").post(answer_url(visit), {"words": WORDS})

    assert response.status_code == 400
    html = response.content.decode()
    assert f">{WORDS}</textarea>" in html and "Earlier words" not in html
    assert "Choose one answer." in html
    assert f'id="id_a{visit.pk}_coming">' in html  # as sent: no answer chosen, not the stored one
    assert f'<a href="#appointment-{visit.pk}">See what to change</a>' in html
    visit.refresh_from_db()
    assert (visit.person_answer, visit.person_words) == ("coming", "Earlier words")


def test_staff_tasks_and_done_ones_cannot_be_answered(login, world):
    internal = FollowUpFactory(exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, title="Case review")
    done = FollowUpFactory(
        exoneree=world.marcus.exoneree, assigned_to=world.caseworker1, shared_with_exoneree=True, done_at=timezone.now()
    )
    client = login("exoneree1")

    assert "Case review" not in client.get(reverse("my_plan")).content.decode()
    assert client.post(answer_url(internal), {"answer": "coming"}).status_code == 404
    assert client.post(answer_url(done), {"answer": "coming"}).status_code == 404


def test_show_on_their_plan_is_off_by_default(login, world):
    form = login("caseworker1").get(reverse("follow_up_create", args=[world.marcus.exoneree.pk])).context["form"]

    assert form["shared_with_exoneree"].value() is False
    assert "their appointment" in str(form["shared_with_exoneree"].label)
    assert FollowUp(title="x").shared_with_exoneree is False


def test_the_spanish_plan_answers_in_spanish(login, world):
    from tests.test_i18n import ENGLISH_WORDS, _record_values, _spanish_marcus, _visible_text

    marcus = _spanish_marcus(world)
    client = login("exoneree1")
    client.post(answer_url(world.marcus.follow_up), {"answer": "coming"})

    text = _visible_text(client.get(reverse("my_plan")).content.decode())

    assert "¿Va a ir?" in text and "Usted dijo «Voy a ir»" in text
    for value in _record_values(marcus):
        text = text.replace(value, " ")
    assert not sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)}), text
