"""The person page starts with what needs doing (issue 21 #3), each with its one action, from
what the page loads anyway (its query budget is in tests/test_queries.py)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from services.actions import follow_ups
from services.choices import AppointmentAnswer, Priority, ReferralStatus
from services.choices import ConsentCategory as C
from services.models.referrals import ProviderQuestion, Referral, ReferralCategory
from tests.factories import FollowUpFactory, NeedFactory, ReferralFactory, consent_for

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def section(page: str) -> str:
    start = page.index('id="todo-h"')
    return page[start : page.index("</section>", start)]


def test_the_page_starts_with_what_needs_doing_each_with_its_action(login, world):
    marcus = world.marcus.exoneree
    late = FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))
    FollowUpFactory(exoneree=marcus, title="Next week's visit", due_at=timezone.now() + timedelta(days=7))
    ReferralCategory.objects.create(referral=world.marcus.referral, category=C.MENTAL_HEALTH)
    urgent = NeedFactory(exoneree=marcus, priority=Priority.URGENT)

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()
    todo = section(page)

    assert page.index('id="todo-h"') < page.index('id="profile-h"')
    assert "Call the landlord" in todo and "Next week" not in todo
    assert f'href="#follow-up-{late.pk}">Mark it done' in todo
    consent = reverse("consent_create", args=[marcus.pk]) + f"?referral={world.marcus.referral.pk}"
    assert f'href="{consent}">Record the consent' in todo
    assert f'href="{reverse("referral_create", args=[urgent.pk])}">Refer to a resource' in todo


def test_nothing_to_do_shows_no_section(login, world):
    marcus = world.marcus.exoneree
    consent_for(marcus, world.marcus.resource.provider, C.values)

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()

    assert 'id="todo-h"' not in page


def test_a_director_sees_it_without_the_caseworkers_actions(login, world):
    marcus = world.marcus.exoneree
    FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))

    todo = section(login("director1").get(marcus.get_absolute_url()).content.decode())

    assert "Call the landlord" in todo and "Mark it done" not in todo and "See it" in todo


def test_the_profile_is_a_short_card_with_more_details_one_click_away(login, world):
    page = login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode()
    profile = page[page.index('id="profile-h"') : page.index("</section>", page.index('id="profile-h"'))]
    short, more = profile.split("<summary>More details</summary>")

    for label in ("Phone", "How to reach them", "Language", "Caseworkers"):
        assert f"<dt>{label}</dt>" in short
    for label in ("Legal name", "Date of birth", "SSN", "Address", "Exonerated"):
        assert f"<dt>{label}</dt>" in more and f"<dt>{label}</dt>" not in short


# --- "Mark done" in place (htmx) brings "What needs doing" and the count along ------------------


def element(html: str, element_id: str) -> str:
    """The element of this id (neither the to-do's wrapper nor the tab nests its own tag), without
    the out-of-band marker: what the page shows, or what a swap puts in its place."""
    start = html.rindex("<", 0, html.index(f'id="{element_id}"'))
    tag = html[start + 1 : html.index(" ", start)]
    end = html.index(f"</{tag}>", start) + len(f"</{tag}>")
    return html[start:end].replace(' hx-swap-oob="true"', "")


def in_place(client, action: str, follow_up, page: str):
    """The row's button pressed with JavaScript on, on that page (htmx says which)."""
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}#follow-ups"}
    return client.post(reverse(action, args=[follow_up.pk]), {}, headers=headers)


def test_mark_done_in_place_updates_what_needs_doing_and_the_count_as_a_reload_would(login, world):
    marcus = world.marcus.exoneree
    late = FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))
    client = login("caseworker1")
    before = client.get(marcus.get_absolute_url()).content.decode()
    assert "Call the landlord" in section(before)

    swapped = in_place(client, "follow_up_done", late, marcus.get_absolute_url()).content.decode()

    reloaded = client.get(marcus.get_absolute_url()).content.decode()
    assert f'id="follow-up-{late.pk}"' in swapped and ">Undo</button>" in swapped
    assert '<div id="to-do" hx-swap-oob="true">' in swapped and 'id="follow-ups-tab" hx-swap-oob="true"' in swapped
    for element_id in ("to-do", "follow-ups-tab"):
        assert element(swapped, element_id) == element(reloaded, element_id) != element(before, element_id)
    assert "Call the landlord" not in element(swapped, "to-do")


def test_undo_in_place_brings_it_back_to_what_needs_doing(login, world):
    marcus = world.marcus.exoneree
    late = FollowUpFactory(exoneree=marcus, title="Call the landlord", due_at=timezone.now() - timedelta(days=2))
    client = login("caseworker1")
    before = client.get(marcus.get_absolute_url()).content.decode()
    in_place(client, "follow_up_done", late, marcus.get_absolute_url())

    swapped = in_place(client, "follow_up_reopen", late, marcus.get_absolute_url()).content.decode()

    assert "Mark done" in swapped
    for element_id in ("to-do", "follow-ups-tab"):
        assert element(swapped, element_id) == element(before, element_id)


def test_in_place_elsewhere_swaps_the_row_alone_and_without_javascript_the_page_reloads(login, world):
    marcus = world.marcus.exoneree
    follow_up = world.marcus.follow_up
    client = login("caseworker1")
    client.post(reverse("follow_up_done", args=[follow_up.pk]))

    elsewhere = in_place(client, "follow_up_reopen", follow_up, reverse("exoneree_done_follow_ups", args=[marcus.pk]))
    plain = client.post(reverse("follow_up_done", args=[follow_up.pk]))

    assert [t.name for t in elsewhere.templates][0] == "services/_follow_up_row.html"
    assert "hx-swap-oob" not in elsewhere.content.decode()
    assert plain.status_code == 302 and plain.url == marcus.get_absolute_url()


