"""Every write to the domain goes through a function here, named <entity>_<action>.

Views have already checked access (services.access) before they call these; the functions
validate (`full_clean`) before they save and keep related changes in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm, remove_perm

from services import audit, selectors
from services.access import CASEWORKER_PERMS, organization_of
from services.choices import (
    ConsentCategory,
    ConsentRevokedHow,
    EmergencyReview,
    Language,
    NeedStatus,
    ReferralStatus,
    Role,
)
from services.figures import figures_changed
from services.lifecycle import NEED_CLOSED, REFERRAL_OPEN, check_need_transition, check_referral_transition
from services.models import (
    EXONEREE_PROFILE_FIELDS,
    EXONEREE_SAVED_FIELDS,
    FOLLOW_UP_EDITABLE_FIELDS,
    Assessment,
    AssessmentScore,
    AuditEvent,
    CaseNote,
    Consent,
    ConsentCategoryRow,
    EmergencyAccess,
    Exoneree,
    FollowUp,
    Need,
    Notification,
    Provider,
    Referral,
    ReferralCategory,
    ReferralEvent,
    Resource,
    ResourceDomain,
    StaffMember,
)
from services.outcome_counts import outcome_counts_tracked_for
from services.reminders import reminders_plan_for_exoneree, reminders_plan_for_follow_up
from services.signin import second_factor_throttle_reset
from services.tasks import send_invitation

User = get_user_model()
EMERGENCY_REASON_MIN = 20


# Exonerees and caseloads.


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def exoneree_create(*, by: AbstractUser, exoneree: Exoneree) -> Exoneree:
    """Intake: the record joins the creator's organization and caseload."""
    exoneree.organization = organization_of(by)
    exoneree.full_clean()
    exoneree.save()
    caseload_assign(by=by, exoneree=exoneree, caseworkers=[by])
    audit.record_change(by, exoneree, {}, exoneree=exoneree)
    return exoneree


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def exoneree_update(*, by: AbstractUser, exoneree: Exoneree) -> Exoneree:
    exoneree.full_clean()
    before = audit.stored(exoneree)
    # Only the profile: a login linked meanwhile by an invitation is not undone.
    exoneree.save(update_fields=EXONEREE_SAVED_FIELDS)
    reminders_plan_for_exoneree(exoneree)  # deadline and contact wishes decide reminders
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


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def caseload_assign(*, by: AbstractUser, exoneree: Exoneree, caseworkers: Iterable[AbstractUser]) -> int:
    """Set who carries this exoneree; their object permissions move in the same transaction.

    Open follow-ups of a caseworker who is taken off move to the first caseworker named (a
    newcomer first), so no reminder is left with someone who can no longer see the person.
    Returns how many follow-ups moved. The row lock serializes two directors reassigning the
    same person at once, so the permission table always matches the assignment.
    """
    Exoneree.objects.select_for_update().filter(pk=exoneree.pk).first()
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
    for pk in removed:
        for perm in CASEWORKER_PERMS:
            remove_perm(perm, current[pk], exoneree)
    for pk in added:
        for perm in CASEWORKER_PERMS:
            assign_perm(perm, wanted[pk], exoneree)
    exoneree.caseworkers.set(wanted.values())
    heir = next((pk for pk in wanted if pk in added), next(iter(wanted)))
    moved = FollowUp.objects.filter(exoneree=exoneree, assigned_to_id__in=removed, done_at__isnull=True).update(
        assigned_to_id=heir
    )
    reminders_plan_for_exoneree(exoneree)  # pending reminders follow the follow-ups and caseworkers
    if removed or added:
        audit.record(
            AuditEvent.Action.CASELOAD_REASSIGNED,
            actor=by,
            exoneree=exoneree,
            target=audit.describe(exoneree),
            changes={"caseworkers": [audit.staff_names(current.values()), audit.staff_names(wanted.values())]},
        )
    return moved


# Needs.


