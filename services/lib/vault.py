"""The document store: sealed files in the `documents` storage (Django's storage API).

The local filesystem under the data folder by default; an S3-compatible bucket when
DOCUMENTS_S3_BUCKET is set (reentry/settings.py). Either way nothing in it is readable
without the data key kept in the database, and nothing is ever served from its own URL:
every download goes through a view behind the access gate.
"""

from __future__ import annotations

import base64
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.views.decorators.debug import sensitive_variables

from services.lib import file_crypto

STORAGE = "documents"
# A sealed file is written to a temporary file first, on disk past this size, so an upload
# never holds two copies of a 20 MB file in memory.
SPOOL_BYTES = 1024 * 1024


def storage() -> Storage:
    return storages[STORAGE]


@dataclass(frozen=True)
class Sealed:
    storage_name: str
    data_key: str = field(repr=False)  # base64url; the caller keeps it in an encrypted field
    size: int


def new_file_id() -> uuid.UUID:
    return uuid.uuid4()


def storage_name_for(file_id: uuid.UUID) -> str:
    """A name that says nothing about the person or the paper."""
    return f"documents/{file_id.hex[:2]}/{file_id.hex}.sealed"


@sensitive_variables("key")
def seal(source: BinaryIO, *, file_id: uuid.UUID, context: str) -> Sealed:
    """Encrypt `source` under a fresh data key and store it; returns where, and the key."""
    key = file_crypto.new_data_key()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sealed:
        size = file_crypto.encrypt_stream(source, sealed, key=key, context=context)
        sealed.seek(0)
        name = storage().save(storage_name_for(file_id), File(sealed))
    return Sealed(name, base64.urlsafe_b64encode(key).decode(), size)


def remove(storage_name: str) -> None:
    """Undo a `seal` whose database row was never written (nothing half-saved)."""
    storage().delete(storage_name)


def _key(data_key: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(data_key.encode())
    except ValueError:
        key = b""
    if len(key) != file_crypto.KEY_BYTES:
        raise file_crypto.FileDecryptionError(f"{name}: its data key is damaged.")
    return key


@sensitive_variables("key", "data_key")
def verify(storage_name: str, *, data_key: str, context: str, name: str) -> int:
    """Check the whole stored file opens (before a download starts); its plaintext size."""
    key = _key(data_key, name)
    try:
        with storage().open(storage_name, "rb") as source:
            return file_crypto.verify_stream(source, key=key, context=context, name=name)
    except FileNotFoundError:
        raise file_crypto.FileDecryptionError(f"{name}: the stored file is missing.") from None


@sensitive_variables("key", "data_key")
def read(storage_name: str, *, data_key: str, context: str, name: str) -> Iterator[bytes]:
    """The plaintext, a checked chunk at a time; the stored file is open only while read."""
    key = _key(data_key, name)
    with storage().open(storage_name, "rb") as source:
        yield from file_crypto.decrypt_stream(source, key=key, context=context, name=name)
