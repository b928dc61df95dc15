"""One way to send an email: a subject, a text and an HTML template per message.

Emails carry no sensitive detail: what the message is about and a link, never a record's
contents (they travel and rest in mailboxes we do not control).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_email(*, to: str, template: str, context: dict[str, Any], language: str = "") -> None:
    """`language`: the recipient's (an exoneree's preferred one); empty for the site's own."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
