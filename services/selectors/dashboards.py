"""The dashboards of caseworkers and directors, and their full lists."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.urls import reverse
from django.utils import timezone

from services import figures
from services.access import exonerees_visible_to
from services.choices import (
    AskState,
    NeedDomain,
    NeedStatus,
    Priority,
    ReferralStatus,
    Role,
)
from services.models.follow_ups import FollowUp
from services.models.legal import OPEN_TO_FILING, CompensationClaim
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.models.validators import EARLIEST_YEAR
from services.outcome_counts import REFERRAL_GROUPS
from services.selectors import coverage

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser
from services.selectors import conversations
from services.selectors.records import CASE_STATES, OPEN_NEED, person_figures

# Rows per dashboard section: what a caseworker takes in at a glance; each section says how
# many there are in all and links to the full, paginated list.
DASHBOARD_ROWS = 10

DUE_SOON = timedelta(days=7)

# What a row of those lists shows: the person's names only, no follow-up details or outcome
# (open ones have none yet), the need's description but not the person's own words.
FOLLOW_UP_ROW = ["title", "due_at", "exoneree", "person_answer", "person_answered_at"]

NEED_ROW = ["exoneree", "domain", "description", "priority", "opened_on"]

# Most urgent first: the database orders by this rank, not by the label's alphabet.
PRIORITY_RANK = Case(*(When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)))


def my_follow_ups(
    user: AbstractUser, *, due: str = "", now: datetime | None = None, people: list[int] | None = None
) -> QuerySet[FollowUp]:
    """The caseworker's own open follow-ups about people they may see, the earliest due first:
    all of them, the overdue ones (`due="overdue"`) or those due in the next 7 days ("week").
    `people`: the ids of the people they may see, when the caller has them already."""
    return open_follow_ups(user, assigned_to=user, due=due, now=now, people=people)


def open_follow_ups(
    user: AbstractUser,
    *,
    assigned_to: AbstractUser | None,
    due: str = "",
    now: datetime | None = None,
    people: list[int] | None = None,
) -> QuerySet[FollowUp]:
    """The open follow-ups about people the user may see, assigned to `assigned_to` (None:
    to anyone; a director's choice), as my_follow_ups. A director's overdue ones of one
    caseworker are the rows the overview counts (overdue_by_assignee): the same open cases of
    records in use, not done, due before now."""
    now = now or timezone.now()
    visible = exonerees_visible_to(user) if people is None else people
    # Open cases only: a closed case's follow-ups wait for it to be reopened.
    follow_ups = FollowUp.objects.filter(
        done_at__isnull=True, exoneree__in=visible, exoneree__case_closed_on__isnull=True
    )
    if assigned_to is not None:
        follow_ups = follow_ups.filter(assigned_to=assigned_to)
    if due == "overdue":
        follow_ups = follow_ups.filter(due_at__lt=now)
    elif due == "week":
        follow_ups = follow_ups.filter(due_at__gte=now, due_at__lt=now + DUE_SOON)
    return (
        follow_ups.select_related("exoneree")
        .only(*FOLLOW_UP_ROW, "exoneree__legal_name", "exoneree__preferred_name")
        .order_by("due_at", "pk")
    )


def open_needs(user: AbstractUser, *, people: list[int] | None = None) -> QuerySet[Need]:
    """The open needs of the people the user may see, the most urgent and oldest first."""
    visible = exonerees_visible_to(user) if people is None else people
    return (
        Need.objects.filter(OPEN_NEED, exoneree__in=visible)
        .select_related("exoneree")
        .only(*NEED_ROW, "exoneree__legal_name", "exoneree__preferred_name")
        .order_by(PRIORITY_RANK, "opened_on", "pk")
    )


def waiting_asks(people: list[int]) -> QuerySet[Need]:
    """What the people asked for on their plans and nobody has answered yet, oldest first
    (the partial index need_ask_waiting). Their words stay on the person's page."""
    return (
        Need.objects.filter(ask_state=AskState.WAITING, exoneree__in=people)
        .select_related("exoneree")
        .only("exoneree", "domain", "priority", "opened_on", "exoneree__legal_name", "exoneree__preferred_name")
        .order_by("opened_on", "pk")
    )


def _first_rows(queryset: QuerySet[Any], rows: int) -> tuple[list[Any], int]:
    """The first `rows` of a list and how many it has in all, in one query: the count is a
    window over the whole list, which the database computes before the limit."""
    first = list(queryset.annotate(total=Window(Count("*")))[:rows])
    return first, first[0].total if first else 0


def nearest_claim_deadline() -> Subquery:
    """The nearest filing deadline of the person's claims not filed yet (None if none)."""
    claims = CompensationClaim.objects.filter(OPEN_TO_FILING, exoneree=OuterRef("pk"), filing_deadline__isnull=False)
    return Subquery(claims.order_by("filing_deadline").values("filing_deadline")[:1])


def caseworker_dashboard(user: AbstractUser, *, now: datetime | None = None) -> dict[str, Any]:
    """The first rows of each section, most urgent first, and how many there are in all."""
    now = now or timezone.now()
    # The whole caseload of open cases (closed ones are on People, "Closed cases"), names and
    # figures only (nothing encrypted): a caseworker carries dozens of people, and their ids
    # spare every other query the permission filter.
    open_cases = exonerees_visible_to(user).filter(case_closed_on__isnull=True)
    caseload = list(
        open_cases.annotate(**person_figures(), compensation_deadline=nearest_claim_deadline())
        .only("legal_name", "preferred_name")
        .order_by(F("next_follow_up").asc(nulls_last=True), "legal_name", "pk")  # who comes up first
    )
    people = [person.pk for person in caseload]
    overdue, overdue_count = _first_rows(my_follow_ups(user, due="overdue", now=now, people=people), DASHBOARD_ROWS)
    due_soon, due_soon_count = _first_rows(my_follow_ups(user, due="week", now=now, people=people), DASHBOARD_ROWS)
    needs, needs_count = _first_rows(open_needs(user, people=people), DASHBOARD_ROWS)
    asks, asks_count = _first_rows(waiting_asks(people), DASHBOARD_ROWS)
    waiting, waiting_count = _first_rows(conversations.waiting_for_staff(people), DASHBOARD_ROWS)
    # Through the permission filter, not the ids: with a list of ids PostgreSQL scans every
    # need (15 ms on the bench network); from the grants it walks the indexes (3 ms).
    recent_referrals = list(
        Referral.objects.filter(need__exoneree__in=open_cases)
        .select_related("need__exoneree", "resource")
        .only(
            "status",
            "status_changed_at",
            "need__exoneree__legal_name",
            "need__exoneree__preferred_name",
            "resource__name",
            "person_answer",
        )
        .annotate(waiting_for_consent=coverage.waiting_for_consent())
        .order_by("-status_changed_at", "-pk")[:DASHBOARD_ROWS]
    )
    return {
        # What happened that the caseworker has not seen yet, newest first (issue 19): asks,
        # messages, answers about appointments, changed contact wishes; the reminders' own
        # notices stay on the notifications page.
        "news": Notification.objects.filter(user=user, read_at__isnull=True, reminder__isnull=True).order_by(
            "-created_at", "-pk"
        )[:DASHBOARD_ROWS],
        "messages_waiting": waiting,
        "messages_waiting_count": waiting_count,
        "asks": asks,
        "asks_count": asks_count,
        "overdue": overdue,
        "overdue_count": overdue_count,
        "due_soon": due_soon,
        "due_soon_count": due_soon_count,
        "caseload": caseload[:DASHBOARD_ROWS],
        "caseload_count": len(caseload),
        "open_needs": needs,
        "open_needs_count": needs_count,
        "recent_referrals": recent_referrals,
        # The people's own word on their referrals (issue 17), latest first: did they get help?
        "person_answers": Referral.objects.filter(need__exoneree__in=open_cases, person_answered_at__isnull=False)
        .select_related("need__exoneree", "resource__provider")
        .only(
            "person_answer",
            "person_words",
            "person_answered_at",
            "need__exoneree__legal_name",
            "need__exoneree__preferred_name",
            "resource__provider__name",
        )
        .order_by("-person_answered_at", "-pk")[:PERSON_ANSWERS],
    }


PERSON_ANSWERS = 5


def director_counts(organization: Organization, *, refresh: bool = False) -> dict[str, Any]:
    """What the director's overview counts: referrals by status, needs by domain, each
    caseworker's open cases and overdue follow-ups (by user id, as of `as_of`), and the open
    and closed cases. From the figures' cache (services.figures: counted again after any write
    they read, and in the background once a minute old) or counted (`refresh`: whatever the
    cache holds, as the background recompute does). Each of these grows with the organization;
    read on every request they were most of the overview's time in a large one."""

    def count() -> dict[str, Any]:
        as_of = timezone.now()
        return {
            "as_of": as_of,
            "referrals": dict(
                Referral.objects.filter(organization=organization)
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            ),
            "needs": list(
                Need.objects.filter(organization=organization)
                .values("domain")
                .annotate(
                    total=Count("pk"),
                    met=Count("pk", filter=Q(status=NeedStatus.MET)),
                    open=Count("pk", filter=OPEN_NEED),
                )
                .order_by("domain")
            ),
            "caseloads": dict(
                Exoneree.caseworkers.through.objects.filter(_of_open_cases(organization))
                .values_list("user")
                .annotate(n=Count("exoneree", distinct=True))
                .values_list("user", "n")
            ),
            "overdue": overdue_by_assignee(organization, due_before=as_of),
            **Exoneree.objects.current()
            .filter(organization=organization)
            .aggregate(
                people=Count("pk", filter=Q(case_closed_on__isnull=True)),
                people_closed=Count("pk", filter=Q(case_closed_on__isnull=False)),
            ),
        }

    return figures.cached("director-overview", organization, "", count, refresh=refresh, background=True).value


# The overview's needs by domain count every need of the organization, whenever recorded: the
# outcomes' lists of needs (their cells' records) show the same ones over a period from the
# first day any date may have (EARLIEST_YEAR) to today. Column → (figure, measure).
NEED_RECORDS = {"total": ("needs", "opened"), "open": ("open_needs", "open"), "met": ("needs", "met")}


def need_records_url(domain: str, column: str) -> str:
    """The outcomes' list of the needs one cell of the overview's needs by domain counts."""
    figure, measure = NEED_RECORDS[column]
    return _records_url(figure, domain, measure)


def referral_records_url(status: str) -> str:
    """The outcomes' list of the referrals the overview counts with a status ("under_way": sent
    and not finished), every one the organization made (services.outcomes.referrals.REFERRAL_STATUSES)."""
    return _records_url("referral_status", status, "count")


def _records_url(figure: str, group: str, measure: str) -> str:
    """An outcomes' list over every date: from the first day any date may have to today."""
    since = date(EARLIEST_YEAR, 1, 1).isoformat()
    query = {"from": since, "figure": figure, "group": group, "measure": measure}
    return f"{reverse('outcome_records')}?{urlencode(query)}"


def _of_open_cases(organization: Organization) -> Q:
    """Rows of a person (`exoneree`) whose case in the organization is open, on a record in use
    (a duplicate merged away keeps its rows, hidden: services/actions/merges.py)."""
    return Q(
        exoneree__organization=organization,
        exoneree__case_closed_on__isnull=True,
        exoneree__merged_into__isnull=True,
    )


def overdue_by_assignee(
    organization: Organization, *, due_before: datetime, due_from: datetime | None = None
) -> Counter[int]:
    """The open follow-ups of the organization's open cases due before `due_before` (and from
    `due_from`), counted by the user they are assigned to."""
    due = Q(due_at__lt=due_before) if due_from is None else Q(due_at__gte=due_from, due_at__lt=due_before)
    return Counter(
        dict(
            FollowUp.objects.filter(due, _of_open_cases(organization), done_at__isnull=True)
            .values_list("assigned_to")
            .annotate(n=Count("*"))  # not Count("pk"): the open follow-ups' index answers it alone
            .values_list("assigned_to", "n")
        )
    )


def director_dashboard(organization: Organization) -> dict[str, Any]:
    counts = director_counts(organization)
    # Overdue as of now: the counted ones and those fallen due since they were counted (time
    # passing writes nothing, so it never counts them again; a short span of the due dates' index).
    overdue = counts["overdue"] + overdue_by_assignee(organization, due_from=counts["as_of"], due_before=timezone.now())
    unassigned = (
        Exoneree.objects.current()
        .filter(CASE_STATES["unassigned"], organization=organization)
        .only("legal_name", "preferred_name")
        .order_by("legal_name", "pk")
    )
    caseworkers = (
        StaffMember.objects.filter(organization=organization, role=Role.CASEWORKER)
        .select_related("user")
        .order_by("user__first_name", "user__last_name")
    )
    rows = [
        {"member": member, "caseload": counts["caseloads"].get(member.user_id, 0), "overdue": overdue[member.user_id]}
        for member in caseworkers
    ]
    return {
        # A person is counted once: under each caseworker who can sign in, or under "Nobody
        # assigned" when none can (CASE_STATES["unassigned"]), as People lists them. A caseworker
        # switched off carries nobody here; one still named on open cases, or with overdue
        # follow-ups (nobody else counts those), is listed apart, to have their people moved.
        "caseworkers": [row for row in rows if row["member"].user.is_active],
        "switched_off": [
            row for row in rows if not row["member"].user.is_active and (row["caseload"] or row["overdue"])
        ],
        "referrals_by_status": [
            (status.label, counts["referrals"].get(status.value, 0), referral_records_url(status.value))
            for status in ReferralStatus
        ],
        # Sent and not finished, as Outcomes' "Still under way": a draft has gone to nobody yet
        # (it has its own row above).
        "referrals_under_way": sum(counts["referrals"].get(s, 0) for s in REFERRAL_GROUPS["under_way"]),
        "referrals_under_way_url": referral_records_url("under_way"),
        "needs_by_domain": [
            {
                **row,
                "label": NeedDomain(row["domain"]).label,
                "percent_met": round(100 * row["met"] / row["total"]),
                "records": {column: need_records_url(row["domain"], column) for column in NEED_RECORDS},
            }
            for row in counts["needs"]
        ],
        # The first of the open cases nobody is assigned to and how many there are; the rest are
        # on People, "Open cases nobody is assigned to" (a large intake can leave hundreds).
        **dict(zip(("unassigned", "unassigned_count"), _first_rows(unassigned, DASHBOARD_ROWS), strict=True)),
        "people": counts["people"],
        "people_closed": counts["people_closed"],
    }
