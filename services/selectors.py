"""Reads: what each page shows, in a fixed number of queries however many rows there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Case, CharField, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from services.access import exonerees_visible_to, resources_visible_to, staff_of
from services.choices import (
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    ReferralStatus,
    ReminderStatus,
    ResourceStatus,
    Role,
)
from services.lifecycle import REFERRAL_OPEN
from services.models import (
    Assessment,
    CaseNote,
    Exoneree,
    FollowUp,
    Need,
    Notification,
    Organization,
    Referral,
    ReferralEvent,
    Reminder,
    Resource,
    StaffMember,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

PLAN_HIDDEN_REFERRALS = [ReferralStatus.DRAFT, ReferralStatus.CANCELLED]
OPEN_NEED = Q(status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS])


def exoneree_list(user: AbstractUser, *, q: str = "") -> QuerySet[Exoneree]:
    queryset = exonerees_visible_to(user)
    for word in q.split():
        queryset = queryset.filter(Q(legal_name__icontains=word) | Q(preferred_name__icontains=word))
    # Subqueries, not joins: counting needs across a join with follow-ups would multiply rows.
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
    return (
        queryset.annotate(
            open_needs=Coalesce(Subquery(open_needs), 0),
            next_follow_up=Subquery(next_follow_up),
        )
        .prefetch_related(Prefetch("caseworkers", queryset=_users_by_name()))
        .order_by("legal_name", "pk")
    )


def _users_by_name() -> QuerySet[Any]:
    return get_user_model().objects.order_by("first_name", "last_name")


def caseworker_dashboard(user: AbstractUser, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    caseload = exonerees_visible_to(user)
    my_follow_ups = FollowUp.objects.filter(
        assigned_to=user, done_at__isnull=True, exoneree__in=caseload
    ).select_related("exoneree")
    return {
        "caseload": exoneree_list(user),
        "overdue": my_follow_ups.filter(due_at__lt=now).order_by("due_at")[:50],
        "due_soon": my_follow_ups.filter(due_at__gte=now, due_at__lt=now + timedelta(days=7)).order_by("due_at")[:50],
        "open_needs": Need.objects.filter(OPEN_NEED, exoneree__in=caseload)
        .select_related("exoneree")
        .order_by("opened_on", "pk")[:25],
        "recent_referrals": Referral.objects.filter(need__exoneree__in=caseload)
        .select_related("need__exoneree", "resource__provider")
        .order_by("-status_changed_at", "-pk")[:10],
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


def exoneree_detail(exoneree: Exoneree) -> dict[str, Any]:
    needs = list(exoneree.needs.select_related("created_by").prefetch_related("referrals__resource"))
    follow_ups = list(exoneree.follow_ups.select_related("assigned_to", "need", "referral__resource"))
    notes = list(exoneree.notes.select_related("author"))
    assessments = list(exoneree.assessments.select_related("taken_by").prefetch_related("scores"))
    events = ReferralEvent.objects.filter(referral__need__exoneree=exoneree).select_related("referral__resource", "by")
    return {
        "needs": needs,
        "follow_ups_open": [f for f in follow_ups if not f.is_done],
        "follow_ups_done": sorted((f for f in follow_ups if f.is_done), key=lambda f: f.done_at, reverse=True),
        "notes": notes,
        "assessments": assessments,
        "caseworkers": list(exoneree.caseworkers.order_by("first_name", "last_name")),
        "timeline": timeline(needs, events, follow_ups, notes, assessments),
    }


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
        text = f"Referral to {event.referral.resource.name}: {ReferralStatus(event.to_status).label}{who}"
        entries.append(TimelineEntry(event.at, "Referral", text, reverse("referral_detail", args=[event.referral_id])))
    for follow_up in follow_ups:
        if follow_up.done_at:
            entries.append(TimelineEntry(follow_up.done_at, "Follow-up", f"Done: {follow_up.title}"))
    for note in notes:
        author = note.author.get_full_name() or note.author.get_username()
        entries.append(TimelineEntry(note.created_at, "Note", f"Note by {author} ({note.get_visibility_display()})"))
    for assessment in assessments:
        entries.append(TimelineEntry(assessment.taken_on, "Assessment", f"{assessment.get_kind_display()} assessment"))
    return sorted(entries, key=lambda e: e.sort_key, reverse=True)


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
    return queryset.select_related("provider").prefetch_related("domain_rows").order_by("name", "pk").distinct()


def resources_for_need(user: AbstractUser, need: Need, *, keep: int | None = None) -> QuerySet[Resource]:
    """Active resources (and `keep`, the one already chosen), those serving the need's domain first."""
    return (
        resources_visible_to(user)
        .filter(Q(status=ResourceStatus.ACTIVE) | Q(pk=keep))
        .annotate(serves=Count("domain_rows", filter=Q(domain_rows__domain=need.domain)))
        .order_by("-serves", "name")
    )


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
        .annotate(n=Count("pk"))
        .values_list("assigned_to", "n")
    )
    referral_counts = dict(
        Referral.objects.filter(need__exoneree__organization=organization)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    needs_by_domain = (
        Need.objects.filter(in_org)
        .values("domain")
        .annotate(
            total=Count("pk"),
            met=Count("pk", filter=Q(status=NeedStatus.MET)),
            open=Count("pk", filter=OPEN_NEED),
        )
        .order_by("domain")
    )
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
        "unassigned": Exoneree.objects.filter(organization=organization, caseworkers__isnull=True).order_by(
            "legal_name"
        ),
        "people": Exoneree.objects.filter(organization=organization).count(),
    }


