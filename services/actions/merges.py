"""Two records of one person merged into one, and the undo that splits them again (issue 23).

What moves is read from the models, not listed here: every row of every model that points at
a person (`Exoneree`'s relations, hidden ones included: the caseworker links and guardian's
direct object-permission tables), so a model added later moves too, or fails the merge's
tests until it has a rule. Only `NOT_MOVED` stays, each for a stated reason.

Unique keys: a row of the duplicate that the kept record's rows would clash with (the same
caseworker, the same record holder, a second open enrolment) follows the rule of its model
in `ON_CONFLICT`; a clash without a rule stops the merge with `UnmovableRelation` (a
programming error, which tests/test_merge.py finds before a director does).

Rows move by `UPDATE ... WHERE pk IN (batch)`, and each batch's ids are kept (`MergeMove`),
so the undo moves back exactly those rows, and a person with thousands of rows merges in
bounded memory. The duplicate's own row stays, hidden (`merged_into`): an undo within
`UNDO_DAYS` moves its rows back and restores the kept record's profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, UniqueConstraint
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from services import audit, document_reminders
from services.access import is_director, organization_of
from services.choices import ExitReason
from services.figures import figures_changed
from services.models.audit import AuditEvent
from services.models.enrolments import Enrolment
from services.models.merges import UNDO_DAYS, Merge, MergeMove
from services.models.people import EXONEREE_PROFILE_FIELDS, Exoneree
from services.outcome_counts import outcome_counts_tracked_for
from services.reminder_plans import reminders_plan_for_exoneree

BATCH = 500

# The profile fields a director chooses side by side, and what the undo restores of the kept
# record besides them.
MERGE_FIELDS = EXONEREE_PROFILE_FIELDS
RESTORED_FIELDS = [*MERGE_FIELDS, "case_closed_on"]

# Relations whose rows stay where they are, and why.
NOT_MOVED = {
    # Append-only and hash-chained: an entry cannot change. The log keeps both ids; the kept
    # person's access log lists the entries of the records merged into them.
    "services.AuditEvent.exoneree",
    # The merges themselves, which name both records.
    "services.Merge.kept",
    "services.Merge.duplicate",
}

# What to do with a row of the duplicate whose unique key the kept record already holds.
STAYS = "stays"  # it stays with the duplicate: hidden with it, back with it on an undo
CLOSE_AS_MERGED = "close"  # the duplicate's open enrolment closes ("merged"), then moves
REFUSE = "refuse"  # the director must settle it first (the message says how)
ON_CONFLICT = {
    # The same caseworker or grant is on the kept record already.
    "services.Exoneree_caseworkers.exoneree": STAYS,
    "services.ExonereeUserObjectPermission.content_object": STAYS,
    "services.ExonereeGroupObjectPermission.content_object": STAYS,
    # The kept record's own request to that record holder goes on.
    "services.RecordClearance.exoneree": STAYS,
    # The kept record is on hold already.
    "services.LegalHold.exoneree": STAYS,
    # The kept record's review of that same closing goes on (one review per closing).
    "services.RetentionReview.exoneree": STAYS,
    # One open enrolment per person: the kept record's goes on.
    "services.Enrolment.exoneree": CLOSE_AS_MERGED,
    # The kept record's own check-in after release for those days goes on (one of each per person).
    "services.FollowUp.exoneree": STAYS,
    # One pending transfer per person: which one goes on is the director's choice.
    "services.Transfer.exoneree": REFUSE,
}


class UnmovableRelation(Exception):
    """A relation the merge does not know how to move: give it a rule in ON_CONFLICT or NOT_MOVED."""


@dataclass(frozen=True)
class Relation:
    """A foreign key (`field` of `model`) that points at a person."""

    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"

    def rows_of(self, exoneree: Exoneree) -> models.QuerySet:
        return self.model._base_manager.filter(**{self.field: exoneree})

    def unique_keys(self) -> list[tuple[list[str], Q | None]]:
        """The row's unique keys that include the person: (the other columns, the condition)."""
        meta = self.model._meta
        keys: list[tuple[list[str], Q | None]] = []
        if meta.get_field(self.field).unique:
            keys.append(([], None))
        for together in meta.unique_together:
            if self.field in together:
                keys.append(([name for name in together if name != self.field], None))
        for constraint in meta.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            if constraint.expressions:
                raise UnmovableRelation(f"{self.label}: unique constraint {constraint.name} on expressions")
            if self.field in constraint.fields:
                keys.append(([name for name in constraint.fields if name != self.field], constraint.condition))
        return keys

    def clashing(self, kept: Exoneree, duplicate: Exoneree) -> list[int]:
        """The ids of the duplicate's rows the kept record's rows would clash with."""
        clashes: set[int] = set()
        for others, condition in self.unique_keys():
            theirs = self.rows_of(kept)
            mine = self.rows_of(duplicate)
            if condition is not None:
                theirs, mine = theirs.filter(condition), mine.filter(condition)
            if others:
                mine = mine.filter(Exists(theirs.filter(**{name: OuterRef(name) for name in others})))
            elif not theirs.exists():
                continue
            clashes.update(mine.values_list("pk", flat=True))
        return sorted(clashes)


