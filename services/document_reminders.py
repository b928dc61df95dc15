"""An ID about to expire: a reminder to the caseworkers, and to the person if they want one.

Rows of the one reminder machinery (services/reminders.py: planned ahead, claimed by the
sweep, sent once by the task). Planned when a document is uploaded, replaced or deleted,
60 days before its expiry date, at the organization's digest hour; a row's key names the
document, the recipient and the expiry date, so a second row for the same thing cannot
exist and a new expiry date is a new reminder. Each row checks again, when it is sent, that
the document is still current and still expires that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.choices import ContactPreference, ReminderChannel, ReminderKind, ReminderStatus
from services.models.documents import EXPIRING_KINDS, Document
from services.models.notifications import Reminder
from services.models.people import Exoneree
from services.reminder_messages import Outgoing, Skip

Kind, Status = ReminderKind, ReminderStatus
KINDS = frozenset({Kind.DOCUMENT_EXPIRY, Kind.DOCUMENT_EXPIRY_PERSON})
DAYS_BEFORE = 60
CANCELLABLE = [Status.PENDING, Status.CLAIMED]


def _wants_reminders(document: Document) -> bool:
    person = document.exoneree
    return person.appointment_reminders and person.contact_preference != ContactPreference.DO_NOT_CONTACT


def _key(kind: str, document: Document, recipient_id: int | None) -> str:
    return f"{kind}:d{document.pk}:{recipient_id or '-'}:{document.expires_on.isoformat()}"


def desired(document: Document, *, now: datetime) -> list[Reminder]:
    """The rows this document should have: none unless it is a current ID with an expiry, of
    someone whose case is open."""
    if not (document.is_current and document.kind in EXPIRING_KINDS and document.expires_on):
        return []
    if not document.exoneree.case_is_open:
        return []
    organization = document.exoneree.organization
    zone = organization.zone()
    if document.expires_on < now.astimezone(zone).date():
        return []
    day = document.expires_on - timedelta(days=DAYS_BEFORE)
    # Uploaded with less than 60 days left: the reminder goes at once, not never.
    send_at = max(datetime.combine(day, datetime.min.time().replace(hour=organization.digest_hour), tzinfo=zone), now)
    common = {"organization_id": organization.pk, "document_id": document.pk, "exoneree_id": document.exoneree_id}
    caseworkers = document.exoneree.caseworkers.filter(is_active=True).values_list("pk", flat=True)
    rows = [
        Reminder(
            kind=Kind.DOCUMENT_EXPIRY,
            key=_key(Kind.DOCUMENT_EXPIRY, document, user_id),
            recipient_id=user_id,
            send_at=send_at,
            **common,
        )
        for user_id in sorted(caseworkers)
    ]
    if _wants_reminders(document):
        key = _key(Kind.DOCUMENT_EXPIRY_PERSON, document, None)
        rows.append(Reminder(kind=Kind.DOCUMENT_EXPIRY_PERSON, key=key, send_at=send_at, **common))
    return rows


def plan(document: Document, *, now: datetime | None = None) -> None:
    """Make the document's rows match what it needs now; rows sent (or being sent) stay."""
    now = now or timezone.now()
    document = Document.objects.select_related("exoneree__organization").get(pk=document.pk)
    wanted = {row.key: row for row in desired(document, now=now)}
    Reminder.objects.filter(document=document, status__in=CANCELLABLE).exclude(key__in=wanted).update(
        status=Status.CANCELLED, reason="No longer needed (deleted, replaced or a new date).", claim_token=None
    )
    # ignore_conflicts: the unique key makes planning the same document again a no-op.
    Reminder.objects.bulk_create(list(wanted.values()), ignore_conflicts=True)


def plan_for_exoneree(exoneree: Exoneree, *, now: datetime | None = None) -> None:
    """Their caseworkers or their wishes changed: so may who is reminded of their IDs (a
    person has a few; each is planned as on upload)."""
    expiring = Document.objects.current().filter(exoneree=exoneree, kind__in=EXPIRING_KINDS, expires_on__isnull=False)
    for document in expiring.only("pk"):
        plan(document, now=now)


def compose(reminder: Reminder, now: datetime) -> Outgoing | Skip:
    document = (
        Document.objects.select_related("exoneree__organization")
        .defer("title", "data_key")
        .filter(pk=reminder.document_id)
        .first()
    )
    if document is None or not document.is_current:
        return Skip("The document was deleted or replaced.")
    if document.expires_on is None or not reminder.key.endswith(f":{document.expires_on.isoformat()}"):
        return Skip("The document's expiry date changed.")
    person = document.exoneree
    days = max(0, (document.expires_on - now.astimezone(person.organization.zone()).date()).days)
    context: dict[str, Any] = {"expires_on": document.expires_on, "days": days}
    if reminder.kind == Kind.DOCUMENT_EXPIRY:
        if not person.caseworkers.filter(pk=reminder.recipient_id).exists():
            return Skip("The recipient no longer carries the person.")
        url = person.get_absolute_url() + "#documents"
        text = f"{document.get_kind_display()} expires in {days} days: {person.display_name}"
        context |= {"to_person": False, "link": settings.SITE_URL + url}
        return Outgoing("reminder_document", context, reminder.recipient.email, notification=text, url=url)
    # To the person: by their wishes, checked again now (they may have changed their mind).
    if not _wants_reminders(document):
        return Skip("They no longer want reminders.")
    link = settings.SITE_URL + reverse("my_plan") + "?open=documents#documents"  # folded on the plan: opened
    language = person.preferred_language
    if person.reminder_channel == ReminderChannel.SMS:
        if not person.phone:
            return Skip("No phone number for text messages.", failed=True)
        with translation.override(language):
            text = _("Reminder: one of your ID papers expires soon. See: %(link)s") % {"link": link}
        return Outgoing(sms_to=person.phone, sms_text=text, language=language)
    if not person.email:
        return Skip("No email address to send the reminder to.", failed=True)
    context |= {"to_person": True, "link": link}
    return Outgoing("reminder_document", context, person.email, language=language)
