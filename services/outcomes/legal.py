"""Legal remedies, for the director: claims filed before their deadline, deadlines coming with
no filing, awards obtained (and how long after exoneration), records cleared per holder.

Counted by the database from plain columns (stages, dates, holders); award amounts are
encrypted and never read here. The median is the one number computed in Python, from the
dates of the awarded claims of the period (as the loop's median is).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from statistics import median

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from services.choices import ClaimStage, ClearanceStatus, RecordHolder
from services.lifecycle import CLAIM_AWARDED, CLAIM_FILED
from services.models.legal import OPEN_TO_FILING, CompensationClaim, RecordClearance
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_dates, records_url

# Within this many days an unfiled deadline is listed as coming up.
DUE_SOON_DAYS = 90
DAYS_PER_MONTH = 365.25 / 12

# Claims that were never going to be filed are not counted against a deadline.
NOT_PURSUED = (ClaimStage.NOT_ELIGIBLE, ClaimStage.CLOSED)


def _claims(scope: Scope) -> QuerySet[CompensationClaim]:
    return CompensationClaim.objects.filter(exoneree__in=scope.caseload).order_by()


# --- claims whose filing deadline falls in the period ------------------------------------------


def _with_deadline(scope: Scope) -> QuerySet[CompensationClaim]:
    return _claims(scope).filter(between_dates("filing_deadline", scope)).exclude(stage__in=NOT_PURSUED)


CLAIM_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "in_time": (_("Filed by the deadline"), lambda s: Q(filed_on__lte=F("filing_deadline"))),
    "late": (_("Filed after the deadline"), lambda s: Q(filed_on__gt=F("filing_deadline"))),
    # Claims moved from the person's old status field: filed, but on a date nobody recorded.
    "undated": (_("Filed, date not recorded"), lambda s: Q(stage__in=CLAIM_FILED, filed_on__isnull=True)),
    "missed": (_("Deadline passed, not filed"), lambda s: OPEN_TO_FILING & Q(filing_deadline__lt=s.today)),
    "pending": (_("Not filed yet, still time"), lambda s: OPEN_TO_FILING & Q(filing_deadline__gte=s.today)),
}

CLAIMS = Spec(
    name="claims",
    title=_("Compensation claims by deadline"),
    kind="claim",
    base=_with_deadline,
    measures={"count": "Claims"},
    cell=lambda scope, group, measure: CLAIM_MEASURES[group][1](scope),
    groups=lambda scope: [(key, label) for key, (label, _) in CLAIM_MEASURES.items()],
)


def claim_figure(scope: Scope) -> Figure:
    counts = _with_deadline(scope).aggregate(
        **{key: Count("pk", filter=q(scope)) for key, (_, q) in CLAIM_MEASURES.items()}
    )
    rows = [
        Row(label, [Cell(counts[key], records_url(scope, CLAIMS, key, "count"))], key=key)
        for key, (label, _) in CLAIM_MEASURES.items()
    ]
    return Figure(
        name="claims",
        title=_("Compensation claims filed before their deadline"),
        how=_(
            "Claims whose filing deadline (computed from the rules table, or set by the lawyer) falls in the "
            "period; claims found not eligible or closed without filing are left out. Filed by the deadline: "
            "the filing date is on or before it. The need-domain filter does not apply here."
        ),
        columns=["", "Claims"],
        rows=rows,
        chart_cells=[(0, "c-total")],
    )


# --- deadlines within 90 days with no filing: a list, as of now ---------------------------------


def due_soon_figure(scope: Scope) -> Figure:
    """Each unfiled claim whose deadline is within DUE_SOON_DAYS from today (or today), nearest first."""
    claims = (
        _claims(scope)
        .filter(
            OPEN_TO_FILING,
            filing_deadline__gte=scope.today,
            filing_deadline__lte=scope.today + timedelta(DUE_SOON_DAYS),
        )
        .select_related("exoneree")
        .only("jurisdiction", "filing_deadline", "exoneree__legal_name", "exoneree__preferred_name")
        .order_by("filing_deadline", "pk")
    )
    rows = []
    for claim in claims:
        days = (claim.filing_deadline - scope.today).days
        label = f"{claim.exoneree.display_name} — {claim.jurisdiction_name or _('jurisdiction not known')}"
        url = reverse("exoneree_legal", args=[claim.exoneree_id])
        # The deadline in a column of its own, as the page shows it: the CSV and the API take
        # each cell's value, and a day as a number of days left means nothing once downloaded.
        rows.append(
            Row(label, [Cell(days, url), Cell(claim.filing_deadline, display=f"{claim.filing_deadline:%Y-%m-%d}")])
        )
    return Figure(
        name="due_soon",
        title=_("Filing deadlines within 90 days, not filed"),
        how=_(
            "Claims not filed yet whose deadline is today or within the next 90 days (as of now, whatever the period). "
            "The need-domain filter does not apply here."
        ),
        columns=["", "Days left", "Deadline"],
        rows=rows,
        summary="" if rows else _("None."),
        chart_cells=[(0, "c-bad")],
    )


# --- awards obtained in the period ----------------------------------------------------------------


def _awarded(scope: Scope) -> QuerySet[CompensationClaim]:
    return _claims(scope).filter(between_dates("decided_on", scope), stage__in=CLAIM_AWARDED)


AWARDS = Spec(
    name="awards",
    title=_("Awards obtained"),
    kind="claim",
    base=_awarded,
    measures={"count": "Claims"},
    cell=lambda scope, group, measure: Q(),
    groups=lambda scope: [("awarded", _("Awarded in the period"))],
)


def award_figure(scope: Scope) -> Figure:
    dates = list(_awarded(scope).values_list("decided_on", "exoneree__exoneration_date"))
    months = [(decided - exonerated).days / DAYS_PER_MONTH for decided, exonerated in dates if exonerated]
    middle = round(median(months), 1) if months else None
    rows = [
        Row(
            str(_("Awarded in the period")),
            [
                Cell(len(dates), records_url(scope, AWARDS, "awarded", "count")),
                Cell(middle, display="—" if middle is None else f"{middle:g}"),
            ],
            key="awarded",
        )
    ]
    return Figure(
        name="awards",
        title=_("Compensation awards obtained"),
        how=_(
            "Claims awarded (or awarded and paid) with a decision date in the period, and the median months "
            "from the person's exoneration to the award (people without an exoneration date are left out of "
            "the median). Amounts are encrypted and not summed here. The need-domain filter does not apply here."
        ),
        columns=["", "Awards", "Median months from exoneration"],
        rows=rows,
        chart_cells=[(0, "c-good")],
    )


# --- records cleared per holder -------------------------------------------------------------------


def _clearances(scope: Scope) -> QuerySet[RecordClearance]:
    return RecordClearance.objects.filter(exoneree__in=scope.caseload).order_by()


CLEARANCE_MEASURES: dict[str, tuple[str, Callable[[Scope], Q]]] = {
    "cleared": (
        _("Confirmed clear in the period"),
        lambda s: Q(status=ClearanceStatus.CONFIRMED_CLEAR) & between_dates("confirmed_on", s),
    ),
    "requested": (_("Requested, waiting now"), lambda s: Q(status=ClearanceStatus.REQUESTED)),
    "showing": (
        _("Still showing now"),
        lambda s: Q(status__in=[ClearanceStatus.STILL_SHOWING, ClearanceStatus.NOT_REQUESTED]),
    ),
}

RECORDS = Spec(
    name="records",
    title=_("Records cleared"),
    kind="clearance",
    base=_clearances,
    measures={key: label for key, (label, _) in CLEARANCE_MEASURES.items()},
    cell=lambda scope, group, measure: Q(holder=group) & CLEARANCE_MEASURES[measure][1](scope),
    groups=lambda scope: list(RecordHolder.choices),
)


def records_figure(scope: Scope) -> Figure:
    counts = {
        row["holder"]: row
        for row in _clearances(scope)
        .values("holder")
        .annotate(**{key: Count("pk", filter=q(scope)) for key, (_, q) in CLEARANCE_MEASURES.items()})
    }
    rows = [
        Row(
            label,
            [
                Cell(counts.get(holder, {}).get(key, 0), records_url(scope, RECORDS, holder, key))
                for key in CLEARANCE_MEASURES
            ],
            key=holder,
        )
        for holder, label in RecordHolder.choices
    ]
    return Figure(
        name="records",
        title=_("Records cleared, per record holder"),
        how=_(
            "Per holder of the conviction record: confirmed clear with a date in the period; and now, "
            "requested and waiting, or still showing (not requested yet, or found showing). "
            "The need-domain filter does not apply here."
        ),
        columns=["", *(label for label, _ in CLEARANCE_MEASURES.values())],
        rows=rows,
        chart_cells=[(0, "c-good"), (1, "c-none"), (2, "c-bad")],
    )
