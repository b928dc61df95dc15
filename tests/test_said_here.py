"""A confirmation said where the person lands (services.lib.said_here). A walk on a 375 px phone:
an answer low on My plan sent the person back to its own place (`#referral-12`), and its "Thank
you" at the top of the page was above the fold, out of view. Now it is said at that place, once;
at the top only when the place is gone from the page."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from services.choices import NeedStatus, NoteVisibility, ReferralStatus
from services.models.documents import DocumentKind
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.referrals import Referral
from tests import sample_files
from tests.factories import NeedFactory, ReferralFactory

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)

THANKS = "Thank you. Your caseworker will see your answer."
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Within(HTMLParser):
    """The words inside the element whose id is `element_id`, and those at the top of <main>
    before the page's first heading (where a message said at the top stands)."""

    def __init__(self, html: str, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0  # inside the element: how many of its tags are open
        self.in_main = self.headed = False
        self.inside: list[str] = []
        self.top: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_main |= tag == "main"
        self.headed |= self.in_main and tag == "h1"
        if tag in VOID:
            return
        if self.depth or dict(attrs).get("id") == self.element_id:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.inside.append(data)
        elif self.in_main and not self.headed:
            self.top.append(data)


def said(html: str, element_id: str) -> tuple[str, str]:
    """(the words at the element, the words at the page's top), spaces folded."""
    found = Within(html, element_id)
    return " ".join("".join(found.inside).split()), " ".join("".join(found.top).split())


def asked(world) -> Referral:
    """Marcus's referral, under way, so his plan asks "Did you get help from …?"."""
    referral = world.marcus.referral
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.IN_PROGRESS)
    Need.objects.filter(pk=referral.need_id).update(status=NeedStatus.IN_PROGRESS)
    return referral


def test_the_thank_you_for_an_answer_is_said_at_the_referral_it_lands_on(login, world):
    referral = asked(world)
    url = reverse("my_referral_answer", args=[referral.pk])

    sent = login("exoneree1").post(url, {"answer": "yes", "words": ""}, follow=True)

    assert sent.redirect_chain[-1][0].endswith(f"#referral-{referral.pk}")
    at_referral, top = said(sent.content.decode(), f"referral-{referral.pk}")
    assert at_referral.startswith(THANKS) and THANKS not in top
    assert sent.content.decode().count(THANKS) == 1


def test_the_thank_you_for_an_appointment_is_said_at_the_appointment(login, world):
    visit = world.marcus.follow_up
    url = reverse("my_appointment_answer", args=[visit.pk])

    sent = login("exoneree1").post(url, {"answer": "coming", "words": ""}, follow=True)

    assert sent.redirect_chain[-1][0].endswith(f"#appointment-{visit.pk}")
    at_visit, top = said(sent.content.decode(), f"appointment-{visit.pk}")
    assert at_visit.startswith(THANKS) and THANKS not in top


def test_an_ask_is_confirmed_above_the_asks_it_lands_on_in_spanish_too(login, world):
    client = login("exoneree1")
    client.post(reverse("set_language"), {"language": "es"})

    sent = client.post(reverse("my_ask"), {"words": "Necesito un abrigo", "priority": "medium"}, follow=True)

    assert sent.redirect_chain[-1][0].endswith("#asks")
    at_asks, top = said(sent.content.decode(), "asks")
    thanks = "Gracias. Se lo dijimos a su trabajador social. Puede ver su pedido abajo."
    assert thanks in at_asks and at_asks.index(thanks) < at_asks.index("Necesito un abrigo")
    assert thanks not in top


def test_a_paper_sent_is_confirmed_at_the_papers(login, world):
    photo = sample_files.upload(sample_files.photo())

    sent = login("exoneree1").post(
        reverse("my_document_upload"), {"kind": DocumentKind.STATE_ID, "file": photo}, follow=True
    )

    assert sent.redirect_chain[-1][0].endswith("?open=documents#documents")
    at_papers, top = said(sent.content.decode(), "documents")
    assert at_papers.startswith("The paper is saved.") and "The paper is saved." not in top


def test_a_message_sent_is_confirmed_at_the_newest_message_it_lands_on(login, world):
    client = login("exoneree1")

    sent = client.post(reverse("my_messages"), {"text": "Can we meet on Friday?", "about": ""}, follow=True)

    assert sent.redirect_chain[-1][0].endswith("#latest")
    newest = world.marcus.exoneree.messages.order_by("-pk").first()
    at_newest, top = said(sent.content.decode(), f"message-{newest.pk}")
    assert "Sent. Your caseworker will see it." in at_newest and "Can we meet on Friday?" in at_newest
    assert "Sent. Your caseworker will see it." not in top


