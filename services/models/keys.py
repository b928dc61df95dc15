"""Key canaries: a check value per encryption and blind-index key (services.keyring)."""

from __future__ import annotations

from django.db import models

from services.models.base import BaseModel


class KeyCanary(BaseModel):
    """A known text sealed (or indexed) under one key: only that key reads it back.

    Not secret: it tells nothing about the data. Written once per key id, never changed.
    """

    class Kind(models.TextChoices):
        ENCRYPTION = "encryption", "FIELD_ENCRYPTION_KEYS"
        INDEX = "index", "BLIND_INDEX_KEYS"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    key_id = models.CharField(max_length=8)
    check_value = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key_id"], name="key_canary_one_per_key")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} key {self.key_id}"
