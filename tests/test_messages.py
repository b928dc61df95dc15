"""Issue 19: messages with my caseworker — one conversation per person, encrypted, read
receipts, notices that say nothing, a director who only reads, "needs action" on the dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from services.actions import messages, people
from services.choices import ReferralStatus
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.messages import Message
from services.models.notifications import Notification
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.factories import NeedFactory, ReferralFactory
from tests.test_contact_wishes import RecordingSms, last_entry
from tests.test_encryption import raw

SECRET = "My landlord at 12 Elm St wants $900 by Friday"
REPLY = "I called Mr. Secretdetail, he will wait until Monday"


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def thread_url(world) -> str:
    return reverse("exoneree_messages", args=[world.marcus.exoneree.pk])


@pytest.fixture
def reachable(world) -> Exoneree:
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(
        email="marcus.private@example.net", phone="(312) 555-0199", contact_preference="email"
    )
    return world.marcus.exoneree


def test_the_person_writes_encrypted_and_the_caseworker_is_told_without_the_text(login, world):
    response = login("exoneree1").post(
        reverse("my_messages"), {"text": SECRET, "about": f"need:{world.marcus.need.pk}"}
    )

    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.exoneree, message.author, message.from_person, message.need) == (
        world.marcus.exoneree,
        world.exoneree1,
        True,
        world.marcus.need,
    )
    assert SECRET not in raw(Message, "text", message.pk)
    [notice] = Notification.objects.filter(user=world.caseworker1)
    assert "landlord" not in notice.text and notice.url == thread_url(world)
    assert not Notification.objects.filter(user=world.caseworker2).exists()

    client = login("caseworker1")
    dashboard = client.get(reverse("dashboard"))
    assert [m.pk for m in dashboard.context["messages_waiting"]] == [message.pk]
    assert dashboard.context["unread_messages"]() == 1
    assert SECRET not in dashboard.content.decode()


def test_reading_the_thread_is_logged_and_leaves_a_read_receipt(login, world):
    login("exoneree1").post(reverse("my_messages"), {"text": SECRET})
    before = last_entry()  # pks, not a count: PostgreSQL's sequence is not reset between tests

    page = login("caseworker1").get(thread_url(world)).content.decode()

    assert SECRET in page
    [entry] = AuditEvent.objects.filter(pk__gt=before, exoneree__isnull=False)  # not the sign-in and out
    assert (entry.action, entry.actor, entry.exoneree_id) == (
        AuditEvent.Action.RECORD_VIEWED,
        world.caseworker1,
        world.marcus.exoneree.pk,
    )
    message = Message.objects.get()
    assert (message.read_by, message.read_at is not None) == (world.caseworker1, True)
    assert "Read on" in login("exoneree1").get(reverse("my_messages")).content.decode()


def test_the_caseworkers_reply_is_announced_by_email_with_no_text(
    login, world, reachable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login("caseworker1").post(thread_url(world), {"text": REPLY, "about": ""})

    assert response.status_code == 302
    [email] = [m for m in mail.outbox if m.to == ["marcus.private@example.net"]]
    assert email.subject == "You have a new message"
    assert "http://localhost:8000/my-plan/messages/" in email.body
    html = email.alternatives[0][0]
    for secret in ("Secretdetail", "Monday", "Marcus", "Harbor", "Casey"):
        assert secret not in email.subject + email.body + html
    # His header counts it until he opens the thread; opening it is his read receipt.
    client = login("exoneree1")
    assert client.get(reverse("my_plan")).context["unread_messages"]() == 1
    assert REPLY in client.get(reverse("my_messages")).content.decode()
    assert client.get(reverse("my_plan")).context["unread_messages"]() == 0
    assert "Read by them" in login("caseworker1").get(thread_url(world)).content.decode()


def test_the_notice_goes_by_text_when_they_chose_text_and_nowhere_when_not_to_be_contacted(
    login, world, reachable, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tests.test_contact_wishes.RecordingSms"
    RecordingSms.sent.clear()
    client = login("caseworker1")
    Exoneree.objects.filter(pk=reachable.pk).update(contact_preference="text")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(thread_url(world), {"text": REPLY})
    [(to, text)] = RecordingSms.sent
    assert to == "(312) 555-0199" and REPLY not in text and "/my-plan/messages/" in text

    Exoneree.objects.filter(pk=reachable.pk).update(contact_preference="do_not_contact")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(thread_url(world), {"text": "Another one"})
    assert len(RecordingSms.sent) == 1
    assert not [m for m in mail.outbox if m.to == ["marcus.private@example.net"]]


def test_a_director_reads_but_cannot_post_and_does_not_mark_read(login, world):
    login("exoneree1").post(reverse("my_messages"), {"text": SECRET})
    client = login("director1")

    page = client.get(thread_url(world)).content.decode()
    assert SECRET in page and 'name="text"' not in page and "Mark: needs action" not in page
    assert Message.objects.get().read_at is None

    assert client.post(thread_url(world), {"text": "Director here"}).status_code == 403
    assert Message.objects.count() == 1


def test_a_message_may_point_only_to_the_persons_own_things(login, world):
    others = f"need:{world.thomas.need.pk}"

    response = login("exoneree1").post(reverse("my_messages"), {"text": "Hello", "about": others})

    assert response.status_code == 400
    assert "about" in response.context["form"].errors
    assert not Message.objects.exists()
    # Nor to a follow-up not on his plan.
    world.marcus.follow_up.shared_with_exoneree = False
    world.marcus.follow_up.save()
    response = login("exoneree1").post(
        reverse("my_messages"), {"text": "Hello", "about": f"follow_up:{world.marcus.follow_up.pk}"}
    )
    assert response.status_code == 400


def test_staff_write_only_about_what_the_persons_plan_shows_and_an_old_message_tells_nothing_more(login, world):
    """A staff-only task's title reached the person as "About: …" (found by a walk)."""
    hidden = {"title": "Check the sealed file", "shared_with_exoneree": False}
    FollowUp.objects.filter(pk=world.marcus.follow_up.pk).update(**hidden)
    client = login("caseworker1")

    offered = client.get(thread_url(world)).content.decode()
    refused = client.post(thread_url(world), {"text": REPLY, "about": f"follow_up:{world.marcus.follow_up.pk}"})
    messages.message_send(  # written before the choices were narrowed
        by=world.caseworker1,
        exoneree=world.marcus.exoneree,
        text="Older",
        from_person=False,
        about={"follow_up_id": world.marcus.follow_up.pk},
    )
    seen = login("exoneree1").get(reverse("my_messages")).content.decode()

    assert "Check the sealed file" not in offered and '<optgroup label="Needs">' in offered
    assert refused.status_code == 400 and Message.objects.count() == 1
    assert "Older" in seen and "Check the sealed file" not in seen


