"""The person's own copy (issue 23): everything shared with them, as their plan shows it.

Built from the plan's own selector (`plans.plan_for`, with every date and note rather than
the page's latest) and their conversation (`conversations.thread`), so the copy cannot hold
anything their pages do not show: no staff-only note, assessment, draft or cancelled
referral, internal follow-up, staff's contact notes, restriction reason, or full SSN.

One structure serves both forms: the JSON is it, serialized (dates as ISO 8601); the PDF
prints it. Labels are said in the active language: the caller wraps this in the person's.

Format "reentry-person-copy", version 1 (a new version for any change a reader would notice):
    format, version, language, made_at, organization,
    profile        their own record: names, pronouns, language, contact details, date of
                   birth, the SSN's last four digits only, conviction and release dates
    contact_wishes how they want to be reached and reminded (and when they last set it)
    caseworkers    who to call: name, title, phone, email
    asks           what they asked for in their own words, and what became of it
    needs          what they asked us to help with (open first), each with the referrals
                   they were told about, in plain words
    appointments   upcoming and missed: dates shared with them that are still open; and
                   done_lately: those done in the last PLAN_DONE_DAYS (plans.py), newest first
    notes          notes their caseworkers shared with them
    messages       their conversation with their caseworkers
    documents      the names of the papers shown on their plan (never the files) and the
                   checklist of key papers
    consents       who they said may see what, until when
    legal          their compensation claims' next steps (or the decision made: `happened`),
                   the records that still show, their other legal items (what each is and
                   where it stands; never the staff's notes)
    file_openings  who has opened their file (names and roles), as the plan lists them
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language

from services.choices import AskState, ClaimStage, ContactPreference, PersonAnswer, ReminderChannel, plain_domain
from services.models.documents import DocumentKind
from services.models.people import Exoneree
from services.selectors import conversations, plans

FORMAT = "reentry-person-copy"
VERSION = 1


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value else ""


def _profile(exoneree: Exoneree) -> dict[str, Any]:
    return {
        "legal_name": exoneree.legal_name,
        "preferred_name": exoneree.preferred_name,
        "pronouns": exoneree.pronouns,
        "preferred_language": exoneree.preferred_language,
        "email": exoneree.email,
        "phone": exoneree.phone,
        "address": exoneree.address,
        "date_of_birth": exoneree.date_of_birth,
        # The last four digits, as any page shows it: the full number is never in a copy.
        "ssn_last_four": exoneree.ssn[-4:] if exoneree.ssn else "",
        "conviction_state": exoneree.conviction_state,
        "conviction_county": exoneree.conviction_county,
        "conviction_date": exoneree.conviction_date,
        "release_date": exoneree.release_date,
        "exoneration_date": exoneree.exoneration_date,
    }


def _contact_wishes(exoneree: Exoneree) -> dict[str, Any]:
    return {
        "contact_preference": exoneree.contact_preference,
        "contact_preference_label": _label(ContactPreference, exoneree.contact_preference),
        "appointment_reminders": exoneree.appointment_reminders,
        "reminder_channel": exoneree.reminder_channel,
        "reminder_channel_label": _label(ReminderChannel, exoneree.reminder_channel),
        "quiet_hours_start": exoneree.quiet_hours_start,
        "quiet_hours_end": exoneree.quiet_hours_end,
        "set_by_you_at": exoneree.contact_wishes_set_at,
    }


def _referral(referral: Any) -> dict[str, Any]:
    resource = referral.resource
    return {
        "place": resource.name,
        "provider": resource.provider.name,
        "status": referral.status,
        "status_label": plans.plain_status(referral),
        "phone": resource.phone,
        "address": resource.address,
        "city": resource.city,
        "hours": resource.hours_to_read,
        # As their plan says them (Referral.contact_on_plan, start_on_plan): the contact while
        # it holds, the start day until work starts. Beside "It did not work out", "Your contact:
        # Ms. Lee" read as if the referral were still on.
        "contact_at_provider": referral.contact_on_plan,
        "expected_on": referral.start_on_plan,
        "last_news_at": referral.status_changed_at,
        "your_answer": referral.person_answer,
        "your_answer_label": _label(PersonAnswer, referral.person_answer),
        "your_words": referral.person_words,
        "answered_at": referral.person_answered_at,
    }


def _need(need: Any) -> dict[str, Any]:
    return {
        "domain": need.domain,
        "domain_label": plain_domain(need.domain),
        "status": need.status,
        "status_label": plans.plain_status(need),
        "is_open": need.is_open,
        "description": need.description,
        "your_words": need.own_words,
        "opened_on": need.opened_on,
        "closed_on": need.closed_on,
        "referrals": [_referral(referral) for referral in need.referrals.all()],
    }


def _ask(need: Any) -> dict[str, Any]:
    return {
        "asked_on": need.opened_on,
        "domain": need.domain,
        "domain_label": plain_domain(need.domain),
        "your_words": need.own_words,
        "state": need.ask_state,
        "state_label": _label(AskState, need.ask_state),
        "answer": need.ask_answer if need.ask_state == AskState.ANSWERED else "",
    }


def _appointment(item: Any) -> dict[str, Any]:
    return {
        "at": item.due_at,
        "what": item.title,
        "where": item.provider_name,
        "your_answer": item.person_answer,
        "your_words": item.person_words,
        "answered_at": item.person_answered_at,
    }


def _done(item: Any) -> dict[str, Any]:
    # What "Done lately" on their plan says of it: the day and the title, nothing staff wrote.
    return {"done_at": item.done_at, "what": item.title}


def _message(message: Any) -> dict[str, Any]:
    author = message.author
    return {
        "from_you": message.from_person,
        "author": "" if message.from_person else (author.get_full_name() or author.get_username()),
        "sent_at": message.created_at,
        "text": message.text,
        "about": message.about_for_person,
        # The read receipt their page shows: when a caseworker read what they wrote.
        "read_at": message.read_at if message.from_person else None,
    }


def own_copy(exoneree: Exoneree, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything shared with the person, in the active language (see the module's docstring)."""
    now = now or timezone.now()
    plan = plans.plan_for(exoneree, now=now, whole=True)
    return {
        "format": FORMAT,
        "version": VERSION,
        "language": get_language(),
        "made_at": now,
        "organization": exoneree.organization.name,
        "profile": _profile(exoneree),
        "contact_wishes": _contact_wishes(exoneree),
        "caseworkers": [
            {
                "name": member.user.get_full_name() or member.user.get_username(),
                "title": member.title,
                "phone": member.phone,
                "email": member.user.email,
            }
            for member in plan["caseworkers"]
        ],
        "asks": [_ask(need) for need in plan["asks"]],
        "needs": [_need(need) for need in (*plan["open_needs"], *plan["closed_needs"])],
        "appointments": {
            "upcoming": [_appointment(item) for item in plan["upcoming"]],
            "missed": [_appointment(item) for item in plan["missed"]],
            "done_lately": [_done(item) for item in plan["done_lately"]],
        },
        "notes": [
            {
                "author": note.author.get_full_name() or note.author.get_username(),
                "written_at": note.created_at,
                "text": note.text,
            }
            for note in plan["notes"]
        ],
        "messages": [_message(message) for message in conversations.thread(exoneree, limit=None, for_person=True)],
        "documents": [
            {
                "kind": document.kind,
                "kind_label": _label(DocumentKind, document.kind),
                "title": document.title,
                "issued_on": document.issued_on,
                "expires_on": document.expires_on,
                "received_at": document.uploaded_at,
            }
            for document in plan["documents"]
        ],
        "document_checklist": [
            {
                "kind": row["kind"],
                "label": str(row["label"]),
                "note": str(row["note"]),
                "present": row["present"],
                "expired": row["expired"],
            }
            for row in plan["document_checklist"]
        ],
        "consents": [
            {
                "shared_with": consent.provider.name,
                "what": [str(label) for label in consent.category_labels],
                "from": consent.starts_on,
                "until": consent.ends_on,
            }
            for consent in plan["consents"]
        ],
        "legal": {
            "claims": [
                {
                    "where": claim.where,
                    "stage": claim.stage,
                    "stage_label": _label(ClaimStage, claim.stage),
                    "deadline": claim.deadline,
                    # What happens next, one of services.selectors.legal.NEXT_STEPS (the PDF words it);
                    # `happened` when it tells of a decision made ("Latest:", not "Next step:").
                    "step": claim.step,
                    "happened": claim.happened,
                    "attorney": claim.attorney,
                    "filed_on": claim.filed_on,
                    "hearing_on": claim.hearing_on,
                }
                for claim in plan["legal_claims"]
            ],
            "records_showing": [str(label) for label in plan["records_showing"]],
            "records_cleared": [str(label) for label in plan["records_cleared"]],
            # Their other legal items (a civil-rights suit, tax relief, an apology): what each is
            # in plain words and where it stands; never the staff's notes on it.
            "items": [
                {
                    "kind": item.kind,
                    "what": item.what,
                    "status": item.status,
                    "started_on": item.started_on,
                    "done_on": item.done_on,
                }
                for item in plan["legal_items"]
            ],
        },
        "file_openings": [
            {
                "name": visit["name"],
                "role": str(visit["role"]),
                "saw_full_ssn": visit["ssn"],
                "downloaded_a_paper": visit["download"],
                "times": visit["times"],
                "first_at": visit["start"],
                "last_at": visit["end"],
            }
            for visit in plan["visits"]
        ],
    }