def relations() -> list[Relation]:
    """Every foreign key to a person whose rows a merge moves, read from the models."""
    found = []
    for rel in Exoneree._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete:
            continue  # Exoneree's own fields
        if rel.many_to_many:
            continue  # a many-to-many's rows are its through table's, found as a foreign key
        relation = Relation(rel.related_model, rel.field.name)
        if rel.field_name != Exoneree._meta.pk.name:
            raise UnmovableRelation(f"{relation.label}: points at a column other than the person's id")
        if relation.label not in NOT_MOVED:
            found.append(relation)
    return sorted(found, key=lambda relation: relation.label)


# --- merge -------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a merge will do with the duplicate's rows, by relation label."""

    moving: dict[str, int]
    staying: dict[str, list[int]]
    closing: list[int]  # the duplicate's open enrolment, closed as merged

    def moving_by_name(self) -> list[tuple[str, int]]:
        """What moves, by the name of its kind of record, for the confirm page."""
        return [
            (apps.get_model(label.rsplit(".", 1)[0])._meta.verbose_name_plural, n) for label, n in self.moving.items()
        ]


def merge_plan(*, kept: Exoneree, duplicate: Exoneree) -> Plan:
    """Counts of what moves and what stays, for the confirm page and the merge itself.

    Raises ValidationError for what the director must settle first, UnmovableRelation for a
    clash no rule covers."""
    _check_pair(kept, duplicate)
    plan = Plan(moving={}, staying={}, closing=[])
    for relation in relations():
        clashes = relation.clashing(kept, duplicate)
        rule = ON_CONFLICT.get(relation.label)
        if clashes and rule is None:
            raise UnmovableRelation(f"{relation.label}: rows {clashes} clash with the kept record's")
        if clashes and rule == REFUSE:
            raise ValidationError(
                _("Both records have a %(what)s waiting. Settle one of them before merging.")
                % {"what": relation.model._meta.verbose_name}
            )
        if clashes and rule == STAYS:
            plan.staying[relation.label] = clashes
        if clashes and rule == CLOSE_AS_MERGED:
            plan.closing = clashes
        count = relation.rows_of(duplicate).count() - len(plan.staying.get(relation.label, []))
        if count:
            plan.moving[relation.label] = count
    return plan


def _check_pair(kept: Exoneree, duplicate: Exoneree) -> None:
    """What stops two records from being merged, whoever asks."""
    if kept.organization_id != duplicate.organization_id:
        raise ValidationError(_("Records of two organizations cannot be merged."))
    if kept.pk == duplicate.pk:
        raise ValidationError(_("Choose two different records."))
    if kept.merged_into_id or duplicate.merged_into_id:
        raise ValidationError(_("One of these records has already been merged into another."))
    if kept.user_id and duplicate.user_id:
        raise ValidationError(
            _(
                "Each record has its own sign-in to the plan. Ask the person which one they use; "
                "the other sign-in must be removed by an administrator before merging."
            )
        )
    if duplicate.restricted and not kept.restricted:
        raise ValidationError(_("The other record is restricted: restrict the record you keep first."))


def _value(exoneree: Exoneree, name: str) -> Any:
    return getattr(exoneree, Exoneree._meta.get_field(name).attname)


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["kept"], kw["duplicate"]])
def merge_people(
    *,
    by: AbstractUser,
    kept: Exoneree,
    duplicate: Exoneree,
    from_duplicate: Iterable[str] = (),
    progress: Callable[[str, int], None] | None = None,
) -> Merge:
    """Merge `duplicate` into `kept`: its rows move to `kept`, the profile fields named in
    `from_duplicate` take the duplicate's values, and the duplicate is hidden.

    `progress(relation label, rows moved so far)` is called after each batch."""
    from_duplicate = set(from_duplicate)
    if unknown := from_duplicate - set(MERGE_FIELDS):
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    figures_changed(kept.organization_id)  # first (the lock order of tracked actions)
    locked = {p.pk: p for p in Exoneree.objects.select_for_update().filter(pk__in=[kept.pk, duplicate.pk])}
    kept, duplicate = locked[kept.pk], locked[duplicate.pk]
    if not is_director(by) or organization_of(by).pk != kept.organization_id:
        raise ValidationError(_("Only a director of their organization can merge these records."))
    plan = merge_plan(kept=kept, duplicate=duplicate)

    merge = Merge.objects.create(
        organization_id=kept.organization_id,
        kept=kept,
        duplicate=duplicate,
        merged_by=by,
        kept_before={name: _value(kept, name) for name in RESTORED_FIELDS},
        login_moved=bool(duplicate.user_id),
        closed_enrolment_id=plan.closing[0] if plan.closing else None,
    )
    before = audit.stored(kept)
    for name in from_duplicate:
        setattr(kept, Exoneree._meta.get_field(name).attname, _value(duplicate, name))
    kept.full_clean(exclude=["user"], validate_unique=False)

    if plan.closing:
        today = timezone.localdate()
        Enrolment.objects.filter(pk__in=plan.closing).update(
            closed_on=today, closed_by=by, exit_reason=ExitReason.MERGED
        )
    for relation in relations():
        _move(merge, relation, duplicate, kept, plan.staying.get(relation.label, []), progress)

    if merge.login_moved:  # the sign-in is unique: off the duplicate before onto the kept record
        kept.user_id, duplicate.user_id = duplicate.user_id, None
        duplicate.save(update_fields=["user"])
    duplicate.merged_into, duplicate.merged_at = kept, merge.merged_at
    duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
    if Enrolment.objects.filter(exoneree=kept, closed_on__isnull=True).exists():
        kept.case_closed_on = None  # the duplicate's open case is the person's open case
    kept.save(update_fields=[*MERGE_FIELDS, "user", "case_closed_on", "updated_at"])
    reminders_plan_for_exoneree(kept)
    document_reminders.plan_for_exoneree(kept)

    changes = {
        "kept": kept.pk,
        "duplicate": duplicate.pk,
        "moved": plan.moving,
        "stayed with the duplicate": {label: len(ids) for label, ids in plan.staying.items()},
    }
    audit.record_change(by, kept, before, exoneree=kept, fields=sorted(from_duplicate))
    for person in (kept, duplicate):
        audit.record(
            AuditEvent.Action.RECORDS_MERGED, actor=by, exoneree=person, target=audit.describe(merge), changes=changes
        )
    return merge


