"""A message's tags, written and read in one place (services.lib.message_tags), and its line said
the same at the page's top and at its place (templates/_messages.html, `{% said_here %}`)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.middleware.csrf import get_token
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from services.lib.message_tags import place_of, place_tag, plan_next_of, plan_next_tag, tags, undo_of, undo_tag

# A page in base.html's order: the page first (where `{% said_here %}` may say a message), then the top.
PAGE = (
    "{% load reentry %}{% page_first as page %}"
    '<section id="notes">{% if place %}{% said_here "notes" %}{% endif %}</section>{% endpage_first %}'
    '{% include "_messages.html" with shown=messages|said_at_top:said_in_place in_place=False %}{{ page }}'
)
LINE = re.compile(r'<p class="message.*?</p>', re.S)


class Message:
    def __init__(self, extra_tags: str) -> None:
        self.extra_tags = extra_tags


def test_each_tag_reads_back_what_was_written():
    message = Message(tags(place_tag("need-3"), undo_tag(12), plan_next_tag(4, None, 9)))

    assert place_of(message) == "need-3"
    assert undo_of(message) == 12
    assert plan_next_of(message) == f"{reverse('follow_up_create', args=[4])}?referral=9"


def test_a_place_named_after_a_follow_up_is_no_undo_and_no_tag_is_nothing():
    assert undo_of(Message(place_tag("follow-up-12"))) is None
    assert place_of(Message(place_tag("follow-up-12"))) == "follow-up-12"
    assert undo_of(Message(tags(place_tag("follow-up-5"), undo_tag(12)))) == 12
    assert (place_of(Message("")), undo_of(Message("")), plan_next_of(Message(""))) == ("", None, "")
    assert tags(place_tag(""), "") == ""


def _page(*, place: bool) -> str:
    """The page of a "Marked done" message that names the notes as its place (with its Undo and
    "Schedule the next one"), which has that place or not."""
    request = RequestFactory().get("/people/4/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    extra = tags(place_tag("notes"), undo_tag(12), plan_next_tag(4, 3, None))
    messages.success(request, "Marked done: <b>Call</b>.", extra_tags=extra)
    context = {"messages": get_messages(request), "request": request, "csrf_token": get_token(request), "place": place}
    return Template(PAGE).render(Context(context))


def test_the_line_said_at_its_place_is_the_line_the_top_says_undo_and_all():
    at_place, at_top = _page(place=True), _page(place=False)

    top_of_placed, said_here = at_place.split('<section id="notes">')
    assert LINE.search(top_of_placed) is None  # said at its place, so not at the top
    assert 'class="messages said-here"' in said_here
    line_here, line_top = LINE.search(said_here).group(0), LINE.search(at_top.split("<section")[0]).group(0)
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')  # a new token per request
    assert csrf.sub("", line_here) == csrf.sub("", line_top)
    assert f'action="{reverse("follow_up_reopen", args=[12])}"' in line_here
    assert 'name="next" value="/people/4/"' in line_here
    assert f'href="{reverse("follow_up_create", args=[4])}?need=3"' in line_here
    assert "Marked done: &lt;b&gt;Call&lt;/b&gt;." in line_here
