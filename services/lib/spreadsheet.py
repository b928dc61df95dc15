"""Cells for CSV downloads that a spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

# What Excel, LibreOffice and Sheets treat as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that starts like a formula gets a leading quote; anything else is left as it is
    (a negative number is a number, not a formula). The log and the directory hold text
    typed by anyone, even the username typed at a failed sign-in."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_download(rows: Iterable[Iterable[Any]], filename: str) -> HttpResponse:
    """A CSV file to download, every cell made safe for a spreadsheet."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return response
