"""Counts kept in advance for the outcomes page (`OutcomeCount`), so it sums a few thousand
rows instead of joining a million.

One definition serves both ways of keeping them: `contributions(person)` says what one
person's records add to the counts (a pure function of the rows loaded for that person).
A full recount (`recount`, `manage.py refresh_outcomes`, the nightly task) adds up every
person's contributions; a tracked action (`outcome_counts_tracked_for`) takes the
contributions of the people it touches before and after, and adds the difference, in
its own transaction, under a lock on the organization row (two writes at once would
otherwise both read a count and one increment would be lost).

Counted ahead: referrals sent (and answered by their provider, and confirmed by the person),
follow-ups due, housing at each checkpoint, and self-sufficiency since intake (the figures
that join the big tables). Needs, benefits and compensation stay plain aggregates over
indexed columns: they are cheap already.

Nothing here depends on "now": the page decides what is overdue, or a checkpoint not
reached yet, from the day a count is filed under. Every day is the organization's.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from services.choices import AssessmentDomain, AssessmentKind, PersonAnswer
from services.choices import ReferralStatus as RS
from services.figures import figures_changed
from services.models.casework import Assessment, AssessmentScore
from services.models.follow_ups import FollowUp
from services.models.needs import Need
from services.models.organizations import Organization
from services.models.outcomes import CountCell, OutcomeCount, RetiredCount
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralEvent

REFERRALS, FOLLOW_UPS, HOUSING, SCORES = "referrals", "follow_ups", "housing", "scores"
CHECKPOINTS = (30, 90, 180, 365)  # days after release at which housing is measured
STABLY_HOUSED = 3  # Self-Sufficiency Matrix housing score 3 = "safe"
# Where a sent referral stands now; "sent" counts them all.
REFERRAL_GROUPS: dict[str, tuple[str, ...]] = {
    "completed": (RS.COMPLETED,),
    "under_way": (RS.SENT, RS.ACCEPTED, RS.IN_PROGRESS),
    "declined": (RS.DECLINED,),
    "unresolved": (RS.UNRESOLVED,),
    "cancelled": (RS.CANCELLED,),
}
GROUP_OF_STATUS = {status: group for group, statuses in REFERRAL_GROUPS.items() for status in statuses}
MICROSECONDS_PER_DAY = 86_400_000_000
CHUNK = 1000  # people loaded at once by a recount


class Key(NamedTuple):
    figure: str
    key: str
    caseworker_id: int | None
    domain: str
    day: date
    until: date | None = None
    month: bool = False  # a whole month's total, filed under its first day


Tally = dict[Key, list[int]]  # key → [count, total]


# --- One person's records, as the counts need them ---------------------------------------------


@dataclass(frozen=True)
class SentReferral:
    need_domain: str
    need_opened_on: date
    need_id: int
    status: str
    status_changed_at: datetime
    sent_at: datetime
    answered: bool = False  # its provider answered through the link
    confirmed: bool = False  # the person said on their plan they got help ("yes")


@dataclass(frozen=True)
class FollowUpRow:
    assigned_to_id: int
    due_at: datetime
    done_at: datetime | None
    domains: frozenset[str]  # its need's domain and its referral's need's domain


@dataclass(frozen=True)
class AssessmentRow:
    id: int
    kind: str
    taken_on: date
    scores: dict[str, int]


@dataclass(frozen=True)
class Person:
    id: int
    organization_id: int
    tz: zoneinfo.ZoneInfo
    release_date: date | None
    caseworker_ids: tuple[int, ...]
    sent: tuple[SentReferral, ...]
    follow_ups: tuple[FollowUpRow, ...]
    assessments: tuple[AssessmentRow, ...]


def contributions(person: Person) -> Tally:
    """What this person's records add to the counts. Pure: the same rows give the same counts.

    Counts about the person (referrals, housing, self-sufficiency) are filed for everyone
    (caseworker empty) and again for each caseworker carrying them, so a filter by caseworker
    reads its own rows and "everyone" counts each person once. Referrals and follow-ups are
    likewise filed for every domain ("") and for their own.
    """
    tally: Tally = defaultdict(lambda: [0, 0])

    def add(
        figure: str,
        key: str,
        caseworkers: Iterable[int | None],
        domains: Iterable[str],
        day: date,
        *,
        total: int = 0,
        until: date | None = None,
        month: bool = False,
    ) -> None:
        for caseworker in caseworkers:
            for domain in domains:
                cell = tally[Key(figure, key, caseworker, domain, day, until, month)]
                cell[0] += 1
                cell[1] += total

    everyone = (None, *person.caseworker_ids)

    # Referrals, by the day they were sent and where they stand now.
    first_sent: dict[int, datetime] = {}
    for r in person.sent:
        first_sent[r.need_id] = min(r.sent_at, first_sent.get(r.need_id, r.sent_at))
    for r in person.sent:
        day, domains = r.sent_at.astimezone(person.tz).date(), ("", r.need_domain)
        add(REFERRALS, "sent", everyone, domains, day)
        if group := GROUP_OF_STATUS.get(r.status):
            add(REFERRALS, group, everyone, domains, day)
        if r.answered:  # closing the loop (services/outcomes/referral_loop.py)
            add(REFERRALS, "answered", everyone, domains, day)
        if r.status == RS.COMPLETED and r.confirmed:
            add(REFERRALS, "confirmed", everyone, domains, day)
        if r.status == RS.COMPLETED:  # final, so status_changed_at is when it was completed
            add(REFERRALS, "to_service", everyone, domains, day, total=_micro(r.status_changed_at - r.sent_at))
        if r.sent_at == first_sent[r.need_id]:  # the need's first referral sent
            add(
                REFERRALS,
                "to_referral",
                everyone,
                domains,
                day,
                total=(day - r.need_opened_on).days * MICROSECONDS_PER_DAY,
            )

    # Follow-ups, by the day (and the month) they are due, per assignee. Whether an open one
    # is overdue depends on the hour the page is read; the page decides.
    for f in person.follow_ups:
        state = "open" if f.done_at is None else "on_time" if f.done_at <= f.due_at else "late"
        day, domains = f.due_at.astimezone(person.tz).date(), ("", *sorted(f.domains))
        add(FOLLOW_UPS, state, (f.assigned_to_id,), domains, day)
        add(FOLLOW_UPS, state, (f.assigned_to_id,), domains, day.replace(day=1), month=True)

    ordered = sorted(person.assessments, key=lambda a: (a.taken_on, a.id))

    # Housing on day N after release: the latest housing score of an assessment taken by then.
    if person.release_date is not None:
        housing = [
            (a.taken_on, a.scores[AssessmentDomain.HOUSING]) for a in ordered if AssessmentDomain.HOUSING in a.scores
        ]
        for days in CHECKPOINTS:
            day = person.release_date + timedelta(days=days)
            scores = [score for taken_on, score in housing if taken_on <= day]
            measure = "unknown" if not scores else "housed" if scores[-1] >= STABLY_HOUSED else "not_housed"
            add(HOUSING, f"{days}_{measure}", everyone, ("",), day)

    # Self-sufficiency: each assessment other than an intake is the person's latest from the
    # day it was taken until the next one (never, if the next was taken the same day); each
    # domain is compared with the first intake that scored it.
    intake: dict[str, int] = {}
    for a in ordered:
        if a.kind == AssessmentKind.INTAKE:
            for domain, score in a.scores.items():
                intake.setdefault(domain, score)
    for i, a in enumerate(ordered):
        following = ordered[i + 1] if i + 1 < len(ordered) else None
        if a.kind == AssessmentKind.INTAKE or (following and following.taken_on == a.taken_on):
            continue
        until = following.taken_on if following else None
        for domain, score in a.scores.items():
            if domain in intake:
                change = score - intake[domain]
                measure = "better" if change > 0 else "same" if change == 0 else "worse"
                add(SCORES, measure, everyone, (domain,), a.taken_on, total=change, until=until)
    return tally


def _micro(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- Loading people ---------------------------------------------------------------------------------


def load_people(organization: Organization, ids: Iterable[int] | None = None) -> Iterator[Person]:
    """The people of the organization (or just `ids`), with the rows their counts come from.

    Seven queries per CHUNK people, whatever the number of records.
    """
    tz = organization.zone()
    # A duplicate merged into another record counts no more: its rows count on the kept one.
    people = Exoneree.objects.current().filter(organization=organization).order_by("pk")
    if ids is not None:
        people = people.filter(pk__in=list(ids))
    rows = list(people.values_list("pk", "release_date"))
    for start in range(0, len(rows), CHUNK):
        chunk = dict(rows[start : start + CHUNK])
        yield from _load_chunk(organization.pk, tz, chunk)


def _load_chunk(organization_id: int, tz: zoneinfo.ZoneInfo, released: dict[int, date | None]) -> Iterator[Person]:
    ids = list(released)
    caseworkers: dict[int, list[int]] = defaultdict(list)
    through = Exoneree.caseworkers.through.objects.filter(exoneree_id__in=ids).order_by("user_id")
    for person_id, user_id in through.values_list("exoneree_id", "user_id"):
        caseworkers[person_id].append(user_id)
    needs = {
        pk: (domain, opened_on)
        for pk, domain, opened_on in Need.objects.filter(exoneree_id__in=ids)
        .order_by()
        .values_list("pk", "domain", "opened_on")
    }
    referrals = {
        pk: row
        for pk, *row in Referral.objects.filter(need__exoneree_id__in=ids)
        .order_by()
        .values_list(
            "pk", "need_id", "need__exoneree_id", "status", "status_changed_at", "provider_answered_at", "person_answer"
        )
    }
    sent: dict[int, list[SentReferral]] = defaultdict(list)
    events = ReferralEvent.objects.filter(referral__need__exoneree_id__in=ids, to_status=RS.SENT).order_by()
    for referral_id, at in events.values_list("referral_id", "at"):
        need_id, person_id, status, changed, answered_at, person_answer = referrals[referral_id]
        domain, opened_on = needs[need_id]
        answered, confirmed = answered_at is not None, person_answer == PersonAnswer.YES
        sent[person_id].append(SentReferral(domain, opened_on, need_id, status, changed, at, answered, confirmed))
    follow_ups: dict[int, list[FollowUpRow]] = defaultdict(list)
    for person_id, assignee, due_at, done_at, *domains in (
        FollowUp.objects.filter(exoneree_id__in=ids)
        .order_by()
        .values_list("exoneree_id", "assigned_to_id", "due_at", "done_at", "need__domain", "referral__need__domain")
    ):
        follow_ups[person_id].append(FollowUpRow(assignee, due_at, done_at, frozenset(d for d in domains if d)))
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    for assessment_id, domain, score in (
        AssessmentScore.objects.filter(assessment__exoneree_id__in=ids)
        .order_by()
        .values_list("assessment_id", "domain", "score")
    ):
        scores[assessment_id][domain] = score
    assessments: dict[int, list[AssessmentRow]] = defaultdict(list)
    for pk, person_id, kind, taken_on in (
        Assessment.objects.filter(exoneree_id__in=ids).order_by().values_list("pk", "exoneree_id", "kind", "taken_on")
    ):
        assessments[person_id].append(AssessmentRow(pk, kind, taken_on, scores[pk]))
    for pk in ids:
        yield Person(
            id=pk,
            organization_id=organization_id,
            tz=tz,
            release_date=released[pk],
            caseworker_ids=tuple(caseworkers[pk]),
            sent=tuple(sent[pk]),
            follow_ups=tuple(follow_ups[pk]),
            assessments=tuple(assessments[pk]),
        )


def _sum(tallies: Iterable[Tally]) -> Tally:
    total: Tally = defaultdict(lambda: [0, 0])
    for tally in tallies:
        for key, (count, amount) in tally.items():
            cell = total[key]
            cell[0] += count
            cell[1] += amount
    return total


def _lock(organization_id: int) -> Organization:
    # Every change to the counts of an organization holds this lock until commit: the
    # UPDATE that tells the cached figures they changed (services.figures) takes it.
    figures_changed(organization_id)
    return Organization.objects.get(pk=organization_id)


# --- A full recount ---------------------------------------------------------------------------------


@transaction.atomic
def recount(organization: Organization) -> int:
    """Replace the organization's counts with a count from scratch. Returns how many rows it holds.

    Idempotent; tracked writes wait for it (the organization lock) and follow it.
    """
    organization = _lock(organization.pk)
    tally = _everyones(organization)
    OutcomeCount.objects.filter(organization=organization).delete()
    return _store(OutcomeCount, organization, tally)


def _store(model: type[CountCell], organization: Organization, tally: Tally) -> int:
    rows = [
        model(organization=organization, **key._asdict(), count=count, total=total)
        for key, (count, total) in tally.items()
        if count or total
    ]
    model.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def refresh_statistics() -> None:
    """Bring the query planner's statistics of the counts table up to date: call after
    recounts, once they have committed. A recount replaces an organization's rows wholesale
    (~1.25M at bench scale) and nothing else tells the planner; autovacuum's ANALYZE comes
    minutes later, and until then the outcomes page plans on the old table (at bench scale
    ~140 ms to compute it instead of ~70)."""
    table = connection.ops.quote_name(OutcomeCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")  # PostgreSQL and SQLite alike


def stored(organization: Organization) -> Tally:
    """The organization's counts as stored (for comparing with a recount)."""
    tally = _rows(OutcomeCount.objects.filter(organization=organization))
    return {key: cell for key, cell in tally.items() if cell != [0, 0]}


