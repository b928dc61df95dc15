"""How people fare: housing after release, assessment scores (legal remedies: services.outcomes.legal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.utils.translation import gettext_lazy as _

from services.choices import AssessmentDomain, AssessmentKind
from services.models.casework import Assessment, AssessmentScore
from services.models.people import Exoneree
from services.outcome_counts import CHECKPOINTS, STABLY_HOUSED
from services.outcomes.scope import Cell, Figure, Row, Scope, Spec, between_dates, records_url, share_cell

# Housing at 30/90/180/365 days after release, from the assessments' housing score.


def _housing_on_day(days: int) -> Subquery:
    """The person's latest housing score from an assessment taken on or before release + `days`."""
    checkpoint = ExpressionWrapper(OuterRef("release_date") + timedelta(days=days), output_field=DateField())
    return Subquery(
        AssessmentScore.objects.filter(
            assessment__exoneree=OuterRef("pk"),
            domain=AssessmentDomain.HOUSING,
            assessment__taken_on__lte=checkpoint,
        )
        .order_by("-assessment__taken_on", "-assessment_id")
        .values("score")[:1]
    )


def _cohort(scope: Scope, days: int, field: str = "release_date") -> Q:
    """The people whose day `days` after release fell in the period."""
    start, end = scope.filters.start, scope.filters.end
    return Q(**{f"{field}__gte": start - timedelta(days=days), f"{field}__lte": end - timedelta(days=days)})


def _released_around(scope: Scope) -> QuerySet[Exoneree]:
    start, end = scope.filters.start, scope.filters.end
    # The score is looked up only for a checkpoint's own cohort (CASE is evaluated lazily).
    return (
        scope.caseload.filter(release_date__gte=start - timedelta(days=max(CHECKPOINTS)), release_date__lte=end)
        .annotate(
            **{f"housing_{days}": Case(When(_cohort(scope, days), then=_housing_on_day(days))) for days in CHECKPOINTS}
        )
        .order_by()
    )


def _housing_cell(scope: Scope, group: str, measure: str) -> Q:
    days = int(group)
    cohort = _cohort(scope, days)
    reached = Q(release_date__lte=scope.today - timedelta(days=days))
    score = f"housing_{days}"
    return (
        cohort
        & {
            "housed": reached & Q(**{f"{score}__gte": STABLY_HOUSED}),
            "not_housed": reached & Q(**{f"{score}__lt": STABLY_HOUSED}),
            "unknown": reached & Q(**{f"{score}__isnull": True}),
            "not_yet": ~reached,
            "reached": reached,  # counted, not shown: housed + not housed + not assessed
        }[measure]
    )


HOUSING = Spec(
    name="housing",
    title=_("Housing after release"),
    kind="person",
    base=_released_around,
    measures={
        "housed": _("Stably housed"),
        "not_housed": _("Not stably housed"),
        "unknown": _("Not assessed"),
        "not_yet": _("Day not reached yet"),
    },
    cell=_housing_cell,
    groups=lambda scope: [(str(days), _("Day %(days)s") % {"days": days}) for days in CHECKPOINTS],
)


def _housing_counts(scope: Scope) -> dict[str, int]:
    """The housing cells from the kept counts: each person is filed under the day of each
    checkpoint (release + N) with the latest housing score by then; a day after today is
    "not reached yet", whatever the score."""
    counts = {f"{days}_{measure}": 0 for days in CHECKPOINTS for measure in HOUSING.measures}
    for (figure, _domain, key), row in scope.kept().items():
        if figure == "housing":
            ahead = row["ahead"] or 0
            counts[key] += row["n"] - ahead
            counts[f"{key.split('_', 1)[0]}_not_yet"] += ahead
    return counts


def housing_figure(scope: Scope) -> Figure:
    counts = _housing_counts(scope)
    rows = [
        Row(
            _("Day %(days)s after release") % {"days": days},
            [Cell(counts[f"{days}_{m}"], records_url(scope, HOUSING, str(days), m)) for m in HOUSING.measures],
            key=str(days),
        )
        for days in CHECKPOINTS
    ]
    return Figure(
        name="housing",
        title=_("Housing after release"),
        how=(
            _(
                "For each checkpoint, the people whose 30th, 90th, 180th or 365th day after release fell in the "
                "period. Stably housed = the latest housing score of an assessment taken by that day is 3 (safe) "
                "or better; not assessed = no housing score by that day. The need-domain filter does not apply here."
            )
        ),
        columns=["Checkpoint", *HOUSING.measures.values()],
        rows=rows,
        chart_cells=[(0, "c-good"), (1, "c-bad"), (2, "c-none")],
    )