def test_a_message_whose_place_left_the_page_is_said_at_the_top(login, world):
    """A met need is one line under "Done": its referral's place is gone, and the word why the
    answer was not sent stands at the top rather than nowhere."""
    referral = asked(world)
    Need.objects.filter(pk=referral.need_id).update(status=NeedStatus.MET)
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.COMPLETED)
    url = reverse("my_referral_answer", args=[referral.pk])

    sent = login("exoneree1").post(url, {"answer": "yes", "words": ""}, follow=True)

    html = sent.content.decode()
    assert f'id="referral-{referral.pk}"' not in html
    _, top = said(html, f"referral-{referral.pk}")
    assert "Your plan does not ask about this one now, so your answer was not sent." in top


# Staff pages, the same way: a save that goes back to a part of the person page ("Note saved." to
# #notes, a follow-up to its row) was said at the top, out of view at 1280×800, and a script moved
# the whole top block there, unrelated messages too. Now each is said at its own place.


def test_a_note_saved_is_said_at_the_notes_and_not_at_the_top(login, world):
    marcus = world.marcus.exoneree
    note = {"text": "Called him: the room is fine.", "visibility": NoteVisibility.STAFF}

    sent = login("caseworker1").post(reverse("note_create", args=[marcus.pk]), note, follow=True)

    assert sent.redirect_chain[-1][0].endswith("#notes")
    html = sent.content.decode()
    at_notes, top = said(html, "notes")
    assert at_notes.startswith("Case notes+ Write a note Note saved.") and "Note saved." not in top
    assert html.count("Note saved.") == 1


def test_a_follow_up_saved_is_said_at_its_row(login, world):
    marcus = world.marcus.exoneree
    follow_up = {"title": "Housing visit", "due_at": "2030-01-02T10:00", "assigned_to": world.caseworker1.pk}

    sent = login("caseworker1").post(reverse("follow_up_create", args=[marcus.pk]), follow_up, follow=True)

    saved = FollowUp.objects.get(title="Housing visit")
    assert sent.redirect_chain[-1][0].endswith(f"#follow-up-{saved.pk}")
    at_row, top = said(sent.content.decode(), f"follow-up-{saved.pk}")
    assert at_row.startswith("Follow-up saved: “Housing visit”") and "Housing visit" not in top


def test_a_need_closed_is_said_at_its_card_with_what_is_still_open_and_its_fold_opens(login, world):
    """A met need's card moves under "Closed", a fold shut by default: it opens to show what
    was said there (the status, and the referral still open)."""
    need = NeedFactory(exoneree=world.marcus.exoneree)
    ReferralFactory(need=need, resource__name="Harbor House", status=ReferralStatus.IN_PROGRESS)

    sent = login("caseworker1").post(reverse("need_status", args=[need.pk]), {"status": "met"}, follow=True)

    html = unescape(sent.content.decode())
    at_need, top = said(html, f"need-{need.pk}")
    assert "Need marked met.Its referral to Harbor House (in progress) is still open" in at_need  # two lines
    assert "Need marked met." not in top and "still open" not in top
    assert '<details class="closed-needs" open>' in html


def test_a_message_sent_to_the_person_is_said_at_the_newest_message(login, world):
    marcus = world.marcus.exoneree

    sent = login("caseworker1").post(
        reverse("exoneree_messages", args=[marcus.pk]), {"text": "See you Friday.", "about": ""}, follow=True
    )

    assert sent.redirect_chain[-1][0].endswith("#latest")
    newest = marcus.messages.order_by("-pk").first()
    at_newest, top = said(sent.content.decode(), f"message-{newest.pk}")
    assert at_newest.startswith("Sent.") and "See you Friday." in at_newest and "Sent." not in top


def test_an_unrelated_message_stays_at_the_top_with_its_undo(login, world):
    """A follow-up marked done in another tab, then a note saved here: the note's word is said at
    the notes, the other stays at the top, with its Undo and "Schedule the next one"."""
    marcus, follow_up = world.marcus.exoneree, world.marcus.follow_up
    client = login("caseworker1")
    client.post(reverse("follow_up_done", args=[follow_up.pk]), {"outcome": "Called"})  # not followed: kept

    sent = client.post(
        reverse("note_create", args=[marcus.pk]),
        {"text": "Spoke again.", "visibility": NoteVisibility.STAFF},
        follow=True,
    )

    html = sent.content.decode()
    at_notes, top = said(html, "notes")
    assert "Note saved." in at_notes and "Marked done" not in at_notes
    assert f"Marked done: {follow_up.title}. Undo Schedule the next one" in top and "Note saved." not in top
    top_block = html.split('<div class="messages" role="status">', 1)[1].split("</div>", 1)[0]
    assert f'action="{reverse("follow_up_reopen", args=[follow_up.pk])}"' in top_block