def counted(organization: Organization) -> Tally:
    """What a recount would store, without storing it."""
    return {key: cell for key, cell in _everyones(organization).items() if cell != [0, 0]}


def _everyones(organization: Organization) -> Tally:
    """The contributions of everyone on record, and of those purged under retention."""
    people = (contributions(person) for person in load_people(organization))
    return _sum(chain(people, [_rows(RetiredCount.objects.filter(organization=organization))]))


def _rows(rows: QuerySet[Any]) -> Tally:
    tally: Tally = {}
    for row in rows.order_by().iterator(chunk_size=5000):
        key = Key(row.figure, row.key, row.caseworker_id, row.domain, row.day, row.until, row.month)
        cell = tally.setdefault(key, [0, 0])
        cell[0] += row.count
        cell[1] += row.total
    return tally


def retire(organization: Organization, ids: Iterable[int]) -> int:
    """Keep what these people add to the counts, before they are purged (issue 23): their
    rows go, what they counted for stays, in the counts as stored and in every recount.
    Returns how many cells it kept."""
    return _store(RetiredCount, organization, _sum(contributions(person) for person in load_people(organization, ids)))


# --- Tracked writes ----------------------------------------------------------------------------------


class _Tracker:
    """The people one tracked action (with the tracked actions it calls) changes, and their
    contributions before it changed them."""

    def __init__(self) -> None:
        self.before: dict[int, Tally] = {}
        self.organizations: dict[int, Organization] = {}
        self.organization_of: dict[int, Organization] = {}  # person id → their organization
        self.new: list[Exoneree] = []  # people not saved yet when the action began

    def track(self, people: Iterable[Exoneree]) -> None:
        self._settle_new()
        for person in people:
            if person.pk is None:
                self.new.append(person)
            elif person.pk not in self.before:
                organization = self._organization(person)
                found = list(load_people(organization, [person.pk]))
                self.before[person.pk] = contributions(found[0]) if found else {}

    def _settle_new(self) -> None:
        # A person created inside this action had nothing counted before it.
        for person in [p for p in self.new if p.pk is not None]:
            self.new.remove(person)
            self.before.setdefault(person.pk, {})

    def _organization(self, person: Exoneree) -> Organization:
        if person.pk not in self.organization_of:
            organization_id = Exoneree.objects.filter(pk=person.pk).values_list("organization_id", flat=True).get()
            if organization_id not in self.organizations:
                self.organizations[organization_id] = _lock(organization_id)
            self.organization_of[person.pk] = self.organizations[organization_id]
        return self.organization_of[person.pk]

    def apply(self) -> None:
        self._settle_new()
        for person_id, before in self.before.items():
            if not Exoneree.objects.filter(pk=person_id).exists():
                continue
            organization = self._organization(Exoneree(pk=person_id))
            found = list(load_people(organization, [person_id]))
            after = contributions(found[0]) if found else {}
            _add(organization, _difference(after, before))


