"""Logging filters: keep secrets that ride in URLs out of every log line."""

from __future__ import annotations

import logging
import re

from services.lib.provider_tokens import redact as redact_provider_tokens

# What staff type to find a person rides in the address (a GET, so the back button and a
# page's links keep it): the People search (`q`) and the access log's person filter
# (`person`). A name typed there says who the organization works with.
SEARCHED = re.compile(r"([?&](?:q|person)=)[^&\s\"']*")


def redact(text: str) -> str:
    """A line with every provider link's token and every name searched for blanked."""
    return SEARCHED.sub(r"\1…", redact_provider_tokens(text))


class RedactUrlSecrets(logging.Filter):
    """Blanks, in a record's message, the token of a provider's link (/p/<token>/) and the words
    of a search for a person (?q=…, ?person=…).

    Django logs the path of every 4xx and 5xx response ("Not Found: /p/…", "Gone: …") and
    runserver logs every request line; a token in a log is a working key to a person's
    referral for whoever reads the log, and a name searched for tells who is a client. The
    message is rendered here, redacted, and its arguments dropped; the request object Django
    attaches (for error emails) is removed too.
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
