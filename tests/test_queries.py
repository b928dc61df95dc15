"""Query budgets: each main page costs an exact number of queries, the same for N rows as for 4N.

Each page is requested once to warm per-process caches (content types, permissions), then
measured with N extra rows of everything it lists, then again after 3N more. The count is
asserted exactly (on SQLite and PostgreSQL; a test transaction adds the audit entry's
SAVEPOINT and RELEASE, which a server in production does not send), so a page that gains a query fails
until its budget is raised on purpose. bench/pages.py reports the same counts from a real
server on the seeded network (bench/README.md).

What every signed-in request costs before the page's own queries: the session, the user
(with their role, organization or own record, second-factor flag and unread count: one
query, services.auth) and, for staff, the session's second-factor device (django-otp).
A page that opens a person's record also appends to the access log: 4 statements in a test
(savepoint; the chain's head, or on PostgreSQL its advisory lock; the insert, which on
PostgreSQL reads the head itself; release), 2 in production (services.audit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from services import audit, outcome_counts
from services.actions import api_tokens, enrolment, hsds, legal, merges, needs, referrals, release_checks
from services.actions import consent as consent_actions
from services.actions import documents as document_actions
from services.actions import follow_ups as follow_up_actions
from services.actions import people as people_actions
from services.choices import ConsentCategory, NeedDomain, NeedStatus, NoteVisibility, RecordHolder, ReferralStatus
from services.lib.hsds import read_bytes, write_zip
from services.lib.provider_tokens import new_token
from services.models.audit import AuditEvent
from services.models.directory import TaxonomyTerm
from services.models.documents import Document, DocumentKind
from services.models.enrolments import Enrolment
from services.models.legal import ClaimPayment, CompensationClaim, InnocenceCertificate, LegalItem, RecordClearance
from services.models.messages import Message
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.outcomes import OutcomeCount
from services.models.people import Exoneree
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from services.models.retention import LegalHold, RetentionReview
from services.models.transfers import Transfer
from services.selectors.hsds import directory_tables
from tests.conftest import World
from tests.factories import (
    AssessmentFactory,
    CaseNoteFactory,
    ExonereeFactory,
    FollowUpFactory,
    NeedFactory,
    OrganizationFactory,
    ReferralFactory,
    ResourceFactory,
    StaffFactory,
    close_case,
    consent_for,
)
from tests.sample_files import document_for
from tests.test_access import provider_page, send_marcus_referral
from tests.test_merge import marcus_twin

N = 3
# Rows added before the second measure: 3N more, 4N in all, past the dashboard's first 10 rows
# (DASHBOARD_ROWS), so a page that shows a few rows and counts the rest is measured both ways.
MORE = 3 * N
DOMAINS = list(NeedDomain.values)
STATUSES = list(ReferralStatus.values)
DOCUMENT_KINDS = list(DocumentKind.values)
OUTCOME_DOMAINS = [NeedDomain.INCOME, NeedDomain.HOUSING, NeedDomain.HEALTH_COVERAGE]


# The personas built once (tests/conftest.py): each test grows its own rows on it.
pytestmark = pytest.mark.world_built_once


def grow_people(w: World, n: int) -> None:
    for _ in range(n):
        person = ExonereeFactory(organization=w.org1, caseworkers=[w.caseworker1, w.caseworker2])
        NeedFactory(exoneree=person)
        FollowUpFactory(exoneree=person, assigned_to=w.caseworker1)


# A number that called, as a caseworker types it, and the people who gave it (grow_callers).
CALLER = "(312) 555-0150"


def grow_callers(w: World, n: int) -> None:
    """People of caseworker1's who share a number, so a search by it lists them all."""
    for _ in range(n):
        person = ExonereeFactory(organization=w.org1, phone="+1 312-555-0150", caseworkers=[w.caseworker1])
        NeedFactory(exoneree=person)
        FollowUpFactory(exoneree=person, assigned_to=w.caseworker1)


def grow_dashboard(w: World, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        person = ExonereeFactory(organization=w.org1, caseworkers=[w.caseworker1])
        need = NeedFactory(exoneree=person, domain=DOMAINS[i % len(DOMAINS)])
        referral = ReferralFactory(
            need=need,
            resource=ResourceFactory(organization=w.org1),
            status="sent",
            person_answer="not_yet",
            person_words="Nobody called me back",
            person_answered_at=now,
        )
        FollowUpFactory(exoneree=person, assigned_to=w.caseworker1, due_at=now - timedelta(days=1), need=need)
        FollowUpFactory(exoneree=person, assigned_to=w.caseworker1, due_at=now + timedelta(days=2), referral=referral)
        NeedFactory(exoneree=person, ask_state="waiting", own_words="Help me find a coat")  # issue 19
        Message.objects.create(exoneree=person, organization=w.org1, author=w.caseworker1, text="Hi", from_person=True)
        Notification.objects.create(user=w.caseworker1, text="Someone asked for help.", url="/dashboard/")


def grow_resources(w: World, n: int) -> None:
    for i in range(n):
        ResourceFactory(organization=w.org1, domains=[DOMAINS[i % len(DOMAINS)], DOMAINS[(i + 1) % len(DOMAINS)]])


def grow_organization(w: World, n: int) -> None:
    past = timezone.now() - timedelta(days=2)
    for i in range(n):
        caseworker = StaffFactory(organization=w.org1).user
        person = ExonereeFactory(organization=w.org1, caseworkers=[caseworker])
        status = NeedStatus.MET if i % 2 else NeedStatus.OPEN
        need = NeedFactory(exoneree=person, domain=DOMAINS[i % len(DOMAINS)], status=status)
        ReferralFactory(need=need, resource=w.marcus.resource, status=STATUSES[i % len(STATUSES)])
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=past)
        ExonereeFactory(organization=w.org1)  # nobody assigned yet