@transaction.atomic
def need_create(*, by: AbstractUser, exoneree: Exoneree, need: Need) -> Need:
    figures_changed(exoneree.organization_id)  # first (the lock order of tracked actions)
    need.exoneree = exoneree
    need.organization_id = exoneree.organization_id
    need.created_by = by
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
def need_set_status(*, by: AbstractUser, need: Need, status: str, today: date | None = None) -> Need:
    figures_changed(need.organization_id)  # first (the lock order of tracked actions)
    # Checked against the stored status under a lock, not a copy read before someone else
    # closed or reopened the need.
    need.status = Need.objects.select_for_update().values_list("status", flat=True).get(pk=need.pk)
    check_need_transition(need.status, status)
    before = audit.stored(need)
    need.status = status
    need.closed_on = (today or timezone.localdate()) if status in NEED_CLOSED else None
    need.save(update_fields=["status", "closed_on"])
    audit.record_change(by, need, before, exoneree=need.exoneree, fields=["status", "closed_on"])
    return need


# Referrals.


def _refuse_unknown_categories(categories: set[str]) -> None:
    """Only a forged form names a category the app does not know; refuse it, by name."""
    if invalid := categories - set(ConsentCategory.values):
        raise ValidationError(
            {"categories": _("Unknown kinds of information: %(kinds)s") % {"kinds": ", ".join(sorted(invalid))}}
        )


def _categories_shared(categories: Iterable[str]) -> list[str]:
    """What a referral hands its provider: the chosen categories and contact details, always."""
    chosen = {ConsentCategory.CONTACT, *categories}
    _refuse_unknown_categories(chosen)
    return ConsentCategory.in_order(chosen)


@transaction.atomic
def referral_create(
    *, by: AbstractUser, need: Need, resource: Resource, note: str = "", categories: Iterable[str] | None = None
) -> Referral:
    """A draft referral. `categories`: what it will hand the provider (default: what its
    need is about); contact details always go with it."""
    if resource.organization_id != need.exoneree.organization_id:
        raise ValidationError({"resource": _("Choose a resource from your organization's directory.")})
    figures_changed(need.organization_id)  # first (the lock order of tracked actions)
    referral = Referral(need=need, organization_id=need.organization_id, resource=resource, note=note, created_by=by)
    referral.full_clean()
    referral.save()
    chosen = selectors.categories_for_need(need) if categories is None else _categories_shared(categories)
    ReferralCategory.objects.bulk_create([ReferralCategory(referral=referral, category=c) for c in chosen])
    ReferralEvent.objects.create(referral=referral, from_status="", to_status=ReferralStatus.DRAFT, by=by)
    # Work has started on an open need; a need someone closed meanwhile stays closed.
    if Need.objects.filter(pk=need.pk, status=NeedStatus.OPEN).update(status=NeedStatus.IN_PROGRESS):
        need.status = NeedStatus.IN_PROGRESS
    audit.record_change(by, referral, {}, exoneree=need.exoneree)
    return referral


