"""Files sealed with their own data key: AES-256-GCM, a chunk at a time.

Design note
-----------
Envelope. Each file gets a fresh random 32-byte data key; the key itself is kept in the
database under the field-encryption keys (services.models.documents.Document.data_key), so
rotating those keys re-wraps 32 bytes per file and never touches the file.

Streaming. A whole file under one GCM tag cannot be checked before all of it is read, and
reading it whole means holding it in memory. So the file is cut into chunks (64 KiB), each
sealed on its own, the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015):
the nonce of chunk i is i (11 bytes, big-endian) followed by a last-chunk flag byte. A
chunk moved, dropped, repeated, or the file cut short after a chunk, fails: the index and
the flag are in the nonce. The data key is used for one file only, so counter nonces never
repeat under a key.

Binding. Every chunk's associated data is the header and the caller's `context` (the
document's person and file id): a file, or a data key, moved to another document's row does
not decrypt there.

Layout: MAGIC (6 bytes) | chunk size (4 bytes, big-endian) | sealed chunks (each up to
chunk size + 16 bytes of tag). The last chunk may be short, or empty for an empty file.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.views.decorators.debug import sensitive_variables

MAGIC = b"RDOC1\n"
HEADER = struct.Struct(">6sI")
CHUNK_SIZE = 64 * 1024
TAG_BYTES = 16
KEY_BYTES = 32
MAX_CHUNKS = 2**88  # the 11-byte counter


class FileDecryptionError(Exception):
    """A sealed file does not open: wrong data key, altered, cut short, or not ours."""


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _nonce(index: int, last: bool) -> bytes:
    if index >= MAX_CHUNKS:
        raise OverflowError("too many chunks for one data key")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes; fewer only at the end (a storage's read may return short)."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


@sensitive_variables("key", "cipher")
def encrypt_stream(source: BinaryIO, sink: BinaryIO, *, key: bytes, context: str, chunk_size: int = CHUNK_SIZE) -> int:
    """Seal `source` into `sink`; returns the plaintext's size. Memory: two chunks."""
    cipher = AESGCM(key)
    header = HEADER.pack(MAGIC, chunk_size)
    associated = header + context.encode()
    sink.write(header)
    index, total = 0, 0
    chunk = _read_exactly(source, chunk_size)
    while True:
        following = _read_exactly(source, chunk_size) if len(chunk) == chunk_size else b""
        last = not following
        sink.write(cipher.encrypt(_nonce(index, last), chunk, associated))
        total += len(chunk)
        if last:
            return total
        chunk, index = following, index + 1


@sensitive_variables("key", "cipher")
def decrypt_stream(source: BinaryIO, *, key: bytes, context: str, name: str) -> Iterator[bytes]:
    """The plaintext of a sealed file, a chunk at a time, each checked before it is given.

    Raises FileDecryptionError naming `name` (which document) on the first chunk that
    does not open; nothing unchecked is ever yielded.
    """
    header = _read_exactly(source, HEADER.size)
    if len(header) != HEADER.size:
        raise FileDecryptionError(f"{name}: the stored file is cut short (no header).")
    magic, chunk_size = HEADER.unpack(header)
    if magic != MAGIC or not 0 < chunk_size <= 16 * 1024 * 1024:
        raise FileDecryptionError(f"{name}: the stored file is not a sealed document (wrong header).")
    cipher = AESGCM(key)
    associated = header + context.encode()
    sealed_size = chunk_size + TAG_BYTES
    index = 0
    sealed = _read_exactly(source, sealed_size)
    while True:
        # Read one ahead: the last chunk is the one nothing follows, and its nonce says so.
        following = _read_exactly(source, sealed_size) if len(sealed) == sealed_size else b""
        last = not following
        try:
            plaintext = cipher.decrypt(_nonce(index, last), sealed, associated)
        except InvalidTag:
            raise FileDecryptionError(
                f"{name}: chunk {index} does not decrypt (wrong data key, altered or truncated file)."
            ) from None
        yield plaintext
        if last:
            return
        sealed, index = following, index + 1


def verify_stream(source: BinaryIO, *, key: bytes, context: str, name: str) -> int:
    """Check a whole sealed file without keeping it; returns the plaintext's size."""
    return sum(len(chunk) for chunk in decrypt_stream(source, key=key, context=context, name=name))
