"""The referral loop's writes: the provider's answers through its link, the person's own
word on their plan, and staff resending or revoking the link."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services import audit, referral_reminders
from services.actions.referrals import referral_transition
from services.choices import UNRESOLVED_REASONS, DeclineReason, PersonAnswer, ProviderLinkEnd, ReferralStatus
from services.figures import figures_changed
from services.lib.text import visible_length
from services.lifecycle import REFERRAL_TRANSITIONS, WITH_PROVIDER
from services.models.audit import AuditEvent
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.models.referrals import ProviderLink, ProviderQuestion, Referral
from services.outcome_counts import outcome_counts_tracked_for
from services.selectors.provider_links import link_gone

S = ReferralStatus


class LinkGone(Exception):
    """The link stopped working between the page and the answer (the view answers 410)."""


def _notify_caseworkers(referral: Referral, text: str) -> None:
    """An in-app notification (behind the login, so it may name the person) to each of the
    person's active caseworkers."""
    users = referral.need.exoneree.caseworkers.filter(is_active=True)
    url = referral.get_absolute_url()
    Notification.objects.bulk_create([Notification(user=user, text=text[:300], url=url) for user in users])


def provider_link_opened(link: ProviderLink) -> None:
    """The provider saw what the person agreed to share: one access-log entry, as them."""
    referral = link.referral
    provider = referral.resource.provider
    audit.record(
        AuditEvent.Action.PROVIDER_OPENED,
        username=provider.name,
        exoneree=referral.need.exoneree,
        target=audit.describe(referral),
        changes={"provider": provider.pk},
    )


def _locked_live(link: ProviderLink) -> Referral:
    """The link's referral, locked like referral_transition locks it, and the link checked
    again under that lock: a cancellation or a revocation that committed first wins."""
    Referral.objects.select_for_update().filter(pk=link.referral_id).first()
    link = ProviderLink.objects.select_related(
        "referral__organization", "referral__resource__provider", "referral__need__exoneree"
    ).get(pk=link.pk)
    if link_gone(link):
        raise LinkGone
    return link.referral


# A decline for "Another reason" needs the reason in words (the form asks it beside the box).
OTHER_NEEDS_WORDS = gettext_lazy("You chose “Another reason”: write the reason here.")

# What each button of the provider's page does: the status it moves the referral to.
PROVIDER_MOVES = {
    "accept": S.ACCEPTED,
    "decline": S.DECLINED,
    "start": S.IN_PROGRESS,
    "complete": S.COMPLETED,
    "unresolved": S.UNRESOLVED,
}
# The provider's steps in order: a page opened at one offers that step's moves.
PROVIDER_STEPS = (S.SENT, S.ACCEPTED, S.IN_PROGRESS)
# The moves that give a reason from a short list: its reasons, and the page's fields for the
# reason and its words (an error goes beside them).
REASONS = {"decline": tuple(DeclineReason.values), "unresolved": UNRESOLVED_REASONS}
REASON_FIELDS = {"decline": ("decline_code", "decline_text"), "unresolved": ("unresolved_code", "unresolved_text")}


