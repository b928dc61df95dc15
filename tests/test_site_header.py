"""The header of every signed-in page (templates/base.html): the link to the page being shown says
so (aria-current), and "Menu", behind which a phone folds the links, carries the sum of their
badges, so a message waiting is not hidden by the fold. The fold itself, in a browser:
tests/browser/test_header.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from services.models.notifications import Notification

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

CURRENT = re.compile(r'<a href="([^"]*)" aria-current="page">')


def header(client, url: str) -> str:
    page = client.get(url).content.decode()
    return page[page.index('<header class="site-header') : page.index("</header>")]


def menu(client, url: str) -> str:
    """What "Menu" says, its markup's words only."""
    summary = re.search(r"<summary>(.*?)</summary>", header(client, url), re.S)
    assert summary, "no Menu in the header"
    return " ".join(re.sub(r"<[^>]+>", " ", summary.group(1)).split())


@pytest.mark.parametrize(
    ("persona", "pages"),
    [
        ("caseworker1", ["dashboard", "follow_up_list", "exoneree_list", "conversation_list", "notification_list"]),
        ("director1", ["director_dashboard", "staff_list", "audit_log", "notification_list", "account"]),
        ("exoneree1", ["my_plan", "my_messages", "account"]),
    ],
)
def test_the_link_to_the_page_shown_and_no_other_is_marked_current(login, persona, pages):
    client = login(persona)
    for name in pages:
        assert CURRENT.findall(header(client, reverse(name))) == [reverse(name)], name


def test_a_page_the_header_has_no_link_to_marks_none(login, world):
    client = login("caseworker1")
    assert CURRENT.findall(header(client, world.marcus.exoneree.get_absolute_url())) == []


def test_menu_counts_what_waits_behind_its_links(login, world):
    # Marcus writes: his caseworker has a message waiting and a notice of it.
    login("exoneree1").post(reverse("my_messages"), {"text": "Can we meet on Friday?"})
    assert menu(login("caseworker1"), reverse("dashboard")) == "Menu 2 unread"
    # A director has notices only (and no Messages link).
    assert menu(login("director1"), reverse("director_dashboard")) == "Menu"
    Notification.objects.create(user=world.director1, text="A record was opened.", url="/")
    assert menu(login("director1"), reverse("director_dashboard")) == "Menu 1 unread"
    # The caseworker answers: Marcus has one message waiting.
    login("caseworker1").post(reverse("exoneree_messages", args=[world.marcus.exoneree.pk]), {"text": "Friday at 10."})
    assert menu(login("exoneree1"), reverse("my_plan")) == "Menu 1 unread"
