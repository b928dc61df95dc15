"""Print a new random key for FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from services.lib import crypto


class Command(BaseCommand):
    help = "Print a new base64url-encoded 32-byte key for FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.generate_key())