def _difference(after: Tally, before: Tally) -> Tally:
    change: Tally = {}
    for key in after.keys() | before.keys():
        new, old = after.get(key, [0, 0]), before.get(key, [0, 0])
        if new != old:
            change[key] = [new[0] - old[0], new[1] - old[1]]
    return change


def _add(organization: Organization, change: Tally) -> None:
    """Add a tracked action's change to the stored counts in at most four queries, whatever
    the number of cells it changes (a person's send or intake changes dozens): read the cells,
    then update, create and delete them in bulk. Reading then writing is safe because every
    writer of the organization's counts holds its lock (`_lock`) until commit."""
    if not change:
        return
    kept: dict[Key, list[OutcomeCount]] = defaultdict(list)
    for row in _cells(organization, change):
        kept[Key(row.figure, row.key, row.caseworker_id, row.domain, row.day, row.until, row.month)].append(row)
    updated, created, emptied = [], [], []
    for key, (count, total) in change.items():
        if key not in kept:
            created.append(OutcomeCount(organization=organization, **key._asdict(), count=count, total=total))
        for row in kept.get(key, ()):
            row.count += count
            row.total += total
            (emptied if count < 0 and not row.count and not row.total else updated).append(row)
    OutcomeCount.objects.bulk_update(updated, ["count", "total"], batch_size=500)
    OutcomeCount.objects.bulk_create(created, batch_size=500)
    if emptied:
        OutcomeCount.objects.filter(pk__in=[row.pk for row in emptied]).delete()


