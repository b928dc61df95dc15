"""Personal access tokens: made by a signed-in staff member (past the second step), shown once,
stored hashed; revoked by their owner or a director of the organization. Both are logged."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.access import organization_of
from services.models.api import ApiToken
from services.models.audit import AuditEvent

PREFIX = "rnt_"  # says what a leaked string is, to a secret scanner and to a person
DEFAULT_DAYS = 90
MAX_DAYS = 366


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(*, by: Any, name: str, scope: str, days: int = DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """The token and its key: the key is returned here once and never stored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": _("A token lasts from 1 day to a year.")})
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=by,
        organization=organization_of(by),
        name=name,
        scope=scope,
        prefix=key[: len(PREFIX) + 4],
        key_hash=hash_key(key),
        expires_at=timezone.now() + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    audit.record(
        AuditEvent.Action.PERMISSION_CHANGED,
        actor=by,
        target=audit.describe(token),
        changes={"api_token": "created", "name": name, "scope": scope, "expires_at": str(token.expires_at)},
    )
    return token, key


@transaction.atomic
def token_revoke(*, by: Any, token: ApiToken) -> ApiToken:
    """Revoked at once (the next request with it is refused); revoking twice changes nothing."""
    now = timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by):
        token.revoked_at, token.revoked_by = now, by
        audit.record(
            AuditEvent.Action.PERMISSION_CHANGED,
            actor=by,
            target=audit.describe(token),
            changes={"api_token": "revoked", "name": token.name},
        )
    return token


def token_used(token: ApiToken) -> None:
    """'Last used', at most once a minute per token (a busy sync does not write on every call)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