def grow_outcomes(w: World, n: int) -> None:
    """Rows every outcome figure counts, dated inside the default period (the last 12 months)."""
    today = timezone.localdate()
    for i in range(n):
        caseworker = StaffFactory(organization=w.org1).user
        person = ExonereeFactory(
            organization=w.org1,
            caseworkers=[caseworker],
            release_date=today - timedelta(days=100 + i),
            exoneration_date=today - timedelta(days=100 + i),
        )
        # A claim filed in time and awarded in the period, another due within 90 days, and a
        # record holder confirmed clear in the period.
        deadline = today - timedelta(days=10 + i)
        award = {"stage": "awarded", "filed_on": deadline - timedelta(days=5), "decided_on": today - timedelta(days=5)}
        for fields in ({"deadline_override": deadline, **award}, {"deadline_override": today + timedelta(days=20)}):
            claim = CompensationClaim(jurisdiction="IL", override_reason="The lawyer's", **fields)
            legal.claim_create(by=caseworker, exoneree=person, claim=claim)
        clearance = RecordClearance(holder="court", status="confirmed_clear", confirmed_on=today - timedelta(days=30))
        legal.clearance_save(by=caseworker, exoneree=person, clearance=clearance)
        need = NeedFactory(exoneree=person, domain=OUTCOME_DOMAINS[i % 3], opened_on=today - timedelta(days=60))
        referral = ReferralFactory(need=need, resource=w.marcus.resource)
        consent_for(person, referral.resource.provider, ConsentCategory.values)  # sending needs one
        for status in (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS):
            referrals.referral_transition(by=caseworker, referral=referral, status=status)
        referrals.referral_transition(
            by=caseworker, referral=referral, status=ReferralStatus.COMPLETED, got_service=True
        )
        needs.need_set_status(by=caseworker, need=need, status=NeedStatus.MET)
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=timezone.now() - timedelta(days=2))
        # The check-in a month after release, done (services.actions.release_checks)
        month = timezone.now() - timedelta(days=70 + i)
        FollowUpFactory(exoneree=person, assigned_to=caseworker, due_at=month, done_at=month, release_check=30)
        AssessmentFactory(exoneree=person, taken_on=today - timedelta(days=90), scores={"housing": 2, "income": 1})
        AssessmentFactory(exoneree=person, kind="interim", taken_on=today, scores={"housing": 4, "income": 2})
        if i % 2 == 1:  # housed in between, then homeless again: a return to homelessness
            AssessmentFactory(
                exoneree=person, kind="interim", taken_on=today - timedelta(days=60), scores={"housing": 4}
            )
            AssessmentFactory(
                exoneree=person, kind="interim", taken_on=today - timedelta(days=30), scores={"housing": 1}
            )
        if i % 2 == 0:  # a case opened before the period and closed in it, with its exit (issue 23)
            Enrolment.objects.filter(exoneree=person).update(opened_on=today - timedelta(days=400))
            exit = {"reason": "goals_met", "destination": "permanent_own", "housing_at_exit": "stable"}
            enrolment.close_case(caseworker, person, closed_on=today - timedelta(days=5), **exit)
    outcome_counts.recount(w.org1)  # the factories' rows are counted by a recount, as the nightly task does


def grow_plan(w: World, n: int) -> None:
    marcus = w.marcus.exoneree
    now = timezone.now()
    for i in range(n):
        author = StaffFactory(organization=w.org1).user
        need = NeedFactory(exoneree=marcus, domain=DOMAINS[i % len(DOMAINS)], own_words="In my words")
        referral = ReferralFactory(
            need=need, resource=ResourceFactory(organization=w.org1), status=ReferralStatus.ACCEPTED
        )
        consent_for(marcus, referral.resource.provider, [ConsentCategory.CONTACT, ConsentCategory.HOUSING])
        NeedFactory(exoneree=marcus, status=NeedStatus.MET)
        # Issue 19: his own asks, waiting and answered (in the needs' query).
        NeedFactory(exoneree=marcus, ask_state="waiting", own_words="I need a coat")
        NeedFactory(exoneree=marcus, ask_state="answered", ask_answer="Try the shelter", status=NeedStatus.MET)
        on_plan = {"exoneree": marcus, "assigned_to": author, "shared_with_exoneree": True}
        FollowUpFactory(**on_plan, due_at=now + timedelta(days=i + 1), person_answer="coming")
        FollowUpFactory(**on_plan, due_at=now - timedelta(days=i + 1))
        CaseNoteFactory(exoneree=marcus, author=author, visibility=NoteVisibility.SHARED)
        claim = CompensationClaim(jurisdiction="TX", trigger_event="pardon", trigger_date=timezone.localdate())
        legal.claim_create(by=w.caseworker1, exoneree=marcus, claim=claim)
        item = LegalItem(kind="tax_relief", status="in_progress", started_on=timezone.localdate(), notes="Staff's")
        legal.legal_item_save(by=w.caseworker1, exoneree=marcus, item=item)
    for holder in RecordHolder.values[: min(n, len(RecordHolder.values))]:
        if not marcus.record_clearances.filter(holder=holder).exists():
            clearance = RecordClearance(holder=holder, status="requested", requested_on=timezone.localdate())
            legal.clearance_save(by=w.caseworker1, exoneree=marcus, clearance=clearance)
        document_for(marcus, author, kind=DOCUMENT_KINDS[i % len(DOCUMENT_KINDS)])
    helpers = [StaffFactory(organization=w.org1).user for _ in range(n)]
    current = list(marcus.caseworkers.all())
    people_actions.caseload_assign(by=w.director1, exoneree=marcus, caseworkers=current + helpers)


def grow_visits(w: World, n: int) -> None:
    """Openings of Marcus's file by n more staff, one of them showing his SSN."""
    marcus = w.marcus.exoneree
    for i in range(n):
        action = AuditEvent.Action.SSN_REVEALED if i == 0 else AuditEvent.Action.RECORD_VIEWED
        audit.record(action, actor=StaffFactory(organization=w.org1).user, exoneree=marcus, target="Exoneree")


def grow_messages(w: World, n: int) -> None:
    """Marcus's conversation (issue 19): his messages and his caseworker's, each about one of
    his needs, referrals or follow-ups; more of those to choose from."""
    marcus = w.marcus.exoneree
    for _ in range(n):
        need = NeedFactory(exoneree=marcus)
        referral = ReferralFactory(need=need, resource=ResourceFactory(organization=w.org1), status="sent")
        follow_up = FollowUpFactory(exoneree=marcus, assigned_to=w.caseworker1, shared_with_exoneree=True)
        common = {"exoneree": marcus, "organization": w.org1}
        Message.objects.create(**common, author=w.exoneree1, from_person=True, text="Hi", need=need)
        Message.objects.create(**common, author=w.caseworker1, text="Hello", referral=referral, needs_action=True)
        Message.objects.create(**common, author=w.caseworker1, text="See you", follow_up=follow_up)


def grow_conversations(w: World, n: int) -> None:
    """More of caseworker1's people who wrote, each read or not, some flagged."""
    for i in range(n):
        person = ExonereeFactory(organization=w.org1, caseworkers=[w.caseworker1])
        common = {"exoneree": person, "organization": w.org1}
        Message.objects.create(**common, author=w.caseworker1, text="Hello", needs_action=bool(i % 2))
        Message.objects.create(**common, author=w.caseworker1, text="Hi", from_person=True)


def grow_copy(w: World, n: int) -> None:
    """The person's own copy (issue 23): all of their plan and all of their conversation."""
    grow_plan(w, n)
    grow_messages(w, n)


def grow_retention(w: World, n: int) -> None:
    """Closed cases past their retention (issue 23): held, confirmed, or waiting for review."""
    long_ago = timezone.localdate() - timedelta(days=8 * 366)
    for i in range(n):
        person = ExonereeFactory(organization=w.org1, caseworkers=[w.caseworker1])
        close_case(person, long_ago - timedelta(days=i))
        if i % 3 == 1:
            LegalHold.objects.create(exoneree=person, reason="Civil suit", placed_by=w.director1)
        elif i % 3 == 2:
            RetentionReview.objects.create(
                exoneree=person, case_closed_on=person.case_closed_on, confirmed_by=w.director1
            )


def grow_holds(w: World, n: int) -> None:
    """Legal holds standing (issue 23), on open and closed cases, placed by different directors;
    and as many that are lifted or of the other organization (not listed)."""
    long_ago = timezone.localdate() - timedelta(days=8 * 366)
    for i in range(n):
        person = ExonereeFactory(organization=w.org1, caseworkers=[w.caseworker1])
        if i % 2:
            close_case(person, long_ago - timedelta(days=i))
        director = StaffFactory(organization=w.org1, director=True).user
        LegalHold.objects.create(exoneree=person, reason=f"Civil suit {i}", placed_by=director)
        LegalHold.objects.create(
            exoneree=person, reason="Settled", placed_by=director, lifted_at=timezone.now(), lifted_by=director
        )
        LegalHold.objects.create(exoneree=ExonereeFactory(organization=w.org2), reason="Claim", placed_by=w.director2)


