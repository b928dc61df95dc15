"""Referrals: drafted, edited and moved through their lifecycle, behind the consent gate."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit, referral_reminders
from services.choices import (
    REFERRAL_CATEGORIES,
    ConsentCategory,
    NeedStatus,
    ReferralStatus,
)
from services.figures import figures_changed
from services.lib.text import visible_length
from services.lifecycle import check_referral_transition
from services.models.audit import AuditEvent
from services.models.directory import Provider, Resource
from services.models.needs import Need
from services.models.people import Exoneree
from services.models.referrals import Referral, ReferralCategory, ReferralEvent
from services.outcome_counts import outcome_counts_tracked_for
from services.selectors import coverage

# Referrals.


def refuse_unknown_categories(categories: set[str], *, known: Iterable[str] | None = None) -> None:
    """Only a forged form names a category the app does not know (by default: one a referral
    can carry); refuse it, by name."""
    known = {value for value, _label in REFERRAL_CATEGORIES} if known is None else set(known)
    if invalid := categories - known:
        raise ValidationError(
            {"categories": _("Unknown kinds of information: %(kinds)s") % {"kinds": ", ".join(sorted(invalid))}}
        )


def _categories_shared(categories: Iterable[str]) -> list[str]:
    """What a referral hands its provider: the chosen categories and contact details, always."""
    chosen = {ConsentCategory.CONTACT, *categories}
    refuse_unknown_categories(chosen)
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
    chosen = coverage.categories_for_need(need) if categories is None else _categories_shared(categories)
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
    contact details always; only a draft's can change, as only a draft's provider and note to
    the provider can (once sent, they are what the provider got)."""
    figures_changed(referral.organization_id)  # first (the lock order of tracked actions)
    stored = Referral.objects.select_for_update(no_key=True).get(pk=referral.pk)
    if referral.resource_id != stored.resource_id and stored.status != ReferralStatus.DRAFT:
        raise ValidationError({"resource": _("A sent referral keeps its provider; cancel it and refer again.")})
    if referral.note != stored.note and stored.status != ReferralStatus.DRAFT:
        raise ValidationError({"note": _("A sent referral keeps the note the provider got; add a case note instead.")})
    if referral.resource.organization_id != referral.need.exoneree.organization_id:
        raise ValidationError({"resource": _("Choose a resource from your organization's directory.")})
    old = coverage.referral_categories(stored)
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
    by: AbstractUser | None,
    referral: Referral,
    status: str,
    note: str = "",
    decline_reason: str = "",
    got_service: bool | None = None,
    helped: bool | None = None,
    feedback: str = "",
    provider: Provider | None = None,
    decline_code: str = "",
    provider_contact: str = "",
    expected_on: date | None = None,
) -> Referral:
    """Move a referral along its lifecycle (services.lifecycle says which moves exist).

    The row is locked and re-read so two people pressing buttons at once (a caseworker on
    the referral's page, the provider on its link) cannot both move it from the same state.
    `provider`: the move comes from the provider's link (`by` is then None); it is recorded
    as theirs, in the history and the access log.

    Sending queues the notice to the provider; every move plans or cancels the referral's
    stall reminders (services.referral_reminders), in this transaction.
    """
    locked = Referral.objects.select_for_update(no_key=True).select_related("need__exoneree").get(pk=referral.pk)
    check_referral_transition(locked.status, status)
    before = audit.snapshot(locked)
    if status == ReferralStatus.DECLINED and not visible_length(decline_reason):
        raise ValidationError({"decline_reason": _("Say why the provider declined.")})
    if status == ReferralStatus.COMPLETED and got_service is None:
        raise ValidationError({"got_service": _("Say whether the person got the service.")})
    # Sending hands the person's information to an outside provider: only under a current
    # consent that names every category it carries (those consents are locked until commit,
    # see consent_missing, so a revocation cannot slip in between the check and the send).
    if status == ReferralStatus.SENT and (missing := coverage.consent_missing(locked, lock=True)):
        raise ValidationError({"status": coverage.consent_missing_message(locked, missing)})
    now = timezone.now()
    ReferralEvent.objects.create(
        referral=locked, from_status=locked.status, to_status=status, by=by, by_provider=provider, at=now, note=note
    )
    locked.status = status
    locked.status_changed_at = now
    if status == ReferralStatus.SENT:
        locked.sent_at = now
    if provider is not None and locked.provider_answered_at is None:
        locked.provider_answered_at = now
    if status == ReferralStatus.ACCEPTED:
        locked.accepted_at = now
        locked.provider_contact = provider_contact.strip()
        locked.expected_on = expected_on
    if status in (ReferralStatus.DECLINED, ReferralStatus.UNRESOLVED):
        # Why the provider could not take it, or could not do it once taken (the same short
        # list, services.choices.DeclineReason; a caseworker's "unresolved" gives none).
        locked.decline_reason = decline_reason.strip()
        locked.decline_code = decline_code
    if status == ReferralStatus.COMPLETED:
        locked.got_service = got_service
        locked.helped = helped
    if status in (ReferralStatus.COMPLETED, ReferralStatus.UNRESOLVED):
        # What the person said about it, asked by the referral page for either ending.
        locked.feedback = feedback.strip()
    locked.save()
    if provider is None:
        audit.record_change(by, locked, before, exoneree=locked.need.exoneree)
    else:
        changes = audit.changes_between(Referral, before, audit.snapshot(locked))
        audit.record(
            AuditEvent.Action.PROVIDER_UPDATED,
            username=provider.name,
            exoneree=locked.need.exoneree,
            target=audit.describe(locked),
            changes={"provider": provider.pk, **changes},
        )
    referral_reminders.stall_plan(locked, now=now)
    if status == ReferralStatus.SENT:
        referral_reminders.notice_plan(locked, now=now)
    return locked
