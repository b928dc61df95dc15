"""Cells for CSV downloads that a spreadsheet will not run as formulas."""

from __future__ import annotations

from typing import Any

# What Excel, LibreOffice and Sheets treat as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that starts like a formula gets a leading quote; anything else is left as it is
    (a negative number is a number, not a formula). The log and the directory hold text
    typed by anyone, even the username typed at a failed sign-in."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