def an_ask(w: World) -> int:
    """Marcus's need, as if he had asked for it on his plan (issue 19)."""
    Need.objects.filter(pk=w.marcus.need.pk).update(ask_state="waiting", own_words="I need a room")
    return w.marcus.need.pk


def grow_check_ins(w: World, n: int) -> None:
    """Marcus released 25 days ago and taken on then (his week's check-in overdue, the month's due
    within the week: both offered on the new-note form), and more of everything else."""
    marcus = w.marcus.exoneree
    marcus.release_date = timezone.localdate() - timedelta(days=25)
    marcus.save(update_fields=["release_date"])
    taken_on = timezone.now() - timedelta(days=26)
    release_checks.release_checks_plan(by=w.caseworker1, exoneree=marcus, now=taken_on)  # once: it skips theirs
    grow_case(w, n)


def grow_case(w: World, n: int) -> None:
    marcus = w.marcus.exoneree
    for i in range(n):
        colleague = StaffFactory(organization=w.org1).user
        need = NeedFactory(exoneree=marcus, domain=DOMAINS[i % len(DOMAINS)], created_by=colleague)
        referral = ReferralFactory(need=need, resource=ResourceFactory(organization=w.org1), created_by=colleague)
        consent = consent_for(marcus, referral.resource.provider, [ConsentCategory.CONTACT, ConsentCategory.MEDICAL])
        referrals.referral_transition(by=colleague, referral=referral, status=ReferralStatus.SENT)
        # a question from its provider, every other one answered: lines of the history
        ask_and_answer(referral, answered_by=colleague if i % 2 else None)
        if i % 2:  # flags the sent referral: the page lists it in a banner
            consent_actions.consent_revoke(by=colleague, consent=consent, how="staff")
        FollowUpFactory(exoneree=marcus, assigned_to=colleague, need=need, referral=referral)
        # each done by another colleague: the history names them, in the same query
        FollowUpFactory(
            exoneree=marcus, assigned_to=colleague, done_at=timezone.now(), done_by=colleague, outcome="Done"
        )
        CaseNoteFactory(exoneree=marcus, author=colleague)
        # an appointment no longer shared with him: a line of the history, read from the log
        unshared = FollowUpFactory(exoneree=marcus, assigned_to=w.caseworker1, shared_with_exoneree=True)
        unshared.shared_with_exoneree = False
        follow_up_actions.follow_up_save(by=w.caseworker1, exoneree=marcus, follow_up=unshared)
        AssessmentFactory(exoneree=marcus, taken_by=colleague, scores={"housing": 2, "food": 3, "legal": 4})
        claim = CompensationClaim(jurisdiction="IL", deadline_override=timezone.localdate(), override_reason="Due")
        legal.claim_create(by=w.caseworker1, exoneree=marcus, claim=claim)  # in the banner
        document_for(marcus, colleague, kind=DOCUMENT_KINDS[i % len(DOCUMENT_KINDS)], shown_on_plan=bool(i % 2))
    current = list(marcus.caseworkers.all())
    helpers = [StaffFactory(organization=w.org1).user for _ in range(n)]
    people_actions.caseload_assign(by=w.director1, exoneree=marcus, caseworkers=current + helpers)


def grow_history(w: World, n: int) -> None:
    """grow_case, with the rest of what the history tells: consents run out, papers deleted
    (and one whose row is gone, told from the log), messages both ways, claims moved on (from
    the log), certificates applied for, legal items started."""
    grow_case(w, n)
    marcus = w.marcus.exoneree
    today = timezone.localdate()
    for i in range(n):
        colleague = StaffFactory(organization=w.org1).user
        ended = {"starts_on": today - timedelta(days=60), "ends_on": today - timedelta(days=30)}
        consent_for(marcus, ResourceFactory(organization=w.org1).provider, **ended)
        paper = document_for(marcus, colleague, kind=DOCUMENT_KINDS[i % len(DOCUMENT_KINDS)])
        document_actions.document_delete(by=colleague, document=paper)
        common = {"exoneree": marcus, "organization": w.org1}
        Message.objects.create(**common, author=w.exoneree1, from_person=True, text="Hi")
        Message.objects.create(**common, author=colleague, text="Hello")
        claim = CompensationClaim(jurisdiction="IL")
        legal.claim_create(by=colleague, exoneree=marcus, claim=claim)
        claim.stage, claim.filed_on = "filed", today
        legal.claim_update(by=colleague, claim=claim)
        certificate = InnocenceCertificate(court=f"Court {i}", status="applied", applied_on=today)
        legal.certificate_save(by=colleague, exoneree=marcus, certificate=certificate)
        legal.legal_item_save(by=colleague, exoneree=marcus, item=LegalItem(kind="civil_rights_suit", started_on=today))
    gone = document_for(marcus, w.caseworker1)
    Document.objects.filter(pk=gone.pk).delete()  # as a de-identification leaves it: in the log only


def grow_person_page(w: World, n: int) -> None:
    """grow_case, with what the person page reads in the record's query growing too: earlier
    stays of the case, closed (the page shows the latest, open), holds lifted and one standing."""
    grow_case(w, n)
    marcus = w.marcus.exoneree
    stays = Enrolment.objects.filter(exoneree=marcus).count()
    for i in range(n):
        opened_on = date(2000, 1, 1) + timedelta(days=10 * (stays + i))
        closed_on = opened_on + timedelta(days=5)
        Enrolment.objects.create(exoneree=marcus, opened_on=opened_on, closed_on=closed_on, exit_reason="goals_met")
        director = StaffFactory(organization=w.org1, director=True).user
        LegalHold.objects.create(
            exoneree=marcus, reason="Settled", placed_by=director, lifted_at=timezone.now(), lifted_by=director
        )
    if not LegalHold.objects.filter(exoneree=marcus, lifted_at__isnull=True).exists():
        LegalHold.objects.create(exoneree=marcus, reason="Civil suit", placed_by=w.director1)
    # the sent referrals still covered by consent accepted, with the contact and start day the
    # provider gave: each referral's line names them
    sent = Referral.objects.filter(need__exoneree=marcus, status=ReferralStatus.SENT, consent_revoked_at__isnull=True)
    for referral in sent:
        referrals.referral_transition(
            by=w.caseworker1,
            referral=referral,
            status=ReferralStatus.ACCEPTED,
            provider_contact=f"Contact for referral {referral.pk}",
            expected_on=timezone.localdate() + timedelta(days=14),
        )


