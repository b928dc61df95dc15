"""Email backends for the reminder tests, selected with EMAIL_BACKEND."""

from __future__ import annotations

import os
import time
from pathlib import Path
from smtplib import SMTPServerDisconnected
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """A mail server that is always down."""

    def send_messages(self, email_messages: Any) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")


class FileBackend(BaseEmailBackend):
    """For a worker in another process: each delivered message is a line in the file named by
    REMINDER_TEST_OUTBOX. While the file REMINDER_TEST_BLOCK exists, a send first writes
    REMINDER_TEST_STARTED and then hangs (as if the mail server never answers) until the
    process is killed."""

    def send_messages(self, email_messages: Any) -> int:
        block = Path(os.environ["REMINDER_TEST_BLOCK"])
        if block.exists():
            Path(os.environ["REMINDER_TEST_STARTED"]).write_text("sending\n")
            while True:
                time.sleep(0.1)
        with open(os.environ["REMINDER_TEST_OUTBOX"], "a") as outbox:
            for message in email_messages:
                outbox.write(f"{message.to[0]}\t{message.subject}\n")
        return len(email_messages)


class BrokenBackend(BaseEmailBackend):
    """A backend with a bug: an error no retry can fix."""

    def send_messages(self, email_messages: Any) -> int:
        raise ValueError("a bug in the backend")


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses the recipient, quoting the address, as real ones do."""

    def send_messages(self, email_messages: Any) -> int:
        from smtplib import SMTPRecipientsRefused

        raise SMTPRecipientsRefused({message.to[0]: (550, b"no such user") for message in email_messages})


class GoodbyeBackend(BaseEmailBackend):
    """A mail server whose connection notes, for each message accepted and for the goodbye,
    the status the reminder row had at that moment (EVENTS), and whose goodbye can fail."""

    events: list[tuple[str, str]] = []
    fail_goodbye = False

    def open(self) -> bool:
        self.opened = True
        return True

    def send_messages(self, email_messages: Any) -> int:
        assert getattr(self, "opened", False), "sent on a connection nobody opened"
        type(self).events.append(("accepted", _status_of_the_only_reminder()))
        return len(email_messages)

    def close(self) -> None:
        type(self).events.append(("goodbye", _status_of_the_only_reminder()))
        if type(self).fail_goodbye:
            raise SMTPServerDisconnected("the server hung up first")


def _status_of_the_only_reminder() -> str:
    from services.models.notifications import Reminder

    return Reminder.objects.get(status__in=["sending", "sent"]).status