def test_an_empty_message_is_refused_beside_the_field(login, world):
    response = login("exoneree1").post(reverse("my_messages"), {"text": "   "})

    assert response.status_code == 400
    assert 'id="id_text_error"' in response.content.decode()


def test_needs_action_shows_on_the_dashboard_until_done(login, world):
    login("exoneree1").post(reverse("my_messages"), {"text": SECRET})
    message = Message.objects.get()
    client = login("caseworker1")
    client.get(thread_url(world))  # read: no longer waiting as unread
    assert client.get(reverse("dashboard")).context["messages_waiting_count"] == 0

    client.post(reverse("message_needs_action", args=[message.pk]), {"needs_action": "1"})
    dashboard = client.get(reverse("dashboard"))
    assert [m.pk for m in dashboard.context["messages_waiting"]] == [message.pk]
    assert "Needs action" in dashboard.content.decode()

    client.post(reverse("message_needs_action", args=[message.pk]), {"needs_action": "0"})
    assert client.get(reverse("dashboard")).context["messages_waiting_count"] == 0
    # Only on what the person wrote.
    client.post(thread_url(world), {"text": "Noted"})
    mine = Message.objects.get(from_person=False)
    assert client.post(reverse("message_needs_action", args=[mine.pk]), {"needs_action": "1"}).status_code == 403