def grow_legal(w: World, n: int) -> None:
    """More claims (with payments), certificates, record holders and other items for Marcus."""
    marcus = w.marcus.exoneree
    today = timezone.localdate()
    holders = [h for h in RecordHolder.values if not marcus.record_clearances.filter(holder=h).exists()]
    for i in range(n):
        colleague = StaffFactory(organization=w.org1).user
        claim = CompensationClaim(
            jurisdiction="IL" if i % 2 else "US",
            trigger_event="vacatur_dismissal",
            trigger_date=today - timedelta(days=30 + i),
            deadline_override=today + timedelta(days=40 + i) if i % 3 == 0 else None,
            override_reason="The lawyer's" if i % 3 == 0 else "",
        )
        legal.claim_create(by=w.caseworker1, exoneree=marcus, claim=claim)
        if i % 3 == 0:  # who set the override: loaded with the claim
            CompensationClaim.objects.filter(pk=claim.pk).update(override_by=colleague)
        payment = ClaimPayment(received_on=today, amount=Decimal("100.00") + i)
        legal.payment_create(by=w.caseworker1, claim=claim, payment=payment)
        certificate = InnocenceCertificate(court=f"Court {i}", status="applied")
        legal.certificate_save(by=w.caseworker1, exoneree=marcus, certificate=certificate)
        legal.legal_item_save(by=w.caseworker1, exoneree=marcus, item=LegalItem(kind="civil_rights_suit"))
        if holders:  # one row per holder: there are six
            clearance = RecordClearance(holder=holders.pop(), status="requested", requested_on=today)
            legal.clearance_save(by=w.caseworker1, exoneree=marcus, clearance=clearance)


def grow_provider_page(w: World, n: int) -> None:
    """More needs in the category the referral shares, more consents, and more questions from
    the provider (every other one answered, each by another colleague)."""
    if not w.marcus.referral.provider_links.exists():
        send_marcus_referral(w)
    for i in range(n):
        NeedFactory(exoneree=w.marcus.exoneree, domain="housing", description="Another room")
        consent_for(w.marcus.exoneree, w.marcus.resource.provider)
        ask_and_answer(w.marcus.referral, answered_by=StaffFactory(organization=w.org1).user if i % 2 else None)


def grow_referral_page(w: World, n: int) -> None:
    """The provider page's rows, and more links that work (rows, beside the cap of
    referral_reminders.link_issue): whether consent covers them is asked once, not per link."""
    grow_provider_page(w, n)
    referral = w.marcus.referral
    until = timezone.now() + timedelta(days=w.org1.provider_link_days)
    ProviderLink.objects.bulk_create(
        [ProviderLink(referral=referral, token_hash=new_token()[1], expires_at=until) for _ in range(n)]
    )


def ask_and_answer(referral: Referral, *, answered_by: Any) -> None:
    """A question from the referral's provider, answered by `answered_by` (None: not yet)."""
    answered = {"answer": "Yes", "answered_at": timezone.now(), "answered_by": answered_by} if answered_by else {}
    ProviderQuestion.objects.create(
        referral=referral, provider=referral.resource.provider, text="Can he start on Monday?", **answered
    )


def provider_path(w: World) -> str:
    if not w.marcus.referral.provider_links.exists():
        send_marcus_referral(w)
    return provider_page(w)


def referral_path(w: World) -> str:
    if not w.marcus.referral.provider_links.exists():
        send_marcus_referral(w)
    return w.marcus.referral.get_absolute_url()


def grow_terms(w: World, n: int) -> None:
    """Taxonomy terms of other directories, mapped and not."""
    start = TaxonomyTerm.objects.count()
    TaxonomyTerm.objects.bulk_create(
        [
            TaxonomyTerm(
                organization=w.org1, hsds_id=f"term-{start + i}", name=f"Term {start + i}", domain=DOMAINS[i % 2]
            )
            for i in range(n)
        ]
    )


def hsds_preview_of_the_directory(w: World) -> str:
    """The preview of an upload of org1's own directory, exported (every row already there)."""
    tables = read_bytes(write_zip(directory_tables(w.director1)))
    return reverse("hsds_import_preview", args=[hsds.hsds_upload(by=w.director1, file_name="x.zip", tables=tables).pk])


# Merging duplicates (issue 23).


def grow_twins(w: World, n: int) -> None:
    """n more records of Marcus (found by the duplicate check), half of them merged into his."""
    for i in range(n):
        twin = marcus_twin(w)
        if i % 2:
            merges.merge_people(by=w.director1, kept=w.marcus.exoneree, duplicate=twin)


def grow_twin_rows(w: World, n: int) -> None:
    """More rows on Marcus's twin: the merge page counts them, it does not load them."""
    twin = first_twin(w)
    for _ in range(n):
        need = NeedFactory(exoneree=twin)
        FollowUpFactory(exoneree=twin, need=need, assigned_to=w.caseworker1)
        CaseNoteFactory(exoneree=twin, author=w.caseworker1)
        AssessmentFactory(exoneree=twin, taken_by=w.caseworker1)


def first_twin(w: World) -> Any:
    twins = Exoneree.objects.current().filter(legal_name="Marcus Whitfield").exclude(pk=w.marcus.exoneree.pk)
    return twins.order_by("pk").first() or marcus_twin(w)


# Transfers (issue 23).


def grow_network(w: World, n: int) -> None:
    """N more organizations sharing their counts with the Network, each with kept counts of every
    figure the Network's page reads, dated in its default period."""
    day = timezone.localdate() - timedelta(days=10)
    for i in range(n):
        organization = OrganizationFactory(shares_network_figures=True)
        cells = [
            ("referrals", "sent", None, ""),
            ("referrals", "completed", None, ""),
            ("follow_ups", "on_time", w.caseworker1, ""),
            ("housing", "30_housed", None, ""),
            ("scores", "better", None, "income"),
        ]
        OutcomeCount.objects.bulk_create(
            OutcomeCount(organization=organization, figure=f, key=k, caseworker=c, domain=d, day=day, count=11 + i)
            for f, k, c, d in cells
        )


def grow_transfers(w: World, n: int) -> None:
    """n more people of org1 waiting to be transferred to org2, and n more organizations."""
    for _ in range(n):
        person = ExonereeFactory(organization=w.org1)
        Transfer.objects.create(
            exoneree=person,
            from_organization=w.org1,
            to_organization=w.org2,
            parts=["needs"],
            proposed_by=w.caseworker1,
        )
        OrganizationFactory()


def first_transfer(w: World) -> int:
    transfer = Transfer.objects.order_by("pk").first()
    if transfer is None:
        grow_transfers(w, 1)
        transfer = Transfer.objects.order_by("pk").first()
    return transfer.pk


def caseworker1s_overdue(w: World) -> str:
    return reverse("follow_up_list") + f"?caseworker={w.caseworker1.pk}&due=overdue"


def people_of_caseworker1(w: World) -> str:
    return reverse("exoneree_list") + f"?caseworker={w.caseworker1.pk}"