@transaction.atomic
def referral_update(*, by: AbstractUser, referral: Referral, categories: Iterable[str] | None = None) -> Referral:
    """Save an edited referral. `categories` (None: unchanged): what it will hand the provider,
    contact details always; only a draft's can change, as only a draft's provider can."""
    figures_changed(referral.organization_id)  # first (the lock order of tracked actions)
    stored = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.resource_id != stored.resource_id and stored.status != ReferralStatus.DRAFT:
        raise ValidationError({"resource": _("A sent referral keeps its provider; cancel it and refer again.")})
    if referral.resource.organization_id != referral.need.exoneree.organization_id:
        raise ValidationError({"resource": _("Choose a resource from your organization's directory.")})
    old = selectors.referral_categories(stored)
    new = old
    if categories is not None:
        new = _categories_shared(categories)
    if new != old and stored.status != ReferralStatus.DRAFT:
        raise ValidationError({"categories": _("A sent referral keeps what it shared; cancel it and refer again.")})
    referral.full_clean()
    before = audit.snapshot(stored)
    referral.save(update_fields=["resource", "note"])
    if new != old:
        ReferralCategory.objects.filter(referral=referral).delete()
        ReferralCategory.objects.bulk_create([ReferralCategory(referral=referral, category=c) for c in new])
    audit.record_change(
        by,
        referral,
        before,
        exoneree=referral.need.exoneree,
        fields=["resource", "note"],
        extra={"categories": [old, new]} if new != old else None,
    )
    return referral


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["referral"].need.exoneree_id)])
def referral_transition(
    *,
    by: AbstractUser,
    referral: Referral,
    status: str,
    note: str = "",
    decline_reason: str = "",
    got_service: bool | None = None,
    helped: bool | None = None,
    feedback: str = "",
) -> Referral:
    """Move a referral along its lifecycle (services.lifecycle says which moves exist).

    The row is locked and re-read so two people pressing buttons at once cannot both move
    it from the same state.
    """
    locked = Referral.objects.select_for_update().select_related("need__exoneree").get(pk=referral.pk)
    check_referral_transition(locked.status, status)
    before = audit.snapshot(locked)
    if status == ReferralStatus.DECLINED and not decline_reason.strip():
        raise ValidationError({"decline_reason": _("Say why the provider declined.")})
    if status == ReferralStatus.COMPLETED and got_service is None:
        raise ValidationError({"got_service": _("Say whether the person got the service.")})
    # Sending hands the person's information to an outside provider: only under a current
    # consent that names every category it carries (those consents are locked until commit,
    # see consent_missing, so a revocation cannot slip in between the check and the send).
    if status == ReferralStatus.SENT and (missing := selectors.consent_missing(locked, lock=True)):
        raise ValidationError({"status": selectors.consent_missing_message(locked, missing)})
    now = timezone.now()
    ReferralEvent.objects.create(referral=locked, from_status=locked.status, to_status=status, by=by, at=now, note=note)
    locked.status = status
    locked.status_changed_at = now
    if status == ReferralStatus.DECLINED:
        locked.decline_reason = decline_reason.strip()
    if status == ReferralStatus.COMPLETED:
        locked.got_service = got_service
        locked.helped = helped
        locked.feedback = feedback.strip()
    locked.save()
    audit.record_change(by, locked, before, exoneree=locked.need.exoneree)
    return locked


# Consent (release of information).


@transaction.atomic
def consent_create(*, by: AbstractUser, exoneree: Exoneree, consent: Consent, categories: Iterable[str]) -> Consent:
    categories = set(categories)
    if not categories:
        raise ValidationError({"categories": _("Choose at least one kind of information.")})
    _refuse_unknown_categories(categories)
    if consent.provider.organization_id != exoneree.organization_id:
        raise ValidationError({"provider": _("Choose a provider from your organization's directory.")})
    consent.exoneree = exoneree
    consent.recorded_by = by
    consent.full_clean()
    consent.save()
    rows = [ConsentCategoryRow(consent=consent, category=category) for category in sorted(categories)]
    ConsentCategoryRow.objects.bulk_create(rows)
    audit.record_change(by, consent, {}, exoneree=exoneree, extra={"categories": [None, sorted(categories)]})
    return consent


def _flag_referrals_no_longer_covered(consent: Consent, now: Any) -> list[int]:
    """Flag the person's open referrals to the consent's provider (already with the provider,
    or being sent) that no current consent covers any more. A draft is not flagged: nothing
    was shared, and its send will be refused."""
    candidates = Referral.objects.filter(
        need__exoneree=consent.exoneree,
        resource__provider=consent.provider,
        status__in=REFERRAL_OPEN - {ReferralStatus.DRAFT},
        consent_revoked_at__isnull=True,
    ).select_related("need__exoneree", "resource__provider")
    flagged = [referral.pk for referral in candidates if selectors.consent_missing(referral)]
    Referral.objects.filter(pk__in=flagged).update(consent_revoked_at=now)
    return flagged


def _tell_caseworkers(exoneree: Exoneree, what: str, flagged: list[int]) -> None:
    """Notify the person's caseworkers that sharing was cut back, and how many referrals it flagged."""
    text = (
        what
        + (_("; %(count)s open referral(s) flagged") % {"count": len(flagged)} if flagged else "")
        + ". "
        + _("Tell the provider to stop.")
    )
    Notification.objects.bulk_create(
        [
            Notification(user=caseworker, text=text[:300], url=exoneree.get_absolute_url() + "#consents")
            for caseworker in exoneree.caseworkers.all()
        ]
    )


