"""The outcomes page: every figure for a scope, and the records behind a cell."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from services.models.audit import AuditEvent
from services.models.organizations import Organization
from services.models.people import Exoneree
from services.outcomes.enrolments import (
    EXIT_DESTINATIONS,
    EXIT_REASONS,
    SERVED,
    exit_destination_figure,
    exit_reason_figure,
    served_figure,
)
from services.outcomes.follow_ups import (
    CHECK_INS,
    FOLLOW_UPS,
    check_in_figure,
    follow_up_figure,
    follow_ups_in_scope,
)
from services.outcomes.legal import AWARDS, CLAIMS, RECORDS, award_figure, claim_figure, due_soon_figure, records_figure
from services.outcomes.needs import BENEFITS, NEEDS, OPEN_NEEDS, benefit_figure, need_figure, open_need_figure
from services.outcomes.referral_loop import LOOP, STALLED, referral_loop_figure
from services.outcomes.referrals import REFERRAL_STATUSES, REFERRALS, referral_figure
from services.outcomes.scope import Figure, OutcomeFilters, Scope, Spec
from services.outcomes.wellbeing import (
    HOUSING,
    HOUSING_RETURNS,
    SCORES,
    housing_figure,
    housing_return_figure,
    score_figure,
)

SPECS = {
    spec.name: spec
    for spec in (REFERRALS, REFERRAL_STATUSES, LOOP, STALLED, NEEDS, OPEN_NEEDS, FOLLOW_UPS, HOUSING, BENEFITS, SCORES)
    + (HOUSING_RETURNS, CHECK_INS)
    + (CLAIMS, AWARDS, RECORDS)
    + (SERVED, EXIT_REASONS, EXIT_DESTINATIONS)
}

FIGURES: dict[str, Callable[[Scope], Figure]] = {
    "served": served_figure,
    "exit_reasons": exit_reason_figure,
    "exit_destinations": exit_destination_figure,
    "referrals": referral_figure,
    "referral_loop": referral_loop_figure,
    "needs": need_figure,
    "open_needs": open_need_figure,
    "follow_ups": follow_up_figure,
    "release_checks": check_in_figure,
    "housing": housing_figure,
    "housing_returns": housing_return_figure,
    "benefits": benefit_figure,
    "scores": score_figure,
    "claims": claim_figure,
    "due_soon": due_soon_figure,
    "awards": award_figure,
    "records": records_figure,
}


def outcomes(
    organization: Organization,
    people: QuerySet[Exoneree],
    filters: OutcomeFilters,
    *,
    now: datetime | None = None,
    only: str = "",
) -> list[Figure]:
    """Every figure (or just `only`), each one aggregate query or two, however many rows there are.

    `people` are the organization's people the director may see (services.access).
    """
    scope = Scope(people=people, filters=filters, now=now or timezone.now(), organization=organization)
    names = [only] if only else list(FIGURES)
    return [FIGURES[name](scope) for name in names]


# The figures read from the kept counts (services/outcome_counts.py, Scope.kept): a purge
# leaves what the person added there. The others count the records themselves, which go.
KEPT_FIGURES = frozenset({"referrals", "referral_loop", "follow_ups", "housing", "scores"})


def purged_since(organization: Organization, filters: OutcomeFilters) -> int:
    """How many of the organization's people were purged under retention since the period began.

    A purge keeps what the person added to the kept counts (services.retention, RetiredCount)
    and deletes their records, so a cell of a period they had records in counts more than the
    list behind it shows. Read from the access log's one entry per purge (it names no one),
    never from what was removed. A purge before the period began cannot have taken records
    dated in it."""
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.RECORD_PURGED, organization=organization, at__gte=filters.starts_at
    ).count()


class UnknownCell(LookupError):
    """The drill-down asked for a figure, row or column that does not exist."""


def outcome_records(
    people: QuerySet[Exoneree],
    filters: OutcomeFilters,
    *,
    figure: str,
    group: str,
    measure: str,
    organization: Organization,
    now: datetime | None = None,
) -> tuple[str, QuerySet[Any]]:
    """The records behind one cell of a figure: (kind, queryset), ready to paginate.

    `organization`: the director's, whose own limits say which referrals are stalled (as on
    the page the cell was on)."""
    spec = SPECS.get(figure)
    if spec is None or measure not in spec.measures:
        raise UnknownCell(figure)
    scope = Scope(people=people, filters=filters, now=now or timezone.now(), organization=organization)
    if spec.groups is not None:
        valid = group in {key for key, _ in spec.groups(scope)}
    else:
        # A follow-up row is one assignee with follow-ups due in the period: asked of that one
        # assignee (the model's default ordering made DISTINCT list every follow-up instead).
        valid = group.isdigit() and group == str(int(group))
        valid = valid and follow_ups_in_scope(scope).filter(assigned_to_id=int(group)).exists()
    if not valid:
        raise UnknownCell(group)
    return spec.kind, _for_list(spec.kind, spec.records(scope, group, measure))


# What each drill-down list shows; encrypted fields are left unloaded (never decrypted).
_PERSON = ("legal_name", "preferred_name")


def _for_list(kind: str, records: QuerySet[Any]) -> QuerySet[Any]:
    if kind == "referral":
        return (
            records.select_related("referral__resource", "referral__need__exoneree")
            .only(
                "at",
                "referral__status",
                "referral__status_changed_at",
                "referral__resource__name",
                "referral__need__domain",
                "referral__need__opened_on",
                *(f"referral__need__exoneree__{f}" for f in _PERSON),
            )
            .order_by("at", "pk")
        )
    if kind == "referral_made":
        return (
            records.select_related("resource", "need__exoneree")
            .only(
                "created_at",
                "status",
                "status_changed_at",
                "resource__name",
                "need__domain",
                "need__opened_on",
                *(f"need__exoneree__{f}" for f in _PERSON),
            )
            .order_by("created_at", "pk")
        )
    if kind == "need":
        return (
            records.select_related("exoneree")
            .only("domain", "status", "opened_on", "closed_on", *(f"exoneree__{f}" for f in _PERSON))
            .order_by("opened_on", "pk")
        )
    if kind == "follow_up":
        return (
            records.select_related("exoneree", "assigned_to")
            .only(
                "title",
                "due_at",
                "done_at",
                "assigned_to__first_name",
                "assigned_to__last_name",
                "assigned_to__username",
                *(f"exoneree__{f}" for f in _PERSON),
            )
            .order_by("due_at", "pk")
        )
    if kind == "score":
        return (
            records.select_related("assessment__exoneree")
            .only(
                "domain",
                "score",
                "assessment__taken_on",
                "assessment__kind",
                *(f"assessment__exoneree__{f}" for f in _PERSON),
            )
            .order_by("assessment__exoneree__legal_name", "pk")
        )
    if kind == "claim":
        return (
            records.select_related("exoneree")
            .only(
                "jurisdiction",
                "stage",
                "filing_deadline",
                "filed_on",
                "decided_on",
                *(f"exoneree__{f}" for f in _PERSON),
            )
            .order_by("filing_deadline", "pk")
        )
    if kind == "clearance":
        return (
            records.select_related("exoneree")
            .only("holder", "status", "requested_on", "confirmed_on", *(f"exoneree__{f}" for f in _PERSON))
            .order_by("exoneree__legal_name", "pk")
        )
    return records.only(*_PERSON, "release_date").order_by("legal_name", "pk")


def cell_title(spec: Spec, group: str, measure: str, filters: OutcomeFilters) -> str:
    """What a drill-down list shows, in words: "Needs · Housing · Met"."""
    groups = dict(spec.groups(Scope(Exoneree.objects.none(), filters, timezone.now()))) if spec.groups else {}
    parts = [spec.title, groups.get(group, ""), spec.measures[measure] if len(spec.measures) > 1 else ""]
    return " · ".join(str(part) for part in parts if part)
