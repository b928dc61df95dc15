"""Paging and throttling, named by the REST_FRAMEWORK setting (so nothing here imports DRF's
views, which read that setting as they load)."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from rest_framework import pagination, throttling
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class Cursor(pagination.CursorPagination):
    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        """A page size that is not a whole number from 1 to the largest is a 400 with the reason:
        DRF's own quietly gave the default page instead (`?page_size=false` answered 50 rows)."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not asked.isascii() or not asked.isdigit() or not 1 <= int(asked) <= self.max_page_size:
            message = f"Ask for a whole number of rows from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return int(asked)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size} ({self.page_size} if left out)."
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """DRF's, in OpenAPI 3.1's words (no `nullable`: a JSON Schema type list)."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }


class PerToken(throttling.SimpleRateThrottle):
    """Requests per token (or per signed-in user), counted in the cache every process shares."""

    scope = "api"

    @property
    def cache(self) -> Any:  # read on each request: the settings name the shared cache
        return caches["shared"]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        auth = request.auth
        ident = f"token-{auth.pk}" if hasattr(auth, "key_hash") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
