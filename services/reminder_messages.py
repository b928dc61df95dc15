"""What composing one reminder gives: a message to send, a reason to send nothing, or a later
time. services.reminders composes follow-up reminders itself and asks referral_reminders,
legal_reminders and document_reminders for their own kinds; all answer in these terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Outgoing:
    """What to send for one reminder: an email and/or a text, and the in-app notification."""

    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    sms_to: str = ""
    sms_text: str = ""
    notification: str = ""
    url: str = ""
    language: str = ""  # the recipient's (an exoneree's, a provider's); empty: the site's


@dataclass
class Skip:
    reason: str
    failed: bool = False  # shown as failed (someone should act), not merely cancelled


@dataclass
class Postpone:
    until: datetime
    reason: str