def test_the_spanish_thread_is_spanish_but_for_what_staff_typed(login, world):
    from tests.test_i18n import ENGLISH_WORDS, _record_values, _spanish_marcus, _visible_text

    marcus = _spanish_marcus(world)
    login("exoneree1").post(reverse("my_messages"), {"text": "¿Nos vemos el viernes?"})
    login("caseworker1").post(thread_url(world), {"text": REPLY, "about": f"need:{world.marcus.need.pk}"})

    text = _visible_text(login("exoneree1").get(reverse("my_messages")).content.decode())

    assert "Tal como lo escribió su trabajador social" in text and REPLY in text
    for value in [REPLY, *_record_values(marcus)]:
        text = text.replace(value, " ")
    assert not sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)}), text


def test_a_follow_up_to_write_about_is_named_with_its_day_where_the_organization_is(login, world):
    """03:00 UTC on 5 March is the evening of 4 March in Chicago; the page's language names it."""
    Organization.objects.filter(pk=world.org1.pk).update(timezone="America/Chicago")
    FollowUp.objects.filter(pk=world.marcus.follow_up.pk).update(
        title="Dentist", shared_with_exoneree=True, due_at=datetime(2030, 3, 5, 3, 0, tzinfo=UTC)
    )
    client = login("exoneree1")

    # Another year's day says its year, as the plan writes it (services/lib/days.py).
    assert "Dentist (March 4, 2030)" in client.get(reverse("my_messages")).content.decode()
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    assert "Dentist (4 de marzo de 2030)" in client.get(reverse("my_messages")).content.decode()
    staff = login("caseworker1").get(thread_url(world)).content.decode()
    assert "Dentist (March 4, 2030)" in staff


def test_two_referrals_to_one_provider_for_one_need_are_told_apart_by_the_day_sent(login, world):
    """ "It is about" offered "Hope House (A place to live)" twice, sent again after the first
    went nowhere (walk): each says the day it was sent, where the organization is, and the
    time too where two were sent the same day."""
    Organization.objects.filter(pk=world.org1.pk).update(timezone="America/Chicago")
    first = world.marcus.referral
    resource = first.resource
    Referral.objects.filter(pk=first.pk).update(
        status=ReferralStatus.SENT,
        sent_at=datetime(2030, 3, 4, 3, 0, tzinfo=UTC),  # evening of March 3 in Chicago
    )
    again = [
        ReferralFactory(need=first.need, resource=resource, status=ReferralStatus.SENT, sent_at=sent)
        for sent in (datetime(2030, 3, 10, 15, 0, tzinfo=UTC), datetime(2030, 3, 10, 20, 30, tzinfo=UTC))
    ]
    other = ReferralFactory(need=first.need, status=ReferralStatus.SENT, sent_at=datetime(2030, 3, 10, tzinfo=UTC))
    client = login("exoneree1")

    own = client.get(reverse("my_messages")).content.decode()
    name = f"{resource.name} (A place to live)"
    assert f'<option value="referral:{first.pk}">{name}, sent March 3</option>' in own
    assert f'<option value="referral:{again[0].pk}">{name}, sent March 10 at 10:00 a.m.</option>' in own
    assert f'<option value="referral:{again[1].pk}">{name}, sent March 10 at 3:30 p.m.</option>' in own
    assert f'<option value="referral:{other.pk}">{other.resource.name} (A place to live)</option>' in own  # alone
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    spanish = client.get(reverse("my_messages")).content.decode()
    assert (
        f'<option value="referral:{first.pk}">{resource.name} (Un lugar para vivir), enviado el 3 de marzo</option>'
        in spanish
    )
    staff = login("caseworker1").get(thread_url(world)).content.decode()
    assert f'<option value="referral:{first.pk}">{resource.name} (Housing), sent March 3</option>' in staff