# Returns to homelessness (after HUD's System Performance Measure 2): people back to a housing
# score of 1 in the period after an earlier assessment found them stably housed.

HOMELESS = 1  # Self-Sufficiency Matrix housing score 1 = "in crisis": homeless or about to be evicted


def _housing_scores() -> QuerySet[AssessmentScore]:
    """The housing scores of the person of the outer query."""
    return AssessmentScore.objects.filter(assessment__exoneree=OuterRef("pk"), domain=AssessmentDomain.HOUSING)


def _housed_by_end(scope: Scope) -> Exists:
    """Stably housed at some assessment taken by the period's end."""
    return Exists(_housing_scores().filter(score__gte=STABLY_HOUSED, assessment__taken_on__lte=scope.filters.end))


def _returned(scope: Scope) -> Exists:
    """A housing score of 1 taken in the period after an earlier one of STABLY_HOUSED or better
    (of a same-day pair, the later assessment is the later one, as in the housing figure)."""
    housed_before = AssessmentScore.objects.filter(
        assessment__exoneree=OuterRef(OuterRef("pk")),
        domain=AssessmentDomain.HOUSING,
        score__gte=STABLY_HOUSED,
    ).filter(
        Q(assessment__taken_on__lt=OuterRef("assessment__taken_on"))
        | Q(assessment__taken_on=OuterRef("assessment__taken_on"), assessment_id__lt=OuterRef("assessment_id"))
    )
    return Exists(
        _housing_scores().filter(between_dates("assessment__taken_on", scope), Exists(housed_before), score=HOMELESS)
    )


RETURN_GROUPS: dict[str, tuple[str, Callable[[Scope], Exists]]] = {
    "housed": (_("Stably housed at an assessment by the end of the period"), _housed_by_end),
    "returned": (_("Back to homelessness in the period"), _returned),
}

HOUSING_RETURNS = Spec(
    name="housing_returns",
    title=_("Returns to homelessness"),
    kind="person",
    base=lambda scope: scope.caseload,
    measures={"people": _("People")},
    cell=lambda scope, group, measure: Q(RETURN_GROUPS[group][1](scope)),
    groups=lambda scope: [(key, label) for key, (label, _condition) in RETURN_GROUPS.items()],
)


def housing_return_figure(scope: Scope) -> Figure:
    # One query: every person who returned was housed by the end too, so only those are read.
    counts = (
        scope.caseload.filter(_housed_by_end(scope))
        .order_by()
        .aggregate(housed=Count("pk"), returned=Count("pk", filter=Q(_returned(scope))))
    )
    rows = [
        Row(
            label,
            [
                Cell(counts[key], records_url(scope, HOUSING_RETURNS, key, "people")),
                share_cell(counts["returned"], counts["housed"]) if key == "returned" else Cell(None),
            ],
            key=key,
        )
        for key, (label, _condition) in RETURN_GROUPS.items()
    ]
    return Figure(
        name="housing_returns",
        title=_("Returns to homelessness"),
        how=_(
            "People with an assessment taken in the period whose housing score is 1 (homeless or about to be "
            "evicted) after an earlier assessment scored housing 3 (safe) or better, each counted once; out of "
            "the people stably housed (3 or better) at any assessment taken by the end of the period. "
            "The need-domain filter does not apply here."
        ),
        columns=["", *HOUSING_RETURNS.measures.values(), "Share (%)"],  # the CSV has the bare number
        rows=rows,
        chart_cells=[(0, "c-total")],
    )


# Change in self-sufficiency scores from intake.