def test_mark_done_in_place_costs_three_queries_more_however_much_the_person_has(login, world):
    """What the swap adds to the row alone: the open follow-ups, the open needs, their referrals;
    the same for 3 rows of each as for 30."""
    marcus = world.marcus.exoneree
    client = login("caseworker1")

    def cost(n: int, page: str) -> int:
        for _ in range(n):
            need = NeedFactory(exoneree=marcus, priority=Priority.URGENT)
            ReferralFactory(need=need, resource=world.marcus.resource)
            FollowUpFactory(exoneree=marcus, due_at=timezone.now() - timedelta(days=1))
        follow_up = FollowUpFactory(exoneree=marcus)
        with CaptureQueriesContext(connection) as queries:
            in_place(client, "follow_up_done", follow_up, page)
        return len(queries)

    elsewhere = reverse("exoneree_done_follow_ups", args=[marcus.pk])
    cost(0, elsewhere)  # warm-up
    row_alone = cost(0, elsewhere)
    small, large = cost(3, marcus.get_absolute_url()), cost(27, marcus.get_absolute_url())

    assert small == large == row_alone + 3


# --- the person asked for another time (issue 19's answer on their plan) ------------------------


def asked_another_time(world, **fields):
    return FollowUpFactory(
        exoneree=world.marcus.exoneree,
        title="Walkthrough",
        shared_with_exoneree=True,
        person_answer=AppointmentAnswer.ANOTHER_TIME,
        person_answered_at=timezone.now(),
        **fields,
    )


def test_a_request_for_another_time_is_to_do_until_it_is_moved(login, world):
    marcus = world.marcus.exoneree
    due = timezone.now() + timedelta(days=3)
    asked = asked_another_time(world, due_at=due)
    FollowUpFactory(exoneree=marcus, title="Coming along", person_answer=AppointmentAnswer.COMING)
    client = login("caseworker1")

    todo = section(client.get(marcus.get_absolute_url()).content.decode())

    day = formats.date_format(timezone.localtime(due), "M j")
    assert f"{marcus.display_name} asked for another time for “Walkthrough” ({day})" in unescape(todo)
    assert f'href="#follow-up-{asked.pk}">Give it a new time' in todo
    assert "Coming along" not in todo
    director = section(login("director1").get(marcus.get_absolute_url()).content.decode())
    assert f'href="#follow-up-{asked.pk}">See it' in director
    # Given a new time (which asks the person again): nothing left to do about it.
    asked.due_at = due + timedelta(days=2)
    follow_ups.follow_up_save(by=world.caseworker1, exoneree=marcus, follow_up=asked)
    assert "Walkthrough" not in element(client.get(marcus.get_absolute_url()).content.decode(), "to-do")


def test_a_request_for_another_time_marked_done_in_place_leaves_what_needs_doing(login, world):
    marcus = world.marcus.exoneree
    asked = asked_another_time(world, due_at=timezone.now() + timedelta(days=3))
    client = login("caseworker1")
    before = client.get(marcus.get_absolute_url()).content.decode()
    assert "Walkthrough" in section(before)

    swapped = in_place(client, "follow_up_done", asked, marcus.get_absolute_url()).content.decode()

    reloaded = client.get(marcus.get_absolute_url()).content.decode()
    assert element(swapped, "to-do") == element(reloaded, "to-do")
    assert "Walkthrough" not in element(swapped, "to-do")


def test_an_overdue_appointment_they_asked_to_move_is_one_line(login, world):
    asked_another_time(world, due_at=timezone.now() - timedelta(days=1))

    todo = section(login("caseworker1").get(world.marcus.exoneree.get_absolute_url()).content.decode())

    assert todo.count("Walkthrough") == 1 and "asked for another time" in todo


@pytest.mark.parametrize(
    ("status", "answered", "listed"),
    [
        (ReferralStatus.SENT, False, True),
        (ReferralStatus.IN_PROGRESS, False, True),
        (ReferralStatus.SENT, True, False),
        (ReferralStatus.CANCELLED, False, False),  # no longer with the provider: nothing to answer
    ],
    ids=["sent", "in-progress", "answered", "cancelled"],
)
def test_a_providers_question_waiting_for_an_answer_is_to_do(login, world, status, answered, listed):
    """The provider's question showed only among the dashboard's news, while the provider waited."""
    marcus, referral = world.marcus.exoneree, world.marcus.referral
    consent_for(marcus, world.marcus.resource.provider, C.values)
    Referral.objects.filter(pk=referral.pk).update(status=status)
    ProviderQuestion.objects.create(
        referral=referral,
        provider=world.marcus.resource.provider,
        text="Can he come on Friday?",
        answered_at=timezone.now() if answered else None,
    )

    page = login("caseworker1").get(marcus.get_absolute_url()).content.decode()

    link = f'href="{referral.get_absolute_url()}#questions-h">Answer it'
    assert (link in page and "Question waiting" in section(page)) is listed
    if listed:
        assert f'href="{referral.get_absolute_url()}#questions-h">See it' in section(
            login("director1").get(marcus.get_absolute_url()).content.decode()
        )