def test_a_message_about_one_of_two_referrals_to_one_provider_says_which_beside_it(login, world):
    """The thread said "About: Hope House" beside a message about either of two referrals to
    it for one need: it says what "It is about" offered ("…, sent March 3"), to the person,
    in Spanish, in their own copy, and to staff."""
    Organization.objects.filter(pk=world.org1.pk).update(timezone="America/Chicago")
    first = world.marcus.referral
    resource = first.resource
    Referral.objects.filter(pk=first.pk).update(
        status=ReferralStatus.SENT, sent_at=datetime(2030, 3, 4, 3, 0, tzinfo=UTC)
    )  # evening of March 3 in Chicago
    again = ReferralFactory(
        need=first.need, resource=resource, status=ReferralStatus.SENT, sent_at=datetime(2030, 3, 10, 15, tzinfo=UTC)
    )
    other = ReferralFactory(need=first.need, status=ReferralStatus.SENT, sent_at=datetime(2030, 3, 10, tzinfo=UTC))
    person = login("exoneree1")
    for referral in (first, again, other):
        person.post(reverse("my_messages"), {"text": "Any news?", "about": f"referral:{referral.pk}"})
    assert Message.objects.filter(referral__isnull=False).count() == 3

    own = person.get(reverse("my_messages")).content.decode()
    name = f"{resource.name} (A place to live)"
    assert f"About: {name}, sent March 3</p>" in own
    assert f"About: {name}, sent March 10</p>" in own
    assert f"About: {other.resource.name} (A place to live)</p>" in own  # alone: no day
    copy = person.get(reverse("my_copy_json")).json()
    assert [message["about"] for message in copy["messages"]] == [
        f"{name}, sent March 3",
        f"{name}, sent March 10",
        f"{other.resource.name} (A place to live)",
    ]
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    spanish = person.get(reverse("my_messages")).content.decode()
    assert f"Sobre: {resource.name} (Un lugar para vivir), enviado el 3 de marzo</p>" in spanish
    staff = login("caseworker1").get(thread_url(world)).content.decode()
    assert f'<a href="{first.get_absolute_url()}">{resource.name} (Housing), sent March 3</a>' in staff
    assert f'<a href="{again.get_absolute_url()}">{resource.name} (Housing), sent March 10</a>' in staff


def test_the_caseworker_finds_every_conversation_the_latest_first(login, world):
    marcus, thomas = world.marcus.exoneree, world.thomas.exoneree
    old = Message.objects.create(exoneree=marcus, organization=world.org1, author=world.caseworker1, text="Hello")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40), read_at=timezone.now())
    Message.objects.create(
        exoneree=marcus, organization=world.org1, author=world.exoneree1, text="Hi", from_person=True
    )
    Message.objects.create(exoneree=thomas, organization=world.org1, author=world.caseworker2, text="Not yours")

    response = login("caseworker1").get(reverse("conversation_list"))

    assert [person.pk for person in response.context["page"]] == [marcus.pk]  # their own people only
    page = response.content.decode()
    assert "1 not read yet" in page and reverse("exoneree_messages", args=[marcus.pk]) in page
    nav = login("caseworker1").get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("conversation_list")}"' in nav  # the menu's "Messages"


def test_the_person_reads_a_messages_topic_in_their_own_words_and_staff_in_theirs(login, world):
    """The plan says "A place to live"; the message beside it said "About: Housing"."""
    need = f"need:{world.marcus.need.pk}"
    person = login("exoneree1")
    person.post(reverse("my_messages"), {"text": "About the flat", "about": need})

    own = person.get(reverse("my_messages")).content.decode()
    staff = login("caseworker1").get(thread_url(world)).content.decode()

    assert f'<option value="{need}">A place to live</option>' in own
    assert "About: A place to live" in own and "Housing" not in own
    assert f'<option value="{need}">Housing</option>' in staff