@transaction.atomic
def consent_narrow(*, by: AbstractUser, consent: Consent, categories: Iterable[str], ends_on: date) -> Consent:
    """Narrow a consent on the person's word: fewer kinds of information, an earlier end.

    Never wider: sharing more, or for longer, needs a new signed consent. Like a revocation,
    the open referrals it no longer covers are flagged and the caseworkers told.
    """
    consent = Consent.objects.select_for_update().select_related("exoneree", "provider").get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise ValidationError(_("This consent was revoked: it cannot be changed."), code="revoked")
    old = consent.categories
    wanted = set(categories)
    categories = ConsentCategory.in_order(wanted)
    errors = {}
    if not wanted:
        errors["categories"] = _("Choose at least one kind of information it still allows.")
    elif not wanted <= set(old):
        errors["categories"] = _("A consent can only be narrowed here: to share more, record a new signed consent.")
    if ends_on > consent.ends_on:
        errors["ends_on"] = _("A consent can only end earlier here: to share for longer, record a new signed consent.")
    elif ends_on < consent.starts_on:
        errors["ends_on"] = _("The end cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(consent)
    consent.ends_on = ends_on
    consent.save(update_fields=["ends_on"])
    ConsentCategoryRow.objects.filter(consent=consent).exclude(category__in=categories).delete()
    if categories == old and ends_on == before["ends_on"]:
        return consent
    flagged = _flag_referrals_no_longer_covered(consent, timezone.now())
    exoneree = consent.exoneree
    _tell_caseworkers(
        exoneree,
        _("%(name)s narrowed consent to share with %(provider)s")
        % {"name": exoneree.display_name, "provider": consent.provider.name},
        flagged,
    )
    extra = {"categories": [old, categories]} if categories != old else {}
    audit.record_change(
        by, consent, before, exoneree=exoneree, fields=["ends_on"], extra=extra | {"referrals_flagged": [None, flagged]}
    )
    return consent


@transaction.atomic
def consent_revoke(*, by: AbstractUser, consent: Consent, how: str) -> int:
    """Stop sharing at once: later sends are refused (they check for a current consent), the
    open referrals that relied on it are flagged and the person's caseworkers are told.

    Returns how many referrals were flagged; revoking twice changes nothing the second time.
    """
    if how not in ConsentRevokedHow.values:
        raise ValidationError(_("Say who revoked the consent."))
    now = timezone.now()
    if not Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by, revoked_how=how
    ):
        return 0
    consent.refresh_from_db()
    exoneree = consent.exoneree
    flagged = _flag_referrals_no_longer_covered(consent, now)
    _tell_caseworkers(
        exoneree,
        _("%(name)s withdrew consent to share with %(provider)s")
        % {"name": exoneree.display_name, "provider": consent.provider.name},
        flagged,
    )
    audit.record(
        AuditEvent.Action.CONSENT_REVOKED,
        actor=by,
        exoneree=exoneree,
        target=audit.describe(consent),
        changes={"revoked_how": how, "referrals_flagged": flagged},
    )
    return len(flagged)


# Break-the-glass: emergency access to a record outside one's caseload.


