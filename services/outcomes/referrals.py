"""Referrals: how many were made, how they ended, how fast."""

from __future__ import annotations

from django.db.models import (
    Q,
    QuerySet,
)
from django.utils.translation import gettext_lazy as _

from services.choices import ReferralStatus as RS
from services.models.referrals import Referral, ReferralEvent
from services.outcome_counts import REFERRAL_GROUPS
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_times, mean_days, records_url

# Referrals: counted once each, by the day they were sent. A referral is sent exactly once
# (draft → sent is the only way in, and nothing goes back to draft), so its SENT event is
# one row per sent referral, and a referral cancelled as a draft has none.


def _sent_events(scope: Scope) -> QuerySet[ReferralEvent]:
    events = ReferralEvent.objects.filter(
        between_times("at", scope), to_status=RS.SENT, referral__need__exoneree__in=scope.caseload
    )
    if scope.filters.domain:
        events = events.filter(referral__need__domain=scope.filters.domain)
    return events


REFERRAL_LABELS = {
    "completed": _("Completed"),
    "under_way": _("Still under way"),
    "declined": _("Declined"),
    "unresolved": _("Unresolved"),
    "cancelled": _("Cancelled after sending"),
}

REFERRAL_OUTCOMES = {
    "sent": (_("Sent"), Q()),
    **{key: (label, Q(referral__status__in=REFERRAL_GROUPS[key])) for key, label in REFERRAL_LABELS.items()},
}

REFERRALS = Spec(
    name="referrals",
    title=_("Referrals sent"),
    kind="referral",
    base=_sent_events,
    by_domain=True,
    measures={"count": "Referrals"},
    cell=lambda scope, group, measure: REFERRAL_OUTCOMES[group][1],
    groups=lambda scope: [(key, label) for key, (label, _) in REFERRAL_OUTCOMES.items()],
)


# Referrals by where they stand now, made in the period, drafts too: the overview's referrals
# by status (every referral of the organization, whenever made) link here over every date, as
# its needs by domain do (services.selectors.dashboards). One row per referral. Its "still
# under way" are the referrals figure's: sent and not finished, so never a draft, which has
# gone to nobody (the overview's headline counted drafts as open, one more than Outcomes said).


def _referrals_made(scope: Scope) -> QuerySet[Referral]:
    referrals = Referral.objects.filter(between_times("created_at", scope), need__exoneree__in=scope.caseload)
    if scope.filters.domain:
        referrals = referrals.filter(need__domain=scope.filters.domain)
    return referrals


REFERRAL_STATUSES = Spec(
    name="referral_status",
    title=_("Referrals by status"),
    kind="referral_made",
    base=_referrals_made,
    by_domain=True,
    measures={"count": "Referrals"},
    cell=lambda scope, group, measure: (
        Q(status__in=REFERRAL_GROUPS["under_way"]) if group == "under_way" else Q(status=group)
    ),
    groups=lambda scope: [("under_way", REFERRAL_LABELS["under_way"]), *RS.choices],
    # The overview linked its "open referrals" here as "open" before they became "under way".
    renamed_groups={"open": "under_way"},
)


def referral_figure(scope: Scope) -> Figure:
    sums = {key: (row["n"], row["total"]) for (figure, _, key), row in scope.kept().items() if figure == "referrals"}
    counts = {key: sums.get(key, (0, 0))[0] for key in REFERRAL_OUTCOMES}
    sent = counts["sent"]
    rate = round(100 * counts["completed"] / sent) if sent else None
    rows = [
        Row(label, [Cell(counts[key], records_url(scope, REFERRALS, key, "count"))], key=key)
        for key, (label, _) in REFERRAL_OUTCOMES.items()
    ]
    need_days = mean_days(*sums.get("to_referral", (0, 0)))  # each need's first referral sent
    service_days = mean_days(*sums.get("to_service", (0, 0)))  # completed ones
    rows += [
        # The headline a funder asks for, in the CSV too (the summary above the chart is not in it).
        Row(_("Completion rate (%)"), [Cell(rate)], "completion_rate", False),
        Row(_("Average days from need recorded to first referral sent"), [Cell(need_days)], "days_to_referral", False),
        Row(_("Average days from referral sent to completed"), [Cell(service_days)], "days_to_service", False),
    ]
    summary = f"{rate}% of referrals sent were completed." if rate is not None else "No referral was sent."
    return Figure(
        name="referrals",
        title=_("Referrals completed"),
        how=(
            _(
                "Referrals sent in the period (drafts never sent are left out), by where each stands now. "
                "Completion rate = completed ÷ sent. Times are averages (means) in days: from the day the need "
                "was recorded to the day its first referral was sent, and from sending to completion."
            )
        ),
        columns=["", "Referrals"],
        rows=rows,
        summary=summary,
        chart_cells=[(0, "c-total")],
    )
