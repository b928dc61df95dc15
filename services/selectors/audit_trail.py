"""The access log as directors and the person read it, and emergency grants to review."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower, Trim
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.auth import typed_username
from services.choices import (
    EmergencyReview,
    Role,
)
from services.models.audit import AuditEvent
from services.models.consent import EmergencyAccess
from services.models.organizations import Organization
from services.models.people import Exoneree, name_search


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
        entries = entries.filter(Q(actor=staff) | failed_sign_ins_of(staff))
    if person:
        entries = entries.filter(name_search(person, "exoneree__"))
    if action:
        entries = entries.filter(action=action)
    zone = timezone.get_current_timezone()
    if start:
        entries = entries.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        entries = entries.filter(at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    if exoneree is not None:
        # The log keeps the ids of merged records: a person's log includes the entries of
        # the duplicates merged into them (services/actions/merges.py).
        merged = Exoneree.objects.filter(merged_into=exoneree).values("pk")
        entries = entries.filter(Q(exoneree=exoneree) | Q(exoneree__in=merged))
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


def failed_sign_ins_of(account: Any) -> Q:
    """The failed sign-ins typed with this account's username, as services.auth.account_named
    reads a username typed: the exact username, or else (no account has it exactly) the one
    in small letters without spaces around it. Such an entry keeps only what was typed, not
    the account (nobody signed in), so a director filtering by a staff member finds it by its
    username: "Caseworker2" typed with a wrong password, or a wrong code after caseworker2's
    password, are hers."""
    failed = Q(action=AuditEvent.Action.SIGN_IN_FAILED)
    exact = Q(username=account.username)
    typed = typed_username(account.username)
    if typed != account.username:  # an account named with capitals is found only as named
        return failed & exact
    named_so = get_user_model()._default_manager.filter(username=OuterRef("username"))
    return failed & (exact | (Q(Exact(Lower(Trim("username")), typed)) & ~Q(Exists(named_so))))


OPENED = [AuditEvent.Action.RECORD_VIEWED, AuditEvent.Action.SSN_REVEALED, AuditEvent.Action.DOCUMENT_DOWNLOADED]


def record_openers(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Who opened this person's record, and when they last did: staff of the organization,
    and the providers who saw what the person agreed to share with them (through a
    referral's link; their entry names the provider). For the person themselves, so names
    and roles only. One query: a provider's entries group under its name."""
    provider = AuditEvent.Action.PROVIDER_OPENED
    rows = (
        AuditEvent.objects.filter(
            Q(action__in=OPENED, actor__staff__isnull=False) | Q(action=provider, actor__isnull=True),
            exoneree=exoneree,
        )
        .annotate(provider=Case(When(action=provider, then=F("username")), default=Value(""), output_field=CharField()))
        .values("actor", "actor__first_name", "actor__last_name", "actor__username", "actor__staff__role", "provider")
        .annotate(last=Max("at"), times=Count("pk"))
        .order_by("-last")
    )
    return [
        {
            "name": row["provider"]
            or f"{row['actor__first_name']} {row['actor__last_name']}".strip()
            or row["actor__username"],
            "role": _("provider") if row["provider"] else Role(row["actor__staff__role"]).label,
            "is_provider": bool(row["provider"]),
            "last": row["last"],
            "times": row["times"],
        }
        for row in rows
    ]


# The person's own list reads this many openings at a time: the plan the newest, their page of
# visits each page (visits_page).
VISITS_READ = 200


