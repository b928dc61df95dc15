"""A person's papers: uploaded (sealed), replaced, deleted (recorded), downloaded (logged), and
the one-click need for a missing key paper."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services import audit, document_reminders
from services.actions.needs import need_create
from services.choices import NeedStatus, Priority
from services.lib import file_crypto, vault
from services.lib.crypto import DecryptionError
from services.lib.uploads import Cleaned
from services.models.audit import AuditEvent
from services.models.documents import Document
from services.models.needs import Need
from services.models.notifications import Notification
from services.models.people import Exoneree
from services.selectors.documents import checklist_item

# What the sealing fills in; validated before it, so a bad form never writes a file.
SEALED_FIELDS = ["storage_name", "content_type", "size", "data_key"]


class DocumentUnreadable(Exception):
    """The document's file or data key does not open; the message names the document."""


def document_upload(
    *, by: Any, exoneree: Exoneree, document: Document, content: Cleaned, replaces: Document | None = None
) -> Document:
    """Seal the file into storage, then write the row; if the row fails, the file goes.

    The sealing happens outside the transaction (a storage is no database), before the row
    exists: a failure at any step leaves neither a row without its file nor, once cleaned
    up, a file without its row.
    """
    document.exoneree = exoneree
    document.uploaded_by = by
    document.replaces = replaces
    document.content_type = content.content_type
    document.full_clean(exclude=SEALED_FIELDS)
    sealed = vault.seal(io.BytesIO(content.content), file_id=document.file_id, context=document.encryption_context)
    document.storage_name, document.data_key, document.size = sealed.storage_name, sealed.data_key, sealed.size
    try:
        with transaction.atomic():
            extra: dict[str, Any] = {}
            if replaces is not None:
                # Locked, and checked current under the lock: two replacements of one version
                # would fork its history (the one-to-one also refuses the second).
                locked = Document.objects.select_for_update().filter(pk=replaces.pk, deleted_at__isnull=True)
                if not locked.exists() or Document.objects.filter(replaces=replaces).exists():
                    raise ValidationError(_("This document was replaced or deleted meanwhile. Reload the page."))
                extra = {"replaces": [None, replaces.pk]}
            document.full_clean()
            document.save()
            audit.record_change(by, document, {}, exoneree=exoneree, extra=extra)
            document_reminders.plan(document)
            if replaces is not None:
                document_reminders.plan(replaces)
            if by.pk == exoneree.user_id:
                _tell_caseworkers(exoneree, document)
    except BaseException:
        vault.remove(sealed.storage_name)
        raise
    return document


def _tell_caseworkers(exoneree: Exoneree, document: Document) -> None:
    """The person sent a paper from their phone: their caseworkers see it in their notifications."""
    with translation.override(settings.LANGUAGE_CODE):  # staff read it, not in the sender's language
        text = f"{exoneree.display_name} sent a paper: {document.get_kind_display()}"
    url = exoneree.get_absolute_url() + "#documents"
    Notification.objects.bulk_create(
        [Notification(user=user, text=text[:300], url=url) for user in exoneree.caseworkers.filter(is_active=True)]
    )


@transaction.atomic
def document_delete(*, by: Any, document: Document) -> Document:
    """A recorded soft delete: the row and the file stay (until a purge policy exists)."""
    changed = Document.objects.filter(pk=document.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=by
    )
    if changed:
        changes = {"deleted_at": [None, "deleted"]}
        audit.record(
            AuditEvent.Action.RECORD_CHANGED,
            actor=by,
            exoneree=document.exoneree,
            target=audit.describe(document),
            changes=changes,
        )
        document_reminders.plan(document)
    return document


def document_download(*, by: Any, document_id: int) -> tuple[Document, Iterator[bytes]]:
    """The document and its plaintext as a stream of checked chunks; one access-log entry.

    The whole file is checked before the first byte is given (a wrong key or an altered file
    raises here, naming the document, and no response starts); the stream then decrypts
    again, chunk by chunk, so memory stays flat whatever the size.
    """
    name = f"Document {document_id}"
    try:
        document = Document.objects.select_related("exoneree").get(pk=document_id)
    except DecryptionError as exc:  # its data key (or title) does not decrypt
        raise DocumentUnreadable(f"{name}: {exc}") from exc
    name = f"Document {document.pk} (file {document.file_id})"
    arguments = {"data_key": document.data_key, "context": document.encryption_context, "name": name}
    try:
        vault.verify(document.storage_name, **arguments)
    except file_crypto.FileDecryptionError as exc:
        raise DocumentUnreadable(str(exc)) from exc
    audit.record(
        AuditEvent.Action.DOCUMENT_DOWNLOADED, actor=by, exoneree=document.exoneree, target=audit.describe(document)
    )
    return document, vault.read(document.storage_name, **arguments)


@transaction.atomic
def document_need_create(*, by: Any, exoneree: Exoneree, kind: str) -> Need:
    """The need for a missing key paper, in one click; an open one for it is not doubled."""
    item = checklist_item(exoneree, kind)
    if item is None:
        raise ValidationError({"kind": _("This paper is not on the person's checklist.")})
    already = Need.objects.filter(
        exoneree=exoneree, domain=item.domain, status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS]
    )
    for need in already.only("description", "papers"):
        if need.is_for_paper(kind, item.need):
            return need
    need = Need(domain=item.domain, description=item.need, priority=Priority.HIGH, papers=[item.kind])
    return need_create(by=by, exoneree=exoneree, need=need)
