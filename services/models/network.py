"""The Innocence Network's analysts: people who read the Network's figures (counts summed over
the organizations that share them) and nothing else. Not staff of any organization, so no
staff or director gate ever opens to them (services.access)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from services.models.base import BaseModel


class NetworkAnalyst(BaseModel):
    """A user's role of analyst for the Network; made and removed by an operator
    (`manage.py add_analyst`), never on a page."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="network_analyst")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} (analyst)"
