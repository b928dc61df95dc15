"""Who gets what, for every page in services/urls.py (healthz and invitations are tested elsewhere).

The rules (services/access.py): a page not meant for your role is 403; a record that is not
yours is 404, so nobody learns it exists; a record you may see but not change is 403;
anonymous visitors are sent to sign in; a method a page does not take is 405.

Object pages point at Marcus's records (caseworker1's caseload in org1) or at org1's
directory and staff, so every row of the table below reads the same way:

    column   persona        who they are to the target
    cw1      caseworker1    Marcus's caseworker
    cw2      caseworker2    a colleague in org1 who does not carry Marcus
    dir1     director1      org1's director (reads case records, changes none)
    cw3      caseworker3    a caseworker of org2
    dir2     director2      org2's director
    ex1      exoneree1      Marcus himself
    ex2      exoneree2      another exoneree (Thomas)
    root     root           a superuser without a staff role
    analyst  analyst        the Network's analyst: the Network's figures only, so what root
                            gets everywhere else (row's `analyst=` says where it differs)
    anon     anonymous
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Value
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm, remove_perm

from services import access, audit, reminders, second_factor
from services.actions import api_tokens, emergency, enrolment, hsds, legal, merges, referrals, transfers
from services.auth import HAS_DEVICE
from services.choices import ConsentCategory
from services.lib.hsds import read_path
from services.models.api import ApiToken
from services.models.audit import AuditEvent
from services.models.consent import Consent, EmergencyAccess
from services.models.directory import HsdsImport, Resource, TaxonomyTerm
from services.models.documents import Document
from services.models.follow_ups import FollowUp
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem
from services.models.merges import Merge
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import ProviderQuestion, Referral, ReferralCategory
from services.models.retention import LegalHold
from services.models.transfers import Transfer
from tests.conftest import PERSONAS, World, rows_as_stored
from tests.factories import (
    ExonereeFactory,
    FollowUpFactory,
    OrganizationFactory,
    ProviderFactory,
    ReferralFactory,
    StaffFactory,
    close_case,
    consent_for,
)
from tests.sample_files import document_for, photo, upload

LOGIN = "login"  # 302 to the sign-in page, coming back here afterwards
DONE = "done"  # 302 to where the page's valid POST leads (Page.done)
COLUMNS = ("caseworker1", "caseworker2", "director1", "caseworker3", "director2", "exoneree1", "exoneree2", "root")

Expect = int | str
Args = Callable[[World], list[Any]]


# The personas built once (tests/conftest.py): some 2,400 tests read the same world.
pytestmark = pytest.mark.world_built_once


def row(*expected: Expect, analyst: Expect | None = None) -> dict[str, Expect]:
    assert len(expected) == len(COLUMNS)
    given = dict(zip(COLUMNS, expected, strict=True))
    return {**given, "analyst": given["root"] if analyst is None else analyst, "anonymous": LOGIN}


#                         cw1   cw2   dir1  cw3   dir2  ex1   ex2   root
CASEWORKER_PAGE = row(200, 200, 403, 200, 403, 403, 403, 403)
STAFF_PAGE = row(200, 200, 200, 200, 200, 403, 403, 403)
DIRECTOR_PAGE = row(403, 403, 200, 403, 200, 403, 403, 403)
CASE_READ = row(200, 404, 200, 404, 404, 403, 403, 403)
CASE_WRITE = row(200, 404, 403, 404, 403, 403, 403, 403)
CASE_POST = row(DONE, 404, 403, 404, 403, 403, 403, 403)
RESOURCE_READ = row(200, 200, 200, 404, 404, 403, 403, 403)
DIRECTOR_OBJECT = row(403, 403, 200, 403, 404, 403, 403, 403)
OWN_PLAN = row(403, 403, 403, 403, 403, 200, 200, 403)
OWN_NOTIFICATION = row(DONE, 404, 404, 404, 404, 403, 403, 403)
STAFF_POST = row(DONE, DONE, DONE, DONE, DONE, 403, 403, 403)
NO_ROLE = row("/", "/", "/", "/", "/", "/", "/", 403, analyst="/")  # a role goes home; no role: explained, 403
STAFF_API = {**STAFF_PAGE, "anonymous": 401}
RESOURCE_API = {**RESOURCE_READ, "anonymous": 401}
HOME = row(
    "/dashboard/",
    "/dashboard/",
    "/director/",
    "/dashboard/",
    "/director/",
    "/my-plan/",
    "/my-plan/",
    "/admin/",
    analyst="/network/",
)
NETWORK_PAGE = row(403, 403, 403, 403, 403, 403, 403, 403, analyst=200)


def marcus(attr: str) -> Args:
    return lambda w: [getattr(w.marcus, attr).pk]


def marcus_page(w: World, anchor: str = "") -> str:
    return w.marcus.exoneree.get_absolute_url() + anchor


def at_need(w: World, latest: bool = False) -> str:
    """The person page at a need just saved (the newest one, for a new need)."""
    need = Need.objects.latest("pk") if latest else w.marcus.need
    return marcus_page(w, f"#need-{need.pk}")


def at_follow_up(w: World, latest: bool = False) -> str:
    """The person page at a follow-up just saved (the newest one, for a new follow-up)."""
    follow_up = FollowUp.objects.latest("pk") if latest else w.marcus.follow_up
    return marcus_page(w, f"#follow-up-{follow_up.pk}")


def exoneree_data(w: World) -> dict[str, Any]:
    return {
        "legal_name": "Nadia Newcomer",
        "preferred_language": "en",
        "contact_preference": "in_person",
        "reminder_channel": "email",
    }


def case_close_data(w: World) -> dict[str, Any]:
    exit = {"exit_reason": "goals_met", "destination": "permanent_own", "housing_at_exit": "stable"}
    return {"closed_on": timezone.localdate().isoformat(), **exit, "note": "He found a job and a flat."}


def close_marcus(w: World) -> None:
    closed_on = timezone.localdate()
    exit = {"reason": "goals_met", "destination": "permanent_own", "housing_at_exit": "stable"}
    enrolment.close_case(w.caseworker1, w.marcus.exoneree, closed_on=closed_on, **exit)


def need_data(w: World) -> dict[str, Any]:
    return {"domain": "income", "description": "Apply for SSI", "priority": "high", "opened_on": "2025-01-15"}


def follow_up_data(w: World) -> dict[str, Any]:
    return {
        "title": "Call the landlord back",
        "due_at": "2030-01-02T10:00",
        "assigned_to": w.caseworker1.pk,
        "shared_with_exoneree": "on",
    }


def done_already_data(w: World) -> dict[str, Any]:
    """Something done for Marcus two days ago (a time still to come is refused)."""
    done_at = timezone.localtime() - timedelta(days=2)
    return {"title": "Drove him to the SSA office", "due_at": done_at.strftime("%Y-%m-%dT%H:%M"), "outcome": "Card"}


def note_data(w: World) -> dict[str, Any]:
    return {"text": "Met at the office today.", "visibility": "staff"}


def assessment_data(w: World) -> dict[str, Any]:
    return {"kind": "interim", "taken_on": "2025-02-01", "score_housing": "3"}


def resource_data(w: World) -> dict[str, Any]:
    return {
        "provider": w.marcus.resource.provider.pk,
        "name": "Bus passes",
        "domains": ["transportation"],
        "status": "active",
    }


def mark_follow_up_done(w: World) -> None:
    w.marcus.follow_up.done_at = timezone.now()
    w.marcus.follow_up.save()


def notify_caseworker1(w: World) -> None:
    Notification.objects.create(user=w.caseworker1, text="Due now: a visit", url=marcus_page(w))


def invited_colleague(w: World) -> StaffMember:
    """A caseworker of the first organization invited and not yet signed in (no password)."""
    member = StaffMember.objects.filter(user__username="invited@org1").first()
    return member or StaffFactory(user__username="invited@org1", organization=w.org1)  # no usable password


def marcus_asks(w: World) -> None:
    """Marcus's housing need, as if he had asked for it himself on his plan (issue 19)."""
    Need.objects.filter(pk=w.marcus.need.pk).update(ask_state="waiting", own_words="I need a room")


def marcus_writes(w: World) -> None:
    """A message from Marcus to his caseworkers (issue 19)."""
    Message.objects.create(
        exoneree=w.marcus.exoneree,
        organization=w.org1,
        author=w.exoneree1,
        from_person=True,
        text="Can we meet on Friday?",
    )


def marcus_message(w: World) -> list[int]:
    return [Message.objects.get(exoneree=w.marcus.exoneree).pk]


def caseworker1_notification(w: World) -> list[int]:
    return [Notification.objects.get(user=w.caseworker1).pk]


def consent_marcus(w: World) -> None:
    consent_for(w.marcus.exoneree, w.marcus.resource.provider)


def marcus_consent(w: World) -> list[int]:
    return [Consent.objects.get(exoneree=w.marcus.exoneree).pk]


def consent_data(w: World) -> dict[str, Any]:
    return {
        "provider": w.marcus.resource.provider.pk,
        "categories": ["contact", "housing"],
        "purpose": "Find him an apartment",
        "starts_on": "2026-01-01",
        "ends_on": "2030-01-01",
        "signed_how": "paper",
        "signed_on": "2026-01-01",
    }


