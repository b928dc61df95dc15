"""Restricting a person's record: only their assigned caseworkers and the directors see it.

The rule itself is in services/access.py (every list, search and loader goes through it);
this is the director's switch, with its reason, in the access log.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services import audit
from services.access import is_director
from services.figures import figures_changed
from services.lib.text import visible_length
from services.models.people import Exoneree

RESTRICTION_FIELDS = ["restricted", "restricted_reason", "restricted_at", "restricted_by"]
# Said by the form (left empty) and by the action (blanks alone) alike.
REASON_MISSING = gettext_lazy("Say why: the reason goes in the access log.")


@transaction.atomic
def restriction_set(*, by: AbstractUser, exoneree: Exoneree, restricted: bool, reason: str) -> Exoneree:
    """Restrict the record (or lift the restriction), for `reason`; a director of its organization only."""
    if not is_director(by):
        raise PermissionDenied
    reason = reason.strip()
    if not visible_length(reason):
        raise ValidationError({"reason": REASON_MISSING})
    figures_changed(exoneree.organization_id)  # the lists the figures' cache keeps change
    locked = Exoneree.objects.select_for_update(no_key=True).get(pk=exoneree.pk)
    if locked.restricted == restricted:
        raise ValidationError(
            _("This record is already restricted.") if restricted else _("This record is not restricted.")
        )
    before = audit.snapshot(locked)
    locked.restricted = restricted
    locked.restricted_reason = reason if restricted else ""
    locked.restricted_at = timezone.now() if restricted else None
    locked.restricted_by = by if restricted else None
    locked.full_clean()
    locked.save(update_fields=RESTRICTION_FIELDS)
    # Lifting it keeps its reason in the log too (the field itself is emptied).
    extra = None if restricted else {"reason": reason}
    audit.record_change(by, locked, before, exoneree=locked, fields=RESTRICTION_FIELDS, extra=extra)
    for name in RESTRICTION_FIELDS:
        setattr(exoneree, name, getattr(locked, name))
    return exoneree
