"""The access log as a director reads it: labelled values in the organization's time, records
named, and a run of openings by one person shown as one row.

The log itself is never changed (it is a hash chain, services.audit): this is only how a page
of it is shown. A change is stored as {field: [old, new]} with ids and ISO times; here each
becomes "Assigned to: Caseworker One → Caseworker Two", "Due: 4 Dec, 10:30". A page costs at
most one query per kind of record it names (and one for the people it names), whatever its
length.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Case, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import Cast, Coalesce, Concat, Lag
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from services.choices import AssessmentDomain, ConsentCategory, Role
from services.models.audit import AuditEvent
from services.models.documents import Document, DocumentKind
from services.models.needs import Need

User = get_user_model()

# Openings of one record by one person, each within this of the one before, are one row.
RUN_GAP = timedelta(minutes=30)
RUN_CHUNK = 2000  # entries read at a time for a page's rows (a long run is read to its end)
GROUPED = frozenset({AuditEvent.Action.RECORD_VIEWED, AuditEvent.Action.PROVIDER_OPENED})
DATE, DATE_TIME = "M j, Y", "M j, Y g:i a"  # as every page shows them
# services.audit.describe: "Follow-up 12", also within words: "Plan of Exoneree 8 (PDF)".
TARGET = re.compile(r"^(?:(?P<before>.+ of) )?(?P<kind>[^()]+?) (?P<pk>\d+)(?P<after> \([^()]*\))?$")


class Entry(Protocol):
    """What grouping reads of an entry."""

    at: datetime
    action: str
    username: str
    actor_id: int | None
    exoneree_id: int | None


@dataclass
class LogRow:
    """One row of the log page: an entry, or a run of openings (`times` > 1, newest first)."""

    entry: Any  # an AuditEvent
    times: int = 1
    first_at: datetime | None = None  # the run's earliest opening
    record: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_run(self) -> bool:
        return self.times > 1

    @property
    def who(self) -> str:
        """The staff member by name (by username when they have none), or the username typed
        for a sign-in that named no account."""
        actor = self.entry.actor
        if actor is None:
            return self.entry.username or _("unknown")
        return actor.get_full_name() or actor.username

    @property
    def role(self) -> str:
        """The staff member's role, in small letters as the row says it after the name."""
        actor = self.entry.actor
        staff = getattr(actor, "staff", None) if actor is not None else None
        return str(staff.get_role_display()).lower() if staff is not None else ""


def log_rows(entries: Iterable[AuditEvent]) -> list[LogRow]:
    """A page of entries (newest first) as rows: runs grouped, records named, details labelled.
    Times are shown in the current time zone (the organization's, services.middleware)."""
    return _described(group_runs(entries))


def export_rows(entries: Iterable[AuditEvent]) -> list[LogRow]:
    """Entries as the log's rows, one row each: the CSV keeps every entry, a run's openings too,
    each read as the page reads it (records named, details labelled)."""
    return _described([LogRow(entry=entry) for entry in entries])


def csv_header() -> list[str]:
    """The columns of the log's page, by the words its table heads them with."""
    return [_("When"), _("Who"), _("What"), _("Person"), _("Record"), _("Details"), _("From")]


def csv_cells(row: LogRow) -> list[str]:
    """One entry as the page's row says it, under csv_header(): the moment its <time> element
    carries (the organization's time, to the second), the details whole where the page folds a
    long one; an empty cell where the page draws a dash."""
    entry = row.entry
    return [
        timezone.localtime(entry.at).isoformat(timespec="seconds"),
        f"{row.who} ({row.role})" if row.role else row.who,
        str(entry.get_action_display()),
        entry.exoneree.display_name if entry.exoneree else "",
        row.record,
        "; ".join(f"{label}: {value}" for label, value in row.details),
        entry.ip_address or "",
    ]