@transaction.atomic
def emergency_access_grant(*, by: AbstractUser, exoneree: Exoneree, reason: str) -> EmergencyAccess:
    """Read access for BREAK_GLASS_HOURS, logged, and put before the directors for review."""
    reason = reason.strip()
    if len(reason) < EMERGENCY_REASON_MIN:
        raise ValidationError(
            {"reason": _("Explain the emergency in at least %(count)d characters.") % {"count": EMERGENCY_REASON_MIN}}
        )
    if exoneree.organization_id != organization_of(by).pk:
        raise ValidationError(_("This record is not in your organization."))
    now = timezone.now()
    expires_at = now + timedelta(hours=settings.BREAK_GLASS_HOURS)
    grant = EmergencyAccess(user=by, exoneree=exoneree, reason=reason, granted_at=now, expires_at=expires_at)
    grant.full_clean()
    grant.save()
    who = by.get_full_name() or by.get_username()
    directors = get_user_model().objects.filter(
        is_active=True, staff__organization_id=exoneree.organization_id, staff__role=Role.DIRECTOR
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user=director,
                text=f"{who} used emergency access to {exoneree.display_name}'s record. Review it.",
                url=reverse("emergency_reviews"),
            )
            for director in directors
        ]
    )
    audit.record(
        AuditEvent.Action.EMERGENCY_ACCESS,
        actor=by,
        exoneree=exoneree,
        target=audit.describe(exoneree),
        changes={"expires_at": grant.expires_at.isoformat(), "reason": "given"},
    )
    return grant


@transaction.atomic
def emergency_access_end(*, by: AbstractUser, grant: EmergencyAccess) -> EmergencyAccess:
    """End an emergency access before it expires: the record closes to its holder at once.

    The grant stays for the director's review; only its end moves to now.
    """
    now = timezone.now()
    before = audit.snapshot(grant)
    if not EmergencyAccess.objects.filter(pk=grant.pk, expires_at__gt=now).update(expires_at=now):
        raise ValidationError(_("This emergency access has already ended."))
    grant.refresh_from_db()
    audit.record_change(
        by, grant, before, exoneree=grant.exoneree, fields=["expires_at"], extra={"ended_early": [False, True]}
    )
    return grant


@transaction.atomic
def emergency_access_review(*, by: AbstractUser, grant: EmergencyAccess, decision: str, note: str) -> EmergencyAccess:
    if decision not in (EmergencyReview.ACKNOWLEDGED, EmergencyReview.FLAGGED):
        raise ValidationError({"decision": _("Acknowledge it or flag it.")})
    if decision == EmergencyReview.FLAGGED and not note.strip():
        raise ValidationError({"note": _("Say why you flag it.")})
    # Reviewed once: a second director's review (or a double submit) does not overwrite it.
    if not EmergencyAccess.objects.filter(pk=grant.pk, review=EmergencyReview.PENDING).update(
        review=decision, reviewed_by=by, reviewed_at=timezone.now(), review_note=note.strip()
    ):
        raise ValidationError(_("This emergency access was already reviewed."))
    grant.refresh_from_db()
    audit.record(
        AuditEvent.Action.EMERGENCY_REVIEWED,
        actor=by,
        exoneree=grant.exoneree,
        target=f"Emergency access {grant.pk} by {grant.user.get_username()}",
        changes={"review": decision},
    )
    return grant


# Follow-ups.


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [kw["exoneree"]])
def follow_up_save(*, by: AbstractUser, exoneree: Exoneree, follow_up: FollowUp) -> FollowUp:
    """Create or edit a follow-up; its need, referral and assignee must fit the exoneree.

    The assignee is one of the person's caseworkers: anyone else could not see the person,
    and the follow-up would be due with nobody able to act on it.
    """
    adding = follow_up._state.adding
    follow_up.exoneree = exoneree
    if adding:
        follow_up.created_by = by
    errors = {}
    if follow_up.need_id and follow_up.need.exoneree_id != exoneree.pk:
        errors["need"] = _("Choose one of this person's needs.")
    if follow_up.referral_id and follow_up.referral.need.exoneree_id != exoneree.pk:
        errors["referral"] = _("Choose one of this person's referrals.")
    if not exoneree.caseworkers.filter(pk=follow_up.assigned_to_id).exists():
        errors["assigned_to"] = _("Choose one of this person's caseworkers.")
    if errors:
        raise ValidationError(errors)
    follow_up.full_clean()
    before = {} if adding else audit.stored(follow_up)
    if adding:
        follow_up.save()
    else:
        # Never the done time or outcome: a colleague may have just marked it done.
        follow_up.save(update_fields=FOLLOW_UP_EDITABLE_FIELDS)
    reminders_plan_for_follow_up(follow_up)  # a new due date or assignee moves its reminders
    audit.record_change(by, follow_up, before, exoneree=exoneree, fields=None if adding else FOLLOW_UP_EDITABLE_FIELDS)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_complete(*, by: AbstractUser, follow_up: FollowUp, outcome: str = "") -> FollowUp:
    # Only an open follow-up is completed, so a double submit keeps the first time and outcome.
    before = audit.stored(follow_up)
    updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(
        done_at=timezone.now(), outcome=outcome.strip()
    )
    if updated:
        follow_up.refresh_from_db()
        reminders_plan_for_follow_up(follow_up)  # cancels its pending reminders
        audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree)
    return follow_up


