"""The access log: append-only, each entry chained to the one before by a hash.

Who did what, to whose record, when and from where: every opening of a person's record,
every reveal of a masked value, every export, every sign-in (and failed one), every change
of a role or a caseload, and every change to a case record (which fields, from what to what;
for an encrypted field only that it changed).

Tamper evidence. Each entry stores the hash of the previous entry and its own hash over
both; `manage.py verify_audit` recomputes the chain and names the first entry that was
changed, or the place where entries were removed. Writers take a lock (an advisory lock on
PostgreSQL; SQLite's write lock, taken at BEGIN, already serializes) so two requests never
chain to the same predecessor. Lock order, so that no two writers wait on each other in a
circle: an action locks its rows (the organization first), writes, then records; the chain's
lock comes last (`lock_chain` first takes the row locks the entry's foreign keys will need
at commit), and what a transaction still locks after it (the outcome counts) is guarded by a
lock it took before (the organization's). On PostgreSQL a trigger also refuses UPDATE and
DELETE of the table; the model refuses them in Python on every database.

The request (its address, and which records it has already logged) reaches the access
helpers through a context variable set by `AuditMiddleware`, so views stay as they are.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db import connection, models, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from services.auth import account_named, own_exoneree_or_none, staff_of
from services.fields import DerivedMixin, EncryptedMixin
from services.models.audit import AuditEvent
from services.models.organizations import Organization, StaffMember
from services.models.people import Exoneree

User = get_user_model()

GENESIS = "0" * 64
# An arbitrary constant: the PostgreSQL advisory lock that serializes writers of the chain.
CHAIN_LOCK = 0x5E_E7_A0_D1


@dataclass
class RequestContext:
    ip_address: str | None
    method: str
    logged: set[int] = field(default_factory=set)  # exonerees whose opening this request logged


_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(RequestContext(ip_address=client_ip(request), method=request.method or ""))
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, in canonical form, or None when it is not one.

    Behind TRUSTED_PROXY_HOPS reverse proxies, the address the nearest untrusted hop gave:
    X-Forwarded-For is whatever the client wants it to be, except for the entries our own
    proxies appended, counted from the right.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if hops := settings.TRUSTED_PROXY_HOPS:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def canonical(entry: AuditEvent) -> str:
    """Every field of the entry, the previous hash first, in a fixed form (ASCII JSON)."""
    return json.dumps(
        [
            entry.prev_hash,
            entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
            entry.actor_id,
            entry.username,
            entry.organization_id,
            entry.action,
            entry.exoneree_id,
            entry.target,
            entry.changes or {},
            entry.ip_address or "",
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def entry_hash(entry: AuditEvent) -> str:
    """SHA-256 over the previous hash and every field of the entry."""
    return hashlib.sha256(canonical(entry).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first entry where the chain does not hold."""

    entry: AuditEvent
    follows: int | None  # the entry before it in the log; None: it is the first
    removed: bool  # it does not follow that entry (entries removed in between); else it was changed


@dataclass(frozen=True)
class ChainCheck:
    """What one pass over the chain found: how far it read, and the first break, if any."""

    checked: int
    last_pk: int | None
    broken: ChainBreak | None


def check_chain(*, after: int = 0, batch_size: int = 2000) -> ChainCheck:
    """Recompute the chain from the entry after entry `after` (0: the start of the log) to its end.

    `manage.py verify_audit` checks from the start; the directors' page checks the newest part
    (services.selectors.audit_trail). From the middle, the entry at `after` is taken as it is
    stored: its hash is what the next entry must name. Read in batches, by id, so memory stays
    flat whatever the log's length.
    """
    previous_pk, previous_hash = None, GENESIS
    if after:
        previous_pk, previous_hash = AuditEvent.objects.filter(pk__lte=after).order_by("-pk").values_list(
            "pk", "hash"
        ).first() or (None, GENESIS)
    checked, last = 0, after
    while batch := list(AuditEvent.objects.filter(pk__gt=last).order_by("pk")[:batch_size]):
        for entry in batch:
            if entry.prev_hash != previous_hash:
                return ChainCheck(checked, previous_pk, ChainBreak(entry, previous_pk, removed=True))
            if entry_hash(entry) != entry.hash:
                return ChainCheck(checked, previous_pk, ChainBreak(entry, previous_pk, removed=False))
            previous_hash, previous_pk = entry.hash, entry.pk
            checked += 1
        last = batch[-1].pk
    return ChainCheck(checked, previous_pk, None)