def test_a_person_with_no_login_is_not_emailed_a_link_to_sign_in_and_staff_are_told_so(
    login, world, reachable, django_capture_on_commit_callbacks
):
    Exoneree.objects.filter(pk=reachable.pk).update(user=None)

    with django_capture_on_commit_callbacks(execute=True):
        response = login("caseworker1").post(thread_url(world), {"text": REPLY}, follow=True)

    assert not [m for m in mail.outbox if m.to == ["marcus.private@example.net"]]
    assert "They have no login yet, so they cannot read it" in response.content.decode()
    assert Message.objects.get().text == REPLY  # kept on the record all the same


def test_the_page_that_reads_a_message_no_longer_counts_it_as_waiting(login, world):
    """The header's counts were loaded with the user before the page marked the thread read."""
    login("caseworker1").post(thread_url(world), {"text": REPLY})
    person = login("exoneree1")
    assert person.get(reverse("my_plan")).context["unread_messages"]() == 1

    assert person.get(reverse("my_messages")).context["unread_messages"]() == 0

    person.post(reverse("my_messages"), {"text": SECRET})
    caseworker = login("caseworker1")
    assert caseworker.get(reverse("dashboard")).context["unread_notifications"]() == 1
    page = caseworker.get(thread_url(world))
    assert (page.context["unread_messages"](), page.context["unread_notifications"]()) == (0, 0)
    assert Notification.objects.get(user=world.caseworker1).read_at is not None


def test_each_caseworker_reading_the_thread_clears_their_own_notice_whoever_read_it_first(login, world):
    """Both caseworkers are told; the first to open the thread reads the messages, and the
    second's notice is cleared when they open it too."""
    both = [world.caseworker1, world.caseworker2]
    people.caseload_assign(by=world.director1, exoneree=world.marcus.exoneree, caseworkers=both)
    login("exoneree1").post(reverse("my_messages"), {"text": SECRET})
    assert Notification.objects.filter(read_at__isnull=True, url=thread_url(world)).count() == 2

    login("caseworker1").get(thread_url(world))
    page = login("caseworker2").get(thread_url(world))

    assert not Notification.objects.filter(read_at__isnull=True, url=thread_url(world)).exists()
    assert page.context["unread_notifications"]() == 0


def test_with_texts_switched_off_a_person_who_chose_texts_is_told_by_email_or_staff_know_they_are_not(
    login, world, reachable, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "services.lib.sms.DisabledBackend"
    Exoneree.objects.filter(pk=reachable.pk).update(contact_preference="text")
    client = login("caseworker1")

    with django_capture_on_commit_callbacks(execute=True):
        told = client.post(thread_url(world), {"text": REPLY}, follow=True)
    assert [m.subject for m in mail.outbox if m.to == ["marcus.private@example.net"]] == ["You have a new message"]
    assert "They will be told they have a new message." in told.content.decode()

    Exoneree.objects.filter(pk=reachable.pk).update(email="")
    untold = client.post(thread_url(world), {"text": "Another one"}, follow=True)
    assert "No text or email can reach them from here" in untold.content.decode()


def test_two_needs_in_one_area_are_told_apart_where_a_message_is_about_one(login, world):
    """It offered "A job" twice, and "A place to live" twice (walk)."""
    marcus = world.marcus.exoneree
    first = NeedFactory(exoneree=marcus, domain="employment", description="Warehouse work near home, days only please")
    second = NeedFactory(exoneree=marcus, domain="employment", description="A forklift license course")
    third = NeedFactory(
        exoneree=marcus, domain="employment", description="A forklift license course", opened_on=date(2026, 10, 27)
    )

    own = login("exoneree1").get(reverse("my_messages")).content.decode()
    staff = login("caseworker1").get(thread_url(world)).content.decode()

    assert f'<option value="need:{first.pk}">A job: Warehouse work near home, days only ple…</option>' in own
    assert f'<option value="need:{third.pk}">A job: A forklift license course (since October 27, 2026)</option>' in own
    assert f'value="need:{second.pk}">A job: A forklift license course (since ' in own
    assert f'<option value="need:{world.marcus.need.pk}">A place to live</option>' in own  # alone in its area
    assert f'<option value="need:{first.pk}">Employment and job training: Warehouse' in staff
