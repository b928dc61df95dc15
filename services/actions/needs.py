"""Needs: recorded, edited, moved through their statuses."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from services import audit
from services.figures import figures_changed
from services.lifecycle import NEED_CLOSED, check_need_transition
from services.models.needs import Need
from services.models.people import Exoneree
from services.outcome_counts import outcome_counts_tracked_for

# Needs.


@transaction.atomic
def need_create(*, by: AbstractUser, exoneree: Exoneree, need: Need) -> Need:
    figures_changed(exoneree.organization_id)  # first (the lock order of tracked actions)
    need.exoneree = exoneree
    need.organization_id = exoneree.organization_id
    need.created_by = by
    need.recorded_at = timezone.now() if need.opened_on == timezone.localdate() else None
    need.full_clean()
    need.save()
    audit.record_change(by, need, {}, exoneree=exoneree)
    return need


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["need"].exoneree_id)])
def need_update(*, by: AbstractUser, need: Need) -> Need:
    need.full_clean()
    before = audit.stored(need)
    fields = ["domain", "description", "own_words", "priority", "opened_on"]
    need.save(update_fields=fields)
    audit.record_change(by, need, before, exoneree=need.exoneree, fields=fields)
    return need


@transaction.atomic
def need_set_status(*, by: AbstractUser, need: Need, status: str, today: date | None = None, reason: str = "") -> Need:
    """`reason`: why, when the move is not the caseworker's own choice (a case closed), in the log."""
    figures_changed(need.organization_id)  # first (the lock order of tracked actions)
    # Checked against the stored status under a lock, not a copy read before someone else
    # closed or reopened the need.
    need.status = Need.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=need.pk)
    check_need_transition(need.status, status)
    before = audit.stored(need)
    need.status = status
    need.closed_on = (today or timezone.localdate()) if status in NEED_CLOSED else None
    need.closed_at = timezone.now() if need.closed_on == timezone.localdate() else None
    need.save(update_fields=["status", "closed_on", "closed_at"])
    extra = {"reason": reason} if reason else None
    audit.record_change(by, need, before, exoneree=need.exoneree, fields=["status", "closed_on"], extra=extra)
    return need