def send_marcus_referral(w: World) -> None:
    """Marcus's referral sent under a consent, and its notice delivered as the worker does
    (the token it emailed is kept on the world)."""
    referral = w.marcus.referral
    consent_for(w.marcus.exoneree, referral.resource.provider)
    ReferralCategory.objects.get_or_create(referral=referral, category="housing")
    referrals.referral_transition(by=w.caseworker1, referral=referral, status="sent")
    for reminder_id in reminders.reminders_claim_due():
        reminders.reminder_send(reminder_id)
    # Kept for the page's address; the outbox is emptied, as pages are judged by what they send.
    w.provider_token = re.findall(r"/p/([A-Za-z0-9_-]+)/", mail.outbox[-1].body)[-1]
    mail.outbox.clear()


def provider_asks(w: World) -> None:
    """Marcus's referral sent, and a question from its provider through the link."""
    send_marcus_referral(w)
    ProviderQuestion.objects.create(
        referral=w.marcus.referral, provider=w.marcus.resource.provider, text="Does he have a license?"
    )


def the_question(w: World) -> list[int]:
    return [w.marcus.referral.pk, ProviderQuestion.objects.get(referral=w.marcus.referral).pk]


def provider_token(w: World) -> list[str]:
    """The token of the latest link emailed to the provider."""
    return [w.provider_token]


def provider_page(w: World) -> str:
    return reverse("provider_referral", args=provider_token(w))


def emergency_data(w: World) -> dict[str, Any]:
    return {
        "legal_name": "Thomas Okafor",
        "date_of_birth": "1970-03-14",
        "reason": "He called the hotline in crisis; his caseworker is away.",
        "confirm": "on",
    }


def caseworker1_glass_on_thomas(w: World) -> None:
    reason = "He called the hotline in crisis; his caseworker is away."
    emergency.emergency_access_grant(by=w.caseworker1, exoneree=w.thomas.exoneree, reason=reason)


def glass_grant(w: World) -> list[int]:
    return [EmergencyAccess.objects.get().pk]


def marcus_claim(w: World) -> None:
    claim = CompensationClaim(jurisdiction="IL", trigger_event="vacatur_dismissal", trigger_date=date(2026, 6, 1))
    legal.claim_create(by=w.caseworker1, exoneree=w.marcus.exoneree, claim=claim)


def caseworker1_token(w: World) -> int:
    """caseworker1's API token (made here the first time)."""
    token = ApiToken.objects.filter(user=w.caseworker1).first()
    return token.pk if token else api_tokens.token_create(by=w.caseworker1, name="CRM sync", scope="read")[0].pk


def marcus_payment(w: World) -> None:
    marcus_claim(w)
    claim = CompensationClaim.objects.get(exoneree=w.marcus.exoneree)
    payment = ClaimPayment(received_on=date(2026, 11, 2), amount=Decimal("2500.00"))
    legal.payment_create(by=w.caseworker1, claim=claim, payment=payment)


def the_payment(w: World) -> list[int]:
    return [ClaimPayment.objects.get(claim__exoneree=w.marcus.exoneree).pk]


def marcus_certificate(w: World) -> None:
    certificate = InnocenceCertificate(court="Cook County Circuit Court", applied_on=date(2026, 7, 1))
    legal.certificate_save(by=w.caseworker1, exoneree=w.marcus.exoneree, certificate=certificate)


def marcus_legal_item(w: World) -> None:
    legal.legal_item_save(by=w.caseworker1, exoneree=w.marcus.exoneree, item=LegalItem(kind="tax_relief"))


def marcus_closed_long_ago(w: World) -> None:
    """Marcus's case closed eight years ago: past org1's seven years of retention (issue 23)."""
    close_case(w.marcus.exoneree, timezone.localdate() - timedelta(days=8 * 366))


def marcus_closed_and_held(w: World) -> None:
    marcus_closed_long_ago(w)
    LegalHold.objects.create(exoneree=w.marcus.exoneree, reason="Civil suit pending", placed_by=w.director1)


def marcus_held(w: World) -> None:
    """A legal hold on Marcus's open case (a lawsuit started while he is served)."""
    LegalHold.objects.create(exoneree=w.marcus.exoneree, reason="Civil suit pending", placed_by=w.director1)


def at_retention(w: World) -> str:
    return reverse("retention_review") + f"#person-{w.marcus.exoneree.pk}"


def only(model: type) -> Args:
    return lambda w: [model.objects.get(exoneree=w.marcus.exoneree).pk]


def legal_page(w: World) -> str:
    return reverse("exoneree_legal", args=[w.marcus.exoneree.pk])


def claim_data(w: World) -> dict[str, Any]:
    return {"jurisdiction": "IL", "trigger_event": "pardon", "trigger_date": "2026-05-01", "stage": "assessing"}


def add_marcus_document(w: World) -> None:
    document_for(w.marcus.exoneree, w.caseworker1)


def marcus_document(w: World) -> list[int]:
    return [Document.objects.filter(exoneree=w.marcus.exoneree).latest("pk").pk]


def document_data(w: World) -> dict[str, Any]:
    """A scan's upload: a fresh file each time (a posted file is read once)."""
    return {"kind": "state_id", "title": "Texas ID", "shown_on_plan": "on", "file": upload(photo())}


HSDS_EXAMPLE = Path(__file__).resolve().parent / "hsds_examples" / "csv"


def hsds_example_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in HSDS_EXAMPLE.iterdir():
            archive.writestr(path.name, path.read_bytes())
    return buffer.getvalue()


def hsds_upload_data(w: World) -> dict[str, Any]:
    """The official HSDS example as a zip: a fresh file each time (a posted file is read once)."""
    return {"file": upload(hsds_example_zip(), "211.zip", "application/zip")}


def hsds_upload_pending(w: World) -> None:
    hsds.hsds_upload(by=w.director1, file_name="211.zip", tables=read_path(HSDS_EXAMPLE))


# Merging duplicates (issue 23): a second record of Marcus, merged into his by director1.


def marcus_twin(w: World) -> None:
    ExonereeFactory(
        organization=w.org1, legal_name="Marcus Whitfield", ssn="900123456", date_of_birth=date(1970, 3, 14)
    )


def marcus_and_twin(w: World) -> list[int]:
    twin = Exoneree.objects.filter(legal_name="Marcus Whitfield").exclude(pk=w.marcus.exoneree.pk).get()
    return [w.marcus.exoneree.pk, twin.pk]


def twin_merged(w: World) -> None:
    marcus_twin(w)
    kept, duplicate = Exoneree.objects.filter(pk__in=marcus_and_twin(w)).order_by("pk")
    merges.merge_people(by=w.director1, kept=kept, duplicate=duplicate)


# Transfers (issue 23): Marcus to org2, with his consent to it (org1's directory has org2).


def consent_to_transfer_marcus(w: World) -> None:
    provider = ProviderFactory(organization=w.org1, name=w.org2.name, member_organization=w.org2)
    consent_for(w.marcus.exoneree, provider, [ConsentCategory.TRANSFER])


def marcus_transfer_pending(w: World) -> None:
    w.marcus.exoneree.refresh_from_db()  # another page's setup (rolled back) may have closed him in memory
    consent_to_transfer_marcus(w)
    transfers.transfer_propose(by=w.caseworker1, exoneree=w.marcus.exoneree, to_organization=w.org2, parts=["needs"])


def hsds_term(w: World) -> None:
    TaxonomyTerm.objects.create(organization=w.org1, hsds_id="term-food", name="Food pantries", taxonomy="211")


def three_share(w: World) -> None:
    """Both organizations, and a third, share their counts with the Network: its page shows figures."""
    OrganizationFactory(name="Third Light", shares_network_figures=True)
    Organization.objects.filter(pk__in=[w.org1.pk, w.org2.pk]).update(shares_network_figures=True)


@dataclass(frozen=True)
class Page:
    name: str
    expect: dict[str, Expect]  # on GET; on POST for a POST-only page
    args: Args = lambda w: []
    methods: tuple[str, ...] = ("GET",)
    data: Callable[[World], dict[str, Any]] | None = None  # a valid POST
    done: Callable[[World], str] | None = None  # where the owner's valid POST leads (read after it)
    owner: str = "caseworker1"  # the persona the page is for
    setup: Callable[[World], None] | None = None
    query: str = ""  # a query string the page needs, such as which figure to list

    def url(self, world: World) -> str:
        return reverse(self.name, args=self.args(world)) + self.query

    @property
    def post_only(self) -> bool:
        return self.methods == ("POST",)


GET_POST = ("GET", "POST")

SETUP = "/accounts/two-factor/setup/"

