"""The compensation rules table (services/data/compensation_rules.yaml): read, checked, applied.

`rules()` reads the YAML once into frozen `Rule`s and refuses a file with a problem in it (a
missing key, an unknown trigger or benefit, a window that does not parse, a row without a
citation, source or checked date), naming the row. `compute_deadline()` turns a claim's
jurisdiction, trigger event and date (and a lawyer's override) into the filing deadline and the
words that explain it. Pure functions of their arguments: no database, no "today".

The table is information to check with the person's lawyer, not legal advice: every deadline
shown says which rule and citation it came from, and a lawyer's override always wins.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.choices import TriggerEvent

DATA_FILE = Path(__file__).resolve().parent / "data" / "compensation_rules.yaml"

BENEFITS: dict[str, Any] = {
    "tuition": gettext_lazy("tuition"),
    "health_care": gettext_lazy("health care"),
    "job_training": gettext_lazy("job training"),
    "housing": gettext_lazy("housing help"),
    "counselling": gettext_lazy("counselling"),
    "reentry_services": gettext_lazy("reentry services"),
}
KEYS = {
    "code",
    "name",
    "statute",
    "citation",
    "triggers",
    "window",
    "innocence_finding_required",
    "award_per_year",
    "award_note",
    "benefits",
    "source",
    "checked",
    "verification",
}
_WINDOW = re.compile(r"^(?P<amount>[1-9][0-9]?)(?P<unit>[ymd])$")


class RulesError(ValueError):
    pass


class WindowKind(StrEnum):
    LENGTH = "length"
    NONE = "none"  # the statute sets no limit
    UNKNOWN = "unknown"  # this table does not know it: the lawyer must set the deadline


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    amount: int = 0
    unit: str = ""  # "y", "m" or "d"

    @classmethod
    def parse(cls, text: str) -> Window:
        if text in (WindowKind.NONE, WindowKind.UNKNOWN):
            return cls(WindowKind(text))
        if not (match := _WINDOW.match(text)):
            raise RulesError(f"window {text!r} is not '<n>y', '<n>m', '<n>d', 'none' or 'unknown'")
        return cls(WindowKind.LENGTH, int(match["amount"]), match["unit"])

    def after(self, start: date) -> date:
        """The last day of the window that opens on `start`.

        A year or month that lands on a day the month lacks (29 February, 31 April) falls back
        to the month's last day: earlier, never later, than the statute allows.
        """
        if self.unit == "d":
            return date.fromordinal(start.toordinal() + self.amount)
        months = self.amount * 12 if self.unit == "y" else self.amount
        year, month0 = divmod(start.month - 1 + months, 12)
        year += start.year
        return date(year, month0 + 1, min(start.day, calendar.monthrange(year, month0 + 1)[1]))

    def __str__(self) -> str:
        if self.kind != WindowKind.LENGTH:
            return str(self.kind)
        return f"{self.amount}{self.unit}"

    def describe(self) -> str:
        """In words, for the pages."""
        if self.kind == WindowKind.NONE:
            return _("no filing deadline in the statute")
        if self.kind == WindowKind.UNKNOWN:
            return _("filing deadline not known to this table")
        words = {"y": (_("year"), _("years")), "m": (_("month"), _("months")), "d": (_("day"), _("days"))}
        one, many = words[self.unit]
        return f"{self.amount} {one if self.amount == 1 else many}"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    statute: bool
    citation: str
    triggers: tuple[TriggerEvent, ...]
    window: Window
    innocence_finding_required: bool
    award_per_year: int | None
    award_note: str
    benefits: tuple[str, ...]
    source: str
    checked: date
    verification: str

    @property
    def benefit_words(self) -> list[Any]:
        return [BENEFITS[b] for b in self.benefits]


@functools.cache
def rules() -> dict[str, Rule]:
    """Every jurisdiction's rule by code, in the file's order."""
    return load(DATA_FILE)


def rule_for(code: str) -> Rule | None:
    return rules().get(code)


def jurisdiction_choices() -> list[tuple[str, str]]:
    return [(rule.code, rule.name) for rule in rules().values()]


def load(path: Path) -> dict[str, Rule]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list) or not raw:
        raise RulesError(f"{path.name}: expected a list of rows")
    loaded: dict[str, Rule] = {}
    for index, row in enumerate(raw):
        where = f"{path.name}[{index}]" + (f" ({row.get('code')})" if isinstance(row, dict) else "")
        try:
            rule = _rule(row)
        except (RulesError, TypeError, ValueError) as error:
            raise RulesError(f"{where}: {error}") from error
        if rule.code in loaded:
            raise RulesError(f"{where}: code {rule.code} appears twice")
        loaded[rule.code] = rule
    return loaded


def _rule(row: Any) -> Rule:
    if not isinstance(row, dict):
        raise RulesError("a row must be a mapping")
    if missing := KEYS - row.keys():
        raise RulesError(f"missing {sorted(missing)}")
    if unknown := row.keys() - KEYS:
        raise RulesError(f"unknown {sorted(unknown)}")
    for key in ("code", "name", "citation", "award_note", "source", "verification"):
        if not isinstance(row[key], str) or not row[key].strip():
            raise RulesError(f"{key} must be non-empty text")
    if not re.fullmatch(r"[A-Z]{2}", row["code"]):
        raise RulesError("code must be two capital letters")
    for key in ("statute", "innocence_finding_required"):
        if not isinstance(row[key], bool):
            raise RulesError(f"{key} must be true or false")
    if not isinstance(row["checked"], date):
        raise RulesError("checked must be a date (YYYY-MM-DD)")
    if not isinstance(row["triggers"], list) or not isinstance(row["benefits"], list):
        raise RulesError("triggers and benefits must be lists")
    if bad := [t for t in row["triggers"] if t not in TriggerEvent.values]:
        raise RulesError(f"unknown trigger {bad}")
    if bad := [b for b in row["benefits"] if b not in BENEFITS]:
        raise RulesError(f"unknown benefit {bad}")
    award = row["award_per_year"]
    if award is not None and (isinstance(award, bool) or not isinstance(award, int) or award <= 0):
        raise RulesError("award_per_year must be a positive whole number of dollars or null")
    window = Window.parse(str(row["window"]))
    if row["statute"] and not row["triggers"]:
        raise RulesError("a statute needs at least one trigger")
    if not row["statute"] and (row["triggers"] or window.kind != WindowKind.NONE or award is not None):
        raise RulesError("a jurisdiction without a statute has no triggers, window or award")
    return Rule(
        code=row["code"],
        name=row["name"],
        statute=row["statute"],
        citation=row["citation"],
        triggers=tuple(TriggerEvent(t) for t in row["triggers"]),
        window=window,
        innocence_finding_required=row["innocence_finding_required"],
        award_per_year=award,
        award_note=row["award_note"],
        benefits=tuple(row["benefits"]),
        source=row["source"],
        checked=row["checked"],
        verification=row["verification"],
    )


# --- the deadline ------------------------------------------------------------------------------


class DeadlineBasis(StrEnum):
    OVERRIDE = "override"  # a lawyer set it
    STATUTE = "statute"  # computed from the rule
    NO_WINDOW = "no_window"  # the statute sets no limit
    UNKNOWN_WINDOW = "unknown_window"  # the table does not know the limit
    NO_TRIGGER_DATE = "no_trigger_date"  # the trigger event has not happened (or its date is not recorded)
    TRIGGER_NOT_IN_RULE = "trigger_not_in_rule"  # the statute does not count from this event
    NO_STATUTE = "no_statute"  # civil suit or private bill only
    NO_JURISDICTION = "no_jurisdiction"  # the claim names none, or one the table lacks


@dataclass(frozen=True)
class Deadline:
    on: date | None
    basis: DeadlineBasis
    citation: str  # the rule the deadline came from ("" when none)

    @property
    def needs_lawyer(self) -> bool:
        """No date could be computed although a statute may apply: someone must set it."""
        return self.on is None and self.basis in (
            DeadlineBasis.UNKNOWN_WINDOW,
            DeadlineBasis.NO_TRIGGER_DATE,
            DeadlineBasis.TRIGGER_NOT_IN_RULE,
            DeadlineBasis.NO_JURISDICTION,
        )


def compute_deadline(*, jurisdiction: str, trigger: str, trigger_date: date | None, override: date | None) -> Deadline:
    """The filing deadline of a claim. A lawyer's override wins over everything else."""
    rule = rule_for(jurisdiction) if jurisdiction else None
    citation = rule.citation if rule and rule.statute else ""
    if override is not None:
        return Deadline(override, DeadlineBasis.OVERRIDE, citation)
    if rule is None:
        return Deadline(None, DeadlineBasis.NO_JURISDICTION, "")
    if not rule.statute:
        return Deadline(None, DeadlineBasis.NO_STATUTE, "")
    if rule.window.kind == WindowKind.NONE:
        return Deadline(None, DeadlineBasis.NO_WINDOW, citation)
    if rule.window.kind == WindowKind.UNKNOWN:
        return Deadline(None, DeadlineBasis.UNKNOWN_WINDOW, citation)
    if trigger not in rule.triggers:
        return Deadline(None, DeadlineBasis.TRIGGER_NOT_IN_RULE, citation)
    if trigger_date is None:
        return Deadline(None, DeadlineBasis.NO_TRIGGER_DATE, citation)
    return Deadline(rule.window.after(trigger_date), DeadlineBasis.STATUTE, citation)


# Within this many days of its filing deadline, or past it, a claim not filed yet is urgent:
# marked so on the staff's Legal page, and its part of the person's plan stands open. The
# first warning goes out then too (services.reminder_plans.COMPENSATION_WARNINGS).
URGENT_DAYS = 90


def deadline_urgent(deadline: date | None, today: date) -> bool:
    """Whether a filing deadline still to meet is urgent on `today`: within URGENT_DAYS, or
    passed. None (no deadline, or none left to meet: the claim is filed or closed) never is."""
    return deadline is not None and (deadline - today).days <= URGENT_DAYS
