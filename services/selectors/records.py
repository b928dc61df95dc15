"""A person's record: the people list, the person page (its history: history.py; possible duplicates: duplicates.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim

from services.access import (
    exonerees_visible_to,
)
from services.choices import (
    AppointmentAnswer,
    AskState,
    NeedStatus,
    Priority,
    ReferralStatus,
)
from services.lib.sql import counted_per_row, instances, joined_per_row, rows_per_row, split
from services.lifecycle import REFERRAL_OPEN, WITH_PROVIDER
from services.models.casework import Assessment, AssessmentScore
from services.models.enrolments import Enrolment
from services.models.follow_ups import FollowUp
from services.models.legal import CompensationClaim
from services.models.merges import Merge
from services.models.needs import Need
from services.models.people import Exoneree, person_search
from services.models.referrals import ProviderQuestion, Referral
from services.models.retention import LegalHold

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser
from services.selectors import coverage
from services.selectors.coverage import consents_for
from services.selectors.legal import claims_banner

# Encrypted profile fields no list shows: left out of list queries, so they are not decrypted.
NOT_IN_LISTS = ["email", "address", "contact_notes", "date_of_birth", "ssn"]

# A need still to be met.
OPEN_NEED = Q(status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS])


def unshown(prefix: str = "") -> list[str]:
    """The encrypted profile fields, for a page that names people but shows none of those."""
    return [prefix + name for name in (*NOT_IN_LISTS, "phone")]


# A referral's encrypted texts, which the history and My plan never show: not loaded, not
# decrypted (a person has dozens of referral events).
REFERRAL_TEXTS = ["note", "decline_reason", "feedback"]


def merges_into(exoneree: Exoneree) -> QuerySet[Merge]:
    """The merges into this person that are not undone, newest first, with the duplicate's name."""
    return (
        Merge.objects.filter(kept=exoneree, undone_at__isnull=True)
        .select_related("duplicate", "merged_by")
        .defer(*unshown("duplicate__"))
    )


# What a row of the people list shows, and nothing else: a person's record has thirty-odd
# columns, and the ones loaded are converted for every row. Their caseworkers' names come
# in the same query (`caseworker_names`).
PERSON_ROW = ["legal_name", "preferred_name", "phone", "case_closed_on"]


# Whose case is open, closed, or either (lists show open cases unless asked).
CASE_STATES = {
    "open": Q(case_closed_on__isnull=True),
    # No caseworker who can sign in: nobody at all, or only colleagues since switched off.
    "unassigned": Q(case_closed_on__isnull=True) & ~Q(caseworkers__is_active=True),
    "closed": Q(case_closed_on__isnull=False),
    "all": Q(),
}


def exoneree_list(
    user: AbstractUser, *, q: str = "", case: str = "open", caseworker: AbstractUser | None = None
) -> QuerySet[Exoneree]:
    """The people the user may see, in that case state, matching every word of `q` or, when `q`
    is a phone number, by that number (`person_search`); with a caseworker, only those on their
    caseload (a narrowing of what the user sees, never more)."""
    queryset = exonerees_visible_to(user).filter(CASE_STATES[case])
    if caseworker is not None:
        queryset = queryset.filter(caseworkers=caseworker)
    return (
        queryset.filter(person_search(q))
        .annotate(**person_figures(), caseworker_names=caseworker_names())
        .only(*PERSON_ROW)
        .order_by("legal_name", "pk")
    )


def person_figures() -> dict[str, Any]:
    """Each person's open needs and next open follow-up, for a list of people.

    Subqueries, not joins: counting needs across a join with follow-ups would multiply rows."""
    open_needs = (
        Need.objects.filter(OPEN_NEED, exoneree=OuterRef("pk"))
        .order_by()
        .values("exoneree")
        .annotate(n=Count("pk"))
        .values("n")
    )
    next_follow_up = (
        FollowUp.objects.filter(exoneree=OuterRef("pk"), done_at__isnull=True).order_by("due_at").values("due_at")[:1]
    )
    return {"open_needs": Coalesce(Subquery(open_needs), 0), "next_follow_up": Subquery(next_follow_up)}


# The person page shows the latest done follow-ups; the rest are on their own page.
DONE_FOLLOW_UPS_SHOWN = 10

NAME_SEPARATOR = "\x1f"  # ASCII unit separator: never typed into a name
SWITCHED_OFF_MARK = "\x1e"  # ASCII record separator, after the name of a caseworker switched off