def _reassessed_scores(scope: Scope) -> QuerySet[AssessmentScore]:
    """The scores of each person's latest assessment up to the period's end, when taken in the period.

    Each carries the same domain's score at the person's first intake (`intake_score`).
    """
    # Not the latest if the same person has a later assessment by the period's end (an
    # anti-join, which the database plans far better than "id = (latest id)" per row).
    later = Assessment.objects.filter(
        exoneree=OuterRef("assessment__exoneree"), taken_on__lte=scope.filters.end
    ).filter(
        Q(taken_on__gt=OuterRef("assessment__taken_on"))
        | Q(taken_on=OuterRef("assessment__taken_on"), pk__gt=OuterRef("assessment_id"))
    )
    # The intake score is joined, not looked up per score: the person's intakes, their score in
    # the same domain, and no earlier intake score in that domain (the first intake's, as before).
    intakes = "assessment__exoneree__assessments"
    earlier_intake = AssessmentScore.objects.filter(
        assessment__exoneree=OuterRef("assessment__exoneree"),
        assessment__kind=AssessmentKind.INTAKE,
        domain=OuterRef("domain"),
    ).filter(
        Q(assessment__taken_on__lt=OuterRef("intake_taken_on"))
        | Q(assessment__taken_on=OuterRef("intake_taken_on"), assessment_id__lt=OuterRef("intake_id"))
    )
    return (
        AssessmentScore.objects.filter(
            between_dates("assessment__taken_on", scope),
            ~Exists(later),
            assessment__exoneree__in=scope.caseload,
        )
        .exclude(assessment__kind=AssessmentKind.INTAKE)
        .annotate(
            intakes=FilteredRelation(intakes, condition=Q(**{f"{intakes}__kind": AssessmentKind.INTAKE})),
            intake_scores=FilteredRelation("intakes__scores", condition=Q(intakes__scores__domain=F("domain"))),
        )
        .annotate(
            intake_score=F("intake_scores__score"),
            intake_taken_on=F("intakes__taken_on"),
            intake_id=F("intakes__id"),
        )
        .filter(intake_score__isnull=False)
        .filter(~Exists(earlier_intake))
        .order_by()
    )


SCORE_MEASURES = {
    "people": (_("People"), Q()),
    "better": (_("Better"), Q(score__gt=F("intake_score"))),
    "same": (_("Same"), Q(score=F("intake_score"))),
    "worse": (_("Worse"), Q(score__lt=F("intake_score"))),
}

SCORES = Spec(
    name="scores",
    title=_("Self-sufficiency since intake"),
    kind="score",
    base=_reassessed_scores,
    measures={key: label for key, (label, _) in SCORE_MEASURES.items()},
    cell=lambda scope, group, measure: Q(domain=group) & SCORE_MEASURES[measure][1],
    groups=lambda scope: list(AssessmentDomain.choices),
)


def _score_counts(scope: Scope) -> dict[str, dict[str, int]]:
    """Per domain: people, better, same, worse, and the sum of the changes.

    Each kept score counts from the day its assessment was taken until the person's next
    assessment (`until`): it is the latest by the period's end when taken in the period and
    not replaced by then.
    """
    per_domain: dict[str, dict[str, int]] = {}
    for (figure, domain, key), row in scope.kept().items():
        if figure != "scores":
            continue
        cells = per_domain.setdefault(domain, {**dict.fromkeys(SCORE_MEASURES, 0), "change": 0})
        cells[key] += row["n"]
        cells["people"] += row["n"]
        cells["change"] += row["total"]
    return {domain: cells for domain, cells in per_domain.items() if cells["people"]}


def score_figure(scope: Scope) -> Figure:
    per_domain = _score_counts(scope)
    rows = []
    for domain, label in AssessmentDomain.choices:
        if row := per_domain.get(domain):
            change = round(row["change"] / row["people"], 2)
            cells = [Cell(row[key], records_url(scope, SCORES, domain, key)) for key in SCORE_MEASURES]
            rows.append(Row(label, [*cells, Cell(change, display=f"{change:+.2f}")], key=domain))
    return Figure(
        name="scores",
        title=_("Self-sufficiency: change since intake"),
        how=(
            _(
                "People whose latest assessment (up to the end of the period) was taken in the period and is not an "
                "intake. Each domain compares that score (1 in crisis … 5 empowered) with the same domain at their "
                "first intake; the last column is the average change. The need-domain filter does not apply here."
            )
        ),
        columns=["Domain", *SCORES.measures.values(), "Average change"],
        rows=rows,
        chart_cells=[(1, "c-good"), (2, "c-none"), (3, "c-bad")],
    )
