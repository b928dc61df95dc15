"""Issue 19: the person asks for help on their own plan; the caseworker takes it on or answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from services.choices import AskState, NeedDomain, NeedStatus, Priority
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification
from services.selectors.plans import ASKS_SHOWN
from tests.factories import NeedFactory
from tests.test_encryption import raw

ASK = {"words": "I need a winter coat before it snows", "domain": "basic", "priority": "urgent"}


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def ask(client, data: dict | None = None):
    return client.post(reverse("my_ask"), data or ASK)


def test_an_ask_becomes_exactly_one_need_and_one_dashboard_item(login, world):
    before = Need.objects.count()

    response = ask(login("exoneree1"))

    assert response.status_code == 302
    assert Need.objects.count() == before + 1
    need = Need.objects.latest("pk")
    assert need.exoneree == world.marcus.exoneree
    assert (need.ask_state, need.domain, need.priority, need.status) == (
        AskState.WAITING,
        NeedDomain.BASIC,
        Priority.URGENT,
        NeedStatus.OPEN,
    )
    assert need.own_words == ASK["words"]
    assert need.created_by == world.exoneree1
    # His words are ciphertext in the database, like every need's words.
    assert ASK["words"] not in raw(Need, "own_words", need.pk)
    assert ASK["words"] not in raw(Need, "description", need.pk)
    # His caseworker is told in the app; the notice names who asked, not what.
    notice = Notification.objects.get(user=world.caseworker1)
    assert "coat" not in notice.text and f"#need-{need.pk}" in notice.url
    assert not Notification.objects.filter(user=world.caseworker2).exists()

    dashboard = login("caseworker1").get(reverse("dashboard"))
    assert dashboard.context["asks_count"] == 1
    assert [n.pk for n in dashboard.context["asks"]] == [need.pk]
    page = dashboard.content.decode()
    # First on the dashboard: before the overdue follow-ups.
    assert page.index('id="asks-h"') < page.index('id="overdue-h"')


def test_without_an_area_it_is_something_else(login, world):
    ask(login("exoneree1"), {"words": "Not sure who to ask", "priority": "low"})

    assert Need.objects.latest("pk").domain == NeedDomain.OTHER


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"words": "   ", "priority": "high"}, "words"),
        ({"words": "x" * 2001, "priority": "high"}, "words"),
        ({"words": "help", "priority": "whenever"}, "priority"),
        ({"words": "help", "priority": "high", "domain": "spaceships"}, "domain"),
    ],
)
def test_a_bad_ask_says_why_beside_the_field_and_saves_nothing(login, world, data, field):
    before = Need.objects.count()

    response = ask(login("exoneree1"), data)

    assert response.status_code == 400
    assert Need.objects.count() == before
    assert field in response.context["ask_form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()


def test_the_person_sees_what_happened_to_each_ask(login, world):
    client = login("exoneree1")
    ask(client)
    ask(client, {"words": "Where can I get a bus pass?", "priority": "medium", "domain": "transportation"})
    coat, bus = Need.objects.filter(ask_state=AskState.WAITING).order_by("pk")

    page = client.get(reverse("my_plan")).content.decode()
    assert page.count("Waiting. Your caseworker will look at it soon.") == 2

    staff = login("caseworker1")
    assert staff.post(reverse("need_ask_take_on", args=[coat.pk])).status_code == 302
    answer = "The transit office on 3rd St. gives free passes. Bring your ID."
    assert staff.post(reverse("need_ask_answer", args=[bus.pk]), {"answer": answer}).status_code == 302

    coat.refresh_from_db()
    bus.refresh_from_db()
    assert (coat.ask_state, coat.status, coat.own_words) == (AskState.TAKEN_ON, NeedStatus.OPEN, ASK["words"])
    assert (bus.ask_state, bus.status) == (AskState.ANSWERED, NeedStatus.MET)
    assert answer not in raw(Need, "ask_answer", bus.pk)
    # The answer is in his conversation too, pointing to the ask.
    [message] = Message.objects.all()
    assert (message.text, message.need, message.from_person, message.author) == (answer, bus, False, world.caseworker1)

    plan = login("exoneree1").get(reverse("my_plan"))
    page = plan.content.decode()
    assert "Your caseworker is working on it." in page
    assert "As written by your caseworker" in page and answer in page
    assert [n.pk for n in plan.context["asks"]] == [bus.pk, coat.pk]
    # Taken on: casework like any need; answered: only in the asks' section.
    assert coat in plan.context["open_needs"]
    assert bus not in plan.context["closed_needs"]


def test_an_ask_is_handled_once(login, world):
    ask(login("exoneree1"))
    need = Need.objects.latest("pk")
    client = login("caseworker1")
    client.post(reverse("need_ask_take_on", args=[need.pk]))

    assert client.post(reverse("need_ask_take_on", args=[need.pk])).status_code == 409
    assert client.post(reverse("need_ask_answer", args=[need.pk]), {"answer": "Hi"}).status_code == 409
    assert Need.objects.get(pk=need.pk).ask_state == AskState.TAKEN_ON


@pytest.mark.parametrize("answer", ["", "\u200b\u200b \u2060"])  # empty, or only invisible characters
def test_an_empty_answer_is_refused_beside_the_field(login, world, answer):
    ask(login("exoneree1"))
    need = Need.objects.latest("pk")

    response = login("caseworker1").post(reverse("need_ask_answer", args=[need.pk]), {"answer": answer})

    assert response.status_code == 400
    assert "answer" in response.context["form"].errors
    assert Need.objects.get(pk=need.pk).ask_state == AskState.WAITING


def test_a_need_staff_recorded_is_no_ask(login, world):
    client = login("caseworker1")

    assert client.post(reverse("need_ask_take_on", args=[world.marcus.need.pk])).status_code == 404
    assert client.get(reverse("need_ask_answer", args=[world.marcus.need.pk])).status_code == 404


def test_the_person_page_shows_the_ask_first_with_its_buttons(login, world):
    ask(login("exoneree1"), {"words": "A coat", "priority": "low"})
    need = Need.objects.latest("pk")

    response = login("caseworker1").get(world.marcus.exoneree.get_absolute_url())

    assert response.context["needs_open"][0] == need
    page = response.content.decode()
    assert "Asked by the person" in page
    assert reverse("need_ask_take_on", args=[need.pk]) in page
    # A director reads it, without the buttons.
    page = login("director1").get(world.marcus.exoneree.get_absolute_url()).content.decode()
    assert "Asked by the person" in page and reverse("need_ask_take_on", args=[need.pk]) not in page


def test_the_spanish_plan_says_what_happened_in_spanish(login, world):
    from tests.test_i18n import ENGLISH_WORDS, _record_values, _spanish_marcus, _visible_text

    marcus = _spanish_marcus(world)
    client = login("exoneree1")
    ask(client, {"words": "Necesito un abrigo", "priority": "high"})
    ask(client, {"words": "¿Dónde está el banco de comida?", "priority": "low", "domain": "basic"})
    first, second = Need.objects.filter(ask_state=AskState.WAITING).order_by("pk")
    staff = login("caseworker1")
    staff.post(reverse("need_ask_take_on", args=[first.pk]))
    answer = "The food bank is on Main Street."
    staff.post(reverse("need_ask_answer", args=[second.pk]), {"answer": answer})

    text = _visible_text(login("exoneree1").get(reverse("my_plan")).content.decode())

    assert "Tal como lo escribió su trabajador social" in text and answer in text
    for value in [answer, *_record_values(marcus)]:
        text = text.replace(value, " ")
    assert not sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)})


@pytest.mark.parametrize(
    ("language", "working"),
    [("en", "Your caseworker is working on it."), ("es", "Su trabajador social está trabajando en esto.")],
)
def test_an_ask_taken_on_says_once_that_it_is_worked_on(login, world, language, working):
    """It read "Su trabajador social está trabajando en esto. Estamos trabajando en esto." (walk)."""
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": language})
    ask(client)
    need = Need.objects.latest("pk")
    login("caseworker1").post(reverse("need_ask_take_on", args=[need.pk]))

    def said() -> str:
        page = login("exoneree1").get(reverse("my_plan")).content.decode()
        state = page[page.index('class="ask-state', page.index(f'id="ask-{need.pk}"')) :]
        return state[state.index(">") + 1 : state.index("</p>")]

    assert said() == working
    Need.objects.filter(pk=need.pk).update(status=NeedStatus.MET)
    assert said() == {"en": "Done.", "es": "Listo."}[language]  # not "working on it" and done


def test_the_plan_names_a_need_in_the_words_the_person_asks_with(login, world):
    Need.objects.filter(pk=world.marcus.need.pk).update(domain=NeedDomain.BASIC)

    page = login("exoneree1").get(reverse("my_plan")).content.decode()
    staff_page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()

    assert "<h3>Food, clothes or a phone</h3>" in page and "Basic needs" not in page
    assert "Basic needs" in staff_page  # staff keep the directory's words


def test_the_plan_leads_with_what_comes_next_and_asking_is_one_button(login, world):
    """A phone showed the whole ask form first and the plan 3-4 screens down (walkthrough)."""
    ask(login("exoneree1"))

    page = login("exoneree1").get(reverse("my_plan")).content.decode()

    order = ['id="ask-h"', 'id="next-h"', 'id="help-h"', 'id="asks-h"', 'id="call-h"']
    assert [page.index(mark) for mark in order] == sorted(page.index(mark) for mark in order)
    # Folded: one button, the form behind it (a <details>, so it opens without a script).
    assert '<details class="ask-form">' in page
    assert page.index('<details class="ask-form">') < page.index('action="/my-plan/ask/"')


@pytest.mark.parametrize("data", [{"words": "   ", "priority": "high"}, {"words": "help", "priority": "whenever"}])
def test_an_ask_sent_back_with_errors_is_shown_open(login, world, data):
    page = ask(login("exoneree1"), data).content.decode()

    assert '<details class="ask-form" open>' in page
    assert 'role="alert"' in page[page.index('<details class="ask-form" open>') :]


def test_the_plan_shows_the_newest_asks_and_a_page_has_them_all(login, world):
    marcus = world.marcus.exoneree
    today = timezone.localdate()
    asked = [
        NeedFactory(exoneree=marcus, ask_state=AskState.WAITING, own_words=f"Ask {i}", opened_on=today - timedelta(i))
        for i in range(ASKS_SHOWN + 2)
    ]
    client = login("exoneree1")

    plan = client.get(reverse("my_plan"))

    assert [n.pk for n in plan.context["asks"]] == [n.pk for n in asked[:ASKS_SHOWN]]
    page = plan.content.decode()
    assert "See 2 more things you asked for" in page and f'href="{reverse("my_asks")}"' in page
    assert f"Ask {ASKS_SHOWN}" not in page
    every = client.get(reverse("my_asks"))
    assert [n.pk for n in every.context["asks"]] == [n.pk for n in asked]
    assert all(f"You said: “Ask {i}”" in every.content.decode() for i in range(ASKS_SHOWN + 2))


def test_with_only_a_few_asks_the_plan_links_to_no_other_page(login, world):
    ask(login("exoneree1"))

    page = login("exoneree1").get(reverse("my_plan")).content.decode()

    assert "more thing" not in page and reverse("my_asks") not in page


def test_the_page_of_asks_is_the_persons_own_and_in_spanish(login, world):
    ask(login("exoneree2"), {"words": "Thomas needs boots", "priority": "low"})
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": "es"})

    page = client.get(reverse("my_asks")).content.decode()

    assert "Thomas needs boots" not in page
    assert "Todo lo que usted pidió" in page and "Todavía no ha pedido nada." in page
