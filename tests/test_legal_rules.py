"""The compensation rules table: the data file validates, and deadlines on hand-worked examples."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from services import legal_rules
from services.choices import LegalItemKind
from services.legal_rules import DeadlineBasis, RulesError, Window, WindowKind, compute_deadline
from services.selectors.legal import ITEM_PLAIN

STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()


def test_every_jurisdiction_once() -> None:
    assert len(STATES) == 50
    assert sorted(legal_rules.rules()) == sorted([*STATES, "DC", "US"])


def test_every_row_cites_its_source_and_parses() -> None:
    raw = yaml.safe_load(legal_rules.DATA_FILE.read_text(encoding="utf-8"))
    for row in raw:
        rule = legal_rules.rules()[row["code"]]
        assert rule.citation.strip() and rule.source.strip() and rule.verification.strip(), row["code"]
        assert isinstance(row["checked"], date) and rule.checked <= date(2026, 12, 2), row["code"]
        # The window round-trips through its parser; the triggers are the app's vocabulary.
        assert str(Window.parse(str(row["window"]))) == str(row["window"]) == str(rule.window)
        assert [str(t) for t in rule.triggers] == row["triggers"]
        if rule.statute:
            assert rule.triggers, row["code"]
        else:
            assert rule.citation == "No compensation statute" and rule.window.kind == WindowKind.NONE


def test_counts_match_the_registry() -> None:
    """The NRE page read says 38 states and DC have a statute; the federal one makes 40."""
    with_statute = [rule.code for rule in legal_rules.rules().values() if rule.statute]
    assert len(with_statute) == 40 and {"US", "DC"} <= set(with_statute)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window": "two years"}, "window 'two years'"),
        ({"window": "0y"}, "window '0y'"),
        ({"triggers": ["arrest"]}, "unknown trigger"),
        ({"citation": " "}, "citation must be non-empty"),
        ({"source": ""}, "source must be non-empty"),
        ({"checked": "soon"}, "checked must be a date"),
        ({"benefits": ["yacht"]}, "unknown benefit"),
        ({"award_per_year": -5}, "award_per_year"),
        ({"statute": False}, "without a statute"),
        ({"colour": "red"}, "unknown ['colour']"),
    ],
)
def test_a_bad_row_is_refused_and_named(tmp_path: Path, change: dict, message: str) -> None:
    raw = yaml.safe_load(legal_rules.DATA_FILE.read_text(encoding="utf-8"))
    il = next(row for row in raw if row["code"] == "IL")
    il.update(change)
    bad = tmp_path / "rules.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        legal_rules.load(bad)
    assert "(IL)" in str(refused.value) and message in str(refused.value)


def test_a_missing_key_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(legal_rules.DATA_FILE.read_text(encoding="utf-8"))
    del raw[3]["checked"]
    bad = tmp_path / "rules.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(RulesError, match=r"missing \['checked'\]"):
        legal_rules.load(bad)


# --- deadlines, worked by hand ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "start", "last_day"),
    [
        ("2y", date(2025, 3, 14), date(2027, 3, 14)),
        ("2y", date(2024, 2, 29), date(2026, 2, 28)),  # no 29 February in 2026: the day before
        ("3y", date(2023, 12, 31), date(2026, 12, 31)),
        ("6m", date(2025, 8, 31), date(2026, 2, 28)),
        ("18m", date(2025, 1, 15), date(2026, 7, 15)),
        ("90d", date(2025, 12, 1), date(2026, 3, 1)),  # 30 + 31 + 28 + 1
    ],
)
def test_window_arithmetic(window: str, start: date, last_day: date) -> None:
    assert Window.parse(window).after(start) == last_day


def test_two_year_statute_from_its_trigger() -> None:
    # Illinois: two years from the vacatur and dismissal.
    deadline = compute_deadline(
        jurisdiction="IL", trigger="vacatur_dismissal", trigger_date=date(2025, 3, 14), override=None
    )
    assert deadline.on == date(2027, 3, 14)
    assert deadline.basis == DeadlineBasis.STATUTE
    assert "735 ILCS 5/2-702" in deadline.citation


def test_five_and_three_and_ninety_day_windows() -> None:
    nc = compute_deadline(jurisdiction="NC", trigger="pardon", trigger_date=date(2024, 6, 1), override=None)
    tx = compute_deadline(jurisdiction="TX", trigger="pardon", trigger_date=date(2024, 6, 1), override=None)
    fl = compute_deadline(jurisdiction="FL", trigger="vacatur_dismissal", trigger_date=date(2024, 6, 1), override=None)
    assert (nc.on, tx.on, fl.on) == (date(2029, 6, 1), date(2027, 6, 1), date(2024, 8, 30))


def test_missing_trigger_date_gives_no_date_and_asks_for_one() -> None:
    deadline = compute_deadline(jurisdiction="IL", trigger="vacatur_dismissal", trigger_date=None, override=None)
    assert deadline.on is None and deadline.basis == DeadlineBasis.NO_TRIGGER_DATE and deadline.needs_lawyer


def test_rule_with_no_window() -> None:
    deadline = compute_deadline(jurisdiction="DC", trigger="pardon", trigger_date=date(2024, 1, 1), override=None)
    assert deadline.on is None and deadline.basis == DeadlineBasis.NO_WINDOW and not deadline.needs_lawyer


def test_rule_whose_window_this_table_does_not_know() -> None:
    deadline = compute_deadline(jurisdiction="MD", trigger="pardon", trigger_date=date(2024, 1, 1), override=None)
    assert deadline.on is None and deadline.basis == DeadlineBasis.UNKNOWN_WINDOW and deadline.needs_lawyer


def test_trigger_the_statute_does_not_count_from() -> None:
    # Maine counts only from a pardon.
    deadline = compute_deadline(
        jurisdiction="ME", trigger="vacatur_dismissal", trigger_date=date(2024, 1, 1), override=None
    )
    assert deadline.on is None and deadline.basis == DeadlineBasis.TRIGGER_NOT_IN_RULE


def test_no_statute_and_no_jurisdiction() -> None:
    pa = compute_deadline(jurisdiction="PA", trigger="pardon", trigger_date=date(2024, 1, 1), override=None)
    assert pa.basis == DeadlineBasis.NO_STATUTE
    assert compute_deadline(jurisdiction="", trigger="pardon", trigger_date=None, override=None).basis == (
        DeadlineBasis.NO_JURISDICTION
    )


def test_override_wins_even_without_a_trigger_date() -> None:
    deadline = compute_deadline(
        jurisdiction="IL", trigger="vacatur_dismissal", trigger_date=None, override=date(2026, 9, 1)
    )
    assert deadline.on == date(2026, 9, 1) and deadline.basis == DeadlineBasis.OVERRIDE
    assert "735 ILCS" in deadline.citation
    later = compute_deadline(
        jurisdiction="IL", trigger="vacatur_dismissal", trigger_date=date(2025, 3, 14), override=date(2026, 9, 1)
    )
    assert later.on == date(2026, 9, 1)


@pytest.mark.parametrize(
    ("days_left", "urgent"),
    [(None, False), (legal_rules.URGENT_DAYS + 1, False), (legal_rules.URGENT_DAYS, True), (0, True), (-1, True)],
)
def test_a_deadline_is_urgent_from_urgent_days_before_it_and_once_passed(days_left: int | None, urgent: bool) -> None:
    today = date(2028, 3, 1)
    deadline = None if days_left is None else today + timedelta(days=days_left)

    assert legal_rules.deadline_urgent(deadline, today) is urgent


def test_every_kind_of_other_legal_item_has_plain_words_for_the_persons_plan() -> None:
    """A kind added to LegalItemKind without its plain line would be a 500 on My plan."""
    assert set(ITEM_PLAIN) == set(LegalItemKind)
    assert all(str(words) for words in ITEM_PLAIN.values())
