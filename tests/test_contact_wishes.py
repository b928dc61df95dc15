"""Issue 19: the person sets how to be reached and reminded; the very next sweep obeys."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.urls import reverse

from services import tasks
from services.actions import follow_ups, people
from services.choices import ContactPreference, ReminderKind, ReminderStatus
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.notifications import Notification, Reminder
from services.models.people import Exoneree
from tests.factories import ExonereeFactory
from tests.test_reminders_worker import queue, use_app, wait_for, worker  # noqa: F401 (fixtures)

URL = "/my-plan/reach-me/"
START = datetime(2030, 3, 3, 14, 0, tzinfo=UTC)  # 9:00 AM in New York (org1's zone)
DUE = START + timedelta(days=3)  # the appointment; its reminder is planned the day before, 9:00 AM
WISHES = {
    "contact_preference": "text",
    "appointment_reminders": "on",
    "reminder_channel": "sms",
    "quiet_hours_start": "",
    "quiet_hours_end": "",
}


class RecordingSms:
    """A text provider that keeps what it was given (the worker thread calls it)."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, text: str) -> None:
        RecordingSms.sent.append((to, text))


@pytest.fixture
def reachable(world) -> Exoneree:
    marcus = world.marcus.exoneree
    Exoneree.objects.filter(pk=marcus.pk).update(email="marcus.private@example.net", phone="(312) 555-0199")
    marcus.refresh_from_db()
    return marcus


def last_entry() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def appointment(world) -> FollowUp:
    follow_up = FollowUp(title="Clinic visit", due_at=DUE, assigned_to=world.caseworker1, shared_with_exoneree=True)
    return follow_ups.follow_up_save(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=follow_up)


def to_marcus(follow_up: FollowUp) -> Reminder:
    return Reminder.objects.get(follow_up=follow_up, kind=ReminderKind.EXONEREE_APPOINTMENT)


# --- the page ---------------------------------------------------------------------------------


def test_the_person_sets_their_wishes_audited_and_shown_to_the_caseworker(login, world, reachable):
    client = login("exoneree1")
    assert 'name="contact_preference"' in client.get(URL).content.decode()
    before = last_entry()  # pks, not a count: PostgreSQL's sequence is not reset between tests

    response = client.post(URL, {**WISHES, "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"})

    assert response.status_code == 302
    reachable.refresh_from_db()
    assert (reachable.contact_preference, reachable.appointment_reminders, reachable.reminder_channel) == (
        "text",
        True,
        "sms",
    )
    assert (reachable.quiet_hours_start, reachable.quiet_hours_end) == (time(21), time(8))
    assert reachable.contact_wishes_set_at is not None
    [entry] = AuditEvent.objects.filter(pk__gt=before)
    assert (entry.action, entry.actor, entry.exoneree_id) == (
        AuditEvent.Action.RECORD_CHANGED,
        world.exoneree1,
        reachable.pk,
    )
    assert entry.changes["reminder_channel"] == ["email", "sms"]
    assert (
        Notification.objects.filter(user=world.caseworker1, text__contains="how they want to be reached").count() == 1
    )

    page = login("caseworker1").get(reachable.get_absolute_url()).content.decode()
    assert "On, by Text message (SMS); none between 21:00 and 08:00" in page
    assert "set by them on" in page


def test_the_person_says_whether_a_voice_message_may_be_left_audited_and_told_to_the_caseworker(
    login, world, reachable
):
    """Staff recorded "OK to leave a message"; the person, whose phone may be shared, could not say it."""
    Exoneree.objects.filter(pk=reachable.pk).update(ok_to_leave_message=True)
    client = login("exoneree1")
    shown = client.get(URL)
    page = shown.content.decode()
    before = last_entry()

    response = client.post(URL, WISHES)  # the box left empty: no voice messages

    assert shown.context["form"]["ok_to_leave_message"].value() is True  # as staff recorded it
    assert "You may leave me a voice message" in page
    assert response.status_code == 302
    assert Exoneree.objects.get(pk=reachable.pk).ok_to_leave_message is False
    [entry] = AuditEvent.objects.filter(pk__gt=before)
    assert (entry.actor, entry.changes["ok_to_leave_message"]) == (world.exoneree1, [True, False])
    assert Notification.objects.filter(user=world.caseworker1, text__contains="how they want to be reached").exists()
    staff = login("caseworker1").get(reachable.get_absolute_url()).content.decode()
    assert "don't leave messages" in staff


