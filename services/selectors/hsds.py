"""The organization's directory as HSDS 3.0: the rows of the CSV datapackage (export) and the
objects of the read-only API (services/views/hsds_api.py), built by the same functions.

A provider is an HSDS organization; a resource is a service, with a location and its address
(when the address is complete: HSDS requires street, city, state and postal code), a phone,
a schedule (its hours, in words), its languages, and an attribute per need domain it serves.
The need domains are published as a taxonomy of their own, with fixed ids
(services/lib/hsds.py), so an export imported here maps itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from services.access import providers_visible_to, resources_with_domains
from services.choices import NeedDomain, ResourceStatus
from services.lib.hsds import DOMAIN_TAXONOMY_ID, DOMAIN_TAXONOMY_NAME, derived_id, domain_term_id
from services.lib.sql import split
from services.models.directory import Provider, Resource

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

STATUSES = {
    ResourceStatus.ACTIVE: "active",
    ResourceStatus.INACTIVE: "inactive",
    ResourceStatus.TEMPORARILY_CLOSED: "temporarily closed",
}
TAXONOMY = {
    "id": DOMAIN_TAXONOMY_ID,
    "name": DOMAIN_TAXONOMY_NAME,
    "description": "The areas of need of people coming home after a wrongful conviction.",
    "version": "1",
}


def resources_for_hsds(user: AbstractUser) -> QuerySet[Resource]:
    """The user's organization's resources with their provider and domains: one query."""
    return resources_with_domains(user).order_by("name", "pk")


def providers_for_hsds(user: AbstractUser) -> QuerySet[Provider]:
    return providers_visible_to(user).order_by("name", "pk")


def organization_row(provider: Provider) -> dict[str, str]:
    return {
        "id": provider.hsds_id,
        "name": provider.name,
        # HSDS requires a description; the name stands in (an import here reads it back as none).
        "description": provider.description or provider.name,
        "email": provider.email,
        "website": provider.website,
    }


def service_row(resource: Resource) -> dict[str, str]:
    return {
        "id": resource.hsds_id,
        "organization_id": resource.provider.hsds_id,
        "name": resource.name,
        "description": resource.description,
        "email": resource.email,
        "status": STATUSES.get(resource.status, "inactive"),
        "application_process": resource.application_process,
        "fees_description": resource.fees,
        "eligibility_description": resource.eligibility,
        "last_modified": resource.updated_at.isoformat() if resource.updated_at else "",
    }


def location_rows(resource: Resource) -> dict[str, list[dict[str, str]]]:
    """Where the resource is: a location, the service offered there, and its address.

    HSDS requires an address's street, city, state and postal code: an address missing one of
    them is written as the location's description, in words, for people to read (an import
    does not read it back into fields)."""
    parts = [resource.address, resource.city, resource.state, resource.postal_code]
    if not any(parts):
        return {}
    location_id = derived_id(resource.hsds_id, "location")
    location = {"id": location_id, "location_type": "physical", "organization_id": resource.provider.hsds_id}
    rows = {
        "location": [location | {"name": resource.name}],
        "service_at_location": [
            {
                "id": derived_id(resource.hsds_id, "service_at_location"),
                "service_id": resource.hsds_id,
                "location_id": location_id,
            }
        ],
        "address": [],
    }
    if not all(parts):
        rows["location"][0]["description"] = ", ".join(part for part in parts if part)
        return rows
    rows["address"].append(
        {
            "id": derived_id(resource.hsds_id, "address"),
            "location_id": location_id,
            "address_1": resource.address,
            "city": resource.city,
            "state_province": resource.state,
            "postal_code": resource.postal_code,
            "country": "US",
            "address_type": "physical",
        }
    )
    return rows


def reach_rows(resource: Resource) -> dict[str, list[dict[str, str]]]:
    """Phone, hours, languages and need domains, each tied to the service."""
    service_id = resource.hsds_id
    rows: dict[str, list[dict[str, str]]] = {"phone": [], "schedule": [], "language": [], "attribute": []}
    if resource.phone:
        rows["phone"].append(
            {"id": derived_id(service_id, "phone"), "service_id": service_id, "number": resource.phone}
        )
    if resource.hours:
        rows["schedule"].append(
            {"id": derived_id(service_id, "schedule"), "service_id": service_id, "description": resource.hours}
        )
    for name in [part.strip() for part in resource.languages.split(",") if part.strip()]:
        rows["language"].append(
            {"id": derived_id(service_id, "language", name), "service_id": service_id, "name": name}
        )
    for domain in split(resource.domains, ","):
        rows["attribute"].append(
            {
                "id": derived_id(service_id, "domain", domain),
                "link_id": service_id,
                "taxonomy_term_id": domain_term_id(domain),
                "link_type": "need_domain",
                "link_entity": "service",
            }
        )
    return rows


def domain_of_term(term_id: str) -> str:
    """The need domain one of our taxonomy's terms stands for ("" for any other term)."""
    return next((domain for domain in NeedDomain.values if domain_term_id(domain) == term_id), "")


