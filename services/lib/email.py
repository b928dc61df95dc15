"""One way to send an email: a subject, a text and an HTML template per message.

Emails carry no sensitive detail: what the message is about and a link, never a record's
contents (they travel and rest in mailboxes we do not control).

The subject and the text part are plain text, rendered without HTML escaping (a name like
O'Brien must not arrive as O&#x27;Brien); only the HTML part is escaped.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation


def render_text(name: str, context: dict[str, Any]) -> str:
    """A plain-text template, rendered without HTML escaping."""
    return get_template(name).template.render(Context(context, autoescape=False))


def send_templated_email(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str = "",
    message_id: str = "",
    connection: BaseEmailBackend | None = None,
) -> None:
    """`language`: the recipient's (an exoneree's preferred one); empty for the site's own.
    `message_id`: a fixed Message-ID, so a mailbox shows a message sent twice once.
    `connection`: an open one the caller closes (by default each message opens and closes its own)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_text(f"emails/{template}_subject.txt", context).split())
        text = render_text(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    headers = {"Message-ID": message_id} if message_id else None
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers, connection=connection)
    message.attach_alternative(html, "text/html")
    message.send()
