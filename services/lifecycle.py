"""Allowed status transitions: the one place that says what may follow what."""

from __future__ import annotations

from django.db.models import TextChoices
from django.utils.translation import gettext as _

from services.choices import AskState, ClaimStage, NeedStatus, ReferralStatus

S = ReferralStatus

# draft → sent → accepted | declined → in progress → completed | unresolved;
# cancelled from any open state. Accepted may also end unresolved: a provider who took the
# referral and then could not reach the person (or found them not eligible) never starts the
# work, and "declined" would say they refused it.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.UNRESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.UNRESOLVED, S.CANCELLED}),
    S.DECLINED: frozenset(),
    S.COMPLETED: frozenset(),
    S.UNRESOLVED: frozenset(),
    S.CANCELLED: frozenset(),
}
REFERRAL_OPEN = frozenset({S.DRAFT, S.SENT, S.ACCEPTED, S.IN_PROGRESS})
# Where the provider still has something to do: its link works, it is nudged, the referral's
# stall reminders run, only then.
WITH_PROVIDER = frozenset({S.SENT, S.ACCEPTED, S.IN_PROGRESS})
# Referrals the person's plan never shows (nor their messages' topics, nor a transfer's history):
# a draft not yet sent, and one called off.
REFERRAL_NOT_ON_PLAN = frozenset({S.DRAFT, S.CANCELLED})
# Referrals whose person is never asked "Did you get help from <provider>?": the provider said
# it could not help, the referral ended without the service ("It did not work out": the loop is
# closed, and the plan has just said no), or it was called off (or never sent). A completed one
# is still asked: the person's "yes" is what confirms the service reached them (the outcomes'
# "completed and confirmed by the person").
REFERRAL_NO_HELP_TO_CONFIRM = frozenset({S.DRAFT, S.DECLINED, S.UNRESOLVED, S.CANCELLED})
# Referrals whose plan still names the person's contact at the provider: while the provider
# works with them, and once done (still the one to call back). Not once it ended without the
# service: beside "It did not work out", "Your contact: Ms. Lee" read as if it were still on.
REFERRAL_CONTACT_ON_PLAN = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED})
# Referrals whose line on the person page names the provider's contact and start day: while
# the provider works with the person. Once over, the referral's own page keeps them.
REFERRAL_ANSWER_ON_PERSON_PAGE = frozenset({S.ACCEPTED, S.IN_PROGRESS})

N = NeedStatus
NEED_TRANSITIONS: dict[str, frozenset[str]] = {
    N.OPEN: frozenset({N.IN_PROGRESS, N.MET, N.NO_LONGER_WANTED}),
    N.IN_PROGRESS: frozenset({N.OPEN, N.MET, N.NO_LONGER_WANTED}),
    # A met need can come back (the job ended, the lease fell through); so can a wish.
    N.MET: frozenset({N.OPEN}),
    N.NO_LONGER_WANTED: frozenset({N.OPEN}),
}
NEED_CLOSED = frozenset({N.MET, N.NO_LONGER_WANTED})

# A person's own ask is handled once: taken on as casework, or answered with a message.
ASK_TRANSITIONS: dict[str, frozenset[str]] = {
    AskState.WAITING: frozenset({AskState.TAKEN_ON, AskState.ANSWERED}),
    AskState.TAKEN_ON: frozenset(),
    AskState.ANSWERED: frozenset(),
}


class TransitionNotAllowed(Exception):
    """`allowed`: the statuses the record may move to from `current` (their values, in the
    lifecycle's order), for whoever is told the move was refused."""

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        super().__init__(
            _("Cannot change status from “%(current)s” to “%(target)s”.") % {"current": current, "target": target}
        )
        self.current = current
        self.target = target
        self.allowed = allowed


def _moves(statuses: type[TextChoices], transitions: dict[str, frozenset[str]], current: str) -> list[str]:
    return [value for value in statuses.values if value in transitions.get(current, frozenset())]


def check_referral_transition(current: str, target: str) -> None:
    if target not in REFERRAL_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            S(current).label,
            S(target).label if target in S.values else target,
            _moves(S, REFERRAL_TRANSITIONS, current),
        )


def check_need_transition(current: str, target: str) -> None:
    if target not in NEED_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            N(current).label, N(target).label if target in N.values else target, _moves(N, NEED_TRANSITIONS, current)
        )


C = ClaimStage
# A claim is assessed, filed, heard, then awarded (and paid) or denied (and perhaps appealed).
# "Not eligible" and "closed" end a claim that was never filed; either may be reopened.
CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    C.ASSESSING: frozenset({C.ATTORNEY_ENGAGED, C.FILED, C.NOT_ELIGIBLE, C.CLOSED}),
    C.ATTORNEY_ENGAGED: frozenset({C.ASSESSING, C.FILED, C.NOT_ELIGIBLE, C.CLOSED}),
    C.FILED: frozenset({C.HEARING, C.AWARDED, C.DENIED}),
    C.HEARING: frozenset({C.AWARDED, C.DENIED}),
    C.DENIED: frozenset({C.APPEAL}),
    C.APPEAL: frozenset({C.AWARDED, C.DENIED}),
    C.AWARDED: frozenset({C.PAID}),
    C.PAID: frozenset(),
    C.NOT_ELIGIBLE: frozenset({C.ASSESSING}),
    C.CLOSED: frozenset({C.ASSESSING}),
}
# Stages before filing: the only ones whose filing deadline still matters (and is warned of).
CLAIM_NOT_FILED = frozenset({C.ASSESSING, C.ATTORNEY_ENGAGED})
# Stages a claim reaches only once it was filed.
CLAIM_FILED = frozenset({C.FILED, C.HEARING, C.AWARDED, C.DENIED, C.APPEAL, C.PAID})
CLAIM_AWARDED = frozenset({C.AWARDED, C.PAID})


def check_claim_transition(current: str, target: str) -> None:
    if current != target and target not in CLAIM_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            C(current).label, C(target).label if target in C.values else target, _moves(C, CLAIM_TRANSITIONS, current)
        )


def check_ask_transition(current: str, target: str) -> None:
    if target not in ASK_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(
            AskState(current).label if current in AskState.values else current,
            AskState(target).label if target in AskState.values else target,
            _moves(AskState, ASK_TRANSITIONS, current),
        )
