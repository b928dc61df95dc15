"""Staff accounts: created, changed, invited, unlocked."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from services import audit
from services.access import organization_of
from services.choices import Role
from services.figures import figures_changed
from services.lib.throttle import throttle_hit
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.organizations import Organization, StaffMember
from services.second_factor import has_second_factor
from services.signin import sign_in_unlock
from services.tasks import send_invitation

User = get_user_model()

# How often a director may send one colleague's invitation again in an hour (a mailbox is not
# to be flooded, by a slip or by a stolen session).
INVITATIONS_AGAIN_PER_HOUR = 3


# Accounts: staff and exoneree logins, both started by an invitation email.


def account_username(organization: Organization, handle: str) -> str:
    """The username an account made here signs in with: `handle@code`.

    Usernames are unique across the site, so a bare handle would tell whoever chooses one
    that somebody in another organization has it. Within the organization's own namespace
    a clash can only be with its own accounts (services.models.organizations).
    """
    return f"{handle}@{organization.code}"


def account_username_check(organization: Organization, handle: str) -> str:
    """The full username for `handle`, or a message beside the field when it is in use here."""
    username = account_username(organization, handle)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("%(username)s is taken; choose another.") % {"username": username}})
    return username


def username_suggestion(organization: Organization, first_name: str, last_name: str) -> str:
    """A free handle (without the ending) from the name, numbered within the organization."""
    base = re.sub(r"[^a-z0-9]", "", f"{first_name[:1]}{last_name}".lower()) or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=account_username(organization, candidate)).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


def invitation_queue(*, by: AbstractUser, user: AbstractUser) -> None:
    """Email the set-password link from the worker once the account is committed.

    `robust`: a broker that is down is logged, not turned into an error page for a save
    that already happened; the invitation can be sent again from the person's page.
    """
    user_id, invited_by_id = user.pk, by.pk

    def queue() -> None:  # a named function: a robust on_commit logs the callback's name
        send_invitation.delay(user_id, invited_by_id)

    transaction.on_commit(queue, robust=True)


@transaction.atomic
def staff_create(
    *,
    by: AbstractUser,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    title: str = "",
    phone: str = "",
) -> StaffMember:
    """A staff account named `username@<the organization's code>`, invited by email."""
    organization = organization_of(by)
    username = account_username_check(organization, username)
    _email_unused(organization.pk, email)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    member = StaffMember(user=user, organization=organization, role=role, title=title, phone=phone)
    member.full_clean()
    member.save()
    figures_changed(organization.pk)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        target=f"Staff account {user.get_username()}",
        changes={"role": [None, role], "is_active": [None, True]},
    )
    invitation_queue(by=by, user=user)
    return member


def has_chosen_a_password(user: AbstractUser) -> bool:
    """Whether the account was taken up: an invited account has no usable password until its
    holder chooses one through the invitation, has never signed in and has no second factor.
    (Any of those, even with the password since switched off, makes the account theirs.)"""
    return user.has_usable_password() or user.last_login is not None or has_second_factor(user)


def _email_unused(organization_id: int, email: str, *, but: int | None = None) -> None:
    """One address, one colleague: an invitation or a reset link must reach the one person. Only
    among this organization's staff: whether another organization knows the address is not ours to tell."""
    same = StaffMember.objects.filter(organization_id=organization_id, user__email__iexact=email.strip())
    if same.exclude(pk=but).exists():
        raise ValidationError({"email": _("Someone on your staff already has this email address.")})


