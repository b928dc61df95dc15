"""The organization's own settings, as its director keeps them (services/forms/organization.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction

from services import audit
from services.figures import figures_changed
from services.models.follow_ups import FollowUp
from services.models.organizations import DIRECTOR_SETTINGS, Organization
from services.reminder_plans import reminders_move_digests, reminders_plan_for_follow_ups


def organization_settings_update(*, by: AbstractUser, organization: Organization, **values: Any) -> Organization:
    """Save the settings that changed, with one access-log entry listing them (old → new).

    The figures read two of them ("stalled now" counts with the provider's and the
    completion's days), so the write bumps the figures' version like any tracked write. A new
    number of days before a director is told of an overdue follow-up plans the open
    follow-ups' escalations again, and a new digest hour moves the digests planned; the other
    settings apply from the next move of a referral or link on, or (retention) on the
    retention page at once."""
    unknown = set(values) - set(DIRECTOR_SETTINGS)
    if unknown:
        raise TypeError(f"not an organization setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        figures_changed(organization.pk)  # first: it locks the organization row until commit
        stored = Organization.objects.get(pk=organization.pk)
        before = audit.snapshot(stored)
        changed = [name for name, value in values.items() if getattr(stored, name) != value]
        if not changed:
            transaction.set_rollback(True)  # nothing to count again: the version stays
            return stored
        for name in changed:
            setattr(stored, name, values[name])
        stored.full_clean(exclude=[f.name for f in Organization._meta.fields if f.name not in changed])
        stored.save(update_fields=changed)
        audit.record_change(by, stored, before, exoneree=None, fields=changed)
        if "escalation_days" in changed:
            reminders_plan_for_follow_ups(FollowUp.objects.filter(exoneree__organization=stored, done_at__isnull=True))
        if "digest_hour" in changed:
            reminders_move_digests(stored)
    return stored
