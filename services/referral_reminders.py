"""The referral loop's reminder rows: the notice to the provider, and nothing stalling unseen.

They are rows of the one reminder machinery (services/reminders.py: planned ahead, claimed
by the sweep, sent once by the task); this module says which rows a referral needs and what
each one says at sending time. services.reminders hands the rows with a referral here.

    sent ──────────▶ notice to the provider (now): a new link (sent again by staff: the old ones replaced)
    a question of the provider's answered ─▶ word to the provider (now): a new link, the newest old ones kept
      └ + provider response days ─▶ nudge to the provider (a new link, the newest old ones kept), reminder
                                    to the caseworkers
            └ + escalation days ───▶ the directors
    accepted ──────▶ + completion days ─▶ reminder to the caseworkers
            └ + escalation days ───▶ the directors

An answer (accepted, declined, completed, cancelled…) cancels the rows of the stage it ends,
in its own transaction; and every row checks again, when it is sent, that its referral is
still where it was (a belt to those braces: an answer racing the sweep is not nudged).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse

from services.choices import ProviderLinkEnd, ReferralStatus, ReminderKind, ReminderStatus
from services.lib.provider_tokens import new_token, provider_link
from services.lifecycle import WITH_PROVIDER
from services.models.notifications import Reminder
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from services.reminder_messages import Outgoing, Skip
from services.selectors import coverage
from services.selectors.users import directors_by_organization

Kind, Status, S = ReminderKind, ReminderStatus, ReferralStatus
TO_PROVIDER = frozenset({Kind.REFERRAL_NOTICE, Kind.PROVIDER_NUDGE, Kind.PROVIDER_REPLY})
# The emails whose new link stops the older ones. Only the notice: the first one has nothing to
# replace, and a second one is staff's "Send again with a new link", pressed when the first email
# may have gone astray (a wrong or old intake address), so its link must not keep working. The
# nudge and the word that a question is answered come on their own while the provider may have
# the page open on the last link: stopping it would answer their very next step with a 410.
REPLACES_LINKS = frozenset({Kind.REFERRAL_NOTICE})
# But a provider who asks many questions, or never answers, is not to collect a link per email,
# each a way into the person's information for a month: a new link stops the oldest live ones
# beyond this many. The page the provider has open is on one of the newest, which keep working.
MOST_LIVE_LINKS = 3
KINDS = TO_PROVIDER | {Kind.REFERRAL_UNANSWERED, Kind.REFERRAL_NOT_COMPLETED, Kind.REFERRAL_ESCALATION}
STALL_KINDS = KINDS - {Kind.REFERRAL_NOTICE, Kind.PROVIDER_REPLY}
CANCELLABLE = [Status.PENDING, Status.CLAIMED]


# --- planning -----------------------------------------------------------------------------------


def _row(referral: Referral, kind: str, send_at: datetime, recipient_id: int | None, about: str) -> Reminder:
    return Reminder(
        organization_id=referral.organization_id,
        kind=kind,
        key=f"{kind}:r{referral.pk}:{recipient_id or '-'}:{about}"[:120],
        recipient_id=recipient_id,
        exoneree_id=referral.need.exoneree_id,
        referral=referral,
        send_at=send_at,
    )


def _staff_ids(referral: Referral) -> tuple[list[int], list[int]]:
    """(the person's active caseworkers, the organization's active directors)."""
    caseworkers = sorted(referral.need.exoneree.caseworkers.filter(is_active=True).values_list("pk", flat=True))
    directors = directors_by_organization([referral.organization_id])[referral.organization_id]
    return caseworkers, directors


def notice_plan(referral: Referral, *, now: datetime) -> Reminder:
    """Deliver the referral to its provider: a row due now (the sweep sends it within a
    minute). Its link is made by the worker when it sends, so the token is never stored."""
    # Every notice is its own (a resend is a new one, even within the same instant).
    row = _row(referral, Kind.REFERRAL_NOTICE, now, None, uuid.uuid4().hex)
    row.save()
    return row


def reply_plan(referral: Referral, *, question: ProviderQuestion, now: datetime) -> Reminder | None:
    """Tell the provider that a question of theirs has an answer: a row due now, whose email
    carries a new link (the token is never stored, so a link cannot be sent twice) and leaves
    the ones sent before working. A word not yet sent already says it for answers given
    since: one email, one new link."""
    waiting = Reminder.objects.filter(referral=referral, kind=Kind.PROVIDER_REPLY, status__in=CANCELLABLE)
    if waiting.exists():
        return None
    row = _row(referral, Kind.PROVIDER_REPLY, now, None, f"q{question.pk}")
    row.save()
    return row


def stall_plan(referral: Referral, *, now: datetime) -> None:
    """After a move of the referral to `referral.status` at `now`: cancel the rows of the
    stage it left, plan the rows of the stage it entered. In progress is the same stage as
    accepted (the completion clock keeps running)."""
    if referral.status == S.IN_PROGRESS:
        return
    Reminder.objects.filter(referral=referral, kind__in=STALL_KINDS, status__in=CANCELLABLE).update(
        status=Status.CANCELLED, reason="The referral moved on.", claim_token=None
    )
    if referral.status not in (S.SENT, S.ACCEPTED):
        return
    organization = referral.organization
    caseworkers, directors = _staff_ids(referral)
    # A stage's rows are one each, keyed by when the stage began: planning twice adds nothing.
    stage = now.isoformat(timespec="microseconds")
    if referral.status == S.SENT:
        due = now + timedelta(days=organization.provider_response_days)
        rows = [_row(referral, Kind.PROVIDER_NUDGE, due, None, stage)]
        rows += [_row(referral, Kind.REFERRAL_UNANSWERED, due, user_id, stage) for user_id in caseworkers]
    else:
        due = now + timedelta(days=organization.completion_days)
        rows = [_row(referral, Kind.REFERRAL_NOT_COMPLETED, due, user_id, stage) for user_id in caseworkers]
    escalate_at = due + timedelta(days=organization.escalation_days)
    rows += [_row(referral, Kind.REFERRAL_ESCALATION, escalate_at, user_id, stage) for user_id in directors]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True)


# --- the provider's link ------------------------------------------------------------------------


def link_issue(referral: Referral, *, now: datetime, replace: bool) -> tuple[str, bool]:
    """A new link for the provider, and with `replace` every older live one stops working
    (replaced). Kept, an older link keeps its own last day (never lengthened) and stops like
    any other when the referral leaves the provider or staff stop its links; but only the
    newest MOST_LIVE_LINKS work at once, the older ones are replaced.

    Returns (the token, which exists from here on only in the email about to be sent;
    whether `replace` stopped an older link, for the email to say so only when it is true:
    a link trimmed by the cap is an old one, and the provider's newest ones still work)."""
    older = _links_to_replace(referral, now=now, keep=0 if replace else MOST_LIVE_LINKS - 1)
    replaced = ProviderLink.objects.filter(pk__in=older).update(revoked_at=now, revoked_reason=ProviderLinkEnd.REPLACED)
    token, hashed = new_token()
    expires_at = now + timedelta(days=referral.organization.provider_link_days)
    ProviderLink.objects.create(referral=referral, token_hash=hashed, created_at=now, expires_at=expires_at)
    return token, replace and bool(replaced)


def _links_to_replace(referral: Referral, *, now: datetime, keep: int) -> list[int]:
    """The referral's live links but its newest `keep`.

    The live links are locked first, so two emails issuing links for one referral at once take
    turns; the second then reads them again (a new statement sees the first one's new link).
    Not the referral's row: this runs while the worker holds its reminder row, and a move of
    the referral locks the referral before its reminders (a deadlock the other way round)."""
    live = ProviderLink.objects.filter(referral=referral).live(now)
    list(live.select_for_update().order_by("pk").values_list("pk", flat=True))
    return list(live.order_by("-created_at", "-pk").values_list("pk", flat=True)[keep:])


# --- composing, at sending time -----------------------------------------------------------------


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _to_provider(reminder: Reminder, referral: Referral, now: datetime) -> Outgoing | Skip:
    """The notice (or the nudge, or the word that a question is answered), in the provider's
    language: who refers, that a referral waits, the link. Never the person's name, the answer
    or any detail of the case: the email rests in a mailbox we do not control."""
    if referral.status not in WITH_PROVIDER:
        return Skip("The referral is no longer with the provider.")
    if reminder.kind == Kind.PROVIDER_NUDGE and referral.status != S.SENT:
        return Skip("The provider answered.")
    if coverage.consent_missing(referral):
        return Skip("No current consent covers what the referral shares.", failed=True)
    to = referral.resource.referral_email
    if not to:
        return Skip("No intake email for this resource or its provider.", failed=True)
    token, replaced = link_issue(referral, now=now, replace=reminder.kind in REPLACES_LINKS)
    organization = referral.organization
    context = {
        "nudge": reminder.kind == Kind.PROVIDER_NUDGE,
        # Sent again once accepted: the provider has it in hand, so no "accept it or decline it".
        "accepted": referral.status in (S.ACCEPTED, S.IN_PROGRESS),
        "replaced": replaced,
        "organization": organization.name,
        "caseworker": _name(referral.created_by),
        "resource": referral.resource.name,
        "link": provider_link(token),
        "valid_days": organization.provider_link_days,
    }
    template = "provider_reply" if reminder.kind == Kind.PROVIDER_REPLY else "referral_notice"
    # In the provider's language, as the page its link opens (services/views/provider.py).
    return Outgoing(template, context, to, language=referral.resource.provider.language)


def _to_staff(reminder: Reminder, referral: Referral, now: datetime) -> Outgoing | Skip:
    stalled = {
        Kind.REFERRAL_UNANSWERED: referral.status == S.SENT,
        Kind.REFERRAL_NOT_COMPLETED: referral.status in (S.ACCEPTED, S.IN_PROGRESS),
        Kind.REFERRAL_ESCALATION: referral.status in WITH_PROVIDER,
    }[reminder.kind]
    if not stalled:
        return Skip("The referral moved on.")
    url = reverse("referral_detail", args=[referral.pk])
    days = max(1, (now - referral.status_changed_at).days)
    provider = referral.resource.provider.name
    person = referral.need.exoneree.display_name
    if reminder.kind == Kind.REFERRAL_UNANSWERED:
        text = f"No answer from {provider} in {days} days: the referral for {person}"
    elif reminder.kind == Kind.REFERRAL_NOT_COMPLETED:
        text = f"Accepted by {provider} {days} days ago and not completed: the referral for {person}"
    else:
        text = f"Stalled {days} days ({referral.get_status_display().lower()}) at {provider}: the referral for {person}"
    context = {"kind": reminder.kind, "days": days, "link": settings.SITE_URL + url}
    return Outgoing("referral_stalled", context, reminder.recipient.email, notification=text, url=url)


def compose(reminder: Reminder, now: datetime) -> Outgoing | Skip:
    referral = (
        Referral.objects.select_related("organization", "resource__provider", "created_by", "need__exoneree")
        .filter(pk=reminder.referral_id)
        .first()
    )
    if referral is None:
        return Skip("The referral is gone.")
    if reminder.kind in TO_PROVIDER:
        return _to_provider(reminder, referral, now)
    return _to_staff(reminder, referral, now)
