"""Case notes and assessments."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import transaction

from services import audit
from services.models.casework import Assessment, AssessmentScore, CaseNote
from services.models.people import Exoneree
from services.outcome_counts import outcome_counts_tracked_for

# Notes and assessments.


@transaction.atomic
def note_save(*, by: AbstractUser, exoneree: Exoneree, note: CaseNote) -> CaseNote:
    note.exoneree = exoneree
    before = {} if note._state.adding else audit.stored(note)
    if note._state.adding:
        note.author = by
    note.full_clean()
    note.save()
    audit.record_change(by, note, before, exoneree=exoneree)
    return note


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def assessment_save(
    *, by: AbstractUser, exoneree: Exoneree, assessment: Assessment, scores: dict[str, int]
) -> Assessment:
    assessment.exoneree = exoneree
    before = {} if assessment._state.adding else audit.stored(assessment)
    if assessment._state.adding:
        assessment.taken_by = by
    assessment.full_clean()
    assessment.save()
    old_scores = dict(assessment.scores.values_list("domain", "score"))
    assessment.scores.all().delete()
    rows = [AssessmentScore(assessment=assessment, domain=domain, score=score) for domain, score in scores.items()]
    for row in rows:
        row.full_clean(exclude=["assessment"])
    AssessmentScore.objects.bulk_create(rows)
    moved = {f"score {d}": [old_scores.get(d), new] for d, new in scores.items() if old_scores.get(d) != new}
    audit.record_change(by, assessment, before, exoneree=exoneree, extra=moved)
    return assessment