def staff_name(prefix: str = "") -> Coalesce:
    """A user's full name, or their username when they have none (as `get_full_name() or username`)."""
    full = Trim(Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name"))
    return Coalesce(NullIf(full, Value("")), f"{prefix}username", output_field=CharField())


def caseworker_names() -> Coalesce:
    """For an annotation of people: their caseworkers' names, joined, each marked when the
    caseworker is switched off (see `split_names`)."""
    carried = Exoneree.caseworkers.through.objects.all()
    mark = Case(When(user__is_active=False, then=Value(SWITCHED_OFF_MARK)), default=Value(""))
    named = Concat(staff_name("user__"), mark, output_field=CharField())
    return joined_per_row(carried, "exoneree", named, NAME_SEPARATOR)


@dataclass(frozen=True)
class CaseworkerName:
    """A caseworker as a person's list and page name them: one switched off still carries the
    person until a director moves them, and is said to be so."""

    name: str
    switched_off: bool = False

    def __str__(self) -> str:
        return self.name


def split_names(joined: str) -> list[CaseworkerName]:
    names = [
        CaseworkerName(name.removesuffix(SWITCHED_OFF_MARK), switched_off=name.endswith(SWITCHED_OFF_MARK))
        for name in split(joined, NAME_SEPARATOR)
    ]
    return sorted(names, key=lambda caseworker: caseworker.name.casefold())


def nobody_assigned(caseworkers: list[CaseworkerName]) -> bool:
    """Whether no caseworker of the person can sign in, as CASE_STATES["unassigned"] counts."""
    return all(caseworker.switched_off for caseworker in caseworkers)


def follow_up_rows(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Follow-ups with what `_follow_up_row.html` shows loaded, and nothing else."""
    return follow_ups.select_related("assigned_to", "need", "referral__resource").only(
        "exoneree",
        "title",
        "due_at",
        "done_at",
        "outcome",
        "shared_with_exoneree",
        "person_answer",
        "person_words",
        "person_answered_at",
        "assigned_to__first_name",
        "assigned_to__last_name",
        "assigned_to__username",
        "need__domain",
        "referral__resource__name",
    )


def person_page_annotations() -> dict[str, Any]:
    """What the person page loads with the record (`access.get_exoneree`'s `annotate`), each
    a short list in the record's one query rather than a query of its own: the caseworkers'
    names; the case's enrolments; the standing legal hold (at most one), with who placed it;
    the claims (for the banners); the assessments, with their score counts."""
    return {
        "caseworker_names": caseworker_names(),
        "enrolment_rows": rows_per_row(
            Enrolment.objects.all(), "exoneree", "id", "opened_on", "exit_reason", "destination"
        ),
        "hold_rows": rows_per_row(
            LegalHold.objects.filter(lifted_at__isnull=True),
            "exoneree",
            "id",
            "reason",
            "placed_at",
            "placed_by_id",
            "placed_by__first_name",
            "placed_by__last_name",
            "placed_by__username",
        ),
        "claim_rows": rows_per_row(
            CompensationClaim.objects.all(),
            "exoneree",
            "id",
            "exoneree_id",
            "jurisdiction",
            "stage",
            "filing_deadline",
            "filed_on",
        ),
        "assessment_rows": rows_per_row(
            Assessment.objects.all(),
            "exoneree",
            "id",
            "exoneree_id",
            "kind",
            "taken_on",
            score_count=counted_per_row(AssessmentScore.objects.all(), "assessment"),
        ),
    }


def exoneree_detail(exoneree: Exoneree) -> dict[str, Any]:
    """What the person page shows, and no column more. `exoneree` was loaded with
    `person_page_annotations()`."""
    needs = list(exoneree.needs.prefetch_related(Prefetch("referrals", queryset=_need_card_referrals())))
    needs_open = _open_first([n for n in needs if n.is_open])
    # Closed needs (met, no longer wanted) latest first, folded away on the page.
    needs_closed = sorted((n for n in needs if not n.is_open), key=lambda n: (n.closed_on or n.opened_on, n.pk))
    latest_done = exoneree.follow_ups.filter(done_at__isnull=False).order_by("-done_at", "-pk")
    follow_ups = list(
        follow_up_rows(
            exoneree.follow_ups.filter(
                # One more than shown: whether there are others to link to.
                Q(done_at__isnull=True) | Q(pk__in=latest_done.values("pk")[: DONE_FOLLOW_UPS_SHOWN + 1])
            )
        )
    )
    done = sorted((f for f in follow_ups if f.is_done), key=lambda f: (f.done_at, f.pk), reverse=True)
    notes = exoneree.notes.select_related("author").only(
        "exoneree", "text", "visibility", "created_at", "author__first_name", "author__last_name", "author__username"
    )
    return {
        "needs": needs,
        "needs_open": needs_open,
        "needs_closed": needs_closed[::-1],
        "follow_ups_open": [f for f in follow_ups if not f.is_done],
        "follow_ups_done": done[:DONE_FOLLOW_UPS_SHOWN],
        "more_done": len(done) > DONE_FOLLOW_UPS_SHOWN,
        "notes": list(notes),
        "assessments": sorted(
            instances(Assessment, exoneree.assessment_rows), key=lambda a: (a.taken_on, a.pk), reverse=True
        ),
        "caseworkers": split_names(exoneree.caseworker_names),
        "consents": consents_for(exoneree),
        # Unfiled claims with a deadline, nearest first, for the banner.
        **claims_banner(exoneree, claims=instances(CompensationClaim, exoneree.claim_rows)),
        # The case's state: the latest enrolment, open or closed with its exit.
        "enrolment": max(
            instances(Enrolment, exoneree.enrolment_rows), key=lambda e: (e.opened_on, e.pk), default=None
        ),
        # A legal hold keeps the record past its retention, open case or closed (staff only).
        "legal_hold": next(iter(instances(LegalHold, exoneree.hold_rows)), None),
        "flagged_referrals": [r for need in needs for r in need.referrals.all() if r.consent_revoked_at and r.is_open],
        # A closed case has nothing to do: its open follow-ups wait, without reminders, for
        # the case to be reopened (the case's banner says how many).
        "to_do": {} if exoneree.case_closed_on else to_do(needs_open, [f for f in follow_ups if not f.is_done]),
    }


def _need_card_referrals() -> QuerySet[Referral]:
    """A need's referrals as the person page shows them, with whether each waits for consent,
    and whether a question of its provider waits for an answer (in the same query)."""
    unanswered = ProviderQuestion.objects.filter(referral=OuterRef("pk"), answered_at__isnull=True)
    return (
        Referral.objects.select_related("resource")
        .only("need", "status", "consent_revoked_at", "provider_contact", "expected_on", "resource__name")
        .annotate(waiting_for_consent=coverage.waiting_for_consent(), question_waiting=Exists(unanswered))
    )


def _open_first(needs_open: list[Need]) -> list[Need]:
    """What needs doing first: the person's own asks still waiting for an answer (issue 19),
    then by priority, then the oldest."""
    rank = {value: index for index, value in enumerate(Priority.values)}
    return sorted(
        needs_open, key=lambda n: (n.ask_state != AskState.WAITING, rank.get(n.priority, 99), n.opened_on, n.pk)
    )


def person_page_to_do(exoneree: Exoneree) -> dict[str, Any]:
    """The person page's "What needs doing" and its count of open follow-ups, read again after
    a follow-up was marked done or reopened in place (htmx), so that they do not go stale
    until a reload: the open needs, their referrals, the open follow-ups (three queries)."""
    needs = exoneree.needs.filter(OPEN_NEED).prefetch_related(Prefetch("referrals", queryset=_need_card_referrals()))
    follow_ups_open = list(
        exoneree.follow_ups.filter(done_at__isnull=True).only("exoneree", "title", "due_at", "done_at", "person_answer")
    )
    return {
        "to_do": {} if exoneree.case_closed_on else to_do(_open_first(list(needs)), follow_ups_open),
        "follow_ups_open_count": len(follow_ups_open),
    }


def to_do(needs_open: list[Need], follow_ups_open: list[FollowUp]) -> dict[str, list[Any]]:
    """What needs doing first on the person page, from what the page has loaded (no query):
    appointments the person asked to move (until one is given a new time, which clears the
    answer, or is marked done), the provider's questions waiting for an answer (the provider
    waits too; answered only while the referral is with them), other overdue follow-ups,
    drafts waiting for consent, open referrals whose consent was revoked, urgent open needs
    with no referral yet."""
    referrals = [r for need in needs_open for r in need.referrals.all()]
    another_time = [f for f in follow_ups_open if f.person_answer == AppointmentAnswer.ANOTHER_TIME]
    items = {
        "another_time": another_time,
        "questions": [r for r in referrals if r.question_waiting and r.status in WITH_PROVIDER],
        # One line for one follow-up: the person's ask says more than "overdue" does.
        "overdue": [f for f in follow_ups_open if f.is_overdue and f.person_answer != AppointmentAnswer.ANOTHER_TIME],
        "waiting": [r for r in referrals if r.waiting_for_consent],
        "flagged": [r for r in referrals if r.consent_revoked_at and r.is_open],
        "urgent": [n for n in needs_open if n.priority == Priority.URGENT and not n.referrals.all()],
    }
    return items if any(items.values()) else {}


def open_referrals_of(need: Need) -> list[Referral]:
    """A need's referrals that have not ended (drafts too), oldest first: named when the need
    is closed, so that each is ended as it really ended rather than left open under it."""
    referrals = need.referrals.filter(status__in=REFERRAL_OPEN).select_related("resource")
    return list(referrals.only("status", "need_id", "resource__name").order_by("pk"))


def done_follow_ups(exoneree: Exoneree) -> QuerySet[FollowUp]:
    """A person's done follow-ups, latest first (their own page, paginated)."""
    return follow_up_rows(exoneree.follow_ups.filter(done_at__isnull=False)).order_by("-done_at", "-pk")


def needs_to_close(exoneree: Exoneree) -> tuple[list[Need], set[int]]:
    """The person's open needs, oldest first, and which of them a provider's completed referral
    says were served: what closing the case asks about (met, or no longer wanted)."""
    served = Referral.objects.filter(need=OuterRef("pk"), status=ReferralStatus.COMPLETED, got_service=True)
    needs = list(
        Need.objects.filter(OPEN_NEED, exoneree=exoneree).annotate(served=Exists(served)).order_by("opened_on", "pk")
    )
    return needs, {need.pk for need in needs if need.served}
