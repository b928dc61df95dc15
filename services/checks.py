"""System checks (`manage.py check`, and at every start): the encryption keys are usable, and
they are the keys this database was written with (services.keyring)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from services import keyring
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


@register(Tags.security)
def check_key_canaries(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if check_encryption_keys():
        return []  # unusable keys: said above
    try:
        if not keyring.canaries_exist():
            return []  # before `migrate`: the first start writes the canaries
        problems = keyring.key_problems()
    except Exception as exc:  # no database here (a build step): every write still checks first
        return [
            Warning(
                f"The key canaries could not be read ({type(exc).__name__}), so the keys were not checked "
                "against the database.",
                hint="The keys are checked again before their first write.",
                id="reentry.W010",
            )
        ]
    return [
        Error(
            problem,
            hint="Set the keys this database was written with (newest first); nothing is written with these.",
            id="reentry.E010",
        )
        for problem in problems
    ]


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
