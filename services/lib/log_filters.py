"""Logging filters: keep secrets that ride in URLs out of every log line."""

from __future__ import annotations

import logging

from services.lib.provider_tokens import redact


class RedactProviderTokens(logging.Filter):
    """Blanks the token of a provider's link (/p/<token>/) in a record's message.

    Django logs the path of every 4xx and 5xx response ("Not Found: /p/…", "Gone: …") and
    runserver logs every request line; a token in a log is a working key to a person's
    referral for whoever reads the log. The message is rendered here, redacted, and its
    arguments dropped; the request object Django attaches (for error emails) is removed too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to complain
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
            if hasattr(record, "request"):
                record.request = None
        return True