@transaction.atomic
def staff_update(
    *,
    by: AbstractUser,
    member: StaffMember,
    role: str,
    title: str,
    is_active: bool,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
) -> StaffMember:
    """`email`: a new address for an invitation not yet taken up (a typo, a changed address),
    where the invitation goes again. Once they have chosen a password it is theirs: a director
    who could change it could have a set-password link sent to an address of their own."""
    # The rules are checked against the stored role, under a lock, so that a caseworker
    # who still carries people is never promoted or switched off (and a reassignment
    # running at the same moment waits).
    figures_changed(member.organization_id)  # first (the lock order of tracked actions)
    stored = StaffMember.objects.select_for_update(no_key=True).select_related("user").get(pk=member.pk)
    if stored.user_id == by.pk and (role != Role.DIRECTOR or not is_active):
        raise ValidationError(_("You cannot remove your own director role or deactivate yourself."))
    # Switching someone off is never held up: access ends now (someone leaving in a hurry, an
    # account taken over), and their people are moved next (the page goes to "Move their
    # people"). A new role would leave the people with someone who no longer carries cases.
    if stored.role == Role.CASEWORKER and role != Role.CASEWORKER:
        held = stored.user.caseload.count()
        open_follow_ups = FollowUp.objects.filter(assigned_to=stored.user, done_at__isnull=True).count()
        if held or open_follow_ups:
            raise ValidationError(
                _(
                    "This caseworker still has %(held)s people and %(open)s open follow-ups. "
                    "Reassign them first: on Staff, “Move their people” beside them moves their people and "
                    "open follow-ups to another caseworker."
                )
                % {"held": held, "open": open_follow_ups}
            )
    email = stored.user.email if email is None else email.strip()
    first_name = stored.user.first_name if first_name is None else first_name
    last_name = stored.user.last_name if last_name is None else last_name
    phone = stored.phone if phone is None else phone
    if email != stored.user.email:  # even in its letters' case: a new address gets the invitation
        if has_chosen_a_password(stored.user):
            raise ValidationError({"email": _("They have chosen a password, so only they can change their address.")})
        if email.lower() != stored.user.email.lower():
            _email_unused(stored.organization_id, email, but=stored.pk)
    changes = {
        name: [old, new]
        for name, old, new in (
            ("role", stored.role, role),
            ("title", stored.title, title),
            ("phone", stored.phone, phone),
            ("is_active", stored.user.is_active, is_active),
            ("email", stored.user.email, email),
            ("first_name", stored.user.first_name, first_name),
            ("last_name", stored.user.last_name, last_name),
        )
        if old != new
    }
    stored.role, stored.title, stored.phone = role, title, phone
    stored.full_clean()
    stored.save(update_fields=["role", "title", "phone"])
    stored.user.is_active = is_active
    stored.user.email, stored.user.first_name, stored.user.last_name = email, first_name, last_name
    stored.user.save(update_fields=["is_active", "email", "first_name", "last_name"])
    if changes:
        target = f"Staff account {stored.user.get_username()}"
        audit.record(AuditEvent.Action.PERMISSION_CHANGED, actor=by, target=target, changes=changes)
    if "email" in changes and is_active:
        invitation_queue(by=by, user=stored.user)
    return stored


@transaction.atomic
def staff_invitation_resend(*, by: AbstractUser, member: StaffMember) -> None:
    """The invitation again, for a colleague who has not taken it up (it expired, or went astray)."""
    user = StaffMember.objects.select_related("user").get(pk=member.pk).user
    if not user.is_active:
        raise ValidationError(_("This account cannot sign in: allow it to sign in first."))
    if has_chosen_a_password(user):
        raise ValidationError(
            _(
                "They have already chosen a password. If they forgot it, “Forgot your password?” "
                "on the sign-in page sends them a link."
            )
        )
    if not throttle_hit("invitation-again", str(user.pk), limit=INVITATIONS_AGAIN_PER_HOUR, period_seconds=3600):
        raise ValidationError(_("The invitation went out several times this hour already. Try again later."))
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        target=f"Staff account {user.get_username()}",
        changes={"invitation": "sent again"},
    )
    invitation_queue(by=by, user=user)


@transaction.atomic
def staff_sign_in_unlock(*, by: AbstractUser, member: StaffMember) -> int:
    """Lift a sign-in lockout (django-axes) on a staff member's username, from every address,
    and django-otp's throttle on their devices.

    The director's page loads `member` through access.get_staff_member, so only their own
    organization's staff can be unlocked. Returns how many lockout records were removed.
    """
    username = member.user.get_username()
    removed = sign_in_unlock(username=username, user=member.user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        target=f"Staff account {username}",
        changes={"sign_in_lockout": ["locked", "unlocked"]},
    )
    return removed
