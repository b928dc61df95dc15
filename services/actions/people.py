"""Exonerees' records and caseloads: intake, edits, the SSN reveal, invitations."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit, document_reminders
from services.access import CASEWORKER_PERMS, organization_of
from services.actions.enrolment import enrolment_open
from services.actions.release_checks import release_checks_move, release_checks_plan
from services.actions.staff import account_username_check, invitation_queue
from services.choices import (
    Language,
    Role,
)
from services.figures import figures_changed
from services.models.audit import AuditEvent
from services.models.follow_ups import FollowUp
from services.models.notifications import Notification
from services.models.organizations import StaffMember
from services.models.people import (
    CONTACT_WISH_FIELDS,
    EXONEREE_PROFILE_FIELDS,
    EXONEREE_SAVED_FIELDS,
    Exoneree,
    ExonereeUserObjectPermission,
)
from services.outcome_counts import outcome_counts_tracked_for
from services.reminder_plans import reminders_plan_for_exoneree

User = get_user_model()

# Exonerees and caseloads.


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def exoneree_create(*, by: AbstractUser, exoneree: Exoneree, release_checks: bool = False) -> Exoneree:
    """Intake: the record joins the creator's organization and caseload, its case open from
    today; with `release_checks`, the check-ins after release still ahead are planned for them."""
    exoneree.organization = organization_of(by)
    figures_changed(exoneree.organization_id)  # first (the lock order of tracked actions)
    exoneree.full_clean()
    exoneree.save()
    caseload_assign(by=by, exoneree=exoneree, caseworkers=[by])
    audit.record_change(by, exoneree, {}, exoneree=exoneree)
    enrolment_open(by=by, exoneree=exoneree)
    if release_checks:
        release_checks_plan(by=by, exoneree=exoneree)
    return exoneree


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def exoneree_update(*, by: AbstractUser, exoneree: Exoneree, release_checks: bool = False) -> Exoneree:
    """The profile saved; a corrected release date moves the check-ins after release planned
    from the old one, and `release_checks` plans those still ahead that they do not have."""
    exoneree.full_clean()
    before = audit.stored(exoneree)
    # Only the profile: a login linked meanwhile by an invitation is not undone.
    exoneree.save(update_fields=EXONEREE_SAVED_FIELDS)
    release_checks_move(by=by, exoneree=exoneree, released_before=before["release_date"])
    if release_checks:
        release_checks_plan(by=by, exoneree=exoneree)
    reminders_plan_for_exoneree(exoneree)  # deadline and contact wishes decide reminders
    document_reminders.plan_for_exoneree(exoneree)  # and the reminders of their expiring IDs
    audit.record_change(by, exoneree, before, exoneree=exoneree, fields=EXONEREE_PROFILE_FIELDS)
    return exoneree


@transaction.atomic
def exoneree_set_language(*, by: AbstractUser, exoneree: Exoneree, language: str) -> Exoneree:
    """The language of the person's pages and emails (their own choice, or their caseworker's
    on the profile). Choosing the one already set changes nothing and records nothing."""
    if language not in Language.values:
        raise ValidationError({"language": _("Choose English or Spanish.")})
    before = audit.stored(exoneree)
    exoneree.preferred_language = language
    exoneree.save(update_fields=["preferred_language"])
    audit.record_change(by, exoneree, before, exoneree=exoneree, fields=["preferred_language"])
    return exoneree


@transaction.atomic
def exoneree_set_contact_wishes(*, by: AbstractUser, exoneree: Exoneree) -> Exoneree:
    """The person's own choice of how to be reached and reminded (the form has set the fields).

    The reminders are planned again in the same transaction, so the very next sweep obeys the
    new wishes (do not contact, quiet hours, channel); the sender checks them again when it
    sends. Their caseworkers are told in the app; nothing changes if nothing changed."""
    exoneree.full_clean()
    before = audit.stored(exoneree)
    after = audit.snapshot(exoneree)
    if all(before[name] == after[name] for name in CONTACT_WISH_FIELDS):
        return exoneree
    exoneree.contact_wishes_set_at = timezone.now()
    fields = [*CONTACT_WISH_FIELDS, "contact_wishes_set_at"]
    exoneree.save(update_fields=fields)
    reminders_plan_for_exoneree(exoneree)
    audit.record_change(by, exoneree, before, exoneree=exoneree, fields=fields)
    url = reverse("exoneree_detail", args=[exoneree.pk]) + "#profile"
    text = f"{exoneree.display_name} changed how they want to be reached."
    Notification.objects.bulk_create(
        [Notification(user=user, text=text, url=url) for user in exoneree.caseworkers.filter(is_active=True)]
    )
    return exoneree


def intake_duplicate_warned(*, by: AbstractUser, hidden: list[int]) -> None:
    """A warning that matched records the caseworker may not open told them those exist;
    it is logged against each, so a director can see someone testing numbers."""
    for exoneree in Exoneree.objects.filter(pk__in=hidden):
        audit.record(AuditEvent.Action.DUPLICATE_WARNING, actor=by, exoneree=exoneree, target=audit.describe(exoneree))


@transaction.atomic
def exoneree_reveal_ssn(*, by: AbstractUser, exoneree: Exoneree) -> str:
    """The full SSN for someone allowed to see the record; who asked, and when, is recorded
    before the number is handed out."""
    audit.record(AuditEvent.Action.SSN_REVEALED, actor=by, exoneree=exoneree, target=audit.describe(exoneree))
    return exoneree.ssn


def _move_permissions(exoneree: Exoneree, *, removed: Iterable[int], added: Iterable[int]) -> None:
    """The caseworkers' object permissions on the person (django-guardian's direct rows), taken
    from those taken off and given to those added: a query or two each way, not guardian's
    `remove_perm` / `assign_perm` per permission and caseworker (two to six queries each)."""
    if removed:
        ExonereeUserObjectPermission.objects.filter(
            content_object=exoneree, user_id__in=removed, permission__codename__in=CASEWORKER_PERMS
        ).delete()
    if added:
        permissions = Permission.objects.filter(
            content_type=ContentType.objects.get_for_model(Exoneree), codename__in=CASEWORKER_PERMS
        )
        ExonereeUserObjectPermission.objects.bulk_create(
            [
                ExonereeUserObjectPermission(user_id=pk, permission=permission, content_object=exoneree)
                for pk in added
                for permission in permissions
            ],
            ignore_conflicts=True,  # a grant already there stays, as with guardian's assign_perm
        )


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def caseload_assign(*, by: AbstractUser, exoneree: Exoneree, caseworkers: Iterable[AbstractUser]) -> int:
    """Set who carries this exoneree; their object permissions move in the same transaction.

    Open follow-ups of a caseworker who is taken off move to the first caseworker named (a
    newcomer first), so no reminder is left with someone who can no longer see the person.
    Returns how many follow-ups moved. The row lock serializes two directors reassigning the
    same person at once, so the permission table always matches the assignment. It is a
    no-key lock: it does not hold up the key-share lock a page's access-log entry takes on
    the person (services.audit: lock order).
    """
    Exoneree.objects.select_for_update(no_key=True).filter(pk=exoneree.pk).first()
    wanted = {user.pk: user for user in caseworkers}
    if not wanted:
        raise ValidationError({"caseworkers": _("Choose at least one caseworker.")})
    valid = set(
        StaffMember.objects.filter(
            user_id__in=wanted, organization_id=exoneree.organization_id, role=Role.CASEWORKER
        ).values_list("user_id", flat=True)
    )
    if invalid := set(wanted) - valid:
        raise ValidationError(f"Not caseworkers of this organization: {sorted(invalid)}")
    current = {user.pk: user for user in exoneree.caseworkers.all()}
    removed, added = current.keys() - wanted.keys(), wanted.keys() - current.keys()
    _move_permissions(exoneree, removed=removed, added=added)
    exoneree.caseworkers.set(wanted.values())
    heir = next((pk for pk in wanted if pk in added), next(iter(wanted)))
    moved = FollowUp.objects.filter(exoneree=exoneree, assigned_to_id__in=removed, done_at__isnull=True).update(
        assigned_to_id=heir
    )
    reminders_plan_for_exoneree(exoneree)  # pending reminders follow the follow-ups and caseworkers
    document_reminders.plan_for_exoneree(exoneree)  # and an expiring ID's go to the new caseworkers
    if removed or added:
        audit.record(
            AuditEvent.Action.CASELOAD_REASSIGNED,
            actor=by,
            exoneree=exoneree,
            target=audit.describe(exoneree),
            changes={"caseworkers": [audit.staff_names(current.values()), audit.staff_names(wanted.values())]},
        )
    return moved


@transaction.atomic
def caseloads_move(
    *, by: AbstractUser, people: Iterable[Exoneree], from_caseworker: AbstractUser, to_caseworker: AbstractUser
) -> int:
    """Move people from one caseworker to another in one step (someone leaving, a caseload
    rebalanced): one transaction, each person reassigned by `caseload_assign` (permissions and
    open follow-ups move, one log entry per person), and the receiving caseworker told once.
    Other caseworkers on a person's case stay. Returns how many people moved."""
    if from_caseworker.pk == to_caseworker.pk:
        raise ValidationError({"to_caseworker": _("Choose another caseworker to move them to.")})
    moved = 0
    # By id: two directors moving overlapping groups lock the rows in the same order.
    for person in sorted(people, key=lambda p: p.pk):
        current = list(person.caseworkers.all())
        if from_caseworker.pk not in {user.pk for user in current}:
            continue  # moved by someone else meanwhile
        others = [user for user in current if user.pk not in (from_caseworker.pk, to_caseworker.pk)]
        caseload_assign(by=by, exoneree=person, caseworkers=[to_caseworker, *others])
        moved += 1
    if moved:
        who = by.get_full_name() or by.get_username()
        Notification.objects.create(
            user=to_caseworker,
            text=f"{who} moved {moved} {'person' if moved == 1 else 'people'} to your caseload.",
            url=reverse("exoneree_list"),
        )
    return moved


@transaction.atomic
def exoneree_invite(*, by: AbstractUser, exoneree: Exoneree, username: str, email: str) -> AbstractUser:
    """Give the exoneree a login to see their own plan, named `username@<organization's code>`."""
    username = account_username_check(exoneree.organization, username)
    first, _space, last = exoneree.display_name.partition(" ")
    user = User(username=username, email=email, first_name=first, last_name=last)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    # Linked only if nobody linked a login meanwhile (a double submit); otherwise the new
    # account is rolled back with the transaction.
    if not Exoneree.objects.filter(pk=exoneree.pk, user__isnull=True).update(user=user):
        raise ValidationError(_("This person already has a login."))
    exoneree.user = user
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        exoneree=exoneree,
        target=audit.describe(exoneree),
        changes={"login": [None, user.get_username()]},
    )
    invitation_queue(by=by, user=user)
    return user


def exoneree_invite_resend(*, by: AbstractUser, exoneree: Exoneree) -> None:
    if exoneree.user is None:
        raise ValidationError(_("This person has no login yet."))
    if not exoneree.user.email:
        raise ValidationError(_("Their login has no email address to send the link to."))
    invitation_queue(by=by, user=exoneree.user)
