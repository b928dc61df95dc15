"""Closing the loop (issue 17): did providers answer, how fast, did the person confirm, and
which referrals are stalled now."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from services.choices import PersonAnswer
from services.choices import ReferralStatus as RS
from services.models.needs import Need
from services.models.referrals import Referral, ReferralEvent
from services.outcomes.referrals import _sent_events
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_times, records_url, share_cell

# A provider's answer: a status change made through its link (ReferralEvent.by_provider); the
# referral keeps when the first came (Referral.provider_answered_at).
_ANSWERED = Q(referral__provider_answered_at__isnull=False)

LOOP_GROUPS = {
    "sent": (_("Sent"), lambda scope: Q()),
    "answered": (_("Answered by the provider"), lambda scope: _ANSWERED),
    "completed": (_("Completed"), lambda scope: Q(referral__status=RS.COMPLETED)),
    "confirmed": (
        _("Completed and confirmed by the person"),
        lambda scope: Q(referral__status=RS.COMPLETED, referral__person_answer=PersonAnswer.YES),
    ),
}

LOOP = Spec(
    name="referral_loop",
    title=_("Referrals sent"),
    kind="referral",
    base=_sent_events,
    by_domain=True,
    measures={"count": "Referrals"},
    cell=lambda scope, group, measure: LOOP_GROUPS[group][1](scope),
    groups=lambda scope: [(key, label) for key, (label, _) in LOOP_GROUPS.items()],
)


def _all_sent_events(scope: Scope) -> QuerySet[ReferralEvent]:
    """Every sent referral of the people in view, whenever sent: "stalled" is about now."""
    events = ReferralEvent.objects.filter(to_status=RS.SENT, referral__need__exoneree__in=scope.caseload)
    if scope.filters.domain:
        events = events.filter(referral__need__domain=scope.filters.domain)
    return events


def _stalled(scope: Scope, group: str, referral: str = "referral__") -> Q:
    """Waiting on the provider longer than the organization allows, now. `referral`: the path
    from the rows asked about to their referral ("referral__" from events, "" from referrals)."""
    organization = scope.organization
    response_days = organization.provider_response_days if organization else 5
    completion_days = organization.completion_days if organization else 30
    if group == "unanswered":
        sent_before = scope.now - timedelta(days=response_days)
        return Q(**{f"{referral}status": RS.SENT, f"{referral}status_changed_at__lt": sent_before})
    accepted_before = scope.now - timedelta(days=completion_days)  # Referral.accepted_at: no event read
    return Q(**{f"{referral}status__in": [RS.ACCEPTED, RS.IN_PROGRESS], f"{referral}accepted_at__lt": accepted_before})


STALLED_STATUSES = [RS.SENT, RS.ACCEPTED, RS.IN_PROGRESS]  # what either group can hold
STALLED_GROUPS = {
    "unanswered": _("Sent and not answered in time"),
    "not_completed": _("Accepted and not completed in time"),
}

STALLED = Spec(
    name="referrals_stalled",
    title=_("Referrals stalled now"),
    kind="referral",
    base=_all_sent_events,
    by_domain=True,
    measures={"count": "Referrals"},
    cell=lambda scope, group, measure: _stalled(scope, group),
    groups=lambda scope: list(STALLED_GROUPS.items()),
)


class _MedianSeconds(Aggregate):
    """PostgreSQL's median of a duration, in seconds (interpolated between the two middle
    values, as statistics.median does)."""

    template = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def _median_days(scope: Scope) -> float | None:
    """The median time from sending to the provider's first answer, in days, over the
    referrals sent in the period (the sent events the rows above count: one per referral),
    read from the two times each referral keeps, through the (organization, sent_at) index.
    A median is not a sum: PostgreSQL computes it; elsewhere (SQLite) the times are read and
    sorted here."""
    answered = _referrals(scope).filter(between_times("sent_at", scope), provider_answered_at__isnull=False)
    wait = F("provider_answered_at") - F("sent_at")
    if connection.vendor == "postgresql":
        seconds = answered.aggregate(median=_MedianSeconds(wait))["median"]
        return round(seconds / 86400, 1) if seconds is not None else None
    pairs = answered.values_list("sent_at", "provider_answered_at")
    waits = [(answer - sent).total_seconds() / 86400 for sent, answer in pairs]
    return round(median(waits), 1) if waits else None


def _referrals(scope: Scope) -> QuerySet[Referral]:
    """The referrals of the people in view (of the chosen domain). With no caseworker chosen
    that is the whole organization (a director sees all its people: services.access), read
    by the referral's own organization column, as the needs are (`_needs_in_view`): no join
    with the people (stalled now 40 -> 22 ms, the median 30 -> 12 ms at bench scale). With one,
    the referrals of the needs of their people: a semi-join on the organization's needs, so the
    planner hashes those through their index rather than every need of the network."""
    if scope.filters.caseworker is None and scope.organization is not None:
        referrals = Referral.objects.filter(organization=scope.organization)
        if scope.filters.domain:
            referrals = referrals.filter(need__domain=scope.filters.domain)
        return referrals.order_by()
    needs = Need.objects.filter(exoneree__in=scope.caseload)
    if scope.filters.domain:
        needs = needs.filter(domain=scope.filters.domain)
    referrals = Referral.objects.all()
    if scope.organization is not None:
        needs = needs.filter(organization=scope.organization)
        referrals = referrals.filter(organization=scope.organization)
    return referrals.filter(need__in=needs.values("pk")).order_by()


def _waiting(scope: Scope) -> QuerySet[Referral]:
    """The referrals of the people in view that may be stalled, through the (organization,
    status) index. Counted as referrals, not as their sent events (the records behind the
    cells): the lifecycle sends a referral once, and one that is sent, accepted or in progress
    has been sent, so the two counts are the same, and this one reads no event but the
    acceptance of those accepted (60 → 40 ms at bench scale)."""
    return _referrals(scope).filter(status__in=STALLED_STATUSES)


def referral_loop_figure(scope: Scope) -> Figure:
    # Sent, answered, completed and confirmed are kept counts (services/outcome_counts.py), as
    # the referrals figure's; only "stalled now" depends on the hour and is counted here, over
    # the referrals still waiting (the (organization, status) index).
    kept = {key: row["n"] for (figure, _, key), row in scope.kept().items() if figure == "referrals"}
    counts = {key: kept.get(key, 0) or 0 for key in LOOP_GROUPS}
    stalled = _waiting(scope).aggregate(**{key: Count("pk", filter=_stalled(scope, key, "")) for key in STALLED_GROUPS})
    share_of = {"answered": "sent", "confirmed": "completed"}
    rows = []
    for key, (label, _condition) in LOOP_GROUPS.items():
        share = share_cell(counts[key], counts[share_of[key]]) if key in share_of else Cell(None)
        rows.append(Row(label, [Cell(counts[key], records_url(scope, LOOP, key, "count")), share], key=key))
    # Its records are those of the row above (the answered ones): no link of its own.
    median_label = _("Median days from sending to the provider's first answer")
    rows.append(Row(median_label, [Cell(_median_days(scope)), Cell(None)], "median", False))
    for key, label in STALLED_GROUPS.items():
        rows.append(Row(label, [Cell(stalled[key], records_url(scope, STALLED, key, "count")), Cell(None)], key=key))
    answered = share_cell(counts["answered"], counts["sent"])
    summary = (
        f"Providers answered {answered} of the referrals sent; {sum(stalled.values())} are stalled now."
        if counts["sent"]
        else f"No referral was sent; {sum(stalled.values())} are stalled now."
    )
    return Figure(
        name="referral_loop",
        title=_("Closing the loop with providers"),
        how=_(
            "Referrals sent in the period: how many their provider answered through the link (accepted, declined, "
            "in progress or completed), the median days to that first answer, and the completed ones the person "
            "confirmed on their plan (“did you get help?”: yes). Stalled now, whenever sent: still unanswered "
            "after the organization's provider response days, or accepted and not completed after its "
            "completion days."
        ),
        columns=["", "Referrals", "Share (%)"],  # the CSV has the bare number: 40, not 0.4
        rows=rows,
        summary=summary,
        chart_cells=[(0, "c-total")],
    )