@transaction.atomic
def provider_answer(
    *,
    link: ProviderLink,
    move: str,
    provider_contact: str = "",
    expected_on: date | None = None,
    decline_code: str = "",
    text: str = "",
    got_service: bool | None = None,
) -> Referral:
    """The provider moves the referral, through the one lifecycle (its allowed moves, its
    row lock): an event by them, one access-log entry as them, the caseworkers told.
    `decline_code`: the reason, from the move's short list, when it declines or ends unresolved."""
    if move not in PROVIDER_MOVES:
        raise ValidationError({"move": _("Choose what to do.")})
    figures_changed(link.referral.organization_id)  # first (the lock order of tracked actions)
    referral = _locked_live(link)
    provider = referral.resource.provider
    status = PROVIDER_MOVES[move]
    reasoned = move in REASONS
    if reasoned and decline_code not in REASONS[move]:
        raise ValidationError({REASON_FIELDS[move][0]: _("Choose a reason.")})
    if status == S.COMPLETED and got_service is None:
        raise ValidationError({"got_service": _("Say whether the person got the service.")})
    text = text.strip() if visible_length(text) else ""  # zero-width spaces alone say nothing
    if reasoned and decline_code == DeclineReason.OTHER and not text:
        # "Another reason" alone tells the caseworker nothing: the page read "Why declined:
        # Another reason / Reason given: Another reason".
        raise ValidationError({REASON_FIELDS[move][1]: OTHER_NEEDS_WORDS})
    reason = text or (DeclineReason(decline_code).label if reasoned else "")
    moved = referral_transition(
        by=None,
        provider=provider,
        referral=referral,
        status=status,
        note=text if not reasoned else "",
        decline_reason=reason if reasoned else "",
        decline_code=decline_code if reasoned else "",
        got_service=got_service,
        feedback=text if status == S.COMPLETED else "",
        provider_contact=provider_contact,
        expected_on=expected_on,
    )
    person = referral.need.exoneree.display_name
    with translation.override(settings.LANGUAGE_CODE):  # staff read it, not in the provider's language
        status = moved.get_status_display().lower()
    _notify_caseworkers(moved, f"{provider.name}: {status} — the referral for {person} (by the provider)")
    return moved


@transaction.atomic
def provider_ask(*, link: ProviderLink, text: str) -> ProviderQuestion:
    """A question back to the caseworker: kept (encrypted) on the referral, the caseworkers
    told in the app, one access-log entry as the provider."""
    if not visible_length(text):  # zero-width spaces alone are no question
        raise ValidationError({"question": _("Write your question.")})
    referral = _locked_live(link)
    provider = referral.resource.provider
    question = ProviderQuestion.objects.create(referral=referral, provider=provider, text=text.strip())
    audit.record(
        AuditEvent.Action.PROVIDER_UPDATED,
        username=provider.name,
        exoneree=referral.need.exoneree,
        target=audit.describe(referral),
        changes={"provider": provider.pk, "question": "asked"},
    )
    _notify_caseworkers(
        referral, f"{provider.name} asked a question about the referral for {referral.need.exoneree.display_name}"
    )
    return question


# The longest answer a caseworker may give (as long as the provider's question may be).
ANSWER_MAX_LENGTH = 2000


@transaction.atomic
def provider_question_answer(*, by: AbstractUser, question: ProviderQuestion, text: str) -> ProviderQuestion:
    """The caseworker's answer to the provider's question: kept (encrypted) on the question,
    shown on the provider's page; the provider is emailed that there is an answer (the
    answer itself never goes in the email); one access-log entry.

    Answered once: the row is locked and checked again, so two caseworkers answering at once
    do not both write (the second is told it was answered)."""
    text = text.strip()
    if not visible_length(text):  # an invisible answer would lock the question unanswered
        raise ValidationError({"answer": _("Write your answer.")})
    if len(text) > ANSWER_MAX_LENGTH:
        raise ValidationError({"answer": _("Keep it to %(limit)d characters or fewer.") % {"limit": ANSWER_MAX_LENGTH}})
    locked = (
        ProviderQuestion.objects.select_for_update()
        .select_related("referral__need__exoneree", "referral__organization")
        .get(pk=question.pk)
    )
    if locked.answered_at is not None:
        raise ValidationError({"answer": _("This question has been answered already.")})
    referral = locked.referral
    if referral.status not in WITH_PROVIDER:
        raise ValidationError(
            {"answer": _("The referral is no longer with the provider: its page no longer works. Call them instead.")}
        )
    before = audit.snapshot(locked)
    locked.answer = text
    locked.answered_at = timezone.now()
    locked.answered_by = by
    fields = ["answer", "answered_at", "answered_by"]
    locked.save(update_fields=fields)
    audit.record_change(by, locked, before, exoneree=referral.need.exoneree, fields=fields)
    referral_reminders.reply_plan(referral, question=locked, now=locked.answered_at)
    return locked