# The fields an INSERT sets from the entry; the chain's two are computed by the database.
_INSERTED = [f for f in AuditEvent._meta.concrete_fields if f.name not in {"id", "prev_hash", "hash"}]


def _insert_chained_postgresql(entry: AuditEvent) -> None:
    """Append `entry` in one statement that reads the chain's head and hashes over it.

    The caller holds the chain's lock, taken in an earlier statement, so this statement's
    snapshot (read committed: taken when it starts) holds the last entry committed by the
    writer before. `canonical(entry)` is `["<prev_hash>",<the rest>`, so the database hashes
    the same text `entry_hash` does (`sha256()` is built into PostgreSQL since 11), and
    `verify_audit` checks it in Python like any other entry.
    """
    entry.prev_hash = GENESIS
    head = json.dumps([GENESIS])[:-1] + ","
    text = canonical(entry)
    if not text.startswith(head):  # the previous hash must stay the first value
        raise AssertionError("canonical() no longer starts with the previous hash")
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _INSERTED)
    placeholders = ", ".join(f"%s::{f.db_type(connection)}" for f in _INSERTED)
    values = [f.get_db_prep_save(f.pre_save(entry, add=True), connection) for f in _INSERTED]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"""
        WITH head AS (SELECT COALESCE((SELECT hash FROM {table} ORDER BY id DESC LIMIT 1), %s) AS hash)
        INSERT INTO {table} ({columns}, prev_hash, hash)
        SELECT {placeholders}, head.hash,
               encode(sha256(convert_to('["' || head.hash || '",' || %s, 'UTF8')), 'hex')
        FROM head
        RETURNING id, prev_hash, hash
    """  # noqa: S608 (names from the model's own fields; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [GENESIS, *values, text[len(head) :]])
        entry.pk, entry.prev_hash, entry.hash = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias


def lock_chain(entry: AuditEvent | None = None) -> None:
    """Take the chain's lock, last: after key-share locks on the rows the entry refers to.

    The chain's lock is held until commit, and at commit the entry's deferred foreign-key
    checks want a key-share lock on the person, organization and user it names. Taken
    then, they could wait for a transaction that holds one of those rows (a caseload change
    locks the person) and is itself waiting for the chain: a deadlock. Taken here, first,
    a writer waits for such a transaction before it holds the chain, never while. One
    statement: the lock's argument depends on the locked rows' count, so the database
    locks them before it calls the function, and the page pays no extra query.
    """
    if connection.vendor != "postgresql":
        return  # SQLite's write lock, taken at BEGIN, is the only lock there
    tables = [connection.ops.quote_name(model._meta.db_table) for model in (Exoneree, Organization, User)]
    sql = f"""
        WITH person AS (SELECT 1 FROM {tables[0]} WHERE id = %s FOR KEY SHARE),
             organization AS (SELECT 1 FROM {tables[1]} WHERE id = %s FOR KEY SHARE),
             actor AS (SELECT 1 FROM {tables[2]} WHERE id = %s FOR KEY SHARE)
        SELECT pg_advisory_xact_lock(%s::bigint + 0 * (
            (SELECT count(*) FROM person) + (SELECT count(*) FROM organization) + (SELECT count(*) FROM actor)
        ))
    """  # noqa: S608 (the models' own table names; every value is a parameter)
    with connection.cursor() as cursor:
        referenced = [entry.exoneree_id, entry.organization_id, entry.actor_id] if entry else [None, None, None]
        cursor.execute(sql, [*referenced, CHAIN_LOCK])