def _described(rows: list[LogRow]) -> list[LogRow]:
    """The rows with their records named and their details labelled, one query per kind of
    record they name."""
    kinds = _models_by_kind()
    names = _Names()
    targets = [_target(row.entry.target, kinds) for row in rows]
    for row, (model, pk) in zip(rows, targets, strict=True):
        if model is not None:
            names.want(model, pk)
        for name, change in (row.entry.changes or {}).items():
            related = _related_model(model, name)
            if related is not None and isinstance(change, list):
                for value in change:
                    if isinstance(value, int):
                        names.want(related, value)
    names.load()
    for row, (model, pk) in zip(rows, targets, strict=True):
        row.record = _record(row.entry.target, model, pk, names) if model is not None else ""
        row.record = row.record or row.entry.target
        details = [
            _detail(model, name, change, names)
            for name, change in (row.entry.changes or {}).items()
            if name not in STORAGE_FIELDS and not _seconds_only(change)
        ]
        # A failed sign-in's step is both its record and its detail ("Step: one-time code"): once.
        row.details = [(label, value) for label, value in details if f"{label}: {value}" != row.record]
    return rows


def records_named(targets: Iterable[str]) -> dict[str, str]:
    """Each entry's record ("Follow-up 12") by its name, as the log shows it ("Follow-up “SNAP
    interview”"), or as written when the record is gone: one query per kind of record."""
    kinds = _models_by_kind()
    names = _Names()
    found = {target: _target(target, kinds) for target in set(targets)}
    for model, pk in found.values():
        if model is not None:
            names.want(model, pk)
    names.load()
    return {target: (names.title(model, pk) if model else "") or target for target, (model, pk) in found.items()}


def _record(target: str, model: type[models.Model], pk: int, names: _Names) -> str:
    """The record by name: "Plan of Exoneree 8 (PDF)" is "Plan of Marcus Webb (PDF)"."""
    match = TARGET.match(target)
    if not match["before"]:
        return names.title(model, pk)
    obj = names.loaded.get(model, {}).get(pk)
    name = getattr(obj, "display_name", "") or names.title(model, pk)
    return f"{match['before']} {name}{match['after'] or ''}" if name else ""


def _seconds_only(change: Any) -> bool:
    """A moment that moved by less than a minute (a status's time stamped again): shown to the
    minute, its two sides would read the same. Judged on the stored values, not the words."""
    if not (isinstance(change, list) and len(change) == 2 and all(isinstance(v, str) for v in change)):
        return False
    if not all(":" in value for value in change):  # a day, not a moment
        return False
    try:
        old, new = (datetime.fromisoformat(value) for value in change)
        return abs((new - old).total_seconds()) < 60
    except (ValueError, TypeError):  # not a moment; or one aware, one naive
        return False


# A staff account's changes (no model field to read them by): each a value before and after.
ACCOUNT_PAIRS = {"role", "title", "is_active", "email", "first_name", "last_name", "login", "sign_in_lockout"}


# How a document's file is kept (its storage name, its sealed data key, its file id): the log
# keeps them, for an operator; a director reading who did what learns nothing from them.
STORAGE_FIELDS = {"storage_name", "data_key", "file_id"}


def group_runs(entries: Iterable[Entry]) -> list[LogRow]:
    """Consecutive openings (newest first) of one person's record by one reader, each within
    RUN_GAP of the previous, become one row counting them."""
    rows: list[LogRow] = []
    newer: Entry | None = None
    for entry in entries:
        if newer is not None and _continues(newer, entry):
            rows[-1].times += 1
            rows[-1].first_at = entry.at
        else:
            rows.append(LogRow(entry=entry))
        newer = entry
    return rows


def _continues(newer: Entry, entry: Entry) -> bool:
    """The entry goes on the run of the one just newer (run_heads says the same in SQL)."""
    return (
        entry.action in GROUPED
        and newer.action == entry.action
        and _reader(newer) == _reader(entry)
        and newer.exoneree_id == entry.exoneree_id
        and newer.at - entry.at <= RUN_GAP
    )


def _reader(entry: Entry) -> tuple[int | None, str]:
    return (entry.actor_id, "" if entry.actor_id else entry.username)