def plan_for(exoneree: Exoneree, *, now: datetime | None = None) -> dict[str, Any]:
    """What the exoneree sees: never staff-only notes, drafts or internal follow-ups."""
    now = now or timezone.now()
    needs = list(
        exoneree.needs.prefetch_related(
            Prefetch(
                "referrals",
                queryset=Referral.objects.exclude(status__in=PLAN_HIDDEN_REFERRALS)
                .select_related("resource__provider")
                .order_by("-status_changed_at"),
            )
        ).order_by("status", "-opened_on")
    )
    # A follow-up may point at a referral the person must not see (a draft, a cancelled one):
    # the provider's name is shown only for referrals that reached them.
    shared_follow_ups = exoneree.follow_ups.filter(shared_with_exoneree=True, done_at__isnull=True).annotate(
        provider_name=Case(
            When(referral__status__in=PLAN_HIDDEN_REFERRALS, then=Value("")),
            default=F("referral__resource__name"),
            output_field=CharField(),
        )
    )
    return {
        "open_needs": [n for n in needs if n.is_open],
        "closed_needs": [n for n in needs if not n.is_open],
        "upcoming": shared_follow_ups.filter(due_at__gte=now).order_by("due_at")[:20],
        "missed": shared_follow_ups.filter(due_at__lt=now).order_by("-due_at")[:10],
        "notes": exoneree.notes.filter(visibility=NoteVisibility.SHARED).select_related("author")[:20],
        "caseworkers": StaffMember.objects.filter(user__caseload=exoneree).select_related("user"),
    }


def notifications_page(user: AbstractUser) -> dict[str, Any]:
    """The user's latest notifications, and the reminders that could not be sent that they
    should know about: a director sees the organization's, a caseworker their own and
    those about the people they carry (e.g. a text to an exoneree with SMS switched off)."""
    staff = staff_of(user)
    failed = Reminder.objects.filter(organization_id=staff.organization_id, status=ReminderStatus.FAILED)
    if staff.role != Role.DIRECTOR:
        failed = failed.filter(
            Q(recipient=user) | Q(follow_up__assigned_to=user) | Q(exoneree__in=exonerees_visible_to(user))
        )
    return {
        "notifications": Notification.objects.filter(user=user).order_by("-created_at", "-pk")[:50],
        "failed": failed.select_related("follow_up__exoneree", "exoneree").order_by("-send_at", "-pk")[:50],
    }


def unread_notification_count(user: AbstractUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
