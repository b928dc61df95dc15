"""An organization: set up by an operator with its first director (`manage.py add_organization`),
then its own settings, as its director keeps them (services/forms/organization.py)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from services import audit
from services.actions.staff import account_username, has_chosen_a_password
from services.auth import typed_username
from services.choices import Role
from services.figures import figures_changed
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.organizations import DIRECTOR_SETTINGS, Organization, StaffMember
from services.reminder_plans import reminders_move_digests, reminders_plan_for_follow_ups

User = get_user_model()

BY_OPERATOR = "manage.py add_organization"
# The part of a username before "@<code>", as a director's staff form takes it (forms.widgets.HandleField).
HANDLE = re.compile(r"[a-z0-9_.-]{3,40}")


@transaction.atomic
def organization_add_director(
    *,
    name: str,
    handle: str,
    email: str,
    timezone: str = "",
    code: str = "",
    first_name: str = "",
    last_name: str = "",
) -> StaffMember:
    """A member organization joining, with its first director, or a director added to one that
    exists (the name, code and time zone it has are kept). The director's account has no usable
    password: they choose one through a set-password link the operator hands over
    (services.lib.links.invitation_link), as every staff invitation works, then enrol a second
    factor. The password-reset page cannot stand in for it: it sends nothing to an account
    without a usable password. Called again for a director who has not chosen a password yet,
    it changes nothing, so the operator can print a new link."""
    organization = Organization.objects.filter(name__iexact=name.strip()).first()
    if organization is None:
        organization = Organization(name=name.strip(), code=typed_username(code))
        if timezone:
            organization.timezone = timezone
        organization.full_clean()
        organization.save()
    handle = typed_username(handle).removesuffix(f"@{organization.code}")
    if not HANDLE.fullmatch(handle):
        raise ValidationError("Give the director's handle in 3-40 letters, digits, dots, dashes or underscores.")
    validate_email(email.strip())
    username = account_username(organization, handle)
    user = User.objects.filter(username__iexact=username).first()
    if user is not None:
        member = StaffMember.objects.filter(user=user, organization=organization, role=Role.DIRECTOR).first()
        if member is None or has_chosen_a_password(user):
            raise ValidationError(f"{username} is taken; choose another handle.")
        return member
    user = User(username=username, email=email.strip(), first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    member = StaffMember(user=user, organization=organization, role=Role.DIRECTOR)
    member.full_clean()
    member.save()
    figures_changed(organization.pk)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        organization_id=organization.pk,
        target=f"Staff account {username}",
        changes={"role": [None, Role.DIRECTOR], "is_active": [None, True], "by": BY_OPERATOR},
    )
    return member


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
