"""What an HSDS import would do to the director's directory: the plan the preview shows and
the action (services/actions/hsds.py) carries out.

HSDS organizations become providers; services become resources, with the first location a
service is offered at (its address), its phone, its opening hours and its languages; the
taxonomy terms a service is tagged with become the need domains it serves, through the
organization's mapping of terms to domains (a term nobody mapped yet is listed, never
dropped silently). A record is found again by its HSDS id, so a second import of the same
file changes nothing, and an import of a newer file updates.

An error (a row without its id or name, a service of an organization that is nowhere, a
line of the wrong shape…) stops the whole import: the report names each one by its place in
the file. A warning (a value cut to fit, a second location not kept) does not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from services.access import providers_visible_to, resources_visible_to, taxonomy_terms_visible_to
from services.choices import NeedDomain, ResourceStatus
from services.lib.hsds import DOMAIN_TAXONOMY_ID, Tables, domain_term_id
from services.models.directory import Provider, Resource

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

    from services.lib.hsds import Row

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
STATUSES = {
    "active": ResourceStatus.ACTIVE,
    "inactive": ResourceStatus.INACTIVE,
    "defunct": ResourceStatus.INACTIVE,
    "temporarily closed": ResourceStatus.TEMPORARILY_CLOSED,
}
# The tables the directory reads; the others are counted as not imported, with the reason.
READ = {
    "organization",
    "service",
    "service_at_location",
    "location",
    "address",
    "phone",
    "schedule",
    "language",
    "attribute",
    "taxonomy_term",
    "taxonomy",
}
MAX_ID = 100
OWN_DOMAIN_TERMS = {domain_term_id(domain): domain for domain in NeedDomain.values}


@dataclass(frozen=True)
class Issue:
    place: str
    message: str


@dataclass
class Planned:
    """One provider or resource the import creates, updates, or leaves as it is."""

    hsds_id: str
    name: str
    place: str
    action: str = CREATE
    values: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # the labels of the fields that change
    existing: Any = None  # the record found, for an update
    provider_hsds_id: str = ""  # a resource's provider
    domains: list[str] | None = None  # a resource's need domains; None: keep those it has

    @property
    def domain_labels(self) -> list[str]:
        return [str(NeedDomain(domain).label) for domain in self.domains or []]


@dataclass(frozen=True)
class Term:
    hsds_id: str
    code: str
    name: str
    taxonomy: str
    domain: str  # the mapping's, or the suggestion for a new term; "" when unmapped
    known: bool  # already in the organization's mapping


@dataclass
class ImportPlan:
    providers: list[Planned] = field(default_factory=list)
    resources: list[Planned] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    not_imported: list[tuple[str, int, str]] = field(default_factory=list)  # (table, rows, why)
    terms: list[Term] = field(default_factory=list)
    # Resources that will have no address a referral is emailed to (Resource.referral_email):
    # no intake email kept, no email of the service's nor of its provider's. Their referrals
    # cannot reach the provider's page; the director is told before confirming.
    not_emailed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unmapped(self) -> list[Term]:
        return [term for term in self.terms if not term.domain]

    def count(self, action: str) -> int:
        return sum(1 for planned in [*self.providers, *self.resources] if planned.action == action)

    @property
    def summary(self) -> dict[str, int]:
        return {action: self.count(action) for action in (CREATE, UPDATE, UNCHANGED)}


def import_plan(user: AbstractUser, tables: Tables) -> ImportPlan:
    """The plan for importing `tables` into the user's organization's directory. Four queries
    (providers, resources with their domains, the mapping), whatever the file's size."""
    return _Planner(user, tables).plan()


