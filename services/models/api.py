"""Personal access tokens for the API (/api/v1/).

A token is shown once, when it is made, and stored only as its SHA-256 hash (a token is 32
random bytes: a plain hash is enough, nothing to slow down). It belongs to one staff member and
acts as them, never as more: the same access rules as their pages, narrowed by its scopes
(read, or read and write), until it expires (90 days unless chosen, a year at most) or is
revoked by its owner or a director of their organization.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.models.base import BaseModel
from services.models.organizations import Organization


class ApiToken(BaseModel):
    READ = "read"
    WRITE = "write"
    SCOPES = [(READ, _("Read")), (WRITE, _("Read and write"))]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text=_("What it is for, for example “CRM sync”."))
    scope = models.CharField(max_length=10, choices=SCOPES, default=READ)
    # The first characters of the token, shown in lists so its owner can tell tokens apart.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def can_write(self) -> bool:
        return self.scope == self.WRITE
