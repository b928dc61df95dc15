"""Exports, recorded in the access log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser

from services import audit
from services.models.audit import AuditEvent
from services.models.people import Exoneree

# The access log.


def described(filters: dict[str, Any]) -> dict[str, str]:
    """The filters an export used, as the log shows them: a person by username, not by id."""
    return {
        name: (value.get_username() if hasattr(value, "get_username") else str(value))
        for name, value in filters.items()
        if value
    }


def audit_export(*, by: AbstractUser, filters: dict[str, Any]) -> None:
    """An export of the log is itself an entry, naming the filters it used."""
    audit.record(
        AuditEvent.Action.EXPORTED, actor=by, target="Access log (CSV)", changes={"filters": described(filters)}
    )


def plan_export(*, by: AbstractUser, exoneree: Exoneree) -> None:
    """A caseworker or director printed the person's plan (a PDF leaves the app)."""
    audit.record(
        AuditEvent.Action.EXPORTED, actor=by, exoneree=exoneree, target=f"Plan of {audit.describe(exoneree)} (PDF)"
    )


def own_copy_export(*, by: AbstractUser, exoneree: Exoneree, form: str) -> None:
    """The person's own copy (PDF or JSON) left the app: downloaded by them, or by staff on
    their behalf. The entry names the record by number only, like the plan's."""
    audit.record(
        AuditEvent.Action.EXPORTED,
        actor=by,
        exoneree=exoneree,
        target=f"Own copy of {audit.describe(exoneree)} ({form})",
    )


def outcomes_export(*, by: AbstractUser, figure: str, filters: dict[str, Any]) -> None:
    """A download of an outcome figure (by its title) is an export like any other: logged."""
    audit.record(
        AuditEvent.Action.EXPORTED,
        actor=by,
        target=f"Outcomes: {figure} (CSV)",
        changes={"filters": described(filters)},
    )