class _Planner:
    def __init__(self, user: AbstractUser, tables: Tables) -> None:
        self.tables = tables
        self.result = ImportPlan()
        self.providers = {p.hsds_id: p for p in providers_visible_to(user)}
        self.providers_by_name = {p.name: p for p in self.providers.values()}
        resources = resources_visible_to(user).select_related("provider").prefetch_related("domain_rows")
        self.resources = {r.hsds_id: r for r in resources}
        self.mapping = {t.hsds_id: t for t in taxonomy_terms_visible_to(user)}
        # A provider's email by the HSDS id a service names it with: the file's, else the directory's.
        self.provider_emails = {hsds_id: provider.email for hsds_id, provider in self.providers.items()}
        self.by_link: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))

    def plan(self) -> ImportPlan:
        for table, rows in self.tables.items():
            for row in rows:
                if row.bad_shape:
                    self.error(row, row.bad_shape)
            if table not in READ and rows:
                self.result.not_imported.append((table, len(rows), _("the directory does not keep these")))
        self._index()
        self._terms()
        file_providers = self._providers()
        self._resources(file_providers)
        return self.result

    def error(self, row: Row, message: str) -> None:
        self.result.errors.append(Issue(row.place, message))

    def warn(self, row: Row, message: str) -> None:
        self.result.warnings.append(Issue(row.place, message))

    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])

    def _index(self) -> None:
        """The rows that hang off another, by the column that links them."""
        links = {
            "service_at_location": ["service_id"],
            "address": ["location_id"],
            "phone": ["service_id", "service_at_location_id", "location_id"],
            "schedule": ["service_id", "service_at_location_id", "location_id"],
            "language": ["service_id"],
            "attribute": ["link_id"],
        }
        for table, columns in links.items():
            for row in self.rows(table):
                for column in columns:
                    if row.get(column):
                        self.by_link[f"{table}.{column}"][row.get(column)].append(row)
        self.locations = {row.get("id"): row for row in self.rows("location") if row.get("id")}

    def linked(self, table: str, column: str, hsds_id: str) -> list[Row]:
        return self.by_link[f"{table}.{column}"].get(hsds_id, [])

    def _unique_ids(self, table: str) -> list[Row]:
        """The table's rows with an id, each id once (a second row with an id is an error)."""
        seen: set[str] = set()
        kept = []
        for row in self.rows(table):
            hsds_id = row.get("id")
            if not hsds_id:
                self.error(row, _("no id: every HSDS record needs one"))
            elif len(hsds_id) > MAX_ID:
                self.error(row, _("the id is longer than %(max)d characters") % {"max": MAX_ID})
            elif hsds_id in seen:
                self.error(row, _("the id %(id)s is used by an earlier row too") % {"id": hsds_id})
            elif not row.bad_shape:
                seen.add(hsds_id)
                kept.append(row)
        return kept

    def _terms(self) -> None:
        taxonomies = {row.get("id"): row.get("name") for row in self.rows("taxonomy")}
        for row in self._unique_ids("taxonomy_term"):
            hsds_id = row.get("id")
            name = row.get("name") or row.get("code")
            if not name:
                self.error(row, _("a taxonomy term with neither a name nor a code"))
                continue
            known = self.mapping.get(hsds_id)
            domain = known.domain if known else self._suggested_domain(row)
            taxonomy = row.get("taxonomy") or taxonomies.get(row.get("taxonomy_id"), "")
            self.result.terms.append(
                Term(hsds_id, row.get("code")[:100], name[:200], taxonomy[:200], domain, known is not None)
            )

    @staticmethod
    def _suggested_domain(row: Row) -> str:
        """Our own need domains (an export of this app) map themselves; other terms wait for
        the director."""
        if row.get("id") in OWN_DOMAIN_TERMS:
            return OWN_DOMAIN_TERMS[row.get("id")]
        if row.get("taxonomy_id") == DOMAIN_TAXONOMY_ID and row.get("code") in NeedDomain.values:
            return row.get("code")
        return ""

    # Organizations → providers.

    def _providers(self) -> set[str]:
        names: set[str] = set()
        in_file = set()
        rows = self._unique_ids("organization")
        ids = {row.get("id") for row in rows}
        for row in rows:
            name = row.get("name")
            if not name:
                self.error(row, _("an organization without a name"))
                continue
            if len(name) > 200:
                self.error(row, _("the name is longer than 200 characters"))
                continue
            if name in names:
                self.error(row, _("another organization in the file has the same name, %(name)s") % {"name": name})
                continue
            names.add(name)
            in_file.add(row.get("id"))
            description = row.get("description")
            values = {
                "name": name,
                # The export writes the name where a provider has no description (HSDS requires one).
                "description": "" if description == name else self.text(row, "description", description, 10_000),
                "website": self.url(row, "website"),
                "email": self.email(row, "email"),
            }
            existing = self.providers.get(row.get("id"))
            same_name = self.providers_by_name.get(name)
            if existing is None and same_name is not None and same_name.hsds_id not in ids:
                existing = same_name  # typed here before, or imported from elsewhere: taken over
            self.result.providers.append(self.compare(row, Provider, values, existing))
            self.provider_emails[row.get("id")] = values["email"]
        return in_file

    # Services → resources.

    def _resources(self, file_providers: set[str]) -> None:
        domain_of = {term.hsds_id: term.domain for term in self.result.terms}
        for row in self._unique_ids("service"):
            name, organization_id = row.get("name"), row.get("organization_id")
            if not name:
                self.error(row, _("a service without a name"))
                continue
            if not organization_id:
                self.error(row, _("a service without its organization_id"))
                continue
            if organization_id not in file_providers and organization_id not in self.providers:
                message = _("its organization %(id)s is neither in the file nor in your directory")
                self.error(row, message % {"id": organization_id})
                continue
            status = STATUSES.get(row.get("status").lower())
            if status is None:
                message = _(
                    "the status %(status)s is not one of HSDS's (active, inactive, defunct, temporarily closed)"
                )
                self.error(row, message % {"status": row.get("status") or '""'})
                continue
            values = {
                "name": self.text(row, "name", name, 200),
                "description": self.text(row, "description", row.get("description"), 10_000),
                "eligibility": self.text(row, "eligibility_description", row.get("eligibility_description"), 10_000),
                "fees": self.text(row, "fees_description", row.get("fees_description") or row.get("fees"), 200),
                "application_process": self.text(row, "application_process", row.get("application_process"), 10_000),
                "email": self.email(row, "email"),
                "status": status,
            }
            at, locations = self._offered_at(row)
            values |= self._where(locations) | self._reach(row, at, locations)
            terms = [
                attribute.get("taxonomy_term_id") for attribute in self.linked("attribute", "link_id", row.get("id"))
            ]
            domains = sorted({domain_of[term] for term in terms if domain_of.get(term)})
            existing = self.resources.get(row.get("id"))
            if existing is not None and existing.hours_es and values["hours"] != existing.hours:
                # HSDS has no Spanish hours (Resource.hours_es): kept, they would still say the
                # old ones, and a person reading Spanish would come on a day it is closed.
                # Emptied, they read the new hours as the file gives them.
                values["hours_es"] = ""
            planned = self.compare(row, Resource, values, existing)
            planned.provider_hsds_id = organization_id
            planned.domains = domains or None  # none mapped: the resource keeps the domains it has
            if existing is not None:
                if existing.provider.hsds_id != organization_id:
                    planned.changed.append(_("provider"))
                if planned.domains is not None and set(planned.domains) != {
                    r.domain for r in existing.domain_rows.all()
                }:
                    planned.changed.append(_("needs it serves"))
                planned.action = UPDATE if planned.changed else UNCHANGED
            self.result.resources.append(planned)
            intake = existing.intake_email if existing is not None else ""
            if not (intake or values["email"] or self.provider_emails.get(organization_id)):
                self.result.not_emailed.append(values["name"])

    def _offered_at(self, service: Row) -> tuple[list[Row], list[Row]]:
        """The first service_at_location of the service, and its location (a resource has one)."""
        at = self.linked("service_at_location", "service_id", service.get("id"))
        locations = [self.locations[sal.get("location_id")] for sal in at if sal.get("location_id") in self.locations]
        if len(locations) > 1:
            self.warn(service, _("offered at %(count)d locations: the first is kept") % {"count": len(locations)})
        return at[:1], locations[:1]

    def _where(self, locations: list[Row]) -> dict[str, str]:
        """The address of the location (its physical one first)."""
        for location in locations:
            addresses = self.linked("address", "location_id", location.get("id"))
            physical = [a for a in addresses if a.get("address_type") == "physical"] or addresses
            for address in physical[:1]:
                street = ", ".join(part for part in (address.get("address_1"), address.get("address_2")) if part)
                state = address.get("state_province")
                if state and (len(state) != 2 or not state.isalpha()):
                    message = _("the state %(state)s is not a two-letter code: left empty")
                    self.warn(address, message % {"state": state})
                    state = ""
                return {
                    "address": self.text(address, "address_1", street, 300),
                    "city": self.text(address, "city", address.get("city"), 100),
                    "state": state.upper(),
                    "postal_code": self.text(address, "postal_code", address.get("postal_code"), 10),
                }
        return {"address": "", "city": "", "state": "", "postal_code": ""}

    def _reach(self, service: Row, at: list[Row], locations: list[Row]) -> dict[str, str]:
        """Phone, hours and languages: the service's own, else those where it is offered."""
        owners = [("service_id", service.get("id"))]
        owners += [("service_at_location_id", sal.get("id")) for sal in at]
        owners += [("location_id", location.get("id")) for location in locations]
        phones = next((rows for column, key in owners if (rows := self.linked("phone", column, key))), [])
        schedules = next((rows for column, key in owners if (rows := self.linked("schedule", column, key))), [])
        languages = [
            row.get("name") or row.get("code") for row in self.linked("language", "service_id", service.get("id"))
        ]
        phone = ""
        if phones:
            phone = phones[0].get("number").strip('"').strip()
            if phones[0].get("extension"):
                phone = f"{phone} ext. {phones[0].get('extension')}"
        return {
            "phone": self.text(phones[0] if phones else service, "number", phone, 30),
            "hours": self.text(schedules[0] if schedules else service, "schedule", hours(schedules), 200),
            "languages": self.text(service, "languages", ", ".join(dict.fromkeys(filter(None, languages))), 200),
        }

    # Values.

    def text(self, row: Row, column: str, value: str, limit: int) -> str:
        if len(value) > limit:
            message = _("%(column)s is longer than %(limit)d characters: cut to fit")
            self.warn(row, message % {"column": column, "limit": limit})
            return value[: limit - 1] + "…"
        return value

    def url(self, row: Row, column: str) -> str:
        value = row.get(column)
        if value and "://" not in value:
            value = f"https://{value}"  # "www.example.org", as directories often write it
        try:
            URLValidator()(value) if value else None
        except ValidationError:
            self.warn(row, _("%(column)s is not a web address: left empty") % {"column": column})
            return ""
        return value[:200]

    def email(self, row: Row, column: str) -> str:
        value = row.get(column)
        try:
            validate_email(value) if value else None
        except ValidationError:
            self.warn(row, _("%(column)s is not an email address: left empty") % {"column": column})
            return ""
        return value

    def compare(self, row: Row, model: type, values: dict[str, Any], existing: Any) -> Planned:
        planned = Planned(row.get("id"), values["name"], row.place, values=values, existing=existing)
        if existing is None:
            return planned
        planned.changed = [
            str(model._meta.get_field(name).verbose_name)
            for name, value in values.items()
            if getattr(existing, name) != value
        ]
        if existing.hsds_id != row.get("id"):  # found by its name
            planned.changed.append(_("HSDS id"))
        planned.action = UPDATE if planned.changed else UNCHANGED
        return planned


DAYS = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}


def hours(schedules: list[Row]) -> str:
    """Opening hours in words: the schedule's own description, else its days and times."""
    parts = []
    for schedule in schedules:
        if schedule.get("description"):
            parts.append(schedule.get("description"))
            continue
        days = ", ".join(DAYS.get(day.strip().upper(), day.strip()) for day in schedule.get("byday").split(",") if day)
        times = "–".join(t[:5] for t in (schedule.get("opens_at"), schedule.get("closes_at")) if t)
        if text := " ".join(part for part in (days, times) if part):
            parts.append(text)
    return "; ".join(dict.fromkeys(parts))