PAGES = [
    Page("home", HOME),
    Page("no_role", NO_ROLE),
    # Two-factor sign-in and the account page (their flows: test_signin.py). Staff sessions
    # here have passed the second factor; exonerees and root have no device.
    Page("account", row(200, 200, 200, 200, 200, 200, 200, 200)),
    Page("ping", row(200, 200, 200, 200, 200, 200, 200, 200)),
    # API tokens: staff make and revoke their own; a director sees and revokes the organization's.
    Page(
        "api_token_list",
        STAFF_PAGE,
        methods=GET_POST,
        data=lambda w: {"name": "CRM sync", "scope": "read", "days": "90"},
    ),
    Page(
        "api_token_revoke",
        row(DONE, 404, "/director/api-tokens/", 404, 404, 403, 403, 403),
        lambda w: [caseworker1_token(w)],
        ("POST",),
        lambda w: {},
        lambda w: reverse("api_token_list"),
        setup=caseworker1_token,
    ),
    Page("api_tokens_of_organization", DIRECTOR_PAGE, owner="director1"),
    # Retention (issue 23): the director's review of closed cases reaching their end; a case
    # of another organization (dir2) is a 404, as is an open one.
    Page("retention_review", DIRECTOR_PAGE, owner="director1", setup=marcus_closed_long_ago),
    Page(
        "retention_confirm",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        ("POST",),
        lambda w: {"confirm": "on"},
        at_retention,
        owner="director1",
        setup=marcus_closed_long_ago,
    ),
    Page(
        "legal_hold_place",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        ("POST",),
        lambda w: {"reason": "Civil suit pending in Harris County"},
        at_retention,
        owner="director1",
        setup=marcus_closed_long_ago,
    ),
    Page(
        "legal_hold_lift",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        ("POST",),
        lambda w: {"reason": "The suit settled"},
        at_retention,
        owner="director1",
        setup=marcus_closed_and_held,
    ),
    # A legal hold from the person's page, open case or closed; every hold standing (issue 23).
    Page("legal_hold_list", DIRECTOR_PAGE, owner="director1", setup=marcus_held),
    Page(
        "exoneree_legal_hold",
        row(403, 403, 200, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        GET_POST,
        lambda w: {"reason": "Civil suit filed in Harris County"},
        marcus_page,
        owner="director1",
    ),
    Page(
        "exoneree_legal_hold_lift",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        ("POST",),
        lambda w: {"reason": "The suit settled"},
        marcus_page,
        owner="director1",
        setup=marcus_held,
    ),
    Page(
        "session_keep_alive",
        row(DONE, DONE, DONE, DONE, DONE, DONE, DONE, DONE),
        methods=("POST",),
        data=lambda w: {"next": "/ping/"},
        done=lambda w: "/ping/",
    ),
    # The analyst has a device and has passed it, as staff here.
    Page("two_factor_verify", row("/", "/", "/", "/", "/", SETUP, SETUP, SETUP, analyst="/"), methods=GET_POST),
    Page("two_factor_setup", row(*["/account/"] * 5, 200, 200, 200, analyst="/account/"), methods=GET_POST),
    # Asks for the password again: without it, the account page again with the error (400).
    Page("two_factor_backup_codes", row(400, 400, 400, 400, 400, SETUP, SETUP, SETUP, analyst=400), methods=("POST",)),
    # Caseworkers
    Page("dashboard", CASEWORKER_PAGE),
    Page("follow_up_list", STAFF_PAGE, owner="director1"),  # a director reads one caseworker's or everyone's
    Page("need_list", CASEWORKER_PAGE),
    Page("conversation_list", CASEWORKER_PAGE),
    # A director's: theirs has every filter (the caseworker, nobody assigned) to fuzz.
    Page("exoneree_list", STAFF_PAGE, owner="director1"),
    Page(
        "exoneree_create",
        CASEWORKER_PAGE,
        methods=GET_POST,
        data=exoneree_data,
        done=lambda w: Exoneree.objects.latest("pk").get_absolute_url(),
    ),
    Page("exoneree_detail", CASE_READ, marcus("exoneree")),
    Page("exoneree_plan_pdf", CASE_READ, marcus("exoneree")),
    Page("exoneree_history", CASE_READ, marcus("exoneree")),
    Page("exoneree_done_follow_ups", CASE_READ, marcus("exoneree")),
    Page("exoneree_edit", CASE_WRITE, marcus("exoneree"), GET_POST, exoneree_data, marcus_page),
    # Marcus already has a login, so the page offers (and the POST sends) a fresh link.
    # Shows the full SSN (200) to whoever may read the record; nothing to redirect to.
    Page("exoneree_ssn_reveal", row(200, 404, 200, 404, 404, 403, 403, 403), marcus("exoneree"), ("POST",)),
    Page("exoneree_invite", CASE_WRITE, marcus("exoneree"), GET_POST, lambda w: {}, marcus_page),
    # A record's life (issue 23): Marcus's caseworker closes his case with its exit, and
    # reopens it; his director reads the state on his page.
    Page("case_close", CASE_WRITE, marcus("exoneree"), GET_POST, case_close_data, marcus_page),
    Page(
        "case_reopen",
        CASE_POST,
        marcus("exoneree"),
        ("POST",),
        lambda w: {"opened_on": ""},
        marcus_page,
        setup=close_marcus,
    ),
    # Restricting who sees Marcus: his organization's director (tests/test_restricted.py).
    Page(
        "restriction",
        row(403, 403, 200, 403, 404, 403, 403, 403),
        marcus("exoneree"),
        GET_POST,
        lambda w: {"reason": "A victim-safety concern."},
        marcus_page,
        owner="director1",
    ),
    Page(
        "caseload_edit",
        DIRECTOR_OBJECT,
        marcus("exoneree"),
        GET_POST,
        lambda w: {"caseworkers": [w.caseworker2.pk]},
        marcus_page,
        owner="director1",
    ),
    Page("need_create", CASE_WRITE, marcus("exoneree"), GET_POST, need_data, lambda w: at_need(w, latest=True)),
    Page(
        "follow_up_create",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        follow_up_data,
        lambda w: at_follow_up(w, latest=True),
    ),
    Page("follow_up_record_done", CASE_WRITE, marcus("exoneree"), GET_POST, done_already_data, marcus_page),
    Page("note_create", CASE_WRITE, marcus("exoneree"), GET_POST, note_data, lambda w: marcus_page(w, "#notes")),
    Page(
        "assessment_create",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        assessment_data,
        lambda w: marcus_page(w, "#assessments"),
    ),
    # Legal remedies: the person's caseworkers write, the director reads.
    Page("exoneree_legal", CASE_READ, marcus("exoneree")),
    Page("claim_create", CASE_WRITE, marcus("exoneree"), GET_POST, claim_data, legal_page),
    Page("claim_edit", CASE_WRITE, only(CompensationClaim), GET_POST, claim_data, legal_page, setup=marcus_claim),
    Page(
        "payment_create",
        CASE_WRITE,
        only(CompensationClaim),
        GET_POST,
        lambda w: {"received_on": "2026-11-30", "amount": "2500.00", "note": "First installment"},
        legal_page,
        setup=marcus_claim,
    ),
    Page(
        "payment_edit",
        CASE_WRITE,
        the_payment,
        GET_POST,
        lambda w: {"received_on": "2026-11-03", "amount": "2600.00", "note": "Typed wrong"},
        legal_page,
        setup=marcus_payment,
    ),
    Page(
        "payment_remove",
        CASE_POST,
        the_payment,
        ("POST",),
        lambda w: {},
        lambda w: legal_page(w) + "#claims",
        setup=marcus_payment,
    ),
    Page(
        "certificate_create",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        lambda w: {"status": "applied", "court": "Cook County Circuit Court", "applied_on": "2026-07-01"},
        legal_page,
    ),
    Page(
        "certificate_edit",
        CASE_WRITE,
        only(InnocenceCertificate),
        GET_POST,
        lambda w: {"status": "granted", "court": "Cook County Circuit Court", "decided_on": "2026-08-01"},
        legal_page,
        setup=marcus_certificate,
    ),
    Page(
        "clearance_edit",
        CASE_WRITE,
        lambda w: [w.marcus.exoneree.pk, "fbi"],
        GET_POST,
        lambda w: {"status": "requested", "requested_on": "2026-09-01"},
        legal_page,
    ),
    Page(
        "legal_item_create",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        lambda w: {"kind": "civil_rights_suit", "status": "in_progress", "started_on": "2026-03-01"},
        legal_page,
    ),
    Page(
        "legal_item_edit",
        CASE_WRITE,
        only(LegalItem),
        GET_POST,
        lambda w: {"kind": "tax_relief", "status": "done", "done_on": "2026-04-15"},
        legal_page,
        setup=marcus_legal_item,
    ),
    Page("need_edit", CASE_WRITE, marcus("need"), GET_POST, need_data, at_need),
    Page("need_status", CASE_POST, marcus("need"), ("POST",), lambda w: {"status": "met"}, at_need),
    Page(
        "referral_create",
        CASE_WRITE,
        marcus("need"),
        GET_POST,
        lambda w: {"resource": w.marcus.resource.pk, "note": "Please call him."},
        lambda w: Referral.objects.latest("pk").get_absolute_url(),
    ),
    Page("referral_detail", CASE_READ, marcus("referral")),
    Page(
        "referral_edit",
        CASE_WRITE,
        marcus("referral"),
        GET_POST,
        lambda w: {"resource": w.marcus.resource.pk, "note": "Ask for Ms. Lee."},
        lambda w: w.marcus.referral.get_absolute_url(),
    ),
    Page(
        "referral_transition",
        CASE_POST,
        marcus("referral"),
        ("POST",),
        lambda w: {"status": "sent"},
        lambda w: w.marcus.referral.get_absolute_url(),
        setup=consent_marcus,
    ),
    # The provider's link: sent again (a new link) or stopped by the caseworker.
    Page(
        "referral_resend",
        CASE_POST,
        marcus("referral"),
        ("POST",),
        lambda w: {},
        lambda w: w.marcus.referral.get_absolute_url(),
        setup=send_marcus_referral,
    ),
    Page(
        "referral_link_revoke",
        CASE_POST,
        marcus("referral"),
        ("POST",),
        lambda w: {},
        lambda w: w.marcus.referral.get_absolute_url(),
        setup=send_marcus_referral,
    ),
    # The provider's question, answered by the person's caseworker on the referral's page.
    Page(
        "provider_question_answer",
        CASE_POST,
        the_question,
        ("POST",),
        lambda w: {"answer": "Yes, a class C license."},
        lambda w: f"{w.marcus.referral.get_absolute_url()}#question-{the_question(w)[1]}",
        setup=provider_asks,
    ),
    # The provider's page: no account; the token in its address is the key, whoever holds it.
    Page(
        "provider_referral",
        {**dict.fromkeys([*COLUMNS, "analyst"], 200), "anonymous": 200},
        provider_token,
        GET_POST,
        lambda w: {"move": "accept", "contact_person": "Ms. Lee", "expected_on": ""},
        provider_page,
        owner="anonymous",
        setup=send_marcus_referral,
    ),
    # Consent: recorded and revoked by the caseworker; read on the person's page.
    Page(
        "consent_create",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        consent_data,
        lambda w: marcus_page(w, "#consents"),
    ),
    # Narrowing: fewer kinds, an earlier end (the consent names contact and housing).
    Page(
        "consent_edit",
        CASE_WRITE,
        marcus_consent,
        GET_POST,
        lambda w: {"categories": ["contact"], "ends_on": timezone.localdate().isoformat()},
        lambda w: marcus_page(w, "#consents"),
        setup=consent_marcus,
    ),
    Page(
        "consent_revoke",
        CASE_WRITE,
        marcus_consent,
        GET_POST,
        lambda w: {},
        lambda w: marcus_page(w, "#consents"),
        setup=consent_marcus,
    ),
    # Documents: uploaded, replaced and deleted by the caseworker; downloaded by whoever
    # reads the record (each download is an entry in the access log).
    Page(
        "document_upload",
        CASE_WRITE,
        marcus("exoneree"),
        GET_POST,
        document_data,
        lambda w: marcus_page(w, "#documents"),
    ),
    Page(
        "document_need",
        CASE_POST,
        marcus("exoneree"),
        ("POST",),
        lambda w: {"kind": "social_security_card"},
        lambda w: marcus_page(w, f"#need-{Need.objects.latest('pk').pk}"),
    ),
    Page("document_download", CASE_READ, marcus_document, setup=add_marcus_document),
    Page(
        "document_replace",
        CASE_WRITE,
        marcus_document,
        GET_POST,
        document_data,
        lambda w: marcus_page(w, "#documents"),
        setup=add_marcus_document,
    ),
    Page(
        "document_delete",
        CASE_WRITE,
        marcus_document,
        GET_POST,
        lambda w: {},
        lambda w: marcus_page(w, "#documents"),
        setup=add_marcus_document,
    ),
    # Break-the-glass: any caseworker may ask; the owner's POST opens Thomas (not theirs).
    Page(
        "emergency_access_request",
        CASEWORKER_PAGE,
        methods=GET_POST,
        data=emergency_data,
        done=lambda w: w.thomas.exoneree.get_absolute_url(),
    ),
    # Ending it early: the grantee (caseworker1 here) or the organization's director.
    Page(
        "emergency_access_end",
        row(DONE, 404, "/director/emergency-access/", 404, 404, 403, 403, 403),
        glass_grant,
        ("POST",),
        lambda w: {},
        lambda w: "/dashboard/",
        setup=caseworker1_glass_on_thomas,
    ),
    Page("follow_up_edit", CASE_WRITE, marcus("follow_up"), GET_POST, follow_up_data, at_follow_up),
    Page("follow_up_done", CASE_POST, marcus("follow_up"), ("POST",), lambda w: {"outcome": "Went well"}, marcus_page),
    Page(
        "follow_up_reopen",
        CASE_POST,
        marcus("follow_up"),
        ("POST",),
        lambda w: {},
        marcus_page,
        setup=mark_follow_up_done,
    ),
    Page("note_edit", CASE_WRITE, marcus("staff_note"), GET_POST, note_data, lambda w: marcus_page(w, "#notes")),
    Page("assessment_detail", CASE_READ, marcus("assessment")),
    Page(
        "assessment_edit",
        CASE_WRITE,
        marcus("assessment"),
        GET_POST,
        assessment_data,
        lambda w: marcus_page(w, "#assessments"),
    ),
    # Resource directory
    Page("resource_list", STAFF_PAGE),
    Page(
        "resource_create",
        DIRECTOR_PAGE,
        methods=GET_POST,
        data=resource_data,
        done=lambda w: Resource.objects.latest("pk").get_absolute_url(),
        owner="director1",
    ),
    Page("resource_detail", RESOURCE_READ, marcus("resource")),
    Page("resource_refer", row(200, 200, 403, 404, 403, 403, 403, 403), marcus("resource")),
    Page(
        "resource_edit",
        DIRECTOR_OBJECT,
        marcus("resource"),
        GET_POST,
        resource_data,
        lambda w: w.marcus.resource.get_absolute_url(),
        owner="director1",
    ),
    # The directory in HSDS (issue 22): directors import (upload, preview, confirm), map terms
    # and export; the organization's staff read it through the HSDS API.
    Page(
        "hsds_import",
        DIRECTOR_PAGE,
        methods=GET_POST,
        data=hsds_upload_data,
        done=lambda w: reverse("hsds_import_preview", args=[HsdsImport.objects.latest("pk").pk]),
        owner="director1",
    ),
    Page(
        "hsds_import_preview",
        DIRECTOR_OBJECT,
        lambda w: [HsdsImport.objects.get(applied_at__isnull=True).pk],
        GET_POST,
        lambda w: {},
        lambda w: reverse("resource_list"),
        owner="director1",
        setup=hsds_upload_pending,
    ),
    Page(
        "hsds_terms",
        DIRECTOR_PAGE,
        methods=GET_POST,
        data=lambda w: {f"term_{TaxonomyTerm.objects.get(organization=w.org1).pk}": "basic", "page": "1"},
        done=lambda w: reverse("hsds_terms") + "?page=1",
        owner="director1",
        setup=hsds_term,
    ),
    Page("hsds_export", DIRECTOR_PAGE, owner="director1"),
    # The HSDS API answers as the REST API does: 401 without a token or a session.
    Page(
        "hsds_services",
        STAFF_API,
        query="?page=1&per_page=50&search=&organization_id=&taxonomy_term_id=&modified_after=&full=",
    ),
    Page("hsds_service", RESOURCE_API, lambda w: [w.marcus.resource.hsds_id]),
    Page("hsds_organizations", STAFF_API, query="?page=1&per_page=50&search="),
    Page("hsds_organization", RESOURCE_API, lambda w: [w.marcus.resource.provider.hsds_id]),
    # Directors
    Page("director_dashboard", DIRECTOR_PAGE, owner="director1"),
    Page("outcome_dashboard", DIRECTOR_PAGE, owner="director1"),
    Page(
        "outcome_records",
        DIRECTOR_PAGE,
        owner="director1",
        query="?figure=needs&group=housing&measure=opened",
    ),
    Page("staff_list", DIRECTOR_PAGE, owner="director1"),
    # The Network's figures: its analysts only, whatever the organizations share.
    Page("network_figures", NETWORK_PAGE, owner="analyst", setup=three_share),
    Page("audit_log", DIRECTOR_PAGE, owner="director1"),
    Page("audit_check", DIRECTOR_PAGE, owner="director1"),
    Page("emergency_reviews", DIRECTOR_PAGE, owner="director1"),
    Page(
        "emergency_review",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        glass_grant,
        ("POST",),
        lambda w: {"decision": "acknowledged", "note": ""},
        lambda w: "/director/emergency-access/",
        owner="director1",
        setup=caseworker1_glass_on_thomas,
    ),
    # A director's view of one person's access log: their own organization's people only.
    Page("exoneree_access_log", row(403, 403, 200, 403, 404, 403, 403, 403), marcus("exoneree"), owner="director1"),
    # Merging duplicates (issue 23): a director of the person's organization proposes, chooses
    # side by side, merges and undoes; nobody else learns the records exist.
    Page("merge_candidates", DIRECTOR_OBJECT, marcus("exoneree"), owner="director1", setup=marcus_twin),
    Page(
        "merge_people",
        DIRECTOR_OBJECT,
        marcus_and_twin,
        GET_POST,
        lambda w: dict.fromkeys(merges.MERGE_FIELDS, "kept"),
        marcus_page,
        owner="director1",
        setup=marcus_twin,
    ),
    Page(
        "merge_undo",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        lambda w: [Merge.objects.get().pk],
        ("POST",),
        lambda w: {},
        lambda w: reverse("merge_candidates", args=[w.marcus.exoneree.pk]),
        owner="director1",
        setup=twin_merged,
    ),
    # Transfers (issue 23): proposed by the person's caseworker or director; answered by the
    # receiving organization's director only (the sending director cannot see it: 404).
    Page(
        "transfer_propose",
        row(200, 404, 200, 404, 404, 403, 403, 403),
        marcus("exoneree"),
        GET_POST,
        lambda w: {"to_organization": w.org2.pk, "parts": ["needs"]},
        marcus_page,
        setup=consent_to_transfer_marcus,
    ),
    Page("transfer_list", DIRECTOR_PAGE, owner="director1"),
    Page(
        "transfer_answer",
        row(403, 403, 404, 403, 200, 403, 403, 403),
        lambda w: [Transfer.objects.get().pk],
        GET_POST,
        lambda w: {"decision": "accept"},
        lambda w: Exoneree.objects.latest("pk").get_absolute_url(),
        owner="director2",
        setup=marcus_transfer_pending,
    ),
    Page(
        "staff_create",
        DIRECTOR_PAGE,
        methods=GET_POST,
        data=lambda w: {
            "first_name": "Nia",
            "last_name": "Newhire",
            "email": "nia@example.org",
            "username": "nnewhire",
            "role": "caseworker",
        },
        done=lambda w: "/director/staff/",
        owner="director1",
    ),
    Page(
        "organization_settings",
        DIRECTOR_PAGE,
        methods=GET_POST,
        data=lambda w: {
            "escalation_days": "5",
            "digest_hour": "7",
            "provider_response_days": "7",
            "completion_days": "45",
            "provider_link_days": "30",
            "retention_years": "10",
            "retention_mode": "deidentify",
        },
        done=lambda w: "/director/settings/",
        owner="director1",
    ),
    Page(
        "staff_edit",
        DIRECTOR_OBJECT,
        lambda w: [w.caseworker1.staff.pk],
        GET_POST,
        lambda w: {
            "first_name": "Casey",
            "last_name": "Onewell",
            "email": w.caseworker1.email,
            "role": "caseworker",
            "title": "Senior caseworker",
            "is_active": "on",
        },
        lambda w: "/director/staff/",
        owner="director1",
    ),
    # Moving several people from one caseworker to another.
    Page(
        "caseload_move",
        DIRECTOR_OBJECT,
        lambda w: [w.caseworker1.pk],
        GET_POST,
        lambda w: {"everyone": "on", "to_caseworker": w.caseworker2.pk},
        lambda w: "/director/staff/",
        owner="director1",
    ),
    # Lifting a sign-in lockout: the director of the staff member's own organization.
    Page(
        "staff_unlock",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        lambda w: [w.caseworker1.staff.pk],
        ("POST",),
        lambda w: {},
        lambda w: "/director/staff/",
        owner="director1",
    ),
    # The invitation again, for a colleague who has not chosen a password yet.
    Page(
        "staff_invite",
        row(403, 403, DONE, 403, 404, 403, 403, 403),
        lambda w: [invited_colleague(w).pk],
        ("POST",),
        lambda w: {},
        lambda w: "/director/staff/",
        owner="director1",
        setup=invited_colleague,
    ),
    # Notifications
    Page("notification_list", STAFF_PAGE),
    Page(
        "notification_read",
        OWN_NOTIFICATION,
        caseworker1_notification,
        ("POST",),
        lambda w: {},
        marcus_page,
        setup=notify_caseworker1,
    ),
    Page(
        "notification_read_all",
        STAFF_POST,
        methods=("POST",),
        data=lambda w: {},
        done=lambda w: "/notifications/",
        setup=notify_caseworker1,
    ),
    # Exonerees
    Page("my_plan", OWN_PLAN, owner="exoneree1"),
    Page("my_plan_pdf", OWN_PLAN, owner="exoneree1"),
    Page("my_plan_ics", OWN_PLAN, owner="exoneree1"),
    # The person's own copy (issue 23): theirs from their plan; staff who may see them, for them.
    Page("my_copy_pdf", OWN_PLAN, owner="exoneree1"),
    Page("my_copy_json", OWN_PLAN, owner="exoneree1"),
    Page("exoneree_copy_pdf", CASE_READ, marcus("exoneree")),
    Page("exoneree_copy_json", CASE_READ, marcus("exoneree")),
    Page(
        "set_language",
        # Anyone signed out too: the sign-in and password pages have the switch.
        {**row(403, 403, 403, 403, 403, DONE, DONE, 403), "anonymous": DONE},
        methods=("POST",),
        data=lambda w: {"language": "es", "next": "/my-plan/"},
        done=lambda w: "/my-plan/",
        owner="exoneree1",
    ),
    # Marcus's word on his own sent referral: did he get help? (Thomas: 404.)
    Page(
        "my_referral_answer",
        row(403, 403, 403, 403, 403, DONE, 404, 403),
        marcus("referral"),
        ("POST",),
        lambda w: {"answer": "yes", "words": "They found me a room"},
        lambda w: "/my-plan/#referral-" + str(w.marcus.referral.pk),
        owner="exoneree1",
        setup=send_marcus_referral,
    ),
    # A paper sent from the person's phone; a paper on Marcus's plan (Thomas: 404).
    Page(
        "my_document_upload",
        OWN_PLAN,
        methods=GET_POST,
        data=document_data,
        done=lambda w: "/my-plan/?open=documents#documents",
        owner="exoneree1",
    ),
    Page(
        "my_document_download",
        row(403, 403, 403, 403, 403, 200, 404, 403),
        marcus_document,
        owner="exoneree1",
        setup=add_marcus_document,
    ),
    # Issue 19: asking for help on one's own plan (staff: 403); the caseworker takes it on or
    # answers it with a message.
    Page(
        "my_ask",
        row(403, 403, 403, 403, 403, DONE, DONE, 403),
        methods=("POST",),
        data=lambda w: {"words": "I need a winter coat", "domain": "basic", "priority": "high"},
        done=lambda w: "/my-plan/#asks",
        owner="exoneree1",
    ),
    # Marcus's word on an appointment of his plan (Thomas: 404, as for anything not his).
    Page(
        "my_appointment_answer",
        row(403, 403, 403, 403, 403, DONE, 404, 403),
        marcus("follow_up"),
        ("POST",),
        lambda w: {"answer": "another_time", "words": "I work that morning"},
        lambda w: f"/my-plan/#appointment-{w.marcus.follow_up.pk}",
        owner="exoneree1",
    ),
    # Messages with my caseworker: the person's own thread; the same thread on the staff side
    # (a director reads it; only the assigned caseworkers write or flag a message).
    Page(
        "my_messages",
        OWN_PLAN,
        methods=GET_POST,
        data=lambda w: {"text": "Can we meet on Friday?", "about": ""},
        done=lambda w: "/my-plan/messages/#latest",
        owner="exoneree1",
    ),
    Page(
        "exoneree_messages",
        CASE_READ,
        marcus("exoneree"),
        GET_POST,
        lambda w: {"text": "Friday at 10 works.", "about": f"need:{w.marcus.need.pk}"},
        lambda w: reverse("exoneree_messages", args=[w.marcus.exoneree.pk]) + "#latest",
    ),
    Page(
        "message_needs_action",
        CASE_POST,
        marcus_message,
        ("POST",),
        lambda w: {"needs_action": "1"},
        lambda w: reverse("exoneree_messages", args=[w.marcus.exoneree.pk]) + f"#message-{marcus_message(w)[0]}",
        setup=marcus_writes,
    ),
    # Who has looked at my file: each exoneree their own visits (no id to guess), a page of
    # those before an opening's id at a time.
    Page("my_visits", OWN_PLAN, owner="exoneree1", query="?before=1000000"),
    Page("my_asks", OWN_PLAN, owner="exoneree1"),
    # How to reach me: each exoneree their own (the page has no id to guess).
    Page(
        "my_contact_wishes",
        OWN_PLAN,
        methods=GET_POST,
        data=lambda w: {
            "contact_preference": "in_person",
            "reminder_channel": "email",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
        },
        done=lambda w: "/my-plan/reach-me/",
        owner="exoneree1",
    ),
    Page("need_ask_take_on", CASE_POST, marcus("need"), ("POST",), lambda w: {}, at_need, setup=marcus_asks),
    Page(
        "need_ask_answer",
        CASE_WRITE,
        marcus("need"),
        GET_POST,
        lambda w: {"answer": "The shelter on Main St. has coats. Go Tuesday."},
        at_need,
        setup=marcus_asks,
    ),
    # Marcus's own consent: Thomas (exoneree2) gets a 404, as for anything not his.
    Page(
        "my_consent_stop",
        row(403, 403, 403, 403, 403, 200, 404, 403),
        marcus_consent,
        GET_POST,
        lambda w: {},
        lambda w: "/my-plan/",
        owner="exoneree1",
        setup=consent_marcus,
    ),
]
PAGES_BY_NAME = {page.name: page for page in PAGES}


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row the app keeps (and the users and their permissions), to prove nothing changed."""
    return rows_as_stored([*apps.get_app_config("services").get_models(include_auto_created=True), get_user_model()])


def request(client: Any, page: Page, world: World, method: str) -> Any:
    url = page.url(world)
    if method == "POST":
        return client.post(url, page.data(world) if page.data else {})
    return getattr(client, method.lower())(url)


def assert_outcome(response: Any, expected: Expect, page: Page, world: World) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, response.content[:500]
        next_ = QueryDict(mutable=True)
        next_["next"] = page.url(world)
        assert response.url == f"/accounts/login/?{next_.urlencode(safe='/')}"
    elif expected == DONE:
        assert response.status_code == 302, response.content[:2000]
        assert response.url == page.done(world)
    elif isinstance(expected, str):
        assert response.status_code == 302, response.content[:500]
        assert response.url == expected
    else:
        assert response.status_code == expected, response.content[:2000]


# --- the matrix: every page × every persona ----------------------------------------------------


def test_every_url_is_in_the_table():
    from services.urls import urlpatterns

    tested_elsewhere = {"healthz", "invitation_accept", "invitation_done"}
    assert {p.name for p in urlpatterns} - tested_elsewhere == set(PAGES_BY_NAME)


@pytest.mark.parametrize("persona", [*COLUMNS, "analyst", "anonymous"])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_access(login, world, page, persona):
    if page.setup:
        page.setup(world)
    client = login(persona)

    response = request(client, page, world, "POST" if page.post_only else "GET")

    assert_outcome(response, page.expect[persona], page, world)
    if persona != "anonymous":  # whatever the answer, a browser keeps nothing of a signed-in page
        assert_not_stored(response)


def assert_not_stored(response: Any) -> None:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, response.get("Cache-Control")


@pytest.mark.parametrize("page", [p for p in PAGES if "POST" in p.methods and p.done], ids=lambda p: p.name)
def test_valid_post_answer_is_not_stored(login, world, page):
    if page.setup:
        page.setup(world)

    assert_not_stored(request(login(page.owner), page, world, "POST"))


def test_static_files_are_answered_before_the_rule_and_stay_cacheable():
    middleware = settings.MIDDLEWARE

    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") < middleware.index(
        "services.middleware.NoStoreWhenSignedInMiddleware"
    )


# --- POSTs: the page's owner succeeds; everybody refused changes nothing ------------------------


@pytest.mark.parametrize("page", [p for p in PAGES if "POST" in p.methods and p.done], ids=lambda p: p.name)
def test_valid_post_by_owner_redirects_and_changes_something(login, world, page, django_capture_on_commit_callbacks):
    if page.setup:
        page.setup(world)
    client = login(page.owner)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):  # emails are sent once the data is committed
        response = request(client, page, world, "POST")

    assert_outcome(response, DONE, page, world)
    assert snapshot() != before or len(mail.outbox) == 1 or page.name in CHANGES_ONLY_THE_SESSION


# POSTs whose only change is to the session (tested for it in their own file).
CHANGES_ONLY_THE_SESSION = {"session_keep_alive": "tests/test_idle.py: the idle clock restarts"}


REFUSED_POSTS = [
    (page, persona)
    for page in PAGES
    if "POST" in page.methods
    for persona in [*COLUMNS, "analyst", "anonymous"]
    if page.expect[persona] in (403, 404, LOGIN)
]


@pytest.mark.parametrize(("page", "persona"), REFUSED_POSTS, ids=[f"{p.name}-{who}" for p, who in REFUSED_POSTS])
def test_refused_post_changes_nothing(login, world, page, persona, django_capture_on_commit_callbacks):
    if page.setup:
        page.setup(world)
    client = login(persona)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = request(client, page, world, "POST")

    assert_outcome(response, page.expect[persona], page, world)
    assert snapshot() == before
    assert mail.outbox == []


# --- wrong methods -----------------------------------------------------------------------------

WRONG_METHODS = [
    (page, method)
    for page in PAGES
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    if method not in page.methods
]


@pytest.mark.parametrize(("page", "method"), WRONG_METHODS, ids=[f"{p.name}-{m}" for p, m in WRONG_METHODS])
def test_wrong_method_is_405_and_changes_nothing(login, world, page, method):
    if page.setup:
        page.setup(world)
    client = login(page.owner)
    before = snapshot()

    response = request(client, page, world, method)

    assert response.status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "name", "words"),
    [
        ("exoneree1", "my_ask", "Esta página no se puede abrir sola"),  # Marcus reads Spanish
        ("caseworker1", "document_need", "This page cannot be opened by itself"),
    ],
)
def test_a_form_only_address_opened_in_a_browser_says_so_and_leads_home(login, world, persona, name, words, caplog):
    """Django's 405 is a blank page; a person opens the address a form posted to from their
    history, or a new tab."""
    Exoneree.objects.filter(pk=world.marcus.exoneree.pk).update(preferred_language="es")
    client = login(persona)
    url = reverse(name, args=[] if name == "my_ask" else [world.marcus.exoneree.pk])
    before = snapshot()

    response = client.get(url)

    assert response.status_code == 405 and response["Allow"] == "POST"
    page = response.content.decode()
    assert f"<h1>{words}</h1>" in page and f'href="{reverse("home")}"' in page
    assert f'name="next" value="{url}"' not in page  # "Stay signed in" and the language lead home
    assert f'name="next" value="{reverse("home")}"' in page
    assert len([r for r in caplog.records if r.getMessage().startswith("Method Not Allowed")]) == 1
    assert snapshot() == before


# --- the rules behind the table, on records of the other people ---------------------------------


@pytest.mark.parametrize(
    ("persona", "case", "expected"),
    [
        ("caseworker2", "thomas", 200),  # their own
        ("caseworker2", "marcus", 404),  # a colleague's
        ("caseworker3", "anita", 200),
        ("caseworker3", "thomas", 404),
        ("director2", "anita", 200),
        ("director2", "marcus", 404),
        ("director1", "thomas", 200),
        ("director1", "anita", 404),
    ],
)
@pytest.mark.parametrize("name", ["exoneree_detail", "referral_detail", "assessment_detail"])
def test_each_persona_reads_only_their_own_records(login, world, persona, case, expected, name):
    record = {"exoneree_detail": "exoneree", "referral_detail": "referral", "assessment_detail": "assessment"}[name]
    target = getattr(getattr(world, case), record)

    response = login(persona).get(reverse(name, args=[target.pk]))

    assert response.status_code == expected


def test_inactive_caseworker_is_treated_as_signed_out(login, world):
    client = login("caseworker1")
    world.caseworker1.is_active = False
    world.caseworker1.save()

    response = client.get(marcus_page(world))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- the loaders themselves (services/access.py), persona by persona -----------------------------
# The table above reaches them through pages; these call them directly, so each rule is tried
# for every persona in a few milliseconds (and mutation testing can afford to run them).


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except Http404:
        return "404"
    except PermissionDenied:
        return "403"
    return "ok"


def marcus_extras(w: World) -> None:
    """One record of each kind the world lacks, all Marcus's."""
    marcus_writes(w)
    consent_marcus(w)
    marcus_claim(w)
    marcus_certificate(w)
    marcus_legal_item(w)
    add_marcus_document(w)


LOADERS: dict[str, Args] = {
    "get_exoneree": lambda w: [w.marcus.exoneree.pk],
    "get_need": marcus("need"),
    "get_referral": marcus("referral"),
    "get_follow_up": marcus("follow_up"),
    "get_note": marcus("staff_note"),
    "get_assessment": marcus("assessment"),
    "get_message": marcus_message,
    "get_consent": marcus_consent,
    "get_claim": only(CompensationClaim),
    "get_certificate": only(InnocenceCertificate),
    "get_legal_item": only(LegalItem),
    "get_document": marcus_document,
}
#             cw1   cw2    dir1   cw3    dir2   ex1    ex2    root   cw2 with an emergency grant
GLASS_REASON = "He called the hotline in crisis; his caseworker is away."
LOADER_READ = ("ok", "404", "ok", "404", "404", "404", "404", "404", "ok")
LOADER_WRITE = ("ok", "404", "403", "404", "404", "404", "404", "404", "403")


@pytest.mark.parametrize("name", LOADERS)
def test_each_loader_opens_marcus_records_to_his_caseworker_and_reads_to_his_director(world, name):
    marcus_extras(world)
    load = getattr(access, name)
    (pk,) = LOADERS[name](world)
    users = [world.user(persona) for persona in COLUMNS]

    read = [outcome(lambda u=u: load(u, pk)) for u in users]
    write = [outcome(lambda u=u: load(u, pk, change=True)) for u in users]
    # A colleague's emergency grant opens the records to them, read-only.
    emergency.emergency_access_grant(by=world.caseworker2, exoneree=world.marcus.exoneree, reason=GLASS_REASON)
    read.append(outcome(lambda: load(world.caseworker2, pk)))
    write.append(outcome(lambda: load(world.caseworker2, pk, change=True)))

    assert (tuple(read), tuple(write)) == (LOADER_READ, LOADER_WRITE)


def fresh(user: Any) -> Any:
    """The same account loaded again: no role or permission cached on it yet."""
    return get_user_model().objects.get(pk=user.pk)


def get_request(user: Any, path: str = "/people/1/?tab=needs", *, verified: bool = False, htmx: bool = False) -> Any:
    request = RequestFactory().get(path)
    request.user = user
    if verified:
        user.is_verified = lambda: True  # as django-otp's middleware says after a good code
    if htmx:
        request.htmx = True
    return request


def test_each_persona_has_their_role_and_organization(world):
    roles = {persona: access.role_of(world.user(persona) or AnonymousUser()) for persona in PERSONAS}

    assert roles == {
        "director1": "director",
        "caseworker1": "caseworker",
        "caseworker2": "caseworker",
        "director2": "director",
        "caseworker3": "caseworker",
        "exoneree1": "exoneree",
        "exoneree2": "exoneree",
        "exoneree3": "exoneree",
        "root": None,
        "analyst": "analyst",
        "anonymous": None,
    }
    assert access.organization_of(world.caseworker3) == world.org2
    assert access.own_exoneree(world.exoneree2) == world.thomas.exoneree
    for stranger in (world.exoneree1, world.root, world.analyst):
        with pytest.raises(PermissionDenied):
            access.organization_of(stranger)
    for stranger in (world.caseworker1, world.root):
        with pytest.raises(PermissionDenied):
            access.own_exoneree(stranger)


def test_only_a_confirmed_device_is_a_second_factor(world):
    def asked(user: Any) -> tuple[bool, bool]:
        return second_factor.has_second_factor(user), second_factor.needs_second_factor(user)

    marcus = world.exoneree1
    assert not second_factor.has_second_factor(AnonymousUser())
    assert asked(marcus) == (False, False)
    TOTPDevice.objects.create(user=marcus, name="Half set up", confirmed=False)
    assert asked(marcus) == (False, False)
    TOTPDevice.objects.create(user=marcus, name="Authenticator app", confirmed=True)
    assert asked(marcus) == (True, True)
    # Staff and analysts owe one before they have any device; the sign-in's preloaded answer is believed.
    assert asked(world.caseworker1) == asked(world.analyst) == (False, True)
    preloaded_user = fresh(world.exoneree2)
    setattr(preloaded_user, HAS_DEVICE, True)
    assert second_factor.has_second_factor(preloaded_user)


def test_a_session_owing_its_second_factor_goes_to_set_it_up_or_to_the_code_page(world):
    path = "/people/1/?tab=needs"
    back = urlencode({"next": path})

    setup = second_factor.second_factor_redirect(get_request(world.caseworker1, path))
    TOTPDevice.objects.create(user=world.caseworker1, name="Authenticator app", confirmed=True)
    verify = second_factor.second_factor_redirect(get_request(world.caseworker1, path))
    partial = second_factor.second_factor_redirect(get_request(world.caseworker1, path, htmx=True))

    assert (type(setup), setup.url) == (HttpResponseRedirect, f"{reverse('two_factor_setup')}?{back}")
    assert (type(verify), verify.url) == (HttpResponseRedirect, f"{reverse('two_factor_verify')}?{back}")
    assert (type(partial), partial.url) == (HttpResponseClientRedirect, verify.url)
    assert second_factor.second_factor_redirect(get_request(world.caseworker1, verified=True)) is None
    assert second_factor.second_factor_redirect(get_request(world.exoneree1)) is None  # owes none


GATES = {
    #                                cw     dir    ex     root   analyst
    "staff_required": (True, True, False, False, False),
    "caseworker_required": (True, False, False, False, False),
    "director_required": (False, True, False, False, False),
    "exoneree_required": (False, False, True, False, False),
    "analyst_required": (False, False, False, False, True),
    "signed_in_required": (True, True, True, True, True),
}


@pytest.mark.parametrize("gate", GATES)
def test_each_gate_lets_in_its_roles_only_signed_in_and_past_the_second_factor(world, gate):
    def view(request: Any, pk: int) -> HttpResponse:
        return HttpResponse(f"page {pk}")

    guarded = getattr(access, gate)(view)

    def answer(user: Any, **kwargs: Any) -> str:
        try:
            return guarded(get_request(user, **kwargs), pk=7).content.decode()
        except PermissionDenied:
            return "403"

    users = (world.caseworker1, world.director1, world.exoneree1, world.root, world.analyst)
    assert tuple(answer(user, verified=True) == "page 7" for user in users) == GATES[gate]
    assert all(answer(user, verified=True) == "403" for user, ok in zip(users, GATES[gate], strict=True) if not ok)
    anonymous = guarded(get_request(AnonymousUser()), pk=7)
    assert anonymous.status_code == 302
    assert anonymous.url == f"{reverse('login')}?next=/people/1/%3Ftab%3Dneeds"
    owing = guarded(get_request(fresh(world.caseworker1)), pk=7)
    assert owing.url.startswith(reverse("two_factor_setup"))


def test_a_caseworker_sees_their_caseload_and_open_grants_a_director_their_organization(world):
    marcus, thomas, anita = world.marcus.exoneree, world.thomas.exoneree, world.anita.exoneree

    def visible(user: Any) -> set[Exoneree]:
        return set(access.exonerees_visible_to(user))

    assert {persona: visible(world.user(persona) or AnonymousUser()) for persona in PERSONAS} == {
        "director1": {marcus, thomas},
        "caseworker1": {marcus},
        "caseworker2": {thomas},
        "director2": {anita},
        "caseworker3": {anita},
        "exoneree1": set(),
        "exoneree2": set(),
        "exoneree3": set(),
        "root": set(),
        "analyst": set(),
        "anonymous": set(),
    }
    now = timezone.now()
    EmergencyAccess.objects.create(user=world.caseworker1, exoneree=thomas, reason="r", expires_at=now)  # over
    assert visible(world.caseworker1) == {marcus}
    grant = EmergencyAccess.objects.create(
        user=world.caseworker1, exoneree=thomas, reason="r", expires_at=now + timezone.timedelta(hours=1)
    )
    assert visible(world.caseworker1) == {marcus, thomas}
    assert list(access.active_emergency_grants(world.caseworker1)) == [grant]
    assert not access.active_emergency_grants(world.caseworker2).exists()


def test_only_the_change_permission_on_the_row_in_ones_own_organization_changes_a_record(
    world, django_assert_num_queries
):
    marcus = world.marcus.exoneree
    reader = StaffFactory(organization=world.org1, role="caseworker").user
    assign_perm(access.VIEW_EXONEREE, reader, marcus)
    assign_perm(access.CHANGE_EXONEREE, world.caseworker3, marcus)  # a stray grant across organizations

    assert access.can_change_exoneree(world.caseworker1, marcus)
    assert not access.can_change_exoneree(world.caseworker3, marcus)
    assert not access.can_change_exoneree(reader, marcus)
    assert not access.can_change_exoneree(world.director1, marcus)
    assign_perm(access.CHANGE_EXONEREE, world.director1, marcus)  # a stray grant to a director
    assert not access.can_change_exoneree(fresh(world.director1), marcus)
    assert not access.can_change_exoneree(world.exoneree1, marcus)  # no staff role at all
    # Only the view permission shows a record: the change permission alone (never granted so) does not.
    writer = StaffFactory(organization=world.org1, role="caseworker").user
    assign_perm(access.CHANGE_EXONEREE, writer, marcus)
    assert not access.exonerees_visible_to(writer).exists()
    assert access.get_exoneree(reader, marcus.pk) == marcus
    with pytest.raises(PermissionDenied):
        access.get_exoneree(reader, marcus.pk, change=True)
    # Loaded for one caseworker, the record carries the answer for that caseworker only.
    loaded = access.get_exoneree(world.caseworker1, marcus.pk)
    with django_assert_num_queries(0):
        assert access.can_change_exoneree(world.caseworker1, loaded)
    assert not access.can_change_exoneree(fresh(world.caseworker2), loaded)
    assert access.get_exoneree(world.director1, marcus.pk, annotate={"answer": Value(42)}).answer == 42


def test_an_emergency_request_finds_a_person_of_the_caseworkers_own_organization_only(world):
    assert access.get_exoneree_for_emergency(world.caseworker1, world.thomas.exoneree.pk) == world.thomas.exoneree
    with pytest.raises(Http404):
        access.get_exoneree_for_emergency(world.caseworker1, world.anita.exoneree.pk)
    for user in (world.director1, world.exoneree2, world.root):
        with pytest.raises(PermissionDenied):
            access.get_exoneree_for_emergency(user, world.thomas.exoneree.pk)


def test_a_colleague_on_the_caseload_reads_a_note_and_only_its_author_rewrites_it(world):
    note = world.marcus.staff_note
    for perm in access.CASEWORKER_PERMS:
        assign_perm(perm, world.caseworker2, world.marcus.exoneree)

    assert access.get_note(world.caseworker2, note.pk) == note
    assert access.get_note(world.caseworker1, note.pk, change=True) == note
    with pytest.raises(PermissionDenied):
        access.get_note(world.caseworker2, note.pk, change=True)
    # Its author, off the caseload and back by an emergency grant, reads it and no more.
    for perm in access.CASEWORKER_PERMS:
        remove_perm(perm, world.caseworker1, world.marcus.exoneree)
    emergency.emergency_access_grant(by=world.caseworker1, exoneree=world.marcus.exoneree, reason=GLASS_REASON)
    author = fresh(world.caseworker1)
    assert access.get_note(author, note.pk) == note
    with pytest.raises(PermissionDenied):
        access.get_note(author, note.pk, change=True)


def test_a_person_reaches_only_their_own_consents_referrals_papers_and_appointments(world):
    marcus_extras(world)
    consent = Consent.objects.get(exoneree=world.marcus.exoneree)
    referral, appointment = world.marcus.referral, world.marcus.follow_up
    document = Document.objects.get(exoneree=world.marcus.exoneree)

    def own(name: str, pk: int, user: Any = world.exoneree1) -> str:
        return outcome(lambda: getattr(access, name)(user, pk))

    assert [own(name, pk) for name, pk in [("get_own_consent", consent.pk), ("get_own_referral", referral.pk)]] == [
        "ok",
        "404",  # a draft is not on his plan
    ]
    for status, expected in [("sent", "ok"), ("in_progress", "ok"), ("cancelled", "404")]:
        Referral.objects.filter(pk=referral.pk).update(status=status)
        assert own("get_own_referral", referral.pk) == expected, status
    Referral.objects.filter(pk=referral.pk).update(status="sent")
    assert own("get_own_document", document.pk) == own("get_own_appointment", appointment.pk) == "ok"
    for name, pk in [
        ("get_own_consent", consent.pk),
        ("get_own_referral", referral.pk),
        ("get_own_document", document.pk),
        ("get_own_appointment", appointment.pk),
    ]:
        assert (own(name, pk, world.exoneree2), own(name, pk, world.caseworker1)) == ("404", "403"), name
    Document.objects.filter(pk=document.pk).update(shown_on_plan=False)
    assert own("get_own_document", document.pk) == "404"
    Document.objects.filter(pk=document.pk).update(shown_on_plan=True, deleted_at=timezone.now())
    assert own("get_own_document", document.pk) == "404"
    assert outcome(lambda: access.get_document(world.caseworker1, document.pk)) == "404"
    FollowUp.objects.filter(pk=appointment.pk).update(shared_with_exoneree=False)
    assert own("get_own_appointment", appointment.pk) == "404"
    FollowUp.objects.filter(pk=appointment.pk).update(shared_with_exoneree=True, done_at=timezone.now())
    assert own("get_own_appointment", appointment.pk) == "404"


def test_a_replaced_document_is_no_longer_on_the_plan_but_its_staff_still_open_it(world):
    older = document_for(world.marcus.exoneree, world.caseworker1)
    newer = document_for(world.marcus.exoneree, world.caseworker1)
    Document.objects.filter(pk=newer.pk).update(replaces=older)

    assert access.get_own_document(world.exoneree1, newer.pk) == newer
    assert outcome(lambda: access.get_own_document(world.exoneree1, older.pk)) == "404"
    assert access.get_document(world.caseworker1, older.pk) == older


def test_opening_a_record_logs_the_person_and_which_record_once(world):
    marcus_extras(world)
    referral = world.marcus.referral
    document = Document.objects.get(exoneree=world.marcus.exoneree)

    def opened(call: Callable[[], Any]) -> list[tuple[Any, Any, str]]:
        token = audit._request.set(audit.RequestContext(ip_address=None, method="GET"))
        try:
            call()
        finally:
            audit._request.reset(token)
        entries = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_VIEWED).order_by("-pk")[:1]
        return [(e.actor, e.exoneree, e.target) for e in entries]

    marcus = world.marcus.exoneree
    assert opened(lambda: access.get_referral(world.caseworker1, referral.pk)) == [
        (world.caseworker1, marcus, f"Referral {referral.pk}")
    ]
    assert opened(lambda: access.get_exoneree(world.director1, marcus.pk)) == [
        (world.director1, marcus, audit.describe(marcus))
    ]
    count = AuditEvent.objects.count()
    access.get_document(world.caseworker1, document.pk)  # a read is logged by its download, not here
    assert opened(lambda: access.get_document(world.caseworker1, document.pk)) and AuditEvent.objects.count() == count
    assert opened(lambda: access.get_document(world.caseworker1, document.pk, change=True)) == [
        (world.caseworker1, marcus, f"Document {document.pk}")
    ]