@transaction.atomic
def referral_resend(*, by: AbstractUser, referral: Referral) -> None:
    """Send the referral to its provider again: a new notice with a new link, which kills
    the old one when the worker makes it."""
    locked = Referral.objects.select_for_update().select_related("need__exoneree").get(pk=referral.pk)
    if locked.status not in WITH_PROVIDER:
        raise ValidationError(_("Only a referral that is with the provider can be sent again."))
    referral_reminders.notice_plan(locked, now=timezone.now())
    audit.record(
        AuditEvent.Action.RECORD_CHANGED,
        actor=by,
        exoneree=locked.need.exoneree,
        target=audit.describe(locked),
        changes={"sent to the provider": "again, with a new link"},
    )


@transaction.atomic
def referral_link_revoke(*, by: AbstractUser, referral: Referral) -> int:
    """Stop the provider's link now (it answers 410). Returns how many links were live.

    Only live links: one past its last day had already stopped on its own, and the referral's
    page keeps saying so ("expired") rather than "Revoked by staff"."""
    now = timezone.now()
    ended = (
        ProviderLink.objects.filter(referral=referral)
        .live(now)
        .update(revoked_at=now, revoked_reason=ProviderLinkEnd.STAFF, revoked_by=by)
    )
    if ended:
        audit.record(
            AuditEvent.Action.RECORD_CHANGED,
            actor=by,
            exoneree=referral.need.exoneree,
            target=audit.describe(referral),
            changes={"provider link": "revoked"},
        )
    return ended


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["referral"].need.exoneree_id)])  # "confirmed"
def referral_person_answer(*, by: AbstractUser, referral: Referral, answer: str, words: str = "") -> Referral:
    """The person's own word on a referral of their plan: did they get help? Their words
    are encrypted; the caseworkers are told in the app."""
    if answer not in PersonAnswer.values:
        raise ValidationError({"answer": _("Choose yes, not yet or no.")})
    figures_changed(referral.organization_id)
    locked = (
        Referral.objects.select_for_update().select_related("need__exoneree", "resource__provider").get(pk=referral.pk)
    )
    if not locked.asks_person_if_helped:  # the plan shows no question (or no longer): nothing saved, nobody told
        raise ValidationError(_not_asked_why(locked), code="no_help_to_confirm")
    before = audit.snapshot(locked)
    locked.person_answer = answer
    locked.person_words = words.strip()
    locked.person_answered_at = timezone.now()
    locked.save(update_fields=["person_answer", "person_words", "person_answered_at"])
    fields = ["person_answer", "person_words", "person_answered_at"]
    audit.record_change(by, locked, before, exoneree=locked.need.exoneree, fields=fields)
    with translation.override(settings.LANGUAGE_CODE):  # staff read it, not in the person's language
        said = PersonAnswer(answer).label.lower()
    person = locked.need.exoneree.display_name
    _notify_caseworkers(
        locked, f"{person} answered “{said}” to: did you get help from {locked.resource.provider.name}?"
    )
    return locked


def _not_asked_why(referral: Referral) -> str:
    if referral.status == S.DECLINED:
        return _("They could not help, so there is nothing to answer.")
    if referral.status == S.UNRESOLVED:
        # "Your plan does not ask about this one now" left a person who did get help (and said
        # so) with no idea why, nor where to say it.
        return _(
            "They told us it did not work out, so your answer was not sent. If you did get help from them,"
            " tell your caseworker in “Messages with my caseworker”."
        )
    return _("Your plan does not ask about this one now, so your answer was not sent.")


def provider_moves_for(status: str) -> list[str]:
    """The buttons the provider's page offers from this status (the lifecycle's moves)."""
    allowed = REFERRAL_TRANSITIONS.get(status, frozenset())
    return [move for move, target in PROVIDER_MOVES.items() if target in allowed]


def move_overtaken(move: str, status: str) -> bool:
    """Whether `move` was offered at a step the referral has since left and is not offered
    now (a page left open, a second tab): an answer come too late, not a wrong one."""
    if status not in PROVIDER_STEPS or move in provider_moves_for(status):
        return False
    return any(move in provider_moves_for(step) for step in PROVIDER_STEPS[: PROVIDER_STEPS.index(status)])