# (id, persona, path, grower, budget). The outcome records page (the drill-down lists, over the
# records) keeps only the "does not grow" check and a ceiling.
OUTCOMES_CEILING = 16
PAGES: list[tuple[str, str, Callable[[World], str], Callable[[World, int], None], int | None]] = [
    # session, user, device; the count, the page of people (with their caseworkers' names)
    ("people-caseworker", "caseworker1", lambda w: reverse("exoneree_list"), grow_people, 5),
    # the same, searched by a phone number: its blind index is computed, not queried
    (
        "people-by-phone",
        "caseworker1",
        lambda w: reverse("exoneree_list") + f"?{urlencode({'q': CALLER})}",
        grow_callers,
        5,
    ),
    # and for a director, the caseworkers to filter by
    ("people-director", "director1", lambda w: reverse("exoneree_list"), grow_people, 6),
    # the open cases nobody is assigned to (grow_organization leaves one of each pair so)
    ("people-unassigned", "director1", lambda w: reverse("exoneree_list") + "?case=unassigned", grow_organization, 6),
    # one caseworker's people: and the chosen caseworker, read once; whether their people
    # grow (grow_people) or the organization's caseworkers do (grow_organization)
    *(
        (f"people-of-a-caseworker-{grow.__name__}", "director1", people_of_caseworker1, grow, 7)
        for grow in (grow_people, grow_organization)
    ),
    # Transfers (issue 23). Session, user, device; the record (with the change permission), its
    # access-log entry (4); the organizations to choose from
    (
        "transfer-propose",
        "caseworker1",
        lambda w: reverse("transfer_propose", args=[w.marcus.exoneree.pk]),
        grow_transfers,
        9,
    ),
    # session, user, device; the transfers waiting (with the person's name and the sender)
    ("transfer-list", "director2", lambda w: reverse("transfer_list"), grow_transfers, 4),
    # session, user, device; the transfer (with its person and sender); the access-log entry (4)
    ("transfer-answer", "director2", lambda w: reverse("transfer_answer", args=[first_transfer(w)]), grow_transfers, 8),
    # Merging duplicates (issue 23). Session, user, device; the record, its access-log entry (4);
    # the duplicate check's matches, those the director sees; the merges into the person
    (
        "merge-candidates",
        "director1",
        lambda w: reverse("merge_candidates", args=[w.marcus.exoneree.pk]),
        grow_twins,
        11,
    ),
    # session, user, device; both records and their access-log entries; for every relation to
    # a person, its rows counted, and for the few with a unique key, the clash check: a fixed
    # number, whatever the rows (the merge itself moves them in batches); the follow-ups' clash
    # check is the check-ins after release (one of each per person)
    (
        "merge-people",
        "director1",
        lambda w: reverse("merge_people", args=[w.marcus.exoneree.pk, first_twin(w).pk]),
        grow_twin_rows,
        45,
    ),
    # + the caseload (all of it, with its figures), the first overdue and due-soon follow-ups
    # and the first open needs (each with their count), recent referrals, the people's answers,
    # the first asks waiting for an answer and messages waiting for staff (each with their count),
    # the latest unread news from their people
    ("dashboard", "caseworker1", lambda w: reverse("dashboard"), grow_dashboard, 12),
    # + the count, the page
    ("follow-ups", "caseworker1", lambda w: reverse("follow_up_list") + "?due=overdue", grow_dashboard, 5),
    # + the caseworker chosen, the choices, the count, the page (the overview's overdue links)
    ("follow-ups-director", "director1", caseworker1s_overdue, grow_dashboard, 7),
    ("needs", "caseworker1", lambda w: reverse("need_list"), grow_dashboard, 5),
    # + the count, the page (with the domains each serves)
    ("resources", "caseworker1", lambda w: reverse("resource_list"), grow_resources, 5),
    ("resources-domain", "caseworker1", lambda w: reverse("resource_list") + "?domain=housing", grow_resources, 5),
    # a synonym ("food stamps" is also SNAP and EBT) widens the one search, not the query count
    ("resources-synonyms", "caseworker1", lambda w: reverse("resource_list") + "?q=food+stamps", grow_resources, 5),
    # session, user, device; the resource (with its provider), the open needs of the caseload;
    # their people with an open case and the resource's first need domain (to record a need first)
    (
        "resource-refer",
        "caseworker1",
        lambda w: reverse("resource_refer", args=[w.marcus.resource.pk]),
        grow_dashboard,
        7,
    ),
    # + counted after each write (grow's): referrals by status, needs by domain, open cases and
    # overdue follow-ups by caseworker, people; then those fallen due since, the caseworkers,
    # unassigned (cached: 3 + 3, and the cache's table when the cache is the database)
    ("director", "director1", lambda w: reverse("director_dashboard"), grow_organization, 11),
    # session, user, device; the kept counts of referrals, housing and self-sufficiency; needs;
    # the kept counts of follow-ups (with the assignees), today's overdue ones; benefits;
    # the caseworkers of the filter (issue 5: at most 12); closing the loop (issue 17): the
    # referrals sent, the median's times, the stalled ones; legal remedies (issue 18): claims by
    # deadline, deadlines within 90 days, awards (with the median's dates), records per holder;
    # a record's life (issue 23): the people served, the exits by reason and destination; the
    # purges under retention since the period began (their note); returns to homelessness; the
    # check-ins after release
    ("outcomes", "director1", lambda w: reverse("outcome_dashboard"), grow_outcomes, 20),
    # the same figures as one CSV (the month-end report), computed whatever the cache holds, and
    # its access-log entry
    (
        "outcomes-csv-every",
        "director1",
        lambda w: reverse("outcome_dashboard") + "?format=csv&figure=all",
        grow_outcomes,
        22,
    ),
    # session, user (with the analyst's role), device; how many organizations share, their kept
    # counts summed (one query, however many organizations); the access-log entry (4)
    ("network", "analyst", lambda w: reverse("network_figures"), grow_network, 9),
    (
        "outcome-records",
        "director1",
        lambda w: reverse("outcome_records") + "?figure=referrals&group=completed&measure=count",
        grow_outcomes,
        None,
    ),
    (  # the overview's referrals under way, every one ever made
        "outcome-records-referral-status",
        "director1",
        lambda w: reverse("outcome_records") + "?from=1900-01-01&figure=referral_status&group=under_way&measure=count",
        grow_outcomes,
        None,
    ),
    # Retention (issue 23): session, user, device; the closed cases due within 30 days (with
    # whether each is held or confirmed), their active holds (with who placed them), their
    # confirmations (with who gave them)
    ("retention-review", "director1", lambda w: reverse("retention_review"), grow_retention, 6),
    # session, user, device; nothing else (the organization comes with the user's staff role)
    ("organization-settings", "director1", lambda w: reverse("organization_settings"), grow_organization, 3),
    # session, user, device; the count, the page of standing holds (with the person and who
    # placed each)
    ("legal-holds", "director1", lambda w: reverse("legal_hold_list"), grow_holds, 5),
    # The chain check: session, user, device; where the part checked begins, its entries (one
    # batch, and the empty one that ends it), the organization's span of them, the latest
    # sealed checkpoint (none here). It grows by a batch per 2,000 entries, up to the window.
    ("audit-check", "director1", lambda w: reverse("audit_check"), grow_visits, 8),
    # session, user, device; the staff (with their accounts and whether each has a second
    # factor), the sign-in lockouts among them
    ("staff-list", "director1", lambda w: reverse("staff_list"), grow_organization, 5),
    # session, user, device; the staff member (with their account); whether they have a second
    # factor, one query per kind of device (when the account was not otherwise taken up)
    ("staff-edit", "director1", lambda w: reverse("staff_edit", args=[w.caseworker2.staff.pk]), grow_organization, 6),
    # session, user, device; the caseworker, their people, the other caseworkers with the
    # size of their caseloads
    ("caseload-move", "director1", lambda w: reverse("caseload_move", args=[w.caseworker1.pk]), grow_people, 7),
    # session, user (with their record); needs, referrals, the next and the missed dates (one
    # query), notes, caseworkers, who opened the record, consents (with their categories); their
    # compensation claims, their record holders and other legal items (one query); the documents
    # on their plan (the papers' checklist reads the needs loaded above)
    ("my-plan", "exoneree1", lambda w: reverse("my_plan"), grow_plan, 12),
    # session, user (with their record and unread messages); marking what they read, the
    # thread (with authors and what each message points to), the referrals it points to and
    # those that read the same (told apart by their day), the needs, referrals and follow-ups a
    # message may point to
    ("my-messages", "exoneree1", lambda w: reverse("my_messages"), grow_messages, 8),
    # session, user, device; the count, the page of conversations (with their latest moment,
    # what is unread and what needs action)
    ("conversations", "caseworker1", lambda w: reverse("conversation_list"), grow_conversations, 5),
    # session, user (with their record); the openings of their file (with who opened it)
    ("my-visits", "exoneree1", lambda w: reverse("my_visits"), grow_visits, 3),
    # session, user (with their record); their asks (grow_plan adds two a round)
    ("my-asks", "exoneree1", lambda w: reverse("my_asks"), grow_plan, 3),
    # session, user, device; the record (with the change permission), the access-log entry (4);
    # marking read (and the notices of what was read, when the header counted any unread: none
    # here), the thread, the referrals it points to and those that read the same, what a message
    # may point to (3)
    (
        "exoneree-messages",
        "caseworker1",
        lambda w: reverse("exoneree_messages", args=[w.marcus.exoneree.pk]),
        grow_messages,
        14,
    ),
    # the same without marking read (a director only looks on)
    (
        "exoneree-messages-director",
        "director1",
        lambda w: reverse("exoneree_messages", args=[w.marcus.exoneree.pk]),
        grow_messages,
        13,
    ),
    # session, user, device; the need (with the person), the access-log entry (4)
    ("ask-answer", "caseworker1", lambda w: reverse("need_ask_answer", args=[an_ask(w)]), grow_case, 9),
    # session, user (with their record): the form is their record's own fields
    ("contact-wishes", "exoneree1", lambda w: reverse("my_contact_wishes"), grow_plan, 2),
    # The person's own copy (issue 23). Theirs: session, user (with their record); the plan's
    # queries (as on my-plan, but every date and note), the whole thread (with what each message
    # points to, and the referrals that read the same), the export's access-log entry (4)
    ("own-copy", "exoneree1", lambda w: reverse("my_copy_json"), grow_copy, 18),
    # On their behalf: session, user, device; the record, the opening's access-log entry (4);
    # the same as theirs
    (
        "own-copy-staff",
        "caseworker1",
        lambda w: reverse("exoneree_copy_json", args=[w.marcus.exoneree.pk]),
        grow_copy,
        24,
    ),
    # no session: the rate-limit counters are in the cache; the link (with its referral,
    # person, resource, provider, organization and caseworker), what the referral carries,
    # the consents that cover it, the needs of those categories, its provider's questions (with
    # the answers); the access-log entry
    # (SQLite: the chain's head and the insert; PostgreSQL: the lock and the insert), in a
    # savepoint here (two more; none in production, where no transaction is open around it)
    ("provider-page", "anonymous", provider_path, grow_provider_page, 9),
    # session, user, device; the referral (with its person, resource, provider and creator),
    # the access-log entry (4); whether the user may change it; its links (with who revoked
    # them), whether consent still covers what it shares (once, for all its links: what the
    # provider's page obeys), notices, the provider's questions (with who answered them), its
    # categories, its status changes (with who made them)
    ("referral-detail", "caseworker1", referral_path, grow_referral_page, 15),
    # the same for a director, who reads and changes nothing (their role says so: no query)
    ("referral-detail-director", "director1", referral_path, grow_referral_page, 14),
    # session, user, device; the record (with the change permission, the caseworkers' names,
    # and, each as a short list in the same query: the case's enrolments (issue 23: open
    # since, or closed with its exit), the legal hold standing with who placed it (issue 23),
    # the claims (the banners) and the assessments (with their score counts)), the access-log
    # entry (4, see above); needs, their referrals, follow-ups (open, and the latest done),
    # notes, consents (with their categories); the documents (with who uploaded them; the
    # papers' checklist reads the needs the page loaded, issue 24). 12 in production, as
    # bench/pages.py measured before the documents, claims, enrolment and hold came (16 with them).
    ("exoneree-detail", "caseworker1", lambda w: w.marcus.exoneree.get_absolute_url(), grow_person_page, 14),
    (
        "exoneree-detail-director",
        "director1",
        lambda w: w.marcus.exoneree.get_absolute_url(),
        grow_person_page,
        14,
    ),
    # A record's life (issue 23): session, user, device; the record (with the change
    # permission), the access-log entry (4): the form to close the case, and their claims (for
    # a filing deadline still ahead, whose reminders closing stops), their open needs (whether a
    # provider served each)
    ("case-close", "caseworker1", lambda w: reverse("case_close", args=[w.marcus.exoneree.pk]), grow_case, 10),
    # the same for the director's form to restrict who sees the record
    ("restriction", "director1", lambda w: reverse("restriction", args=[w.marcus.exoneree.pk]), grow_case, 8),
    # and the person's legal hold (with who placed it), or the form to place one; the holds
    # lifted already (with who placed and who lifted each, and why)
    (
        "exoneree-legal-hold",
        "director1",
        lambda w: reverse("exoneree_legal_hold", args=[w.marcus.exoneree.pk]),
        grow_case,
        10,
    ),
    # session, user, device; the record, the access-log entry (4); claims (with who set an
    # override), their payments, certificates, record holders, other legal items, the papers
    # attached to the claims and certificates
    (
        "exoneree-legal",
        "caseworker1",
        lambda w: reverse("exoneree_legal", args=[w.marcus.exoneree.pk]),
        grow_legal,
        14,
    ),
    (
        "exoneree-legal-director",
        "director1",
        lambda w: reverse("exoneree_legal", args=[w.marcus.exoneree.pk]),
        grow_legal,
        14,
    ),
    # session, user, device; the payment (with its claim and person), the change permission,
    # the access-log entry (4): the correction form
    (
        "payment-edit",
        "caseworker1",
        lambda w: reverse("payment_edit", args=[first_payment(w)]),
        grow_legal,
        9,
    ),
    # session, user, device; the record (with its legal records' dates), the access-log entry;
    # needs, done follow-ups, notes, assessments, referral events; the log's changes of what is
    # shared with the person, and the records they name (one query per kind: follow-ups here);
    # the provider's questions (with who answered them); consents (with their provider and who
    # recorded or withdrew them); papers (with who added or deleted them), the log's papers, and
    # whether those of them without a row here are on another record; messages (with their
    # authors); the log's moves of the claims from stage to stage
    (
        "exoneree-history",
        "caseworker1",
        lambda w: reverse("exoneree_history", args=[w.marcus.exoneree.pk]),
        grow_history,
        22,
    ),
    # session, user, device; the record, the access-log entry; the count, the page
    (
        "exoneree-done-follow-ups",
        "caseworker1",
        lambda w: reverse("exoneree_done_follow_ups", args=[w.marcus.exoneree.pk]),
        grow_case,
        10,
    ),
    # session, user, device; the record (with the change permission), the access-log entry
    # (4); the check-ins after release a note may close
    ("note-create", "caseworker1", lambda w: reverse("note_create", args=[w.marcus.exoneree.pk]), grow_check_ins, 9),
    # session, user, device; the record (with the change permission), the access-log entry
    # (4); the person's needs, their referrals (with the resource): the choices of "about"
    (
        "follow-up-record-done",
        "caseworker1",
        lambda w: reverse("follow_up_record_done", args=[w.marcus.exoneree.pk]),
        grow_case,
        10,
    ),
    # session, user, device; the record (with the change permission), the access-log entry
    # (4); the person's consents, for a signed release's; their claims and certificates, for a
    # court order's or a certificate's
    (
        "document-upload",
        "caseworker1",
        lambda w: reverse("document_upload", args=[w.marcus.exoneree.pk]),
        grow_case,
        11,
    ),
    # session, user, device; the document (with its person), the change permission, the
    # access-log entry (4); the consents, the claims, the certificates
    (
        "document-replace",
        "caseworker1",
        lambda w: reverse("document_replace", args=[marcus_document(w)]),
        grow_case,
        12,
    ),
    # session, user, device; the document (with its person), the change permission, the
    # access-log entry (4): "Delete …?", the confirmation
    (
        "document-delete",
        "caseworker1",
        lambda w: reverse("document_delete", args=[marcus_document(w)]),
        grow_case,
        9,
    ),
    # session, user, device; the document through the gate, then with its data key; the
    # download's access-log entry (4). The file is read from storage, not the database.
    (
        "document-download",
        "caseworker1",
        lambda w: reverse("document_download", args=[marcus_document(w)]),
        grow_case,
        9,
    ),
    # session, user, device: the upload form
    ("hsds-import", "director1", lambda w: reverse("hsds_import"), grow_resources, 3),
    # session, user, device; the upload; the providers, the resources, their domains, the terms
    ("hsds-preview", "director1", hsds_preview_of_the_directory, grow_resources, 8),
    # session, user, device; the count, the page of terms
    ("hsds-terms", "director1", lambda w: reverse("hsds_terms"), grow_terms, 5),
    # session, user, device; providers, resources (with their domains); the access-log entry (4)
    ("hsds-export", "director1", lambda w: reverse("hsds_export"), grow_resources, 9),
    # session, user, device; the count, the page (with providers and domains)
    ("hsds-services", "caseworker1", lambda w: reverse("hsds_services"), grow_resources, 5),
    ("hsds-organizations", "caseworker1", lambda w: reverse("hsds_organizations"), grow_resources, 5),
    # session, user, device; the service (with its provider and domains)
    (
        "hsds-service",
        "caseworker1",
        lambda w: reverse("hsds_service", args=[w.marcus.resource.hsds_id]),
        grow_resources,
        4,
    ),
    # session, user, device; the organization, its services
    (
        "hsds-organization",
        "caseworker1",
        lambda w: reverse("hsds_organization", args=[w.marcus.resource.provider.hsds_id]),
        grow_resources,
        5,
    ),
    # session, user (with their own record): the form
    ("my-document-upload", "exoneree1", lambda w: reverse("my_document_upload"), grow_plan, 2),
    # session, user; the document on their plan, then with its data key; the log entry (4)
    (
        "my-document-download",
        "exoneree1",
        lambda w: reverse("my_document_download", args=[marcus_document(w, on_plan=True)]),
        grow_plan,
        8,
    ),
]


