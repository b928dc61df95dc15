"""Consent: given, narrowed and revoked, and what a revocation does to open referrals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.actions.referrals import refuse_unknown_categories
from services.choices import (
    ConsentCategory,
    ConsentRevokedHow,
    ReferralStatus,
)
from services.lifecycle import REFERRAL_OPEN
from services.models.audit import AuditEvent
from services.models.consent import Consent, ConsentCategoryRow
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.models.referrals import Referral
from services.selectors import coverage

# Consent (release of information).


def consent_create(*, by: AbstractUser, exoneree: Exoneree, consent: Consent, categories: Iterable[str]) -> Consent:
    with transaction.atomic():
        categories = set(categories)
        if not categories:
            raise ValidationError({"categories": _("Choose at least one kind of information.")})
        # A consent may name what no referral carries: the record's transfer, staff case notes.
        refuse_unknown_categories(categories, known=ConsentCategory.values)
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
    flagged = [referral.pk for referral in candidates if coverage.consent_missing(referral)]
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


def consent_narrow(*, by: AbstractUser, consent: Consent, categories: Iterable[str], ends_on: date) -> Consent:
    """Narrow a consent on the person's word: fewer kinds of information, an earlier end.

    Never wider: sharing more, or for longer, needs a new signed consent. Like a revocation,
    the open referrals it no longer covers are flagged and the caseworkers told.
    """
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update(no_key=True).select_related("exoneree", "provider").get(pk=consent.pk)
        )
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
            errors["ends_on"] = _(
                "A consent can only end earlier here: to share for longer, record a new signed consent."
            )
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
            by,
            consent,
            before,
            exoneree=exoneree,
            fields=["ends_on"],
            extra=extra | {"referrals_flagged": [None, flagged]},
        )
        return consent


def consent_revoke(*, by: AbstractUser, consent: Consent, how: str) -> int:
    """Stop sharing at once: later sends are refused (they check for a current consent), the
    open referrals that relied on it are flagged and the person's caseworkers are told.

    Returns how many referrals were flagged; revoking twice changes nothing the second time.
    """
    with transaction.atomic():
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
