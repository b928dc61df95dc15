"""Searching the resource directory."""

from __future__ import annotations

import functools
import operator
import re
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from services.access import exonerees_visible_to, resources_visible_to
from services.choices import NeedDomain, NeedStatus, ResourceStatus
from services.lib import synonyms
from services.lib.sql import joined_per_row
from services.models.directory import Resource, ResourceDomain
from services.models.needs import Need
from services.models.people import Exoneree
from services.selectors.coverage import current_consents
from services.selectors.users import caseload_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


# What a row of the directory shows; the domains it serves come joined in the same query.
RESOURCE_ROW = ["provider", "provider__name", "name", "languages", "city", "state", "phone", "hours", "status"]


# Words people search the directory with for what a need's name does not say.
D = NeedDomain
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    D.BASIC: ("food", "meal", "pantry", "clothes", "clothing", "phone"),
    D.HOUSING: ("rent", "shelter", "apartment", "home"),
    D.TRANSPORTATION: ("bus", "transit", "ride", "driving"),
    D.IDENTIFICATION: ("id", "ss", "license", "birth", "social security", "passport"),
    D.INCOME: ("ssi", "ssdi", "snap", "benefit", "cash", "money"),
    D.HEALTH_COVERAGE: ("medicaid", "medicare", "insurance"),
    D.MEDICAL: ("doctor", "dentist", "dental", "clinic", "eye", "glasses", "hospital"),
    D.MENTAL_HEALTH: ("therapy", "therapist", "counsel", "ptsd", "trauma", "psychiatr"),
    D.SUBSTANCE_USE: ("addiction", "rehab", "recovery", "drug", "alcohol"),
    D.LEGAL: ("lawyer", "attorney", "court", "expunge", "compensation"),
    D.EMPLOYMENT: ("job", "work", "career", "resume"),
    D.EDUCATION: ("school", "ged", "college", "class"),
    D.FAMILY: ("child", "parent", "custody", "reunification"),
    D.COMMUNITY: ("peer", "church", "faith", "group"),
}


def domains_named(word: str) -> list[str]:
    """The need domains whose name holds `word` ("health": medical, mental health, coverage), or
    that it names in other words ("dentist": medical; "lawyer": legal)."""
    word = word.casefold()
    return [value for value, label in NeedDomain.choices if _names(word, str(label), DOMAIN_WORDS.get(value, ()))]


def _names(word: str, label: str, keys: tuple[str, ...]) -> bool:
    """A short word only where a word of the label starts, or as a whole key ("IL" is no
    "family", "id" is ID); a longer one anywhere in the label, or a key's start, or a key of
    four letters or more with an ending ("counseling"; "business" is no "bus")."""
    if len(word) < SHORT_IN_A_NAME:
        parts = set(re.split(r"[^\w]+", label.casefold())) - {"and", "or", "of"}
        return any(part.startswith(word) for part in parts) or word in keys
    in_label = word in label.casefold()
    return in_label or any(
        word == key or (len(key) >= 4 and word.startswith(key)) or (len(word) >= 4 and key.startswith(word))
        for key in keys
    )


def _at_a_words_start(word: str) -> Q:
    """A short typed word or a longer synonym found only where a word starts ("EBT" is no "Debt",
    "rent" no "parent"; "GED" added to "high school diploma" is no "managed")."""
    return _in_a_field("iregex", _edge(word[:1]) + re.escape(word))


def _a_whole_word(word: str) -> Q:
    """A short synonym as a word of its own, or its plural ("SNAP" added to "food stamps" is no
    "Snapshot", "bus" no "business"; "job" finds "Jobs")."""
    end = _edge(word[-1:], end=True)
    return _in_a_field("iregex", _edge(word[:1]) + re.escape(word) + (rf"(?:e?s)?{end}" if end else ""))


def _edge(letter: str, *, end: bool = False) -> str:
    """A word's edge beside `letter`, or nothing when it is not a letter or digit ("C++" ends in
    no word, so no edge can follow it)."""
    if not re.match(r"\w", letter):
        return ""
    if connection.vendor == "postgresql":
        return r"\M" if end else r"\m"
    return r"\b"


def _found(word: str) -> Q:
    """A word as typed: anywhere in the name, provider, description, city or languages; a
    short one only where a word starts, so that the list, which searches as the word is typed,
    finds "Food Pantry" from "fo" on."""
    return _at_a_words_start(word) if len(word) <= SHORT_WORD else _in_a_field("icontains", word)


def _synonym_found(word: str) -> Q:
    """A synonym added to a search: a whole word when short, else where a word starts."""
    return _a_whole_word(word) if len(word) <= SHORT_WORD else _at_a_words_start(word)


# What a search reads of a resource.
SEARCHED = ("name", "provider__name", "description", "city", "languages")


def _in_a_field(lookup: str, value: str) -> Q:
    return functools.reduce(operator.or_, (Q(**{f"{field}__{lookup}": value}) for field in SEARCHED))


def also_searched(q: str) -> list[str]:
    """The synonyms a search also looked for, for the page to say so ("Also searched: SNAP")."""
    return [other for term in synonyms.terms(q) for other in term.also]


# A word of a search this long or shorter is found only where a word starts (a synonym: only as a
# whole word): three or four letters are as often a part of a longer word ("EBT" in "Debt",
# "rent" in "parent") as an abbreviation.
SHORT_WORD = 4
# A need's name: a shorter word is found only where one of its words starts.
SHORT_IN_A_NAME = 3


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
    for term in synonyms.terms(q):
        # "food stamps" also finds what "SNAP" finds; a synonym only where a word starts, or as a
        # whole word when short, so "GED" added to "high school diploma" is no "managed".
        found = _found(term.typed)
        for other in term.also:
            found |= _synonym_found(other)
        # "housing" finds what serves housing needs, whatever its name says.
        domains = sorted({served for word in (term.typed, *term.also) for served in domains_named(word)})
        queryset = queryset.filter(
            found | Exists(ResourceDomain.objects.filter(resource=OuterRef("pk"), domain__in=domains))
        )
    return (
        queryset.select_related("provider")
        .annotate(domains=joined_per_row(ResourceDomain.objects.all(), "resource", "domain", ","))
        .only(*RESOURCE_ROW)
        .order_by("name", "pk")
        .distinct()
    )


def directory_is_empty(user: AbstractUser) -> bool:
    """Whether the organization has no resource at all, whatever its status: a new member
    organization's directory, which a search that finds nothing should not pass for."""
    return not resources_visible_to(user).exists()


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


def people_to_refer(user: AbstractUser, needs: list[Need]) -> list[Exoneree]:
    """The caseworker's own people with an open case, by name: for "Refer someone here" when the
    person has no open need of a kind the resource serves yet. `needs`: what `needs_to_refer`
    lists above, so nobody is offered twice (one query)."""
    served = {need.exoneree_id for need in needs if need.serves}
    people = caseload_of(user, user).filter(case_closed_on__isnull=True).exclude(pk__in=served)
    return sorted(people, key=lambda person: person.display_name.casefold())


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
