"""Searching the resource directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import (
    Count,
    Q,
    QuerySet,
)

from services.access import resources_visible_to
from services.choices import ResourceStatus
from services.lib.sql import joined_per_row
from services.models.directory import Resource, ResourceDomain
from services.models.needs import Need

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


# What a row of the directory shows; the domains it serves come joined in the same query.
RESOURCE_ROW = ["provider", "provider__name", "name", "languages", "city", "state", "phone", "hours", "status"]


def resource_search(user: AbstractUser, *, q: str = "", domain: str = "", status: str = "") -> QuerySet[Resource]:
    queryset = resources_visible_to(user)
    if status == "all":
        pass
    elif status:
        queryset = queryset.filter(status=status)
    else:
        queryset = queryset.filter(status=ResourceStatus.ACTIVE)
    if domain:
        queryset = queryset.filter(domain_rows__domain=domain)
    for word in q.split():
        queryset = queryset.filter(
            Q(name__icontains=word)
            | Q(provider__name__icontains=word)
            | Q(description__icontains=word)
            | Q(city__icontains=word)
            | Q(languages__icontains=word)
        )
    return (
        queryset.select_related("provider")
        .annotate(domains=joined_per_row(ResourceDomain.objects.all(), "resource", "domain", ","))
        .only(*RESOURCE_ROW)
        .order_by("name", "pk")
        .distinct()
    )


def resources_for_need(user: AbstractUser, need: Need, *, keep: int | None = None) -> QuerySet[Resource]:
    """Active resources (and `keep`, the one already chosen), those serving the need's domain first."""
    return (
        resources_visible_to(user)
        .filter(Q(status=ResourceStatus.ACTIVE) | Q(pk=keep))
        .annotate(serves=Count("domain_rows", filter=Q(domain_rows__domain=need.domain)))
        .order_by("-serves", "name")
    )