def first_payment(w: World) -> int:
    """Marcus's first payment (grow_legal records one per claim), added here when there is none yet."""
    payment = ClaimPayment.objects.filter(claim__exoneree=w.marcus.exoneree).order_by("pk").first()
    if payment is None:
        grow_legal(w, 1)
        payment = ClaimPayment.objects.filter(claim__exoneree=w.marcus.exoneree).order_by("pk").first()
    return payment.pk


def marcus_document(w: World, *, on_plan: bool = False) -> int:
    """Marcus's first document (on his plan, with `on_plan`), added here when there is none yet."""
    documents = Document.objects.filter(exoneree=w.marcus.exoneree)
    first = (documents.filter(shown_on_plan=True) if on_plan else documents).order_by("pk").first()
    return (first or document_for(w.marcus.exoneree, w.caseworker1)).pk


def measure(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    ("persona", "path", "grow", "budget"), [page[1:] for page in PAGES], ids=[page[0] for page in PAGES]
)
def test_query_count_is_the_budget_and_does_not_grow_with_rows(login, world, persona, path, grow, budget):
    client = login(persona)
    measure(client, path(world))  # warm-up

    grow(world, N)
    small = measure(client, path(world))
    grow(world, MORE)
    large = measure(client, path(world))

    extra = "\n".join(large[len(small) :]) if len(large) > len(small) else ""
    assert len(large) == len(small), f"{len(small)} queries for N rows, {len(large)} for 4N; the extra ones:\n{extra}"
    if budget is None:
        assert len(large) <= OUTCOMES_CEILING, "\n".join(large)
    else:
        assert len(large) == budget, "\n".join(large)


