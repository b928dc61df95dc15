"""Searching the resource directory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from services.access import exonerees_visible_to, resources_visible_to
from services.choices import NeedDomain, NeedStatus, ResourceStatus
from services.lib.sql import joined_per_row
from services.models.directory import Resource, ResourceDomain
from services.models.needs import Need
from services.selectors.coverage import current_consents

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


# What a row of the directory shows; the domains it serves come joined in the same query.
RESOURCE_ROW = ["provider", "provider__name", "name", "languages", "city", "state", "phone", "hours", "status"]


def domains_named(word: str) -> list[str]:
    """The need domains whose name holds `word` ("health": medical, mental health, coverage)."""
    word = word.casefold()
    return [value for value, label in NeedDomain.choices if word in str(label).casefold()]


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
            # "housing" finds what serves housing needs, whatever its name says.
            | Exists(ResourceDomain.objects.filter(resource=OuterRef("pk"), domain__in=domains_named(word)))
        )
    return (
        queryset.select_related("provider")
        .annotate(domains=joined_per_row(ResourceDomain.objects.all(), "resource", "domain", ","))
        .only(*RESOURCE_ROW)
        .order_by("name", "pk")
        .distinct()
    )


def resources_for_need(user: AbstractUser, need: Need, *, keep: int | None = None) -> QuerySet[Resource]:
    """Active resources (and `keep`, the one already chosen), those serving the need's domain
    first; `consented`: the person has a current consent naming the resource's provider."""
    consents = current_consents(need.exoneree).filter(provider_id=OuterRef("provider_id"))
    return (
        resources_visible_to(user)
        .filter(Q(status=ResourceStatus.ACTIVE) | Q(pk=keep))
        .annotate(serves=Count("domain_rows", filter=Q(domain_rows__domain=need.domain)), consented=Exists(consents))
        .order_by("-serves", "name")
    )


def needs_to_refer(user: AbstractUser, resource: Resource) -> list[Need]:
    """The open needs of the caseworker's people, for "Refer someone here": those the resource
    serves first (`serves`), then by person. One query."""
    return list(
        Need.objects.filter(
            status__in=[NeedStatus.OPEN, NeedStatus.IN_PROGRESS], exoneree__in=exonerees_visible_to(user)
        )
        .select_related("exoneree")
        .only("domain", "priority", "opened_on", "exoneree__legal_name", "exoneree__preferred_name")
        .annotate(serves=Exists(ResourceDomain.objects.filter(resource=resource, domain=OuterRef("domain"))))
        .order_by("-serves", "exoneree__legal_name", "exoneree_id", "opened_on", "pk")
    )
