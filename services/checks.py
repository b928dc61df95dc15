"""System checks (`manage.py check`, and at every start): the encryption keys are usable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from services.lib import crypto
from services.tasks import SEND_TIME_LIMIT


@register(Tags.security)
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for check_id, setting, parse in (
        ("reentry.E001", "FIELD_ENCRYPTION_KEYS", crypto.encryption_keys),
        ("reentry.E002", "BLIND_INDEX_KEYS", crypto.index_keys),
    ):
        try:
            parse()
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=f"Set {setting} (or {setting}_FILE): keys newest first.", id=check_id))
    if set(settings.FIELD_ENCRYPTION_KEYS) & set(settings.BLIND_INDEX_KEYS):
        errors.append(
            Error(
                "A key is in both FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEYS.",
                hint="Blind indexes need their own key, so that one leaked key does not expose both.",
                id="reentry.E003",
            )
        )
    return errors


@register()
def check_reminder_timeouts(app_configs: Any = None, **kwargs: Any) -> list[Error]:

    if settings.REMINDER_CLAIM_TIMEOUT_SECONDS <= 2 * SEND_TIME_LIMIT:
        return [
            Error(
                f"REMINDER_CLAIM_TIMEOUT_SECONDS must be more than {2 * SEND_TIME_LIMIT} (twice a send's time limit).",
                hint="Otherwise a sweep could take a reminder over from a worker still sending it.",
                id="reentry.E004",
            )
        ]
    return []
