"""Encryption of values at rest, and blind indexes for exact-match lookup.

Design note
-----------
Cipher. AES-256-GCM (`cryptography`'s AESGCM), a fresh random 96-bit nonce per value. GCM
authenticates as well as encrypts: a wrong key or a changed byte fails with an error, it can
never decrypt to garbage or hand back the stored text.

Token. What the database holds is ``enc1$<key id>$<base64url(nonce || ciphertext || tag)>``.
The key id is the first 8 hex digits of SHA-256 of the key. It is there for two reasons:
a decryption error can say which key is missing ("retired" keys are simply absent), and key
rotation finds the rows still under an old key with a plain ``NOT LIKE 'enc1$<newest>$%'``,
so it is resumable without decrypting anything to find where it stopped. (MultiFernet would
have to try every key on every row to learn the same.)

Associated data. Each value is bound to its column (``services.Exoneree.ssn``): a ciphertext
copied into another column does not decrypt there.

Keys. ``FIELD_ENCRYPTION_KEYS``: base64url-encoded 32-byte keys, newest first. The newest
encrypts; all decrypt. ``BLIND_INDEX_KEYS``: the same shape, separate keys, never the
encryption keys or SECRET_KEY, so a leaked index key reveals nothing it did not already.

Blind index. ``bidx1$<key id>$<hex HMAC-SHA256(key, purpose NUL normalized value)>``. Equal
inputs give equal indexes, so an exact match is a plain indexed lookup, without decrypting
anything; the HMAC key keeps anyone with only the database from testing guesses (an SSN has
only 10^9 values). During a blind-index key rotation, lookups ask for the index under every
configured key.

Key canaries. A wrong key (a typo, another deployment's) would read nothing but write rows
no right key can read. So a key writes only after it proved, once per process, that it is a
key the database knows: `services.keyring` keeps a check value per key id and is installed
here as the guard (`set_key_guard`); a key without a canary gets one only while another
configured key reads its own (a rotation), or on the very first start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

TOKEN_VERSION = "enc1"  # noqa: S105 (a format tag, not a secret)
INDEX_VERSION = "bidx1"
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(Exception):
    """A stored value could not be decrypted: missing or retired key, or altered data."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes = field(repr=False)  # never in a traceback or a log line


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def key_id(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:8]


@lru_cache(maxsize=8)
def parse_keys(setting: str, encoded: tuple[str, ...]) -> tuple[Key, ...]:
    if not encoded:
        raise ImproperlyConfigured(f"{setting} is empty: at least one key is needed.")
    keys = []
    for position, text in enumerate(encoded, start=1):
        try:
            secret = base64.urlsafe_b64decode(text.encode())
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != KEY_BYTES:
            raise ImproperlyConfigured(
                f"{setting}: key {position} is not a base64url-encoded 32-byte key "
                "(make one with `python manage.py generate_encryption_key`)."
            )
        keys.append(Key(key_id(secret), secret))
    if len({key.id for key in keys}) != len(keys):
        raise ImproperlyConfigured(f"{setting} lists the same key twice.")
    return tuple(keys)


def encryption_keys() -> tuple[Key, ...]:
    return parse_keys("FIELD_ENCRYPTION_KEYS", tuple(settings.FIELD_ENCRYPTION_KEYS))


def index_keys() -> tuple[Key, ...]:
    return parse_keys("BLIND_INDEX_KEYS", tuple(settings.BLIND_INDEX_KEYS))


# The guard that proves a key before it writes (services.keyring); the keys it proved.
KeyGuard = Callable[[str, Key], bool]
_guard: KeyGuard | None = None
_proven: set[tuple[str, str]] = set()


def set_key_guard(guard: KeyGuard | None) -> None:
    """`guard(setting, key)` raises when `key` must not write; True: proven (not asked
    again in this process), False: nothing to prove it against yet (asked again next time)."""
    global _guard
    _guard = guard
    _proven.clear()


def _require_proven(setting: str, key: Key) -> None:
    if _guard is not None and (setting, key.id) not in _proven and _guard(setting, key):
        _proven.add((setting, key.id))


def token_prefix(key: Key | None = None) -> str:
    """The start of every token made with `key` (default: the newest key)."""
    return f"{TOKEN_VERSION}${(key or encryption_keys()[0]).id}$"


def is_token(value: str) -> bool:
    return value.startswith(f"{TOKEN_VERSION}$")


@sensitive_variables("plaintext", "key")
def encrypt(plaintext: str, *, context: str) -> str:
    key = encryption_keys()[0]
    _require_proven("FIELD_ENCRYPTION_KEYS", key)
    return encrypt_with(key, plaintext, context=context)


@sensitive_variables("plaintext", "key")
def encrypt_with(key: Key, plaintext: str, *, context: str) -> str:
    """`encrypt` under a given key, unguarded: for the key canaries themselves."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key.secret).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{TOKEN_VERSION}${key.id}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


@sensitive_variables("key", "plaintext")
def decrypt(token: str, *, context: str) -> str:
    """The plaintext of `token`, or DecryptionError naming `context`; never the token itself."""
    version, _, rest = token.partition("$")
    kid, _, body = rest.partition("$")
    if version != TOKEN_VERSION or not body:
        raise DecryptionError(f"{context}: the stored value is not an encrypted token (plaintext or damaged).")
    key = next((key for key in encryption_keys() if key.id == kid), None)
    if key is None:
        raise DecryptionError(
            f"{context}: encrypted with key {kid}, which is not in FIELD_ENCRYPTION_KEYS (missing or retired key)."
        )
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        plaintext = AESGCM(key.secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        return plaintext.decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError(
            f"{context}: the value does not decrypt with key {kid} (tampered with, or a different key under that id)."
        ) from exc


def blind_index(purpose: str, normalized: str, key: Key | None = None) -> str:
    key = key or index_keys()[0]
    # Lookups too: a wrong index key would make the duplicate check find nothing, silently.
    _require_proven("BLIND_INDEX_KEYS", key)
    return blind_index_with(key, purpose, normalized)


def blind_index_with(key: Key, purpose: str, normalized: str) -> str:
    """`blind_index` under a given key, unguarded: for the key canaries themselves."""
    digest = hmac.new(key.secret, f"{purpose}\0{normalized}".encode(), hashlib.sha256).hexdigest()
    return f"{INDEX_VERSION}${key.id}${digest}"


def blind_index_candidates(purpose: str, normalized: str) -> list[str]:
    """The index of `normalized` under every configured key (more than one only mid-rotation)."""
    return [blind_index(purpose, normalized, key) for key in index_keys()]


def index_prefix() -> str:
    return f"{INDEX_VERSION}${index_keys()[0].id}$"