def run_heads(entries: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """The entries (newest first) that begin a row of the log, as group_runs reads them: pages
    are counted in rows, so a run is never cut in two and no page starts with the rest of one.

    In SQL, from the entry before each (the next newer one): an opening continues a run when
    that one is the same opening, by the same reader, of the same person, RUN_GAP earlier at
    most. One expression, so that counting the heads (a filter on a window) is allowed."""
    newer = {"order_by": F("pk").desc()}
    reader = Case(
        When(actor__isnull=False, then=Concat(Value("#"), Cast("actor_id", models.CharField()))),
        default=Concat(Value("~"), "username"),
        output_field=models.CharField(),
    )
    continues = (
        Q(action__in=GROUPED)
        & Q(action=Window(Lag("action"), **newer))
        & Q(**{"reader": Window(Lag(reader), **newer)})
        & Q(person=Window(Lag("person"), **newer))
        & Q(at__gte=Window(Lag("at"), **newer) - Value(RUN_GAP))
    )
    return (
        entries.alias(reader=reader, person=Coalesce("exoneree_id", 0))
        .alias(head=Case(When(continues, then=Value(False)), default=Value(True)))
        .filter(head=True)
    )


def rows_from(entries: QuerySet[AuditEvent], heads: Sequence[AuditEvent]) -> list[AuditEvent]:
    """Every entry of the rows a page of heads begins: from its first head on, up to the head
    that begins the next page (read as they come, so a long run costs no more than itself)."""
    taken: list[AuditEvent] = []
    if not heads:
        return taken
    rows = 0
    for entry in entries.filter(pk__lte=heads[0].pk).iterator(chunk_size=RUN_CHUNK):
        if not taken or not _continues(taken[-1], entry):
            if rows == len(heads):
                break
            rows += 1
        taken.append(entry)
    return taken


# Records and the people named in a change ----------------------------------------------------


def _models_by_kind() -> dict[str, type[models.Model]]:
    # The same spelling as services.audit.describe writes.
    return {str(m._meta.verbose_name).capitalize(): m for m in apps.get_app_config("services").get_models()}


def _target(target: str, kinds: dict[str, type[models.Model]]) -> tuple[type[models.Model] | None, int | None]:
    match = TARGET.match(target or "")
    if not match:
        return None, None
    model = kinds.get(match["kind"])
    return (model, int(match["pk"])) if model is not None else (None, None)


def _related_model(model: type[models.Model] | None, name: str) -> type[models.Model] | None:
    field_ = _field(model, name)
    return field_.related_model if field_ is not None and _points_to_one(field_) else None


def _points_to_one(field_: models.Field) -> bool:
    """A field holding one record's id (a foreign key, or a one-to-one such as the version a
    paper replaces): the log keeps the id, the page says the record."""
    return field_.is_relation and field_.concrete and (field_.many_to_one or field_.one_to_one)


def _title_of(obj: models.Model) -> str:
    """A record's name without its sensitive content (no need text, no note)."""
    titles: dict[str, Callable[[Any], str]] = {
        "followup": lambda o: _("Follow-up “%(title)s”") % {"title": o.title},
        "need": lambda o: _("Need: %(domain)s") % {"domain": o.get_domain_display()},
        "referral": lambda o: _("Referral to %(name)s") % {"name": o.resource.name},
        "consent": lambda o: _("Consent to share with %(name)s") % {"name": o.provider.name},
        "casenote": lambda o: _("Note of %(day)s") % {"day": date_format(timezone.localtime(o.created_at), DATE)},
        "assessment": lambda o: (
            _("%(kind)s assessment of %(day)s") % {"kind": o.get_kind_display(), "day": date_format(o.taken_on, DATE)}
        ),
        "exoneree": lambda o: _("Profile of %(name)s") % {"name": o.display_name},
        # A case, by the day it opened: its own words were "4: 2025-01-17–" (the person's id).
        "enrolment": lambda o: _("Case opened %(day)s") % {"day": date_format(o.opened_on, DATE)},
    }
    if isinstance(obj, User):
        return obj.get_full_name() or obj.get_username()
    title = titles.get(obj._meta.model_name)
    return title(obj) if title else str(obj)


_RELATED: dict[str, list[str]] = {"referral": ["resource"], "consent": ["provider"]}


class _Names:
    """Loads every record a page names, one query per kind."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        self.loaded: dict[type[models.Model], dict[int, models.Model]] = {}

    def want(self, model: type[models.Model], pk: int | None) -> None:
        if pk is not None:
            self.wanted[model].add(pk)

    def load(self) -> None:
        for model, pks in self.wanted.items():
            queryset = model._default_manager.select_related(*_RELATED.get(model._meta.model_name, []))
            self.loaded[model] = queryset.in_bulk(pks)

    def title(self, model: type[models.Model] | None, pk: int | None) -> str:
        obj = self.loaded.get(model, {}).get(pk) if model is not None else None
        return _title_of(obj) if obj is not None else ""


# Values ---------------------------------------------------------------------------------------


def _detail(model: type[models.Model] | None, name: str, change: Any, names: _Names) -> tuple[str, str]:
    field_ = _field(model, name)
    label = capfirst(str(field_.verbose_name)) if field_ is not None else capfirst(name.replace("_", " "))
    if name.startswith("score ") and isinstance(change, list) and len(change) == 2:
        # An assessment's score in one area, before and after (services.actions.casework).
        domain = name.removeprefix("score ")
        area = dict(AssessmentDomain.choices).get(domain, domain.replace("_", " "))
        old, new = ("—" if value is None else str(value) for value in change)
        return _("Score: %(area)s") % {"area": area}, f"{old} → {new}" if old != "—" else new
    if change == "set":
        return label, _("added")
    if change == "changed":
        return label, _("changed")
    if isinstance(change, list) and len(change) == 2 and field_ is not None:
        old, new = (_value(field_, value, names) for value in change)
        if new.startswith(f"{label}: "):  # "Need: Need: Housing" reads "Need: Housing"
            old, new = old.removeprefix(f"{label}: "), new.removeprefix(f"{label}: ")
        return label, f"{old} → {new}" if old != "—" else new
    if (
        isinstance(change, list)
        and len(change) == 2
        and (
            name in ACCOUNT_PAIRS
            # A set of words before and after (a consent's kinds of information): named, not listed as Python.
            or (
                all(value is None or isinstance(value, list) for value in change)
                and any(isinstance(value, list) for value in change)
            )
        )
    ):
        old, new = (_word(name, value) for value in change)
        return label, f"{old} → {new}" if old != "—" else new
    if isinstance(change, list):
        return label, ", ".join(_word(name, value) for value in change) or "—"
    if isinstance(change, dict):
        return label, ", ".join(f"{key} {value}" for key, value in change.items())
    return label, str(change)


def _word(name: str, value: Any) -> str:
    """A value of a list the log keeps, in words where it is one of a known vocabulary."""
    if isinstance(value, list):  # a set of words kept whole (a consent's kinds, before or after)
        return ", ".join(_word(name, item) for item in value) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "role" and isinstance(value, str):
        return str(dict(Role.choices).get(value, value))
    if name == "categories" and isinstance(value, str):
        return str(dict(ConsentCategory.choices).get(value, value))
    return str(value)


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # a field since removed
        return None


def _value(field_: models.Field, value: Any, names: _Names) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):  # names, as a caseload change stores them; a need's papers
        labels = dict(DocumentKind.choices) if field_ is Need._meta.get_field("papers") else {}
        return ", ".join(str(labels.get(item, item)) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field_ is Document._meta.get_field("replaces") and isinstance(value, int):
        return _version(names.loaded.get(Document, {}).get(value))
    if _points_to_one(field_) and isinstance(value, int):
        return names.title(field_.related_model, value) or _("a record since deleted")
    if field_.choices:
        return str(dict(field_.flatchoices).get(value, value))
    if isinstance(field_, models.DateTimeField) and isinstance(value, str):
        return _moment(value)
    if isinstance(field_, models.DateField) and isinstance(value, str):
        try:
            return date_format(date.fromisoformat(value), DATE)
        except ValueError:
            return value
    return str(value)


def _version(document: Any) -> str:
    """The version a paper replaces, as a director tells it from the new one: its kind and the
    day it was added. Not its title: an encrypted field, of which the log says only "added"."""
    if document is None:
        return _("a record since deleted")
    day = date_format(timezone.localtime(document.uploaded_at), DATE)
    return _("%(kind)s added %(day)s") % {"kind": document.get_kind_display(), "day": day}


def _moment(value: str) -> str:
    """'2026-12-04 15:30:00.123456+00:00' -> 'Dec 4, 2026 10:30 a.m.' in the current zone (the
    app's one date-time format)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return date_format(timezone.localtime(moment), DATE_TIME)
