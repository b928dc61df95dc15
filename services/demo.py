"""The demo's data file (services/data/demo.yaml): its shape, how it is read and checked.

`load()` turns the YAML into the frozen dataclasses below and refuses a file with a typo in
it: an unknown or missing key, a value of the wrong type, a status or domain that is not one
of the app's choices, or a reference (organization, caseworker, service, need, member
provider) that leads nowhere. Every problem is named with its place in the file (`exonerees[2].needs[0].status`).
The seed_demo command writes what this returns; it holds no data of its own.

Also here: the fixed two-step sign-in secrets of the demo staff accounts, which seed_demo
sets and demo_code prints codes for.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import hashlib
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from services.choices import (
    AssessmentDomain,
    AssessmentKind,
    ClaimStage,
    ClearanceStatus,
    ConsentCategory,
    ContactPreference,
    Language,
    NeedDomain,
    NeedStatus,
    NoteVisibility,
    Priority,
    RecordHolder,
    ReferralStatus,
    ResourceStatus,
    Role,
    TriggerEvent,
)
from services.lifecycle import CLAIM_FILED, NEED_CLOSED

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo.yaml"


class DemoDataError(ValueError):
    pass


# --- the shape of the file --------------------------------------------------------------------
# kw_only: in the YAML every value is named, and defaults may sit between required fields.


@dataclass(frozen=True, kw_only=True)
class City:
    name: str
    postal_code: str


@dataclass(frozen=True, kw_only=True)
class OrgSpec:
    key: str
    name: str
    timezone: str
    state: str
    area_code: str
    counties: tuple[str, ...]
    cities: tuple[City, ...]
    provider_prefixes: tuple[str, ...]  # place words that make provider names local


@dataclass(frozen=True, kw_only=True)
class StaffSpec:
    username: str
    organization: str  # an OrgSpec key
    role: Role
    title: str
    first_name: str
    last_name: str


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    provider: str  # provider name without its place word, e.g. "Housing Collaborative"
    name: str
    domains: tuple[NeedDomain, ...]
    eligibility: str
    fees: str
    languages: str
    hours: str
    hours_es: str = ""  # the hours as a person reading Spanish reads them (Resource.hours_es)
    status: ResourceStatus
    description: str
    application: str


@dataclass(frozen=True, kw_only=True)
class ReferralSpec:
    service: str  # a ServiceSpec name
    status: ReferralStatus  # where it ended
    days_ago: int  # created
    last_change_days_ago: int = 1
    note: str = ""
    decline_reason: str = ""
    got_service: bool | None = None
    helped: bool | None = None
    feedback: str = ""


@dataclass(frozen=True, kw_only=True)
class NeedSpec:
    domain: NeedDomain
    priority: Priority
    status: NeedStatus
    description: str
    own_words: str
    opened_days_ago: int
    closed_days_ago: int | None = None  # exactly when the status is a closed one
    referrals: tuple[ReferralSpec, ...] = ()
    papers: tuple[str, ...] = ()  # the key papers (document kinds) this need is for: Need.papers


@dataclass(frozen=True, kw_only=True)
class FollowUpSpec:
    title: str
    due_in_days: int  # negative: in the past
    hour: int = 10  # local time in the organization's timezone
    details: str = ""
    outcome: str | None = None  # set: done, with this outcome
    need: NeedDomain | None = None  # the domain of one of this person's needs
    shared: bool = True


@dataclass(frozen=True, kw_only=True)
class CheckInSpec:
    """A check-in after release the caseworker did (services.actions.release_checks): on its day,
    with what came of it."""

    days: int  # after release: one of the check-ins' days (7, 30, 90, 180, 365)
    outcome: str


@dataclass(frozen=True, kw_only=True)
class NoteSpec:
    visibility: NoteVisibility
    days_ago: int
    text: str


@dataclass(frozen=True, kw_only=True)
class AssessmentSpec:
    kind: AssessmentKind
    days_ago: int
    scores: str  # one digit 1-5 per AssessmentDomain, in its order; spaces are ignored

    def score_by_domain(self) -> dict[str, int]:
        return dict(zip(AssessmentDomain.values, (int(c) for c in self.scores.replace(" ", "")), strict=True))


@dataclass(frozen=True, kw_only=True)
class Born:
    age: int  # in years, on this year's birthday
    month: int
    day: int


@dataclass(frozen=True, kw_only=True)
class ClaimSpec:
    """The person's compensation claim under their state's statute (the trigger is their exoneration)."""

    stage: ClaimStage
    trigger: TriggerEvent
    attorney: str = ""
    filed_days_ago: int | None = None
    decided_days_ago: int | None = None
    award_total: int | None = None
    denial_reason: str = ""
    # A lawyer's own deadline (days from today) and why: the table's is then overridden.
    override_days_ahead: int | None = None
    override_reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordSpec:
    holder: RecordHolder
    status: ClearanceStatus
    requested_days_ago: int | None = None
    confirmed_days_ago: int | None = None


@dataclass(frozen=True, kw_only=True)
class MemberConsentSpec:
    """A signed release with the provider that is another demo organization (a transfer's gate)."""

    member: str  # an OrgSpec key: that organization, as a provider of the person's own directory
    categories: tuple[ConsentCategory, ...]
    purpose: str
    days_ago: int  # as a referral's consent: signed the day before, running until a year from today


@dataclass(frozen=True, kw_only=True)
class MemberProviderSpec:
    """A provider of `organization`'s directory that is the member organization `member`."""

    organization: str  # an OrgSpec key
    member: str  # an OrgSpec key: the provider is named after it and linked to it


@dataclass(frozen=True, kw_only=True)
class ExonereeSpec:
    legal_name: str
    organization: str  # an OrgSpec key
    caseworker: str  # a StaffSpec username
    username: str = ""  # a login of their own; "" for none
    pronouns: str
    language: Language
    phone_suffix: str  # after the organization's area code and 555-
    address: str
    contact: ContactPreference
    contact_notes: str
    ok_to_leave_message: bool
    born: Born
    ssn: str
    county: str  # one of the organization's counties
    years_inside: int
    released_days_ago: int
    claim: ClaimSpec
    records: tuple[RecordSpec, ...] = ()
    needs: tuple[NeedSpec, ...]
    follow_ups: tuple[FollowUpSpec, ...]
    # The check-ins after release are planned as intake plans them, from before the first of
    # these (marked done); without any, only those still ahead.
    check_ins_done: tuple[CheckInSpec, ...] = ()
    notes: tuple[NoteSpec, ...]
    assessments: tuple[AssessmentSpec, ...] = ()
    member_consents: tuple[MemberConsentSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Demo:
    organizations: tuple[OrgSpec, ...]
    staff: tuple[StaffSpec, ...]
    streets: tuple[str, ...]  # resource addresses take turns through these
    services: tuple[ServiceSpec, ...]  # one directory per organization is made from these
    member_providers: tuple[MemberProviderSpec, ...] = ()
    exonerees: tuple[ExonereeSpec, ...]

    def organization(self, key: str) -> OrgSpec:
        return next(org for org in self.organizations if org.key == key)

    def usernames(self) -> list[str]:
        return [s.username for s in self.staff] + [e.username for e in self.exonerees if e.username]


# --- reading ----------------------------------------------------------------------------------


@functools.cache
def demo_data() -> Demo:
    """The shipped demo, read once per process (it is immutable)."""
    return load(DATA_FILE)


def load(path: Path) -> Demo:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise DemoDataError(f"{path}: expected a mapping at the top.")
    # Most services share a status and an application process: the file says them once.
    defaults = raw.pop("service_defaults", {})
    raw["services"] = [{**defaults, **row} if isinstance(row, dict) else row for row in raw.get("services") or []]
    try:
        demo = _build(Demo, raw, "")
    except DemoDataError as exc:
        raise DemoDataError(f"{path}: {exc}") from None
    if found := problems(demo):
        raise DemoDataError(f"{path}:\n  " + "\n  ".join(found))
    return demo


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise DemoDataError(f"{where or 'the file'}: expected a mapping, got {raw!r}.")
    hints = get_type_hints(cls)
    if unknown := set(raw) - set(hints):
        raise DemoDataError(f"{where or 'the file'}: unknown key(s) {', '.join(sorted(unknown))}.")
    if missing := {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING} - set(raw):
        raise DemoDataError(f"{where or 'the file'}: missing key(s) {', '.join(sorted(missing))}.")
    prefix = f"{where}." if where else ""
    return cls(**{name: _convert(hints[name], value, prefix + name) for name, value in raw.items()})


def _convert(kind: Any, value: Any, where: str) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):  # `X | None`
        if value is None:
            return None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
        return _convert(kind, value, where)
    if origin is tuple:  # `tuple[X, ...]`
        if not isinstance(value, list):
            raise DemoDataError(f"{where}: expected a list, got {value!r}.")
        return tuple(_convert(get_args(kind)[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, where)
    if issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(choice.value for choice in kind)
            raise DemoDataError(f"{where}: {value!r} is not one of {choices}.") from None
    # `type() is`, not isinstance: YAML's true is not an int, and 0150 unquoted is no phone suffix.
    if type(value) is not kind:
        raise DemoDataError(f"{where}: expected {kind.__name__}, got {value!r} (quote numbers meant as text).")
    return value


# --- checking what the types cannot -----------------------------------------------------------


def problems(demo: Demo) -> list[str]:
    """Every broken reference, duplicate or impossible value in the demo, with its place."""
    return list(_problems(demo))


def _problems(demo: Demo) -> Iterator[str]:
    orgs = {org.key: org for org in demo.organizations}
    staff = {s.username: s for s in demo.staff}
    services = {s.name for s in demo.services}
    yield from _duplicates("organizations[].key", [org.key for org in demo.organizations])
    yield from _duplicates("organizations[].name", [org.name for org in demo.organizations])
    yield from _duplicates("usernames", demo.usernames())
    # A referral names its service; the name alone must say which one.
    yield from _duplicates("services[].name", [s.name for s in demo.services])
    yield from _duplicates("exonerees[].legal_name", [e.legal_name for e in demo.exonerees])
    yield from _duplicates("exonerees[].ssn", [e.ssn for e in demo.exonerees])

    for i, org in enumerate(demo.organizations):
        where = f"organizations[{i}]"
        if not re.fullmatch(r"\d{3}", org.area_code):
            yield f"{where}.area_code: {org.area_code!r} is not three digits."
        if not (org.counties and org.cities and org.provider_prefixes):
            yield f"{where}: needs counties, cities and provider_prefixes."
        for j, city in enumerate(org.cities):
            if not re.fullmatch(r"\d{5}", city.postal_code):
                yield f"{where}.cities[{j}].postal_code: {city.postal_code!r} is not five digits."
        directors = [s for s in demo.staff if s.organization == org.key and s.role == Role.DIRECTOR]
        if len(directors) != 1:
            yield f"{where}: has {len(directors)} directors; seeding needs exactly one."
    for i, member in enumerate(demo.staff):
        if member.organization not in orgs:
            yield f"staff[{i}].organization: no organization {member.organization!r}."
    if not demo.streets:
        yield "streets: needs at least one."
    for i, service in enumerate(demo.services):
        if not service.domains:
            yield f"services[{i}].domains: needs at least one."
    for i, link in enumerate(demo.member_providers):
        for key in (link.organization, link.member):
            if key not in orgs:
                yield f"member_providers[{i}]: no organization {key!r}."
        if link.organization == link.member:
            yield f"member_providers[{i}].member: an organization is no provider of its own directory."
    linked = {(link.organization, link.member) for link in demo.member_providers}

    for i, person in enumerate(demo.exonerees):
        where = f"exonerees[{i}]"
        org = orgs.get(person.organization)
        if org is None:
            yield f"{where}.organization: no organization {person.organization!r}."
        elif person.county not in org.counties:
            yield f"{where}.county: {person.county!r} is not one of {', '.join(org.counties)}."
        caseworker = staff.get(person.caseworker)
        if caseworker is None or caseworker.role != Role.CASEWORKER or caseworker.organization != person.organization:
            yield f"{where}.caseworker: {person.caseworker!r} is no caseworker of {person.organization!r}."
        # Fictional identifiers only: SSN area 900-999 is never issued, 555-0100..0199 is for fiction.
        if not re.fullmatch(r"9\d{8}", person.ssn):
            yield f"{where}.ssn: {person.ssn!r} is not nine digits starting with 9."
        if not re.fullmatch(r"01\d\d", person.phone_suffix):
            yield f"{where}.phone_suffix: {person.phone_suffix!r} is not in 0100-0199."
        try:
            date(2001, person.born.month, person.born.day)  # not a leap year: the birthday is in every year
        except ValueError:
            yield f"{where}.born: {person.born.month}/{person.born.day} is not a day of every year."
        yield from _case_history_problems(person, where, services)
        yield from _legal_problems(person, where)
        for j, consent in enumerate(person.member_consents):
            if (person.organization, consent.member) not in linked:
                yield (
                    f"{where}.member_consents[{j}].member: the directory of {person.organization!r} has no "
                    f"provider that is {consent.member!r} (see member_providers)."
                )
            if not consent.categories:
                yield f"{where}.member_consents[{j}].categories: needs at least one."


def _legal_problems(person: ExonereeSpec, where: str) -> Iterator[str]:
    """What the claim's and records' own checks would refuse at seeding, said with its place."""
    claim = person.claim
    if (claim.filed_days_ago is not None) != (claim.stage in CLAIM_FILED):
        yield f"{where}.claim.filed_days_ago: give it exactly when the stage is one after filing."
    if (claim.override_days_ahead is None) != (not claim.override_reason):
        yield f"{where}.claim.override_reason: an override needs its reason, and a reason its override."
    yield from _duplicates(f"{where}.records[].holder", [record.holder for record in person.records])
    for j, record in enumerate(person.records):
        if (record.confirmed_days_ago is not None) != (record.status == ClearanceStatus.CONFIRMED_CLEAR):
            yield f"{where}.records[{j}].confirmed_days_ago: give it exactly when the status is confirmed_clear."


def _case_history_problems(person: ExonereeSpec, where: str, services: set[str]) -> Iterator[str]:
    yield from _duplicates(f"{where}.needs[].domain", [need.domain for need in person.needs])
    for j, need in enumerate(person.needs):
        at = f"{where}.needs[{j}]"
        if (need.closed_days_ago is not None) != (need.status in NEED_CLOSED):
            yield f"{at}.closed_days_ago: give it exactly when the status is {' or '.join(sorted(NEED_CLOSED))}."
        for k, ref in enumerate(need.referrals):
            if ref.service not in services:
                yield f"{at}.referrals[{k}].service: no service named {ref.service!r}."
            if not 0 <= ref.last_change_days_ago <= ref.days_ago <= need.opened_days_ago:
                yield f"{at}.referrals[{k}]: needs last_change_days_ago <= days_ago <= the need's opened_days_ago."
            if bool(ref.decline_reason) != (ref.status == ReferralStatus.DECLINED):
                yield f"{at}.referrals[{k}].decline_reason: give it exactly when the status is declined."
            if (ref.got_service is not None) != (ref.status == ReferralStatus.COMPLETED):
                yield f"{at}.referrals[{k}].got_service: give it exactly when the status is completed."
    domains = {need.domain for need in person.needs}
    for j, item in enumerate(person.follow_ups):
        at = f"{where}.follow_ups[{j}]"
        if item.need is not None and item.need not in domains:
            yield f"{at}.need: {str(item.need)!r} is not one of this person's needs."
        if not 0 <= item.hour <= 23:
            yield f"{at}.hour: {item.hour} is not an hour of the day."
        if item.outcome is not None and item.due_in_days >= 0:
            yield f"{at}.outcome: only a follow-up in the past can be done."
    yield from _duplicates(f"{where}.check_ins_done[].days", [item.days for item in person.check_ins_done])
    for j, check_in in enumerate(person.check_ins_done):
        if not 0 < check_in.days < person.released_days_ago:
            yield f"{where}.check_ins_done[{j}].days: only a check-in whose day has passed can be done."
    for j, assessment in enumerate(person.assessments):
        if not re.fullmatch(rf"[1-5]{{{len(AssessmentDomain.values)}}}", assessment.scores.replace(" ", "")):
            yield (
                f"{where}.assessments[{j}].scores: needs {len(AssessmentDomain.values)} digits 1-5, "
                f"one per domain ({', '.join(AssessmentDomain.values)})."
            )


def _duplicates(where: str, values: list[Any]) -> Iterator[str]:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            yield f"{where}: {str(value)!r} appears more than once."  # str: a choice as its value
        seen.add(value)


# --- the demo staff's second factor -----------------------------------------------------------

DEMO_DEVICE_NAME = "Demo authenticator"


def demo_totp_key(username: str) -> str:
    """The demo account's TOTP key (hex, as django-otp stores it): the same on every machine."""
    return hashlib.sha256(f"reentry-demo-totp:{username}".encode()).hexdigest()[:40]


def demo_totp_secret(username: str) -> str:
    """The same key in base32, the form authenticator apps ask for."""
    return base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()