def _cells(organization: Organization, change: Tally) -> QuerySet[OutcomeCount]:
    """The stored cells of the organization that may hold the change's keys (and a few more
    that share each part of one, which `_add` leaves alone): one query, on the counts' index."""
    caseworkers = {key.caseworker_id for key in change}
    anyone = Q(caseworker_id__in=caseworkers - {None})
    if None in caseworkers:
        anyone |= Q(caseworker__isnull=True)
    return OutcomeCount.objects.filter(
        anyone,
        organization=organization,
        figure__in={key.figure for key in change},
        key__in={key.key for key in change},
        domain__in={key.domain for key in change},
        day__in={key.day for key in change},
    ).order_by()


class _Recounted(_Tracker):
    """The tracker of `recounted_afterwards`: the tracked actions inside count nothing."""

    def track(self, people: Iterable[Exoneree]) -> None:
        pass

    def apply(self) -> None:
        pass


_tracker: contextvars.ContextVar[_Tracker | None] = contextvars.ContextVar("outcome_counts_tracker", default=None)


@contextlib.contextmanager
def recounted_afterwards(organizations: Iterable[Organization]) -> Iterator[None]:
    """Run many tracked actions without keeping the counts in step with each, then recount the
    organizations from scratch: for a writer of many people at once that also writes rows
    directly (the demo's seed), where each action counting its people before and after would be
    thrown away by the recount (two thirds of the seed's time). Inside a transaction."""
    token = _tracker.set(_Recounted())
    try:
        yield
    finally:
        _tracker.reset(token)
    for organization in organizations:
        recount(organization)


def outcome_counts_tracked_for(people: Callable[[dict[str, Any]], Iterable[Exoneree]]) -> Callable:
    """Keep the counts of the people `people(kwargs)` names in step with the decorated action.

    The action must run in a transaction (put this under `@transaction.atomic`). A tracked
    action called by another adds its people to the outer one's, which applies the change once.
    """

    def decorate(action: Callable) -> Callable:
        @functools.wraps(action)
        def tracked(*args: Any, **kwargs: Any) -> Any:
            outer = _tracker.get()
            tracker = outer or _Tracker()
            tracker.track(people(kwargs))
            if outer is not None:
                return action(*args, **kwargs)
            token = _tracker.set(tracker)
            try:
                result = action(*args, **kwargs)
                tracker.track(people(kwargs))  # a person the action created now has an id
                tracker.apply()
            finally:
                _tracker.reset(token)
            return result

        return tracked

    return decorate
