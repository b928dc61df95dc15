"""The Network's analysts: made and removed by an operator (`manage.py add_analyst`), and their
readings of the Network's figures, each in the access log."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction

from services import audit
from services.auth import typed_username
from services.models.audit import AuditEvent
from services.models.network import NetworkAnalyst
from services.models.organizations import StaffMember
from services.models.people import Exoneree

User = get_user_model()

BY_OPERATOR = "manage.py add_analyst"


@transaction.atomic
def analyst_add(*, username: str, email: str, first_name: str = "", last_name: str = "") -> AbstractUser:
    """An account for a new analyst, with no usable password: they choose one through a
    set-password link (services.lib.links.invitation_link), then enrol a second factor. An
    existing account that is nobody's staff or record is given the role instead."""
    username = typed_username(username)  # every username is in small letters (services.auth)
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    elif StaffMember.objects.filter(user=user).exists() or Exoneree.objects.filter(user=user).exists():
        # One account, one role: a staff member's session would otherwise open both doors.
        raise ValidationError(f"{user.get_username()} is an organization's staff or a person's login.")
    _, created = NetworkAnalyst.objects.get_or_create(user=user)
    if created:
        audit.record(
            AuditEvent.Action.PERMISSION_CHANGED,
            target=f"Analyst account {user.get_username()}",
            changes={"network_analyst": [False, True], "by": BY_OPERATOR},
        )
    return user


@transaction.atomic
def analyst_remove(*, username: str) -> bool:
    """Take the role away (the account stays, with nothing to open). Whether it had it."""
    removed, _ = NetworkAnalyst.objects.filter(user__username__iexact=username).delete()
    if removed:
        audit.record(
            AuditEvent.Action.PERMISSION_CHANGED,
            target=f"Analyst account {username}",
            changes={"network_analyst": [True, False], "by": f"{BY_OPERATOR} --remove"},
        )
    return bool(removed)


def network_figures_viewed(*, by: AbstractUser, start: date, end: date, organizations: int, export: str = "") -> None:
    """One entry per opening of the Network's figures (or download of one of its tables, by
    title): the period and how many organizations were counted, nothing of any organization's."""
    changes = {"from": start.isoformat(), "to": end.isoformat(), "organizations": organizations}
    if export:
        audit.record(AuditEvent.Action.EXPORTED, actor=by, target=f"Network's figures: {export} (CSV)", changes=changes)
    else:
        audit.record(AuditEvent.Action.NETWORK_FIGURES_VIEWED, actor=by, target="Network's figures", changes=changes)