def test_the_directory_the_staff_and_notifications_stay_with_their_own(world):
    resource = world.marcus.resource
    provider = resource.provider
    assert set(access.resources_visible_to(world.caseworker2)) == {resource, world.thomas.resource}
    assert set(access.providers_visible_to(world.caseworker2)) >= {provider}
    assert provider not in access.providers_visible_to(world.caseworker3)
    for nobody in (world.exoneree1, world.root):
        assert not access.resources_visible_to(nobody).exists()
        assert not access.providers_visible_to(nobody).exists()
        assert not access.staff_visible_to(nobody).exists()
    readers = (world.caseworker2, world.caseworker3)
    assert [outcome(lambda u=u: access.get_resource(u, resource.pk)) for u in readers] == ["ok", "404"]
    assert outcome(lambda: access.get_resource(world.caseworker1, resource.pk, change=True)) == "403"
    assert access.get_resource(world.director1, resource.pk, change=True) == resource

    assert [access.is_director(world.user(p)) for p in ("director1", "caseworker1", "exoneree1", "root")] == [
        True,
        False,
        False,
        False,
    ]
    staff = {member.user for member in access.staff_visible_to(world.director1)}
    assert staff == {world.director1, world.caseworker1, world.caseworker2}
    member = world.caseworker1.staff
    assert access.get_staff_member(world.director1, member.pk) == member
    assert outcome(lambda: access.get_staff_member(world.director2, member.pk)) == "404"
    assert outcome(lambda: access.get_staff_member(world.caseworker2, member.pk)) == "403"


