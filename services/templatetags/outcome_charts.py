"""Server-drawn SVG bar charts for the outcomes page: no script, no inline style (CSP)."""

from __future__ import annotations

from typing import Any

from django import template

from services.outcomes import Figure

register = template.Library()

LABEL_WIDTH, BAR_LEFT, BAR_WIDTH, BAR_HEIGHT, GAP = 230, 240, 330, 22, 10


@register.inclusion_tag("services/_outcome_chart.html")
def outcome_chart(figure: Figure) -> dict[str, Any]:
    """Horizontal bars, one per row, stacked by the figure's charted columns, scaled to the longest bar."""
    bars = figure.chart
    longest = max((total for _, _, total in bars), default=0) or 1
    drawn = []
    for index, (label, segments, total) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        x = float(BAR_LEFT)
        parts = []
        for segment in segments:
            width = BAR_WIDTH * segment.value / longest
            parts.append({"x": round(x, 1), "width": round(width, 1), "css": segment.css, "segment": segment})
            x += width
        drawn.append(
            {"label": label, "y": y, "text_y": y + BAR_HEIGHT - 6, "parts": parts, "total": total, "end": x + 6}
        )
    return {
        "figure": figure,
        "bars": drawn,
        "height": GAP + len(bars) * (BAR_HEIGHT + GAP),
        "label_x": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
    }


@register.filter
def number(value: float) -> str:
    """A bar's total as the chart prints it: whole numbers without a decimal point."""
    return f"{value:g}"
