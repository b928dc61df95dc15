"""The printable plan (PDF) and the appointments for a phone's calendar (.ics)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from pypdf import PdfReader

from services.choices import ReferralStatus
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.people import Exoneree
from services.models.referrals import Referral
from tests.conftest import World

pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


def _pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def sent(world: World) -> World:
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status=ReferralStatus.SENT)
    return world


def test_exoneree_downloads_their_plan(login, sent: World) -> None:
    text = _pdf_text(login("exoneree1").get(reverse("my_plan_pdf")))
    assert "Plan of Marcus Whitfield" in text
    assert "Marcus needs an apartment" in text  # the need, as on the page
    assert "Marcus Housing Help" in text  # where they were sent
    assert "Visit Marcus at home" in text  # what is coming up
    assert "Staff only" not in text  # never a staff-only note


def test_plan_is_printed_in_the_persons_language(login, sent: World) -> None:
    Exoneree.objects.filter(pk=sent.marcus.exoneree.pk).update(preferred_language="es")
    text = _pdf_text(login("exoneree1").get(reverse("my_plan_pdf")))
    assert "Plan de Marcus Whitfield" in text
    assert "Un lugar para vivir" in text  # a need's kind, in the words the person asks with


def test_caseworker_prints_the_plan_and_it_is_logged_as_an_export(login, sent: World) -> None:
    marcus = sent.marcus.exoneree
    client = login("caseworker1")
    text = _pdf_text(client.get(reverse("exoneree_plan_pdf", args=[marcus.pk])))
    assert "Marcus needs an apartment" in text
    (export,) = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED)
    assert export.exoneree_id == marcus.pk
    assert export.actor == sent.caseworker1


def test_caseworker_cannot_print_someone_elses_plan(login, sent: World) -> None:
    response = login("caseworker1").get(reverse("exoneree_plan_pdf", args=[sent.thomas.exoneree.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


@pytest.mark.usefixtures("no_pdf_library")
def test_without_the_pdf_library_the_answer_says_why(login, sent: World) -> None:
    response = login("exoneree1").get(reverse("my_plan_pdf"))
    assert response.status_code == 503
    assert "PDF library" in response.content.decode()


def test_calendar_has_the_coming_appointments_only(login, sent: World) -> None:
    marcus = sent.marcus.exoneree
    soon = timezone.now() + timedelta(days=5)
    FollowUp.objects.create(
        exoneree=marcus,
        title="Dentist",
        due_at=soon,
        assigned_to=sent.caseworker1,
        created_by=sent.caseworker1,
        shared_with_exoneree=True,
    )
    FollowUp.objects.create(
        exoneree=marcus,
        title="Internal case review",
        due_at=soon,
        assigned_to=sent.caseworker1,
        created_by=sent.caseworker1,
        shared_with_exoneree=False,
    )
    FollowUp.objects.create(
        exoneree=marcus,
        title="Last month's visit",
        due_at=timezone.now() - timedelta(days=30),
        assigned_to=sent.caseworker1,
        created_by=sent.caseworker1,
        shared_with_exoneree=True,
    )
    response = login("exoneree1").get(reverse("my_plan_ics"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = {str(event["summary"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {"Visit Marcus at home", "Dentist"}
    assert abs(events["Dentist"].decoded("dtstart") - soon) < timedelta(seconds=1)
    assert "Staff only" not in response.content.decode()


def test_my_plan_links_to_the_pdf_and_calendar(login, sent: World) -> None:
    html = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert reverse("my_plan_pdf") in html
    assert reverse("my_plan_ics") in html
    page = login("caseworker1").get(reverse("exoneree_detail", args=[sent.marcus.exoneree.pk])).content.decode()
    assert reverse("exoneree_plan_pdf", args=[sent.marcus.exoneree.pk]) in page
