"""Reads: what each page shows, in a fixed number of queries however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import figures
from services.access import (
    exonerees_visible_to,
    organization_of,
    own_exoneree_or_none,
    resources_visible_to,
    staff_of,
)
from services.auth import UNREAD, preloaded
from services.choices import (
    CATEGORY_FOR_DOMAIN,
    ConsentCategory,
    EmergencyReview,
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    Priority,
    ReferralStatus,
    ReminderStatus,
    ResourceStatus,
    Role,
)
from services.lib.sql import joined_per_row, split
from services.lifecycle import REFERRAL_OPEN
from services.models import (
    JOINED_CATEGORIES,
    Assessment,
    AuditEvent,
    CaseNote,
    Consent,
    ConsentCategoryRow,
    EmergencyAccess,
    Exoneree,
    FollowUp,
    Need,
    Notification,
    Organization,
    Referral,
    ReferralEvent,
    Reminder,
    Resource,
    ResourceDomain,
    StaffMember,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

PLAN_HIDDEN_REFERRALS = [ReferralStatus.DRAFT, ReferralStatus.CANCELLED]
PLAN_UPCOMING = 20  # the next dates on a person's plan
PLAN_MISSED = 10  # the latest past dates still open
# Encrypted profile fields no list shows: left out of list queries, so they are not decrypted.
NOT_IN_LISTS = ["email", "address", "contact_notes", "date_of_birth", "ssn"]


def _unshown(prefix: str = "") -> list[str]:
    """The encrypted profile fields, for a page that names people but shows none of those."""
    return [prefix + name for name in (*NOT_IN_LISTS, "phone")]


OPEN_NEED = Q(status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS])
# A referral's encrypted texts, which the history and My plan never show: not loaded, not
# decrypted (a person has dozens of referral events).
REFERRAL_TEXTS = ["note", "decline_reason", "feedback"]


@dataclass
class PossibleDuplicates:
    """Records of the same organization with the same SSN, or the same name and birth date."""

    visible: list[Exoneree]
    hidden: list[int]  # ids of matches the user may not open: never shown to them

    def __bool__(self) -> bool:
        return bool(self.visible or self.hidden)

    @property
    def message(self) -> str:
        if self.visible:
            names = ", ".join(person.display_name for person in self.visible)
            return _(
                "This may be someone already on file: %(names)s. Open their record from People instead "
                "of creating a second one, or tick the box if this is a different person."
            ) % {"names": names}
        return _(
            "Your organization may already have a record for this person, on a caseload you cannot "
            "see. Ask your director before creating a second record, or tick the box if this is a "
            "different person."
        )


def possible_duplicates(user: AbstractUser, candidate: Exoneree) -> PossibleDuplicates:
    """Blind-index matches for an intake, without decrypting anything.

    Only the user's own organization is searched (another organization's clients are not
    ours to know about), and a match the user may not open is counted, never named.
    """
    fields = {field.name: field for field in Exoneree._meta.fields}
    match = Q(pk__in=[])
    if ssn := fields["ssn_index"].candidates(candidate.ssn):
        match |= Q(ssn_index__in=ssn)
    if name_dob := fields["name_dob_index"].candidates(candidate.legal_name, candidate.date_of_birth):
        match |= Q(name_dob_index__in=name_dob)
    if not (ssn or name_dob):
        return PossibleDuplicates(visible=[], hidden=[])
    matches = Exoneree.objects.filter(match, organization=organization_of(user)).exclude(pk=candidate.pk)
    visible = list(exonerees_visible_to(user).filter(pk__in=matches.values("pk")).only("legal_name", "preferred_name"))
    seen = {person.pk for person in visible}
    return PossibleDuplicates(
        visible=visible, hidden=[pk for pk in matches.values_list("pk", flat=True) if pk not in seen]
    )


# What a row of the people list shows, and nothing else: a person's record has thirty-odd
# columns, and the ones loaded are converted for every row. Their caseworkers' names come
# in the same query (`caseworker_names`).
PERSON_ROW = ["legal_name", "preferred_name", "phone"]


def exoneree_list(user: AbstractUser, *, q: str = "") -> QuerySet[Exoneree]:
    queryset = exonerees_visible_to(user)
    for word in q.split():
        queryset = queryset.filter(Q(legal_name__icontains=word) | Q(preferred_name__icontains=word))
    return (
        queryset.annotate(**_person_figures(), caseworker_names=caseworker_names())
        .only(*PERSON_ROW)
        .order_by("legal_name", "pk")
    )


def _person_figures() -> dict[str, Any]:
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


# Rows per dashboard section: what a caseworker takes in at a glance; each section says how
# many there are in all and links to the full, paginated list.
DASHBOARD_ROWS = 10
DUE_SOON = timedelta(days=7)
FOLLOW_UP_FILTERS = ("overdue", "week")
# What a row of those lists shows: the person's names only, no follow-up details or outcome
# (open ones have none yet), the need's description but not the person's own words.
FOLLOW_UP_ROW = ["title", "due_at", "exoneree"]
NEED_ROW = ["exoneree", "domain", "description", "priority", "opened_on"]
# Most urgent first: the database orders by this rank, not by the label's alphabet.
PRIORITY_RANK = Case(*(When(priority=value, then=Value(rank)) for rank, value in enumerate(Priority.values)))


def my_follow_ups(
    user: AbstractUser, *, due: str = "", now: datetime | None = None, people: list[int] | None = None
) -> QuerySet[FollowUp]:
    """The caseworker's own open follow-ups about people they may see, the earliest due first:
    all of them, the overdue ones (`due="overdue"`) or those due in the next 7 days ("week").
    `people`: the ids of the people they may see, when the caller has them already."""
    now = now or timezone.now()
    visible = exonerees_visible_to(user) if people is None else people
    follow_ups = FollowUp.objects.filter(assigned_to=user, done_at__isnull=True, exoneree__in=visible)
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


def _first_rows(queryset: QuerySet[Any], rows: int) -> tuple[list[Any], int]:
    """The first `rows` of a list and how many it has in all, in one query: the count is a
    window over the whole list, which the database computes before the limit."""
    first = list(queryset.annotate(total=Window(Count("*")))[:rows])
    return first, first[0].total if first else 0


def caseworker_dashboard(user: AbstractUser, *, now: datetime | None = None) -> dict[str, Any]:
    """The first rows of each section, most urgent first, and how many there are in all."""
    now = now or timezone.now()
    # The whole caseload, names and figures only (nothing encrypted): a caseworker carries
    # dozens of people, and their ids spare every other query the permission filter.
    caseload = list(
        exonerees_visible_to(user)
        .annotate(**_person_figures())
        .only("legal_name", "preferred_name", "compensation_deadline")
        .order_by(F("next_follow_up").asc(nulls_last=True), "legal_name", "pk")  # who comes up first
    )
    people = [person.pk for person in caseload]
    overdue, overdue_count = _first_rows(my_follow_ups(user, due="overdue", now=now, people=people), DASHBOARD_ROWS)
    due_soon, due_soon_count = _first_rows(my_follow_ups(user, due="week", now=now, people=people), DASHBOARD_ROWS)
    needs, needs_count = _first_rows(open_needs(user, people=people), DASHBOARD_ROWS)
    return {
        "overdue": overdue,
        "overdue_count": overdue_count,
        "due_soon": due_soon,
        "due_soon_count": due_soon_count,
        "caseload": caseload[:DASHBOARD_ROWS],
        "caseload_count": len(caseload),
        "open_needs": needs,
        "open_needs_count": needs_count,
        # Through the permission filter, not the ids: with a list of ids PostgreSQL scans every
        # need (15 ms on the bench network); from the grants it walks the indexes (3 ms).
        "recent_referrals": Referral.objects.filter(need__exoneree__in=exonerees_visible_to(user))
        .select_related("need__exoneree", "resource")
        .only(
            "status",
            "status_changed_at",
            "need__exoneree__legal_name",
            "need__exoneree__preferred_name",
            "resource__name",
        )
        .order_by("-status_changed_at", "-pk")[:DASHBOARD_ROWS],
    }


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | date
    kind: str
    text: str
    url: str = ""

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.at, datetime):
            return self.at
        return timezone.make_aware(datetime.combine(self.at, datetime.min.time()))


# The person page shows the latest done follow-ups; the rest are on their own page.
DONE_FOLLOW_UPS_SHOWN = 10
NAME_SEPARATOR = "\x1f"  # ASCII unit separator: never typed into a name


def staff_name(prefix: str = "") -> Coalesce:
    """A user's full name, or their username when they have none (as `get_full_name() or username`)."""
    full = Trim(Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name"))
    return Coalesce(NullIf(full, Value("")), f"{prefix}username", output_field=CharField())


def caseworker_names() -> Coalesce:
    """For an annotation of people: their caseworkers' names, joined (see `split_names`)."""
    carried = Exoneree.caseworkers.through.objects.all()
    return joined_per_row(carried, "exoneree", staff_name("user__"), NAME_SEPARATOR)


def split_names(joined: str) -> list[str]:
    return sorted(split(joined, NAME_SEPARATOR), key=str.casefold)


def follow_up_rows(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Follow-ups with what `_follow_up_row.html` shows loaded, and nothing else."""
    return follow_ups.select_related("assigned_to", "need", "referral__resource").only(
        "exoneree",
        "title",
        "due_at",
        "done_at",
        "outcome",
        "shared_with_exoneree",
        "assigned_to__first_name",
        "assigned_to__last_name",
        "assigned_to__username",
        "need__domain",
        "referral__resource__name",
    )


def exoneree_detail(exoneree: Exoneree) -> dict[str, Any]:
    """What the person page shows, and no column more. `exoneree` was loaded with
    `caseworker_names()` annotated."""
    referrals = Referral.objects.select_related("resource").only(
        "need", "status", "consent_revoked_at", "resource__name"
    )
    needs = list(exoneree.needs.prefetch_related(Prefetch("referrals", queryset=referrals)))
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
        "follow_ups_open": [f for f in follow_ups if not f.is_done],
        "follow_ups_done": done[:DONE_FOLLOW_UPS_SHOWN],
        "more_done": len(done) > DONE_FOLLOW_UPS_SHOWN,
        "notes": list(notes),
        "assessments": list(
            exoneree.assessments.only("exoneree", "kind", "taken_on").annotate(score_count=Count("scores"))
        ),
        "caseworkers": split_names(exoneree.caseworker_names),
        "consents": consents_for(exoneree),
        "flagged_referrals": [r for need in needs for r in need.referrals.all() if r.consent_revoked_at and r.is_open],
    }


def done_follow_ups(exoneree: Exoneree) -> QuerySet[FollowUp]:
    """A person's done follow-ups, latest first (their own page, paginated)."""
    return follow_up_rows(exoneree.follow_ups.filter(done_at__isnull=False)).order_by("-done_at", "-pk")


def exoneree_history(exoneree: Exoneree) -> list[TimelineEntry]:
    """Everything that happened on a person's case, newest first (the history page)."""
    needs = list(exoneree.needs.defer("description", "own_words"))
    follow_ups = list(exoneree.follow_ups.filter(done_at__isnull=False).only("exoneree", "title", "done_at"))
    notes = list(exoneree.notes.select_related("author").defer("text"))
    assessments = list(exoneree.assessments.only("exoneree", "kind", "taken_on"))
    events = (
        ReferralEvent.objects.filter(referral__need__exoneree=exoneree)
        .select_related("referral__resource", "by")
        .defer("note", *(f"referral__{name}" for name in REFERRAL_TEXTS))
    )
    return timeline(needs, events, follow_ups, notes, assessments)


def timeline(
    needs: list[Need],
    events: QuerySet[ReferralEvent],
    follow_ups: list[FollowUp],
    notes: list[CaseNote],
    assessments: list[Assessment],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for need in needs:
        entries.append(TimelineEntry(need.opened_on, "Need", f"{need.get_domain_display()} need recorded"))
        if need.closed_on:
            entries.append(
                TimelineEntry(need.closed_on, "Need", f"{need.get_domain_display()}: {need.get_status_display()}")
            )
    for event in events:
        who = f" by {event.by.get_full_name() or event.by.get_username()}" if event.by else ""
        text = _("Referral to %(name)s: %(label)s%(who)s") % {
            "name": event.referral.resource.name,
            "label": ReferralStatus(event.to_status).label,
            "who": who,
        }
        entries.append(TimelineEntry(event.at, "Referral", text, reverse("referral_detail", args=[event.referral_id])))
    for follow_up in follow_ups:
        if follow_up.done_at:
            entries.append(
                TimelineEntry(follow_up.done_at, "Follow-up", _("Done: %(title)s") % {"title": follow_up.title})
            )
    for note in notes:
        author = note.author.get_full_name() or note.author.get_username()
        entries.append(
            TimelineEntry(
                note.created_at,
                "Note",
                _("Note by %(author)s (%(visibility)s)")
                % {"author": author, "visibility": note.get_visibility_display()},
            )
        )
    for assessment in assessments:
        entries.append(TimelineEntry(assessment.taken_on, "Assessment", f"{assessment.get_kind_display()} assessment"))
    return sorted(entries, key=lambda e: e.sort_key, reverse=True)


# What a row of the directory shows; the domains it serves come joined in the same query.
RESOURCE_ROW = ["provider", "provider__name", "name", "languages", "city", "state", "phone", "hours", "status"]


def resource_search(user: AbstractUser, *, q: str = "", domain: str = "", status: str = "") -> QuerySet[Resource]:
    queryset = resources_visible_to(user)
    if status == "all":
        pass
    elif status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.filter(status=ResourceStatus.ACTIVE)
    if domain:
        queryset = queryset.filter(domain_rows__domain=domain)
    for word in q.split():
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(provider__name__icontains=word)
            | Q(description__icontains=word)
            | Q(city__icontains=word)
            | Q(languages__icontains=word)
        )
    return (
        queryset.select_related("provider")
        .annotate(domains=joined_per_row(ResourceDomain.objects.all(), "resource", "domain", ","))
        .only(*RESOURCE_ROW)
        .order_by("name", "pk")
        .distinct()
    )


def resources_for_need(user: AbstractUser, need: Need, *, keep: int | None = None) -> QuerySet[Resource]:
    """Active resources (and `keep`, the one already chosen), those serving the need's domain first."""
    return (
        resources_visible_to(user)
        .filter(Q(status=ResourceStatus.ACTIVE) | Q(pk=keep))
        .annotate(serves=Count("domain_rows", filter=Q(domain_rows__domain=need.domain)))
        .order_by("-serves", "name")
    )


def _director_counts(organization: Organization, now: datetime) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Referrals by status and needs by domain: from the figures' cache (services.figures:
    counted again after any write they read, and every minute) or counted."""
    key = figures.key("director-dashboard", organization, now, "")
    if (counts := cache.get(key)) is None:
        referral_counts = dict(
            Referral.objects.filter(organization=organization)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        needs_by_domain = list(
            Need.objects.filter(organization=organization)
            .values("domain")
            .annotate(
                total=Count("pk"),
                met=Count("pk", filter=Q(status=NeedStatus.MET)),
                open=Count("pk", filter=OPEN_NEED),
            )
            .order_by("domain")
        )
        counts = (referral_counts, needs_by_domain)
        cache.set(key, counts, figures.TTL_SECONDS)
    return counts


def director_dashboard(organization: Organization, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    in_org = Q(exoneree__organization=organization)
    caseworkers = (
        StaffMember.objects.filter(organization=organization, role=Role.CASEWORKER)
        .select_related("user")
        .annotate(
            caseload_size=Count("user__caseload", filter=Q(user__caseload__organization=organization), distinct=True),
        )
        .order_by("user__first_name", "user__last_name")
    )
    overdue = dict(
        FollowUp.objects.filter(in_org, done_at__isnull=True, due_at__lt=now)
        .values_list("assigned_to")
        .annotate(n=Count("*"))  # not Count("pk"): the open follow-ups' index answers it alone
        .values_list("assigned_to", "n")
    )
    referral_counts, needs_by_domain = _director_counts(organization, now)
    return {
        "caseworkers": [
            {"member": member, "caseload": member.caseload_size, "overdue": overdue.get(member.user_id, 0)}
            for member in caseworkers
        ],
        "referrals_by_status": [(status.label, referral_counts.get(status.value, 0)) for status in ReferralStatus],
        "open_referrals": sum(referral_counts.get(s, 0) for s in REFERRAL_OPEN),
        "needs_by_domain": [
            {**row, "label": NeedDomain(row["domain"]).label, "percent_met": round(100 * row["met"] / row["total"])}
            for row in needs_by_domain
        ],
        "unassigned": Exoneree.objects.filter(organization=organization, caseworkers__isnull=True)
        .defer(*_unshown())
        .order_by("legal_name"),
        "people": Exoneree.objects.filter(organization=organization).count(),
    }


def audit_log(
    organization: Organization,
    *,
    staff: Any = None,
    person: str = "",
    action: str = "",
    start: date | None = None,
    end: date | None = None,
    exoneree: Exoneree | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's entries of the access log, newest first, filtered."""
    entries = AuditEvent.objects.filter(organization=organization)
    if staff is not None:
        entries = entries.filter(actor=staff)
    for word in person.split():
        entries = entries.filter(Q(exoneree__legal_name__icontains=word) | Q(exoneree__preferred_name__icontains=word))
    if action:
        entries = entries.filter(action=action)
    zone = timezone.get_current_timezone()
    if start:
        entries = entries.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        entries = entries.filter(at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    if exoneree is not None:
        entries = entries.filter(exoneree=exoneree)
    return (
        entries.select_related("actor__staff", "exoneree")
        .only(
            *[f.name for f in AuditEvent._meta.concrete_fields],
            "actor__first_name",
            "actor__last_name",
            "actor__username",
            "actor__staff__role",
            "exoneree__legal_name",
            "exoneree__preferred_name",
            "exoneree__organization_id",
        )
        .order_by("-pk")
    )


OPENED = [AuditEvent.Action.RECORD_VIEWED, AuditEvent.Action.SSN_REVEALED]


def record_openers(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Who at the organization opened this person's record, and when they last did: for
    the person themselves, so names and roles only."""
    rows = (
        AuditEvent.objects.filter(exoneree=exoneree, action__in=OPENED, actor__staff__isnull=False)
        .values("actor", "actor__first_name", "actor__last_name", "actor__username", "actor__staff__role")
        .annotate(last=Max("at"), times=Count("pk"))
        .order_by("-last")
    )
    return [
        {
            "name": f"{row['actor__first_name']} {row['actor__last_name']}".strip() or row["actor__username"],
            "role": Role(row["actor__staff__role"]).label,
            "last": row["last"],
            "times": row["times"],
        }
        for row in rows
    ]


def plan_for(exoneree: Exoneree, *, now: datetime | None = None) -> dict[str, Any]:
    """What the exoneree sees: never staff-only notes, drafts or internal follow-ups."""
    now = now or timezone.now()
    needs = list(
        exoneree.needs.prefetch_related(
            Prefetch(
                "referrals",
                queryset=Referral.objects.exclude(status__in=PLAN_HIDDEN_REFERRALS)
                .select_related("resource__provider")
                .defer(*REFERRAL_TEXTS)
                .order_by("-status_changed_at"),
            )
        ).order_by("status", "-opened_on")
    )
    # A follow-up may point at a referral the person must not see (a draft, a cancelled one):
    # the provider's name is shown only for referrals that reached them.
    provider_name = Case(
        When(referral__status__in=PLAN_HIDDEN_REFERRALS, then=Value("")),
        default=F("referral__resource__name"),
        output_field=CharField(),
    )
    # Every open date shared with them, in one query, split at `now` here: a person has a few
    # (median 3, 99th percentile 20 on the bench network), so this is cheaper than asking the
    # database for each side's first rows (two queries, or a window it must number).
    dated = list(
        exoneree.follow_ups.filter(shared_with_exoneree=True, done_at__isnull=True)
        .annotate(provider_name=provider_name)
        .only("exoneree", "title", "due_at")
        .order_by("due_at", "pk")
    )
    return {
        "open_needs": [n for n in needs if n.is_open],
        "closed_needs": [n for n in needs if not n.is_open],
        "upcoming": [item for item in dated if item.due_at >= now][:PLAN_UPCOMING],
        "missed": [item for item in reversed(dated) if item.due_at < now][:PLAN_MISSED],
        "notes": exoneree.notes.filter(visibility=NoteVisibility.SHARED).select_related("author")[:20],
        "caseworkers": StaffMember.objects.filter(user__caseload=exoneree).select_related("user"),
        "openers": record_openers(exoneree),
        # What they agreed to share and may still stop: not revoked, not yet ended.
        "consents": exoneree.consents.filter(revoked_at__isnull=True, ends_on__gte=timezone.localdate())
        .select_related("provider")
        .annotate(**{JOINED_CATEGORIES: joined_categories()})
        .order_by("ends_on", "pk"),
    }


def notifications_page(user: AbstractUser) -> dict[str, Any]:
    """The user's latest notifications, and the reminders that could not be sent that they
    should know about: a director sees the organization's, a caseworker their own and
    those about the people they carry (e.g. a text to an exoneree with SMS switched off)."""
    staff = staff_of(user)
    failed = Reminder.objects.filter(organization_id=staff.organization_id, status=ReminderStatus.FAILED)
    if staff.role != Role.DIRECTOR:
        # Only about people they can still open: after a reassignment, the old caseworker's
        # failures about that person are the new caseworker's to see.
        visible = exonerees_visible_to(user)
        failed = failed.filter(Q(follow_up__exoneree__in=visible) | Q(exoneree__in=visible))
    return {
        "notifications": Notification.objects.filter(user=user).order_by("-created_at", "-pk")[:50],
        "failed": failed.select_related("follow_up__exoneree", "exoneree").order_by("-send_at", "-pk")[:50],
        "failed_count": failed.count(),  # all of them: the list shows the latest 50
    }


def unread_notification_count(user: AbstractUser) -> int:
    loaded, count = preloaded(user, UNREAD)  # counted when the request loaded the user
    return (count or 0) if loaded else Notification.objects.filter(user=user, read_at__isnull=True).count()


# Consent: what a referral hands over, and whether a current consent covers it.


def categories_for_need(need: Need) -> list[str]:
    """The default of a new referral: contact details, and what its need's domain is about."""
    extra = CATEGORY_FOR_DOMAIN.get(need.domain, ConsentCategory.CONTACT)
    return ConsentCategory.in_order({ConsentCategory.CONTACT, extra})


def referral_categories(referral: Referral) -> list[str]:
    """What the referral carries, in the fixed order; contact details always."""
    carried = referral.category_rows.values_list("category", flat=True)
    return ConsentCategory.in_order({ConsentCategory.CONTACT, *carried})


def current_consents(exoneree: Exoneree, *, today: date | None = None) -> QuerySet[Consent]:
    """Signed, started, not past their end, not revoked."""
    today = today or timezone.localdate()
    return Consent.objects.filter(exoneree=exoneree, revoked_at__isnull=True, starts_on__lte=today, ends_on__gte=today)


def consent_missing(referral: Referral, *, today: date | None = None, lock: bool = False) -> list[str]:
    """The categories the referral carries that no current consent for its provider names.

    A category is covered only by a consent that names it: there is no "everything" shortcut,
    so substance use (42 CFR Part 2) is never shared under a consent that does not say so.

    `lock` (a send, inside its transaction): the covering consents are locked, so a
    revocation either commits first (and this sees the consent revoked) or waits until the
    send has committed (and then flags the sent referral).
    """
    carried = referral_categories(referral)
    consents = current_consents(referral.need.exoneree, today=today).filter(provider_id=referral.resource.provider_id)
    if lock:
        consents = Consent.objects.filter(pk__in=list(consents.select_for_update().values_list("pk", flat=True)))
    covered = set(ConsentCategoryRow.objects.filter(consent__in=consents).values_list("category", flat=True))
    return [category for category in carried if category not in covered]


def consent_missing_message(referral: Referral, missing: list[str]) -> str:
    labels = ", ".join(ConsentCategory(value).label.lower() for value in missing)
    person = referral.need.exoneree
    return _("No current consent for %(name)s covering: %(labels)s. Record one on %(first_name)s's page.") % {
        "name": referral.resource.provider.name,
        "labels": labels,
        "first_name": person.first_name,
    }


def joined_categories() -> Any:
    """For an annotation of consents (named JOINED_CATEGORIES): their categories, which
    `Consent.categories` then reads without a query of its own."""
    return joined_per_row(ConsentCategoryRow.objects.all(), "consent", "category", ",")


def consents_for(exoneree: Exoneree) -> list[Consent]:
    return list(
        exoneree.consents.select_related("provider", "revoked_by").annotate(**{JOINED_CATEGORIES: joined_categories()})
    )


def pending_emergency_reviews(grants: QuerySet[EmergencyAccess]) -> dict[str, Any]:
    return {
        "pending": list(grants.filter(review=EmergencyReview.PENDING).order_by("granted_at", "pk")),
        "reviewed": list(grants.exclude(review=EmergencyReview.PENDING).order_by("-reviewed_at", "-pk")[:50]),
    }


def locked_out_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames django-axes currently refuses (from at least one address)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def language_of(user: Any) -> str:
    """The language to write to this person in: an exoneree's own choice, else the site's."""
    exoneree = own_exoneree_or_none(user)
    return exoneree.preferred_language if exoneree is not None else settings.LANGUAGE_CODE