def test_the_caseworkers_of_an_organization_are_its_active_ones_by_name(world):
    first = StaffFactory(organization=world.org1, user__first_name="Abe", user__last_name="Zulu").user
    second = StaffFactory(organization=world.org1, user__first_name="Casey", user__last_name="Adams").user
    gone = StaffFactory(organization=world.org1, user__first_name="Aaron", user__is_active=False).user

    assert list(access.caseworker_users(world.org1)) == [first, second, world.caseworker1, world.caseworker2]
    assert access.get_caseworker(world.director1, first.pk) == first
    assert access.get_caseworker(world.director1, gone.pk) == gone  # switched off: their people to move
    for stranger in (world.director1, world.caseworker3):
        assert outcome(lambda u=stranger: access.get_caseworker(world.director1, u.pk)) == "404"
    notification, _ = (Notification.objects.create(user=world.caseworker1, text=text, url="/") for text in "ab")
    assert access.get_notification(world.caseworker1, notification.pk) == notification
    assert outcome(lambda: access.get_notification(world.caseworker2, notification.pk)) == "404"


def traverse(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


# What each loader loads with the record, because the pages that call it show it.
LOADED_WITH = {
    "get_exoneree": (lambda w: [w.marcus.exoneree.pk], ["organization", "user"]),
    "get_need": (marcus("need"), ["exoneree"]),
    "get_referral": (marcus("referral"), ["need__exoneree", "resource__provider", "created_by"]),
    "get_follow_up": (marcus("follow_up"), ["exoneree", "assigned_to", "need", "referral"]),
    "get_note": (marcus("staff_note"), ["exoneree"]),
    "get_assessment": (marcus("assessment"), ["exoneree", "taken_by"]),
    "get_message": (marcus_message, ["exoneree"]),
    "get_consent": (marcus_consent, ["exoneree", "provider"]),
    "get_claim": (only(CompensationClaim), ["exoneree__organization"]),
    "get_certificate": (only(InnocenceCertificate), ["exoneree"]),
    "get_legal_item": (only(LegalItem), ["exoneree"]),
    "get_document": (marcus_document, ["exoneree"]),
}
OWN_LOADED_WITH = {
    "get_own_consent": (marcus_consent, ["exoneree", "provider"]),
    "get_own_referral": (marcus("referral"), ["need__exoneree", "resource__provider"]),
    "get_own_appointment": (marcus("follow_up"), ["exoneree__organization"]),
    "get_own_document": (marcus_document, []),
}


def test_each_loader_brings_what_its_page_shows_in_the_same_query(world, django_assert_num_queries):
    marcus_extras(world)
    FollowUp.objects.filter(pk=world.marcus.follow_up.pk).update(referral=world.marcus.referral)
    Referral.objects.filter(pk=world.marcus.referral.pk).update(status="sent")
    grant = emergency.emergency_access_grant(by=world.caseworker2, exoneree=world.marcus.exoneree, reason=GLASS_REASON)
    EmergencyAccess.objects.filter(pk=grant.pk).update(reviewed_by=world.director1)

    def load(name: str, user: Any, *args: Any) -> Any:
        """The loader's record, checked to come in queries on its own table only (joins
        bring the rest), once the user's role is cached."""
        getattr(access, name)(user, *args)
        with CaptureQueriesContext(connection) as queries:
            obj = getattr(access, name)(user, *args)
        table = f'FROM "{obj._meta.db_table}"'
        assert [q["sql"] for q in queries.captured_queries if table not in q["sql"]] == [], name
        return obj

    loaded: dict[str, tuple[Any, list[str]]] = {}
    for name, (pks, paths) in LOADED_WITH.items():
        loaded[name] = (load(name, world.caseworker1, *pks(world)), paths)
    for name, (pks, paths) in OWN_LOADED_WITH.items():
        loaded[name] = (load(name, world.exoneree1, *pks(world)), paths)
    loaded["get_resource"] = (load("get_resource", world.caseworker1, world.marcus.resource.pk), ["provider"])
    ended = load("get_emergency_grant_to_end", world.caseworker2, grant.pk)
    reviewed = load("get_emergency_grant", world.director1, grant.pk)
    loaded["get_emergency_grant"] = (reviewed, ["user", "exoneree", "reviewed_by"])
    loaded["get_emergency_grant_to_end"] = (ended, ["user", "exoneree"])

    for name, (obj, paths) in loaded.items():
        with django_assert_num_queries(0):
            assert all(traverse(obj, path) is not None for path in paths), name
    for name in ("get_document", "get_own_document"):  # the data key stays sealed until a download
        assert "data_key" in loaded[name][0].get_deferred_fields()
    with django_assert_num_queries(1):
        assert world.caseworker1 in [member.user for member in access.staff_visible_to(world.director1)]


def test_of_two_records_of_a_kind_the_one_asked_for_is_found(world):
    marcus = world.marcus.exoneree
    two = {
        "get_own_consent": [consent_for(marcus, case.resource.provider) for case in (world.marcus, world.thomas)],
        "get_own_referral": [
            ReferralFactory(need=world.marcus.need, resource=world.marcus.resource, status="sent") for _ in "ab"
        ],
        "get_own_appointment": [FollowUpFactory(exoneree=marcus, shared_with_exoneree=True) for _ in "ab"],
        "get_own_document": [document_for(marcus, world.caseworker1) for _ in "ab"],
    }

    for name, records in two.items():
        assert [getattr(access, name)(world.exoneree1, record.pk) for record in records] == records, name
    grants = [
        emergency.emergency_access_grant(by=caseworker, exoneree=world.marcus.exoneree, reason=GLASS_REASON)
        for caseworker in (world.caseworker2, StaffFactory(organization=world.org1).user)
    ]
    assert [access.get_emergency_grant(world.director1, grant.pk) for grant in grants] == grants
    assert [access.get_emergency_grant_to_end(world.director1, grant.pk) for grant in grants] == grants