def test_the_growers_really_add_rows_to_the_pages(login, world):
    """Guards the test above: a grower that added nothing visible would prove nothing."""
    client = login("caseworker1")
    grow_people(world, N)
    grow_resources(world, N)
    people = client.get(reverse("exoneree_list")).context["page"].paginator.count
    resources = client.get(reverse("resource_list")).context["page"].paginator.count
    grow_person_page(world, N)
    detail_page = client.get(world.marcus.exoneree.get_absolute_url())
    detail, detail_html = detail_page.context, detail_page.content.decode()
    grow_legal(world, N)
    legal_page = client.get(reverse("exoneree_legal", args=[world.marcus.exoneree.pk])).context

    assert people == 1 + N
    assert resources == 2 + N
    assert len(detail["needs"]) == 1 + N
    assert detail_html.count("Contact at the provider: Contact for referral") >= N // 2  # the unflagged
    assert len(detail["follow_ups_done"]) == N
    assert len(detail["claims_due"]) == N
    assert len(detail["assessments"]) == 1 + N
    assert detail["enrolment"].closed_on is None  # the latest, open, of 1 + N
    assert detail["legal_hold"].reason == "Civil suit"
    assert len(legal_page["claims"]) == 2 * N  # grow_case's and grow_legal's
    assert sum(len(row.payments) for row in legal_page["claims"]) == N
    assert len(legal_page["certificates"]) == len(legal_page["items"]) == N
    assert sum(1 for _, _, clearance in legal_page["holders"] if clearance) == N


def test_the_callers_grower_adds_people_the_search_by_their_number_lists(login, world):
    client = login("caseworker1")
    grow_callers(world, N)

    found = client.get(reverse("exoneree_list"), {"q": CALLER}).context["page"].paginator.count

    assert found == N


def test_the_history_grower_adds_every_kind_of_line(login, world):
    grow_history(world, N)

    page = login("caseworker1").get(reverse("exoneree_history", args=[world.marcus.exoneree.pk])).context["page"]

    kinds = {entry.kind for entry in page}
    assert page.paginator.num_pages == 1
    assert {"Need", "Referral", "Follow-up", "Note", "Sharing", "Assessment"} <= kinds
    assert {"Consent", "Paper", "Message", "Legal"} <= kinds
    # N deleted with their rows kept, one whose row is gone (its deletion is not in the log)
    assert sum(entry.text.startswith("Paper deleted") for entry in page) == N