def domain_terms() -> list[dict[str, str]]:
    return [
        {
            "id": domain_term_id(domain),
            "code": domain,
            "name": str(label),
            "description": str(label),
            "taxonomy": DOMAIN_TAXONOMY_NAME,
            "language": "en",
            "taxonomy_id": DOMAIN_TAXONOMY_ID,
        }
        for domain, label in NeedDomain.choices
    ]


def directory_tables(user: AbstractUser) -> dict[str, list[dict[str, str]]]:
    """Every row of the datapackage: two queries (providers; resources with their domains)."""
    tables: dict[str, list[dict[str, str]]] = {
        "organization": [organization_row(p) for p in providers_for_hsds(user)],
        "service": [],
        "taxonomy": [TAXONOMY],
        "taxonomy_term": domain_terms(),
    }
    for resource in resources_for_hsds(user):
        tables["service"].append(service_row(resource))
        for table, rows in (location_rows(resource) | reach_rows(resource)).items():
            tables.setdefault(table, []).extend(rows)
    return tables


# The API's objects: the same rows, nested as HSDS's JSON nests them; empty values left out.


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if value not in ("", None)}


def _without(row: dict[str, str], *links: str) -> dict[str, Any]:
    return _clean({key: value for key, value in row.items() if key not in links})


def service_json(resource: Resource, *, full: bool = True) -> dict[str, Any]:
    """A service as the API's list (`full=False`: its own fields and its organization) or
    its page (everything it has) shows it."""
    service = _without(service_row(resource), "organization_id")
    service["organization"] = _clean(organization_row(resource.provider))
    if not full:
        return service
    reach = reach_rows(resource)
    places = location_rows(resource)
    terms = {term["id"]: term for term in domain_terms()}
    service["phones"] = [_without(row, "service_id") for row in reach["phone"]]
    service["schedules"] = [_without(row, "service_id") for row in reach["schedule"]]
    service["languages"] = [_without(row, "service_id") for row in reach["language"]]
    service["attributes"] = [
        _without(row, "link_id", "taxonomy_term_id")
        | {"taxonomy_term": _without(terms[row["taxonomy_term_id"]]) | {"taxonomy_detail": dict(TAXONOMY)}}
        for row in reach["attribute"]
    ]
    service["service_at_locations"] = [
        _without(at, "service_id", "location_id")
        | {
            "location": _without(places["location"][0], "organization_id")
            | {"addresses": [_without(row, "location_id") for row in places["address"]]}
        }
        for at in places.get("service_at_location", [])
    ]
    return service


def organization_json(provider: Provider, services: list[Resource] | None = None) -> dict[str, Any]:
    """An organization; on its own page, with its services (their own fields)."""
    organization = _clean(organization_row(provider))
    if services is not None:
        organization["services"] = [_without(service_row(resource), "organization_id") for resource in services]
    return organization