def visits_page(exoneree: Exoneree, *, before: int | None = None) -> dict[str, Any]:
    """Who opened this person's record: one visit per reader per day (a day in the
    organization's time), the newest day first and, within a day, the latest visit first. For
    the person themselves: names and roles only, and whether they saw the full SSN or
    downloaded a paper. One query, read as plain rows (a file opened daily has its VISITS_READ
    openings, three model instances each otherwise).

    A page of them (`visits`; the newest, or those of the openings older than `before`, the
    oldest opening the newer page showed) and `earlier`: the `before` of the next page, or None
    when this page reaches the first opening. A page holds whole days: the oldest day read may
    go on past the openings read, so it is left whole to the next page. Only a day with more
    openings than a page reads is split: `continues_day` names it on the page it begins on,
    `continued_day` on the page it goes on to."""
    # With `before`, that opening itself is read first: not shown again, it says whether the
    # newer page's last day goes on here.
    openings = _openings(exoneree, before, one_more=True)
    shown_before = openings.pop(0) if openings and openings[0].pk == before else None
    more = len(openings) > VISITS_READ
    openings = openings[:VISITS_READ]
    earlier = continues_day = None
    if more:
        oldest_day = _day(openings[-1].at)
        whole = [row for row in openings if _day(row.at) != oldest_day]
        if whole:
            openings = whole
        else:  # one day fills the page: it goes on on the next
            continues_day = oldest_day
        earlier = openings[-1].pk
    newest_day = _day(openings[0].at) if openings else None
    return {
        "visits": _visits(openings),
        "earlier": earlier,
        "continued_day": newest_day if shown_before and _day(shown_before.at) == newest_day else None,
        "continues_day": continues_day,
    }


def every_visit(exoneree: Exoneree) -> list[dict[str, Any]]:
    """Every visit to the person's file, as visits_page groups them (their own copy): every
    opening, read VISITS_READ at a time, grouped at once, so no day is split here."""
    openings: list[Any] = []
    before = None
    while True:
        read = _openings(exoneree, before)
        openings += read
        if len(read) < VISITS_READ:
            return _visits(openings)
        before = read[-1].pk


def _openings(exoneree: Exoneree, before: int | None, *, one_more: bool = False) -> list[Any]:
    """The person's VISITS_READ newest openings older than `before`, as named rows; with
    `one_more`, one more if there is one, and the opening `before` itself first (if it is one
    of theirs)."""
    provider = AuditEvent.Action.PROVIDER_OPENED
    openings = AuditEvent.objects.filter(
        Q(action__in=OPENED, actor__staff__isnull=False) | Q(action=provider, actor__isnull=True),
        exoneree=exoneree,
    )
    if before is not None:
        openings = openings.filter(pk__lte=before) if one_more else openings.filter(pk__lt=before)
    return list(
        openings.order_by("-pk").values_list(
            "pk",
            "at",
            "action",
            "username",
            "actor_id",
            "actor__first_name",
            "actor__last_name",
            "actor__username",
            "actor__staff__role",
            named=True,
        )[: VISITS_READ + (2 if one_more and before is not None else one_more)]
    )


def _day(moment: datetime) -> date:
    """The day of an opening as the person reads it: in the current (the organization's) time."""
    return timezone.localtime(moment).date()


def _visits(openings: list[Any]) -> list[dict[str, Any]]:
    """Openings (newest first) as one visit per reader per day, the newest day first, within a
    day the latest visit first. "48 times in 3 minutes" alarmed: the person reads when, not how
    many pages were loaded (`times` stays for their copy)."""
    visits: dict[tuple[date, int | None, str], dict[str, Any]] = {}
    for row in openings:
        key = (_day(row.at), row.actor_id, "" if row.actor_id else row.username)
        visit = visits.get(key)
        if visit is None:
            visit = visits[key] = {
                # As User.get_full_name() or get_username() reads them; a provider's entry names it.
                "name": (f"{row.actor__first_name} {row.actor__last_name}".strip() or row.actor__username)
                if row.actor_id
                else row.username,
                "role": Role(row.actor__staff__role).label if row.actor_id else _("provider"),
                "is_provider": row.actor_id is None,
                "ssn": False,
                "download": False,
                "times": 0,
                "start": row.at,
                "end": row.at,
            }
        visit["ssn"] = visit["ssn"] or row.action == AuditEvent.Action.SSN_REVEALED
        visit["download"] = visit["download"] or row.action == AuditEvent.Action.DOCUMENT_DOWNLOADED
        visit["times"] += 1
        visit["start"] = min(visit["start"], row.at)
        visit["end"] = max(visit["end"], row.at)
    return sorted(visits.values(), key=lambda visit: (_day(visit["end"]), visit["end"]), reverse=True)


def pending_emergency_reviews(grants: QuerySet[EmergencyAccess]) -> dict[str, Any]:
    return {
        "pending": list(grants.filter(review=EmergencyReview.PENDING).order_by("granted_at", "pk")),
        "reviewed": list(grants.exclude(review=EmergencyReview.PENDING).order_by("-reviewed_at", "-pk")[:50]),
    }