def _move(
    merge: Merge,
    relation: Relation,
    source: Exoneree,
    target: Exoneree,
    staying: list[int],
    progress: Callable[[str, int], None] | None,
) -> None:
    remaining = relation.rows_of(source).exclude(pk__in=staying).order_by("pk").values_list("pk", flat=True)
    moved = 0
    while batch := list(remaining[:BATCH]):
        relation.model._base_manager.filter(pk__in=batch).update(**{relation.field: target})
        MergeMove.objects.create(merge=merge, model=relation.model._meta.label, field=relation.field, row_ids=batch)
        moved += len(batch)
        if progress is not None:
            progress(relation.label, moved)


# --- undo --------------------------------------------------------------------------------------


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["merge"].kept, kw["merge"].duplicate])
def merge_undo(*, by: AbstractUser, merge: Merge) -> Merge:
    """Split a merge within UNDO_DAYS: exactly the rows it moved go back to the duplicate,
    and the kept record's profile is as it was before. Rows added to the kept record since
    stay with it."""
    figures_changed(merge.organization_id)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if not is_director(by) or organization_of(by).pk != merge.organization_id:
        raise ValidationError(_("Only a director of their organization can undo this merge."))
    if merge.undone_at is not None:
        raise ValidationError(_("This merge has been undone already."))
    if not merge.can_be_undone:
        raise ValidationError(
            _("This merge was made on %(date)s: a merge can be undone within %(days)d days only.")
            % {"date": date_format(timezone.localtime(merge.merged_at), "DATE_FORMAT"), "days": UNDO_DAYS}
        )
    locked = {p.pk: p for p in Exoneree.objects.select_for_update().filter(pk__in=[merge.kept_id, merge.duplicate_id])}
    kept, duplicate = locked[merge.kept_id], locked[merge.duplicate_id]
    if kept.merged_into_id:
        raise ValidationError(_("The record kept has since been merged into another: undo that merge first."))

    for move in merge.moves.iterator(chunk_size=20):  # each holds up to BATCH ids
        model = apps.get_model(move.model)
        model._base_manager.filter(pk__in=move.row_ids, **{move.field: kept}).update(**{move.field: duplicate})
    if merge.closed_enrolment_id:
        Enrolment.objects.filter(pk=merge.closed_enrolment_id, exoneree=duplicate).update(
            closed_on=None, closed_by=None, exit_reason=""
        )

    before = audit.stored(kept)
    if merge.login_moved:
        duplicate.user_id, kept.user_id = kept.user_id, None
        kept.save(update_fields=["user"])
    for name, value in merge.kept_before.items():
        field = Exoneree._meta.get_field(name)
        setattr(kept, field.attname, field.to_python(value))
    kept.save(update_fields=[*RESTORED_FIELDS, "updated_at"])
    duplicate.merged_into, duplicate.merged_at = None, None
    duplicate.save(update_fields=["merged_into", "merged_at", "user", "updated_at"])
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    for person in (kept, duplicate):
        reminders_plan_for_exoneree(person)
        document_reminders.plan_for_exoneree(person)

    audit.record_change(by, kept, before, exoneree=kept, fields=MERGE_FIELDS)
    changes = {"kept": kept.pk, "duplicate": duplicate.pk}
    for person in (kept, duplicate):
        audit.record(
            AuditEvent.Action.MERGE_UNDONE, actor=by, exoneree=person, target=audit.describe(merge), changes=changes
        )
    return merge