@transaction.atomic
@outcome_counts_tracked_for(lambda kw: [Exoneree(pk=kw["follow_up"].exoneree_id)])
def follow_up_reopen(*, by: AbstractUser, follow_up: FollowUp) -> FollowUp:
    before = audit.stored(follow_up)
    follow_up.done_at = None
    follow_up.save(update_fields=["done_at"])
    reminders_plan_for_follow_up(follow_up)
    audit.record_change(by, follow_up, before, exoneree=follow_up.exoneree, fields=["done_at"])
    return follow_up


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


# The resource directory.


@transaction.atomic
def resource_save(
    *, by: AbstractUser, resource: Resource, domains: Iterable[str], new_provider_name: str = ""
) -> Resource:
    organization = organization_of(by)
    before = {} if resource._state.adding else audit.stored(resource)
    resource.organization = organization
    if new_provider_name.strip():
        resource.provider, _created = Provider.objects.get_or_create(
            organization=organization, name=new_provider_name.strip()
        )
    if resource.provider_id is None:
        raise ValidationError({"provider": _("Choose a provider or type the name of a new one.")})
    if resource.provider.organization_id != organization.pk:
        raise ValidationError({"provider": _("Choose a provider from your organization's directory.")})
    resource.full_clean()
    resource.save()
    domains = set(domains)
    resource.domain_rows.exclude(domain__in=domains).delete()
    existing = set(resource.domain_rows.values_list("domain", flat=True))
    ResourceDomain.objects.bulk_create(
        [ResourceDomain(resource=resource, domain=domain) for domain in sorted(domains - existing)]
    )
    audit.record_change(by, resource, before, exoneree=None)
    return resource


# The access log.


def audit_export(*, by: AbstractUser, filters: dict[str, Any]) -> None:
    """An export of the log is itself an entry, naming the filters it used."""
    described = {
        name: (value.get_username() if hasattr(value, "get_username") else str(value))
        for name, value in filters.items()
        if value
    }
    audit.record(AuditEvent.Action.EXPORTED, actor=by, target="Access log (CSV)", changes={"filters": described})


def plan_export(*, by: AbstractUser, exoneree: Exoneree) -> None:
    """A caseworker or director printed the person's plan (a PDF leaves the app)."""
    audit.record(
        AuditEvent.Action.EXPORTED, actor=by, exoneree=exoneree, target=f"Plan of {audit.describe(exoneree)} (PDF)"
    )


def outcomes_export(*, by: AbstractUser, figure: str, filters: dict[str, Any]) -> None:
    """A download of an outcome figure is an export like any other: logged."""
    audit.record(
        AuditEvent.Action.EXPORTED,
        actor=by,
        target=f"Outcomes: {figure} (CSV)",
        changes={"filters": {name: str(value) for name, value in filters.items() if value}},
    )


# Accounts: staff and exoneree logins, both started by an invitation email.


def username_suggestion(first_name: str, last_name: str) -> str:
    base = re.sub(r"[^a-z0-9]", "", f"{first_name[:1]}{last_name}".lower()) or "user"
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
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
    *, by: AbstractUser, username: str, first_name: str, last_name: str, email: str, role: str, title: str = ""
) -> StaffMember:
    organization = organization_of(by)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    member = StaffMember(user=user, organization=organization, role=role, title=title)
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