def test_the_quiet_hours_example_reads_as_the_phones_time_box_shows_it(login, world):
    """The help said "For example 21:00"; a phone set to US English shows "--:-- --" (walk)."""
    from tests.test_i18n import _spanish_marcus

    english = login("exoneree1").get(URL).content.decode()
    staff = login("caseworker1").get(reverse("exoneree_edit", args=[world.marcus.exoneree.pk])).content.decode()
    _spanish_marcus(world)
    spanish = login("exoneree1").get(URL).content.decode()

    assert "For example 9:00 p.m. (21:00)." in english and "For example 8:00 a.m. (08:00)." in english
    assert "for example 9:00 p.m., or 21:00" in staff
    assert "Por ejemplo, 9:00 p. m. (21:00)." in spanish and "Pueden dejarme un mensaje de voz" in spanish


def test_saving_the_same_wishes_again_records_nothing(login, world, reachable):
    client = login("exoneree1")
    client.post(URL, WISHES)
    before = AuditEvent.objects.count()

    assert client.post(URL, WISHES).status_code == 302
    assert AuditEvent.objects.count() == before


def test_a_record_with_a_day_before_its_birth_still_saves_the_persons_wishes(login, world, reachable):
    """Intake once saved a birth after the conviction; the rule that now refuses it at intake
    must not leave such a record unable to save anything else (it gave a 500 here)."""
    Exoneree.objects.filter(pk=reachable.pk).update(date_of_birth=date(2020, 1, 1), conviction_date=date(1990, 1, 1))

    assert login("exoneree1").post(URL, WISHES).status_code == 302
    reachable.refresh_from_db()
    assert reachable.reminder_channel == "sms"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"quiet_hours_start": "21:00"}, "quiet_hours_end", "both ends"),
        # The same time at both ends would be no quiet time at all, not the quiet the person asked for.
        ({"quiet_hours_start": "08:00", "quiet_hours_end": "08:00"}, "quiet_hours_end", "the same time"),
        ({"quiet_hours_start": "25:99", "quiet_hours_end": "08:00"}, "quiet_hours_start", "like 21:00"),
        ({"contact_preference": "carrier_pigeon"}, "contact_preference", ""),
        # Nobody reminds a person who asked not to be contacted: not "saved", but why not.
        ({"contact_preference": "do_not_contact"}, "appointment_reminders", "cannot send you reminders"),
    ],
)
def test_bad_wishes_say_why_beside_the_field_and_change_nothing(login, world, reachable, change, field, message):
    response = login("exoneree1").post(URL, {**WISHES, **change})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in str(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Exoneree.objects.get(pk=reachable.pk).appointment_reminders is False


def test_the_migration_turns_reminders_off_where_they_chose_not_to_be_contacted(login, world, reachable):
    """A record saved before the forms' check, holding both: once migrated, the person's next
    change of their wishes saves, where it was refused for a box they had not touched."""
    Exoneree.objects.filter(pk=reachable.pk).update(
        contact_preference=ContactPreference.DO_NOT_CONTACT, appointment_reminders=True
    )
    untouched = ExonereeFactory(organization=world.org1, appointment_reminders=True)

    migration = importlib.import_module("services.migrations.0043_no_reminders_for_do_not_contact")
    migration.reminders_off_where_not_to_be_contacted(apps, None)

    assert Exoneree.objects.get(pk=reachable.pk).appointment_reminders is False
    assert Exoneree.objects.get(pk=untouched.pk).appointment_reminders is True
    client = login("exoneree1")
    form = client.get(URL).context["form"]
    wishes = {**WISHES, "contact_preference": "do_not_contact", "appointment_reminders": ""}
    assert form.initial["appointment_reminders"] is False
    assert client.post(URL, wishes).status_code == 302


def test_a_reminder_by_text_needs_a_phone_number(login, world):
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(phone="")

    response = login("exoneree1").post(URL, WISHES)

    assert response.status_code == 400
    assert "no phone number" in str(response.context["form"].errors["reminder_channel"])


# --- the very next sweep, with the real worker --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_text_reminders_with_quiet_hours_are_obeyed_by_the_next_sweep(login, world, reachable, settings):
    settings.SMS_BACKEND = "tests.test_contact_wishes.RecordingSms"
    RecordingSms.sent.clear()
    with time_machine.travel(START, tick=False):
        follow_up = appointment(world)
        assert not Reminder.objects.filter(follow_up=follow_up, kind=ReminderKind.EXONEREE_APPOINTMENT).exists()
        # Quiet from 8 PM to 10 AM: the day-before reminder (9 AM) waits until 10 AM.
        response = login("exoneree1").post(URL, {**WISHES, "quiet_hours_start": "20:00", "quiet_hours_end": "10:00"})
        assert response.status_code == 302
        ten_am = DUE - timedelta(days=1) + timedelta(hours=1)
        assert (to_marcus(follow_up).status, to_marcus(follow_up).send_at) == (ReminderStatus.PENDING, ten_am)

    with time_machine.travel(DUE - timedelta(days=1) + timedelta(seconds=5)):  # 9 AM: in his quiet hours
        assert to_marcus(follow_up).pk not in tasks.reminders_sweep()
    with time_machine.travel(ten_am + timedelta(seconds=5)):
        assert to_marcus(follow_up).pk in tasks.reminders_sweep()
        wait_for(lambda: to_marcus(follow_up).status == ReminderStatus.SENT)

    [(to, text)] = RecordingSms.sent
    assert to == "(312) 555-0199"
    assert "Clinic" not in text and "appointment" in text
    assert not [m for m in mail.outbox if m.to == ["marcus.private@example.net"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
def test_do_not_contact_is_obeyed_by_the_next_sweep(login, world, reachable):
    with time_machine.travel(START, tick=False):
        follow_up = appointment(world)
        client = login("exoneree1")  # signed in then: a session does not outlive the years the clock jumps
        assert (
            client.post(URL, {**WISHES, "contact_preference": "email", "reminder_channel": "email"}).status_code == 302
        )
        assert to_marcus(follow_up).status == ReminderStatus.PENDING
        # Staff may record "do not contact" with the reminders still on (the person's own
        # form refuses the pair): the planner obeys "do not contact" whatever the box says.
        reachable.refresh_from_db()
        reachable.contact_preference = ContactPreference.DO_NOT_CONTACT
        people.exoneree_update(by=world.caseworker1, exoneree=reachable)

    with time_machine.travel(DUE - timedelta(days=1) + timedelta(seconds=5)):
        claimed = tasks.reminders_sweep()
        wait_for(lambda: not Reminder.objects.filter(pk__in=claimed, status__in=["claimed", "sending"]).exists())

    assert to_marcus(follow_up).status == ReminderStatus.CANCELLED
    assert not [m for m in mail.outbox if m.to == ["marcus.private@example.net"]]
    assert [m for m in mail.outbox if m.to == ["caseworker1@example.org"]]  # staff reminders go on


def test_the_spanish_page_is_all_spanish(login, world):
    from tests.test_i18n import ENGLISH_WORDS, _record_values, _spanish_marcus, _visible_text

    marcus = _spanish_marcus(world)
    response = login("exoneree1").post(URL, {**WISHES, "quiet_hours_start": "21:00"})  # with an error shown
    text = _visible_text(response.content.decode())

    assert "¿Cómo quiere que nos comuniquemos con usted?" in text  # "lo" would be a man
    for value in _record_values(marcus):
        text = text.replace(value, " ")
    assert not sorted({m.group(0).lower() for m in ENGLISH_WORDS.finditer(text)}), text


def test_the_caseworker_sees_the_change_on_the_dashboard(login, world, reachable):
    login("exoneree1").post(URL, WISHES)

    page = login("caseworker1").get(reverse("dashboard")).content.decode()

    assert "News from your people" in page and "changed how they want to be reached" in page


def test_news_followed_from_the_dashboard_is_read_and_leaves_it(login, world, reachable):
    """Walkthrough: each news item was a plain link; followed, it stayed on the dashboard and in
    the header's unread count, as if never seen, until "Mark all as read" on Notifications."""
    login("exoneree1").post(URL, WISHES)
    [notice] = Notification.objects.filter(user=world.caseworker1, text__contains="how they want to be reached")
    client = login("caseworker1")

    page = client.get(reverse("dashboard")).content.decode()
    followed = client.post(reverse("notification_read", args=[notice.pk]))

    assert f'action="{reverse("notification_read", args=[notice.pk])}"' in page
    assert followed.status_code == 302 and followed.url == notice.url
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "how they want to be reached" not in client.get(reverse("dashboard")).content.decode()


def test_a_spanish_reader_is_told_in_spanish_why_reminders_cannot_go(login, world):
    from tests.test_i18n import _spanish_marcus

    _spanish_marcus(world)
    response = login("exoneree1").post(URL, {**WISHES, "contact_preference": "do_not_contact"})

    assert response.status_code == 400
    assert "no podemos mandarle recordatorios" in response.content.decode()
    assert "comunicarnos con usted" in response.content.decode()  # not "contactarlo", a man


def test_a_spanish_reader_is_told_in_spanish_that_their_wishes_are_saved(login, world, reachable):
    from tests.test_i18n import _spanish_marcus

    _spanish_marcus(world)
    response = login("exoneree1").post(URL, WISHES, follow=True)

    assert "Guardado. Nos comunicaremos con usted como eligió." in response.content.decode()


@pytest.mark.parametrize(
    ("way", "cleared", "words"),
    [
        ("text", "phone", "We have no phone number for you yet."),
        ("email", "email", "We have no email address for you yet."),
        ("mail", "address", "We have no mailing address for you yet."),
    ],
)
def test_a_way_we_have_nothing_for_is_refused_and_none_is_picked(login, world, reachable, way, cleared, words):
    """Walk: "Phone call" could be chosen with no phone on the record."""
    Exoneree.objects.filter(pk=reachable.pk).update(contact_preference="in_person", **{cleared: ""})
    wishes = {**WISHES, "contact_preference": way, "reminder_channel": "email" if cleared != "email" else "sms"}

    response = login("exoneree1").post(URL, wishes)

    assert response.status_code == 400
    errors = response.context["form"].errors["contact_preference"]
    assert errors == [f"{words} Ask your caseworker to add it, or choose another way."]
    assert response.context["form"]["contact_preference"].value() == ""
    assert 'name="contact_preference" value="in_person" required id="id_contact_preference_4" checked' not in (
        response.content.decode()
    )
    assert Exoneree.objects.get(pk=reachable.pk).contact_preference == "in_person"


def test_a_way_kept_from_before_does_not_stop_a_change_of_reminders(login, world, reachable):
    Exoneree.objects.filter(pk=reachable.pk).update(contact_preference="phone", phone="")

    response = login("exoneree1").post(URL, {**WISHES, "contact_preference": "phone", "appointment_reminders": ""})

    assert response.status_code == 302
    assert Exoneree.objects.get(pk=reachable.pk).appointment_reminders is False


def test_the_refusal_is_said_in_spanish():
    from django.utils import translation

    from services.forms.reach import NO_WAY_TO_REACH

    with translation.override("es"):
        said = str(NO_WAY_TO_REACH[ContactPreference.PHONE])
    assert said.startswith("Todavía no tenemos su número de teléfono.")
