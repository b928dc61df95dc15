"""The person's own copy (issue 23): everything shared with them, as their plan shows it, in
a PDF and a JSON file, in their language; nothing staff-only; each download logged."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from pypdf import PdfReader

from services import audit
from services.actions import follow_ups, legal
from services.choices import LegalItemKind, NoteVisibility, ReferralStatus
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.legal import LegalItem
from services.models.messages import Message
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors import audit_trail, plans
from services.selectors.own_copy import own_copy
from tests.conftest import World
from tests.factories import CaseNoteFactory, FollowUpFactory, ReferralFactory, ResourceFactory, consent_for
from tests.sample_files import document_for

# What staff keep for themselves about Marcus: none of it may reach his copy.
STAFF_ONLY = {
    "note": "QZXstaffnote",
    "contact_notes": "QZXcontactnotes",
    "restricted_reason": "QZXrestricted",
    "internal_follow_up": "QZXinternaltask",
    "draft_referral_place": "QZXdraftplace",
    "note_to_provider": "QZXprovidernote",
    "legal_item_notes": "QZXlegalitemnote",
}


pytestmark = pytest.mark.world_built_once  # the personas built once (tests/conftest.py)


@pytest.fixture
def shared(world: World) -> World:
    """Marcus's file with something of every kind shared with him, and every kind of staff-only
    text beside it (each with its marker)."""
    marcus = world.marcus.exoneree
    Referral.objects.filter(pk=world.marcus.referral.pk).update(
        status=ReferralStatus.SENT, note=STAFF_ONLY["note_to_provider"]
    )
    Exoneree.objects.filter(pk=marcus.pk).update(
        contact_notes=STAFF_ONLY["contact_notes"], restricted_reason=STAFF_ONLY["restricted_reason"]
    )
    CaseNoteFactory(exoneree=marcus, author=world.caseworker1, text=STAFF_ONLY["note"], visibility=NoteVisibility.STAFF)
    FollowUpFactory(
        exoneree=marcus,
        title=STAFF_ONLY["internal_follow_up"],
        assigned_to=world.caseworker1,
        shared_with_exoneree=False,
    )
    draft_place = ResourceFactory(organization=world.org1, name=STAFF_ONLY["draft_referral_place"])
    ReferralFactory(need=world.marcus.need, resource=draft_place, created_by=world.caseworker1)
    Message.objects.create(
        exoneree=marcus, organization=world.org1, author=world.caseworker1, text="See you Friday at ten"
    )
    consent_for(marcus, world.marcus.resource.provider)
    document_for(marcus, world.caseworker1, title="Birth certificate from Harris County")
    suit = LegalItem(kind=LegalItemKind.CIVIL_RIGHTS_SUIT, notes=STAFF_ONLY["legal_item_notes"])
    legal.legal_item_save(by=world.caseworker1, exoneree=marcus, item=suit)
    return world


def copy_json(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="my-copy.json"'
    assert "no-store" in response["Cache-Control"]
    return json.loads(response.content)


def copy_pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-copy.pdf"'
    assert "no-store" in response["Cache-Control"]
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def test_the_json_holds_exactly_what_the_plan_shows(login, shared: World) -> None:
    marcus = shared.marcus.exoneree
    data = copy_json(login("exoneree1").get(reverse("my_copy_json")))

    assert (data["format"], data["version"], data["language"]) == ("reentry-person-copy", 1, "en")
    # The same structure as the selector gives (its clock aside), and the selector's sections
    # are the plan's own, item for item.
    expected = as_json(own_copy(marcus))
    assert {**data, "made_at": None} == {**expected, "made_at": None}
    plan = plans.plan_for(marcus, whole=True)
    assert [n["description"] for n in data["needs"]] == [
        n.description for n in [*plan["open_needs"], *plan["closed_needs"]]
    ]
    assert [r["place"] for n in data["needs"] for r in n["referrals"]] == [
        r.resource.name for n in [*plan["open_needs"], *plan["closed_needs"]] for r in n.referrals.all()
    ]
    assert [a["what"] for a in data["appointments"]["upcoming"]] == [f.title for f in plan["upcoming"]]
    assert [n["text"] for n in data["notes"]] == [n.text for n in plan["notes"]]
    assert [d["title"] for d in data["documents"]] == [d.title for d in plan["documents"]]
    assert [c["shared_with"] for c in data["consents"]] == [c.provider.name for c in plan["consents"]]
    # And what that is, read plainly.
    assert data["needs"][0]["referrals"][0]["place"] == "Marcus Housing Help"
    assert data["appointments"]["upcoming"][0]["what"] == "Visit Marcus at home"
    assert [n["text"] for n in data["notes"]] == ["Shared: Marcus, bring two proofs of address"]
    assert [m["text"] for m in data["messages"]] == ["See you Friday at ten"]
    assert data["documents"][0]["title"] == "Birth certificate from Harris County"
    assert data["profile"]["legal_name"] == "Marcus Whitfield"
    assert data["profile"]["address"] == "12 Marcus Street, Houston TX"
    assert data["contact_wishes"]["contact_preference"] == marcus.contact_preference


def test_the_copy_has_every_shared_date_and_note_not_only_the_pages_latest(login, shared: World) -> None:
    marcus = shared.marcus.exoneree
    soon = timezone.now() + timedelta(days=3)
    for i in range(plans.PLAN_UPCOMING + 2):
        FollowUpFactory(
            exoneree=marcus, title=f"Date {i}", due_at=soon, assigned_to=shared.caseworker1, shared_with_exoneree=True
        )

    data = copy_json(login("exoneree1").get(reverse("my_copy_json")))

    assert len(plans.plan_for(marcus)["upcoming"]) == plans.PLAN_UPCOMING
    assert len(data["appointments"]["upcoming"]) == plans.PLAN_UPCOMING + 3  # and the home visit


def test_the_copys_visits_within_one_minute_read_at_one_time(login, shared: World, time_machine) -> None:
    """As the plan says them (services/_visit.html): "looked at your file on <day> at 10:15 a.m.",
    not "10:15 a.m. to 10:15 a.m.", and no count of pages loaded."""
    marcus = shared.marcus.exoneree
    start = (timezone.now() + timedelta(days=2)).replace(second=5)  # apart from the fixture's openings
    for seconds in (0, 30):
        time_machine.move_to(start + timedelta(seconds=seconds), tick=False)
        audit.record(AuditEvent.Action.RECORD_VIEWED, actor=shared.caseworker1, exoneree=marcus, target="Exoneree")

    pdf = copy_pdf_text(login("exoneree1").get(reverse("my_copy_pdf")))

    assert re.search(r"looked at your file on \w+ \d+, \d{4} at \d+:\d+ [ap]\.m\.", pdf)
    assert "2 times" not in pdf
    assert not re.search(r"(\d+:\d+ [ap]\.m\.) to \1", pdf)


def test_the_copy_has_every_visit_to_the_file_not_only_the_newest_openings(
    login, shared: World, monkeypatch, time_machine
) -> None:
    marcus = shared.marcus.exoneree
    earlier = len(audit_trail.every_visit(marcus))
    monkeypatch.setattr(audit_trail, "VISITS_READ", 3)
    start = timezone.now() + timedelta(days=1)  # apart from the fixture's openings
    for day in range(7):  # seven visits, a day apart
        time_machine.move_to(start + timedelta(days=day), tick=False)
        audit.record(AuditEvent.Action.RECORD_VIEWED, actor=shared.caseworker1, exoneree=marcus, target="Exoneree")

    data = copy_json(login("exoneree1").get(reverse("my_copy_json")))

    assert len(data["file_openings"]) == earlier + 7
    plan = plans.plan_for(marcus)  # the plan: its newest whole days (the third may go on), and more
    assert len(plan["visits"]) == 2 and plan["more_visits"]


@pytest.mark.parametrize("persona", ["exoneree1", "caseworker1", "director1"])
def test_nothing_staff_only_in_either_form(login, shared: World, persona: str) -> None:
    client = login(persona)
    pk = shared.marcus.exoneree.pk
    urls = (
        (reverse("my_copy_json"), reverse("my_copy_pdf"))
        if persona == "exoneree1"
        else (reverse("exoneree_copy_json", args=[pk]), reverse("exoneree_copy_pdf", args=[pk]))
    )
    text = json.dumps(copy_json(client.get(urls[0])))
    pdf = copy_pdf_text(client.get(urls[1]))

    for marker in STAFF_ONLY.values():
        assert marker not in text
        assert marker not in pdf
    # The full SSN never; its last four digits, as every page shows them.
    ssn = shared.marcus.exoneree.ssn
    assert ssn not in text and ssn not in pdf
    assert f"ending in {ssn[-4:]}" in pdf
    # What is shared is there, in both forms.
    for shown in (
        "Shared: Marcus, bring two proofs of address",
        "Visit Marcus at home",
        "See you Friday at ten",
        "A civil-rights suit",
    ):
        assert shown in text
        assert shown in pdf
    assert "Marcus Housing Help" in pdf


def test_spanish_for_a_spanish_speaker_also_when_staff_download(login, shared: World) -> None:
    Exoneree.objects.filter(pk=shared.marcus.exoneree.pk).update(preferred_language="es")
    client = login("caseworker1")
    pk = shared.marcus.exoneree.pk

    data = copy_json(client.get(reverse("exoneree_copy_json", args=[pk])))
    pdf = copy_pdf_text(client.get(reverse("exoneree_copy_pdf", args=[pk])))

    assert data["language"] == "es"
    assert data["needs"][0]["domain_label"] == "Un lugar para vivir"  # their words, as on their plan
    with translation.override("es"):
        assert data["needs"][0]["status_label"] == str(plans.NEED_PLAIN["open"])
        assert pdf.startswith(f"{shared.org1.name} Su copia de su expediente")
    assert "Un lugar para vivir" in pdf and "Vivienda" not in pdf
    assert "Your copy of your file" not in pdf
    # The caseworker's own pages stay in English.
    assert "Print their plan" in client.get(reverse("exoneree_detail", args=[pk])).content.decode()


@pytest.mark.parametrize(
    ("status", "contact", "start"),
    [
        (ReferralStatus.ACCEPTED, True, True),
        (ReferralStatus.IN_PROGRESS, True, False),
        (ReferralStatus.COMPLETED, True, False),
        (ReferralStatus.UNRESOLVED, False, False),
        (ReferralStatus.DECLINED, False, False),
    ],
)
def test_the_copy_names_the_contact_and_start_day_only_while_the_plan_does(
    login, shared: World, status: str, contact: bool, start: bool
) -> None:
    """The copy read "It did not work out." then "Your contact at …: Ms. Lee.", and its JSON
    held a start day gone by, where My plan had stopped saying them."""
    day = timezone.localdate() + timedelta(days=42)
    Referral.objects.filter(pk=shared.marcus.referral.pk).update(
        status=status, provider_contact="Ms. Lee", expected_on=day
    )
    client = login("exoneree1")

    data = copy_json(client.get(reverse("my_copy_json")))
    pdf = copy_pdf_text(client.get(reverse("my_copy_pdf")))

    (referral,) = [r for n in data["needs"] for r in n["referrals"] if r["place"] == "Marcus Housing Help"]
    assert referral["contact_at_provider"] == ("Ms. Lee" if contact else "")
    assert referral["expected_on"] == (day.isoformat() if start else None)
    provider = shared.marcus.resource.provider.name
    assert (f"Your contact at {provider}: Ms. Lee." in pdf) is contact
    assert ("Ms. Lee" in pdf + json.dumps(data)) is contact
    assert (f"They plan to start on {date_format(day, 'F j, Y')}." in pdf) is start


def test_the_copys_start_day_in_spanish(login, shared: World) -> None:
    day = timezone.localdate() + timedelta(days=42)
    Referral.objects.filter(pk=shared.marcus.referral.pk).update(
        status=ReferralStatus.ACCEPTED, provider_contact="Ms. Lee", expected_on=day
    )
    Exoneree.objects.filter(pk=shared.marcus.exoneree.pk).update(preferred_language="es")

    pdf = copy_pdf_text(login("exoneree1").get(reverse("my_copy_pdf")))

    with translation.override("es"):
        assert f"Piensan empezar el {date_format(day, _('F j, Y'))}." in pdf
    assert "They plan to start on" not in pdf


@pytest.mark.parametrize(("name", "form"), [("my_copy_json", "JSON"), ("my_copy_pdf", "PDF")])
def test_the_persons_download_is_an_export_in_the_log(login, shared: World, name: str, form: str) -> None:
    assert login("exoneree1").get(reverse(name)).status_code == 200

    (export,) = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED)
    assert (export.actor, export.exoneree_id) == (shared.exoneree1, shared.marcus.exoneree.pk)
    assert export.target == f"Own copy of Exoneree {shared.marcus.exoneree.pk} ({form})"
    assert "Marcus" not in export.target


def test_staffs_download_on_their_behalf_is_an_export_in_the_log(login, shared: World) -> None:
    pk = shared.marcus.exoneree.pk
    login("director1").get(reverse("exoneree_copy_json", args=[pk]))

    (export,) = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED)
    assert (export.actor, export.exoneree_id, export.target) == (
        shared.director1,
        pk,
        f"Own copy of Exoneree {pk} (JSON)",
    )


@pytest.mark.parametrize("name", ["exoneree_copy_json", "exoneree_copy_pdf"])
def test_someone_elses_copy_is_a_404_and_logs_nothing(login, shared: World, name: str) -> None:
    response = login("caseworker1").get(reverse(name, args=[shared.thomas.exoneree.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


def test_each_person_gets_their_own_copy(login, shared: World) -> None:
    text = json.dumps(copy_json(login("exoneree2").get(reverse("my_copy_json"))))

    assert "Thomas" in text
    assert "Marcus" not in text


@pytest.mark.usefixtures("no_pdf_library")
def test_without_the_pdf_library_the_answer_says_why_and_logs_nothing(login, shared: World) -> None:
    response = login("exoneree1").get(reverse("my_copy_pdf"))

    assert response.status_code == 503
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


def test_my_plan_and_the_person_page_link_to_the_copy(login, world: World) -> None:
    html = login("exoneree1").get(reverse("my_plan")).content.decode()
    assert reverse("my_copy_pdf") in html
    assert reverse("my_copy_json") in html
    pk = world.marcus.exoneree.pk
    page = login("director1").get(reverse("exoneree_detail", args=[pk])).content.decode()
    assert reverse("exoneree_copy_pdf", args=[pk]) in page
    assert reverse("exoneree_copy_json", args=[pk]) in page


def record_done(world: World, title: str, days_ago: int, *, shared: bool = True) -> None:
    done = FollowUp(title=title, due_at=timezone.now() - timedelta(days=days_ago), shared_with_exoneree=shared)
    follow_ups.follow_up_record_done(by=world.caseworker1, exoneree=world.marcus.exoneree, follow_up=done)


def test_the_copy_says_what_was_done_lately_as_the_plan_does(login, shared: World) -> None:
    record_done(shared, "Went to the DMV with him", 2)
    record_done(shared, "Helped him open a bank account", 10)
    record_done(shared, "Long ago: signed the lease", plans.PLAN_DONE_DAYS + 1)
    record_done(shared, "QZXstaffonlydone", 1, shared=False)
    client = login("exoneree1")

    data = copy_json(client.get(reverse("my_copy_json")))
    pdf = copy_pdf_text(client.get(reverse("my_copy_pdf")))

    plan = plans.plan_for(shared.marcus.exoneree)
    done = data["appointments"]["done_lately"]
    assert [item["what"] for item in done] == [item.title for item in plan["done_lately"]]
    assert [item["what"] for item in done] == ["Went to the DMV with him", "Helped him open a bank account"]
    assert set(done[0]) == {"done_at", "what"}  # the day and the title: nothing staff wrote
    assert "Done lately" in pdf and "Went to the DMV with him" in pdf
    assert "Long ago" not in pdf and "QZXstaffonlydone" not in pdf + json.dumps(data)


def test_done_lately_in_spanish_in_the_copy(login, shared: World) -> None:
    record_done(shared, "Went to the DMV with him", 2)
    Exoneree.objects.filter(pk=shared.marcus.exoneree.pk).update(preferred_language="es")

    pdf = copy_pdf_text(login("exoneree1").get(reverse("my_copy_pdf")))

    assert "Hecho hace poco" in pdf and "Done lately" not in pdf
    assert "Went to the DMV with him" in pdf