def record(
    action: str,
    *,
    actor: Any = None,
    username: str = "",
    organization_id: int | None = None,
    exoneree: Exoneree | None = None,
    target: str = "",
    changes: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one entry to the chain. Commits with the caller's transaction, or not at all."""
    context = _request.get()
    if ip_address is None and context is not None:
        ip_address = context.ip_address
    if actor is not None and not username:
        username = actor.get_username()
    if organization_id is None:
        organization_id = exoneree.organization_id if exoneree is not None else _organization_of(actor)
    entry = AuditEvent(
        actor=actor,
        username=username[:150],
        organization_id=organization_id,
        action=action,
        exoneree=exoneree,
        target=target[:200],
        changes=changes or {},
        ip_address=ip_address,
    )
    with transaction.atomic():
        lock_chain(entry)
        entry.at = timezone.now()  # under the lock: entries' times follow their order in the chain
        if connection.vendor == "postgresql":
            _insert_chained_postgresql(entry)
        else:
            entry.prev_hash = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first() or GENESIS
            entry.hash = entry_hash(entry)
            entry.save(force_insert=True)
    return entry


def _organization_of(user: Any) -> int | None:
    if user is None:
        return None
    if staff := staff_of(user):
        return staff.organization_id
    if exoneree := own_exoneree_or_none(user):
        return exoneree.organization_id
    return None


def record_view(user: Any, exoneree: Exoneree, target: models.Model | None = None) -> bool:
    """A staff member opened (GET) a page of this person's record: once per request. Whether
    this call was the one that logged it."""
    context = _request.get()
    if context is None or context.method not in ("GET", "HEAD") or exoneree.pk in context.logged:
        return False
    context.logged.add(exoneree.pk)
    record(AuditEvent.Action.RECORD_VIEWED, actor=user, exoneree=exoneree, target=describe(target or exoneree))
    return True


def describe(obj: models.Model) -> str:
    """Which record, without its content: 'Referral 12'."""
    return f"{obj._meta.verbose_name.capitalize()} {obj.pk}"


# Change history -------------------------------------------------------------------------------


def snapshot(instance: models.Model | None) -> dict[str, Any]:
    """The values a change record compares: plain fields by value, encrypted ones by value
    too (compared in memory only; `changes_between` never writes them out)."""
    if instance is None:
        return {}
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if not f.primary_key and not isinstance(f, DerivedMixin) and not getattr(f, "auto_now", False)
    }


def changes_between(model: type[models.Model], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]}, or {field: "changed"} for an encrypted field (never its values)."""
    changes: dict[str, Any] = {}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for name, new in after.items():
        old = before.get(name)
        if old == new or (not before and new in (None, "", False, [])):
            continue
        field_ = fields[name]
        if isinstance(field_, EncryptedMixin):
            changes[field_.name] = "set" if not before else "changed"
        else:
            changes[field_.name] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, list):  # a JSON list (the key papers a need is for): kept a list
        return [_plain(item) for item in value]
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def stored(instance: models.Model) -> dict[str, Any]:
    """The snapshot of the row as the database has it now (before a save changes it)."""
    return snapshot(type(instance)._default_manager.get(pk=instance.pk))


def record_change(
    by: Any,
    instance: models.Model,
    before: dict[str, Any],
    *,
    exoneree: Exoneree | None,
    fields: Iterable[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One entry for a created or changed record, listing what changed (nothing: no entry).

    `fields`: what the save wrote (its update_fields). Only those are compared, so a value
    changed meanwhile by someone else is not reported as changed by this save.
    """
    after = snapshot(instance)
    if fields is not None:
        saved = {instance._meta.get_field(name).attname for name in fields}
        after = {name: value for name, value in after.items() if name in saved}
    changes = changes_between(type(instance), before, after) | (extra or {})
    if changes:
        action = AuditEvent.Action.RECORD_CHANGED if before else AuditEvent.Action.RECORD_CREATED
        record(action, actor=by, exoneree=exoneree, target=describe(instance), changes=changes)


def staff_names(users: Iterable[Any]) -> list[str]:
    return sorted(user.get_full_name() or user.get_username() for user in users)


# Sign-in and sign-out -------------------------------------------------------------------------


# A sign-in's entry ("Signed in", or the password of one still owing its one-time code) is
# written by services.signin, which knows when the whole sign-in has passed.


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(AuditEvent.Action.SIGNED_OUT, actor=user, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed)
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The username as typed (never the password; Django has already masked it). When it
    # names an account, the entry belongs to that account's organization.
    # A deactivated account counts too: a former employee trying to get back in is exactly
    # what a director must see.
    username = str(credentials.get("username", ""))[:150]
    user = account_named(username)  # "Caseworker1 " is caseworker1's failure too
    organization_id = None
    if user is not None:
        organization_id = (
            StaffMember.objects.filter(user=user).values_list("organization_id", flat=True).first()
            or Exoneree.objects.filter(user=user).values_list("organization_id", flat=True).first()
        )
    # A wrong one-time code after the right password names its step (services.actions).
    step = credentials.get("step")
    record(
        AuditEvent.Action.SIGN_IN_FAILED,
        username=username,
        organization_id=organization_id,
        target=f"Step: {step}" if step else "",
        changes={"step": step} if step else None,
        ip_address=client_ip(request) if request else None,
    )
