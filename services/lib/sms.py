"""Text messages behind one small interface; off unless SMS_BACKEND names a backend.

A provider (Twilio, an email-to-SMS gateway…) is a class with `send(to, text)`. The text
carries no more than an email would: what is due and a link.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """Sending failed and may work later (the task retries)."""


class SmsDisabled(SmsError):
    """No SMS backend is configured: retrying cannot help."""


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> None: ...


class DisabledBackend:
    def send(self, to: str, text: str) -> None:
        raise SmsDisabled("Text messages are switched off (SMS_BACKEND).")


class ConsoleBackend:
    """Development: log the message instead of sending it."""

    def send(self, to: str, text: str) -> None:
        logger.info("SMS to …%s: %s", to[-2:], text)


def sms_enabled() -> bool:
    """Whether a text can be sent at all (a backend is named)."""
    return import_string(settings.SMS_BACKEND) is not DisabledBackend


def send_sms(*, to: str, text: str) -> None:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    backend.send(to, text)