@transaction.atomic
def staff_update(*, by: AbstractUser, member: StaffMember, role: str, title: str, is_active: bool) -> StaffMember:
    # The rules are checked against the stored role, under a lock, so that a caseworker
    # who still carries people is never promoted or switched off (and a reassignment
    # running at the same moment waits).
    figures_changed(member.organization_id)  # first (the lock order of tracked actions)
    stored = StaffMember.objects.select_for_update().select_related("user").get(pk=member.pk)
    if stored.user_id == by.pk and (role != Role.DIRECTOR or not is_active):
        raise ValidationError(_("You cannot remove your own director role or deactivate yourself."))
    if stored.role == Role.CASEWORKER and (role != Role.CASEWORKER or not is_active):
        held = stored.user.caseload.count()
        open_follow_ups = FollowUp.objects.filter(assigned_to=stored.user, done_at__isnull=True).count()
        if held or open_follow_ups:
            raise ValidationError(
                _(
                    "This caseworker still has %(held)s people and %(open)s open follow-ups. "
                    "Reassign them first (on each person's page: Change caseworkers)."
                )
                % {"held": held, "open": open_follow_ups}
            )
    changes = {
        name: [old, new]
        for name, old, new in (
            ("role", stored.role, role),
            ("title", stored.title, title),
            ("is_active", stored.user.is_active, is_active),
        )
        if old != new
    }
    stored.role = role
    stored.title = title
    stored.full_clean()
    stored.save(update_fields=["role", "title"])
    stored.user.is_active = is_active
    stored.user.save(update_fields=["is_active"])
    if changes:
        target = f"Staff account {stored.user.get_username()}"
        audit.record(AuditEvent.Action.PERMISSION_CHANGED, actor=by, target=target, changes=changes)
    return stored


@transaction.atomic
def exoneree_invite(*, by: AbstractUser, exoneree: Exoneree, username: str, email: str) -> AbstractUser:
    """Give the exoneree a login to see their own plan."""
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


# In-app notifications (written by the reminder sender, services/reminders.py).


def notification_mark_read(*, user: AbstractUser, notification: Notification) -> Notification:
    # Only an unread one: the first time it was read is kept.
    Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(read_at=timezone.now())
    return notification


def notifications_mark_all_read(*, user: AbstractUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def sign_in_code_refused(*, request: HttpRequest, user: AbstractUser) -> None:
    """A wrong one-time code after a right password: a failed sign-in like a wrong password.

    Sent as Django's failed-sign-in signal, so django-axes counts it toward the lockout of the
    username from this address, and the access log records it (services.audit), with the step
    but never the code.
    """
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username(), "step": "one-time code"}, request=request
    )


@transaction.atomic
def staff_sign_in_unlock(*, by: AbstractUser, member: StaffMember) -> int:
    """Lift a sign-in lockout (django-axes) on a staff member's username, from every address,
    and django-otp's throttle on their devices.

    The director's page loads `member` through access.get_staff_member, so only their own
    organization's staff can be unlocked. Returns how many lockout records were removed.
    """
    from axes.utils import reset  # axes' models need the app registry: imported on use

    username = member.user.get_username()
    removed = reset(username=username)
    second_factor_throttle_reset(member.user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        target=f"Staff account {username}",
        changes={"sign_in_lockout": ["locked", "unlocked"]},
    )
    return removed


# Two-step sign-in (django-otp). Each change is in the access log, as a change of the account.

BACKUP_CODES = 10
BACKUP_DEVICE_NAME = "Backup codes"


def backup_codes_replace(*, user: AbstractUser) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODES new ones and return them (shown once)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_backup_codes_renew(*, user: AbstractUser) -> list[str]:
    codes = backup_codes_replace(user=user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=user,
        target=f"Sign-in of {user.get_username()}",
        changes={"backup_codes": "renewed"},
    )
    return codes


@transaction.atomic
def two_factor_enrol_confirm(*, user: AbstractUser, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm an authenticator with a code it shows; then the backup codes. None: wrong code."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(code):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_replace(user=user)
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=user,
        target=f"Sign-in of {user.get_username()}",
        changes={"two_step_sign_in": [False, True]},
    )
    return codes