def test_the_outcome_grower_adds_rows_to_every_figure(login, world):
    grow_outcomes(world, N)

    figures = login("director1").get(reverse("outcome_dashboard")).context["figures"]

    for figure in figures:
        assert any(cell.value for row in figure.rows for cell in row.cells), figure.name


# --- the API ----------------------------------------------------------------------------------------
# A token request costs: the token (with its user, staff role and organization), its "last used"
# (at most once a minute: not in these measures, which come after the warm-up), the throttle's
# count (the cache, not the database). A page of a person's records: the person through access
# and the access-log entry (4), then the page.


def grow_tokens(w: World, n: int) -> None:
    for i in range(n):
        api_tokens.token_create(by=w.caseworker1, name=f"Sync {i}", scope="read")


def api_path(name: str, *args: Callable[[World], int]) -> Callable[[World], str]:
    return lambda w: reverse(f"api:{name}", args=[arg(w) for arg in args])


def marcus_pk(w: World) -> int:
    return w.marcus.exoneree.pk


API_PAGES = [
    # session, user, device; the tokens (with whose and who revoked)
    ("api-tokens", "caseworker1", lambda w: reverse("api_token_list"), grow_tokens, 4),
    ("api-tokens-director", "director1", lambda w: reverse("api_tokens_of_organization"), grow_tokens, 4),
]
API_ENDPOINTS = [
    # the token (with its user, role, organization); the page
    ("api-people", api_path("people"), grow_people, 2),
    ("api-people-by-phone", lambda w: reverse("api:people") + f"?{urlencode({'q': CALLER})}", grow_callers, 2),
    # the token; the person, the access-log entry (4); their caseworkers
    ("api-person", api_path("person", marcus_pk), grow_case, 7),
    # the token; the person, the log entry (4); the page
    ("api-person-needs", api_path("person-needs", marcus_pk), grow_case, 7),
    # the token; the person, the log entry (4); the page, what each shares, the provider's questions
    ("api-person-referrals", api_path("person-referrals", marcus_pk), grow_case, 9),
    # the token; the person, the log entry (4); the page
    ("api-person-follow-ups", api_path("person-follow-ups", marcus_pk), grow_case, 7),
    # the token; the person, the log entry (4); the page
    ("api-person-notes", api_path("person-notes", marcus_pk), grow_case, 7),
    # the token; the person, the log entry (4); the page, the scores
    ("api-person-assessments", api_path("person-assessments", marcus_pk), grow_case, 8),
    # the token; the person, the log entry (4); the page, their categories
    ("api-person-consents", api_path("person-consents", marcus_pk), grow_case, 8),
    # the token; the need with its person, the log entry (4)
    ("api-need", api_path("need", lambda w: w.marcus.need.pk), grow_case, 6),
    # the token; the referral with its need and person, the log entry (4); what it shares, the
    # provider's questions
    ("api-referral", api_path("referral", lambda w: w.marcus.referral.pk), grow_case, 8),
    # the token; the page, each resource's domains
    ("api-resources", api_path("resources"), grow_resources, 3),
    # the token; the page
    ("api-providers", api_path("providers"), grow_resources, 2),
]


def test_api_no_such_address_budget(world):
    """An address the API does not have (`/api/v1/people/abc/`): the token only, however many
    people there are; the 404 reads no record."""
    _, key = api_tokens.token_create(by=world.caseworker1, name="budget", scope="read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/v1/people/abc/")  # warm-up (and "last used")
    grow_people(world, MORE)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/people/abc/").status_code == 404
    assert len(queries) == 1, "\n".join(query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize(
    ("persona", "path", "grow", "budget"), [p[1:] for p in API_PAGES], ids=[p[0] for p in API_PAGES]
)
def test_token_pages_budget(login, world, persona, path, grow, budget):
    test_query_count_is_the_budget_and_does_not_grow_with_rows(login, world, persona, path, grow, budget)


@pytest.mark.parametrize(("path", "grow", "budget"), [e[1:] for e in API_ENDPOINTS], ids=[e[0] for e in API_ENDPOINTS])
def test_api_query_count_is_the_budget_and_does_not_grow_with_rows(world, path, grow, budget):
    _, key = api_tokens.token_create(by=world.caseworker1, name="budget", scope="read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    measure(client, path(world))  # warm-up (and "last used")

    grow(world, N)
    small = measure(client, path(world))
    grow(world, MORE)
    large = measure(client, path(world))

    assert len(large) == len(small), "\n".join(large[len(small) :])
    assert len(large) == budget, f"{len(large)}:\n" + "\n".join(large)


def measure_write(client: Client, path: str, body: dict[str, Any]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content.decode()[:2000]
    return [query["sql"] for query in queries.captured_queries]


API_WRITES = [
    # the token; the person (with the change permission); the form's need and referral and
    # their checks (4); the outcome figures: the organization's lock (3), the person's counts
    # before (8); the save's checks and model validation (8), the row; its reminders (none, it is
    # done: the follow-up, the directors, its reminders: 3); the audit entry (2); the counts
    # after (9) and written (2); savepoints (6). The page's save, one query per related record.
    (
        "api-follow-ups-already-done",
        api_path("person-follow-ups-already-done", marcus_pk),
        lambda w: {"title": "Drove him to the SSA office", "need": w.marcus.need.pk, "referral": w.marcus.referral.pk},
        grow_case,
        48,
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "grow", "budget"), [e[1:] for e in API_WRITES], ids=[e[0] for e in API_WRITES]
)
def test_api_write_query_count_is_the_budget_and_does_not_grow_with_rows(world, path, body, grow, budget):
    _, key = api_tokens.token_create(by=world.caseworker1, name="budget", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    measure_write(client, path(world), body(world))  # warm-up (and "last used")

    grow(world, N)
    small = measure_write(client, path(world), body(world))
    grow(world, MORE)
    large = measure_write(client, path(world), body(world))

    assert len(large) == len(small), "\n".join(large[len(small) :])
    assert len(large) == budget, f"{len(large)}:\n" + "\n".join(large)


def measure_provider_language(client: Client, path: str, language: str) -> list[str]:
    etag = client.get(path)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(path, json.dumps({"language": language}), "application/json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [query["sql"] for query in queries.captured_queries]


def test_api_provider_language_write_budget(world):
    """PATCH /api/v1/providers/<id>/ {"language": …}: the token; the provider (the access
    helper); the organization's lock, the provider's lock, the provider again (the access
    helper, for If-Match); the stored values for the audit; the model's checks (3); the update;
    the audit entry (2); savepoints (6). 18, however many resources the directory holds."""
    _, key = api_tokens.token_create(by=world.director1, name="budget", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    path = reverse("api:provider", args=[world.marcus.resource.provider_id])
    measure_provider_language(client, path, "es")  # warm-up (and "last used")

    grow_resources(world, N)
    small = measure_provider_language(client, path, "en")
    grow_resources(world, MORE)
    large = measure_provider_language(client, path, "es")

    assert len(large) == len(small), "\n".join(large[len(small) :])
    assert len(large) == 18, f"{len(large)}:\n" + "\n".join(large)


def test_the_network_grower_adds_organizations_the_page_counts(login, world):
    grow_network(world, N)

    figures = login("analyst").get(reverse("network_figures")).context["figures"]

    assert figures.organizations == N
    assert [table.rows[0][1][0].value for table in figures.tables] == [11 + 12 + 13] * 4
