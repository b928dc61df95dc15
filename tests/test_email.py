"""Emails: the plain-text parts (subject and text) are never HTML-escaped, the HTML part is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.template.loader import render_to_string
from django.utils import timezone

from services.lib.email import render_text, send_templated_email

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
NASTY = """Pat O'Brien & "Sons" <Reentry>"""
ESCAPED = ("&#x27;", "&quot;", "&amp;", "&lt;", "&gt;")
TEXT_TEMPLATES = sorted(str(path.relative_to(TEMPLATES)) for path in (TEMPLATES / "emails").glob("*.txt"))


class Nasty(str):
    """NASTY, and so are the name attributes a template reads of a user (`user.first_name`)."""

    def __getattr__(self, name: str) -> Nasty:
        if name not in ("first_name", "last_name", "username"):
            raise AttributeError(name)
        return Nasty(NASTY)


# Variables a template counts with (`blocktranslate count`): numbers, not text.
COUNTS = {"days", "valid_days", "due_today", "overdue"}


class Anything(dict):
    """A context in which every variable is a string full of HTML's special characters."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> Any:
        return 2 if key in COUNTS else Nasty(NASTY)


@pytest.mark.parametrize("name", TEXT_TEMPLATES)
def test_plain_text_templates_are_not_escaped(name: str):
    text = render_text(name, Anything())

    assert not [entity for entity in ESCAPED if entity in text], text


def test_text_templates_print_the_characters_themselves():
    printed = [name for name in TEXT_TEMPLATES if NASTY in render_text(name, Anything())]

    assert "emails/invitation.txt" in printed
    assert "emails/reminder_escalation.txt" in printed


def test_an_email_says_the_name_as_it_is_in_text_and_escapes_it_in_html(db):
    context = {
        "kind": "escalation",
        "assignee": NASTY,
        "days": 3,
        "due_at": timezone.now(),
        "link": "https://x/?a=1&b=2",
    }

    send_templated_email(to="dana@example.org", template="reminder_escalation", context=context)

    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    assert NASTY in message.body
    assert "?a=1&b=2" in message.body
    assert not [entity for entity in ESCAPED if entity in message.body + message.subject]
    assert "O&#x27;Brien &amp; &quot;Sons&quot; &lt;Reentry&gt;" in html


@pytest.mark.parametrize("name", ["registration/password_reset_email.html", "registration/password_reset_subject.txt"])
def test_password_reset_email_is_plain_text_too(name: str):
    """Rendered by Django's own reset form (render_to_string, escaping on): the templates turn it off."""
    user = get_user_model()(username=NASTY)
    context = {"user": user, "protocol": "https", "domain": "example.org", "uid": "MQ", "token": "set-token"}

    text = render_to_string(name, context)

    assert not [entity for entity in ESCAPED if entity in text], text
