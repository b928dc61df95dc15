"""Server-drawn SVG bar charts for the outcomes page: no script, no inline style (CSP)."""

from __future__ import annotations

import textwrap
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from services.outcomes.scope import Cell, Figure

register = template.Library()

# Each bar has its label on the line above it, the full width of the chart, so no label is cut
# at the chart's left edge however long it is ("People whose case opened in the period:
# ..."), and the bars keep the whole width. The chart is 480 units wide, drawn at most 36rem:
# its words are 12-13px on a desktop and a phone alike (a media query in site.css).
WIDTH, BAR_WIDTH, LABEL_HEIGHT, BAR_HEIGHT, GAP = 480, 410, 22, 16, 10
# What fits on a label's line at a phone's font size. A longer label goes on over more lines,
# each LINE_HEIGHT lower (a phone's words are 19 units), and its bar below them: cut at the
# line's end, two labels that differ only at their end ("…: open over 30 days" and "…: open
# over 90 days") read alike, their colour the only difference.
LABEL_CHARACTERS, LINE_HEIGHT = 44, 20


@register.inclusion_tag("services/_outcome_chart.html")
def outcome_chart(figure: Figure) -> dict[str, Any]:
    """Horizontal bars, one per row, stacked by the figure's charted columns, scaled to the longest bar."""
    bars = figure.chart
    longest = max((total for _, _, total in bars), default=0) or 1
    drawn = []
    top = GAP  # where the next bar's label begins
    for label, segments, total in bars:
        lines = _lines(str(label))
        y = top + LABEL_HEIGHT + (len(lines) - 1) * LINE_HEIGHT
        top = y + BAR_HEIGHT + GAP
        x = 0.0
        parts = []
        for segment in segments:
            width = BAR_WIDTH * segment.value / longest
            parts.append({"x": round(x, 1), "width": round(width, 1), "css": segment.css, "segment": segment})
            x += width
        drawn.append(
            {"lines": lines, "y": y, "text_y": y + BAR_HEIGHT - 3, "parts": parts, "total": total, "end": x + 6}
        )
    return {"figure": figure, "bars": _svg_bars(drawn), "width": WIDTH, "height": top}


def _lines(label: str) -> list[str]:
    """The label's lines, each no longer than a phone's line holds (most labels are one)."""
    if len(label) <= LABEL_CHARACTERS:
        return [label]
    return textwrap.wrap(label, LABEL_CHARACTERS, break_on_hyphens=False) or [label]


# The bars and the table rows are built here rather than by template loops: the follow-ups
# figure of a large organization has a row per caseworker, hundreds of cells, and a template
# loop costs about 20 µs per value. Texts are escaped here, as a template would; the rest are
# numbers and our own CSS class names.


def _svg_bars(drawn: list[dict[str, Any]]) -> SafeString:
    return mark_safe("\n".join(_bar(bar) for bar in drawn))  # noqa: S308 (every text is escaped)


def _bar(bar: dict[str, Any]) -> str:
    y, text_y = bar["y"], bar["text_y"]
    parts = "".join(
        f'<rect x="{p["x"]}" y="{y}" width="{p["width"]}" height="{BAR_HEIGHT}" class="{p["css"]}">'
        f"<title>{escape(p['segment'].label)}: {number(p['segment'].value)}</title></rect>"
        for p in bar["parts"]
        if p["width"]
    )
    lines = bar["lines"]
    if len(lines) == 1:  # most labels
        label = escape(lines[0])
    else:
        # Each line a tspan, the first the highest; the spaces between keep the words apart
        # in the text's content (what a screen reader or a copy reads).
        first = y - 6 - (len(lines) - 1) * LINE_HEIGHT
        label = " ".join(
            f'<tspan x="0" y="{first + i * LINE_HEIGHT}">{escape(line)}</tspan>' for i, line in enumerate(lines)
        )
    return (
        f'<text x="0" y="{y - 6}" class="chart-label">{label}</text>{parts}'
        f'<text x="{round(bar["end"], 1)}" y="{text_y}" class="chart-value">{number(bar["total"])}</text>'
    )


@register.simple_tag
def outcome_table_rows(figure: Figure) -> SafeString:
    """The rows of a figure's table: a label, then each cell, linked to its records when it has
    any, and naming its column (data-label: on a phone each row is a block of labelled lines)."""
    labels = [escape(column) for column in figure.columns[1:]]
    rows = (
        f'<tr><th scope="row">{escape(row.label)}</th>{"".join(map(_cell, row.cells, labels))}</tr>'
        for row in figure.rows
    )
    return mark_safe("\n".join(rows))  # noqa: S308 (every text is escaped)


def _cell(cell: Cell, label: str) -> str:
    text = escape(str(cell))
    return (
        f'<td class="num" data-label="{label}"><a href="{escape(cell.href)}">{text}</a></td>'
        if cell.href
        else f'<td class="num" data-label="{label}">{text}</td>'
    )


@register.filter
def number(value: float) -> str:
    """A bar's total as the chart prints it: whole numbers without a decimal point."""
    return f"{value:g}"
