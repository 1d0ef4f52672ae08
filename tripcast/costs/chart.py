"""The cost report drawn: stacked bars per day by category, as text and as SVG.

The text chart goes into a Prefect markdown artifact (the UI shows it in a code block,
bars of block glyphs); the SVG is written next to the CSV for a browser or a slide. Both
plot estimated cost, or billable messages when there is no rate card.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from tripcast.costs.breakdown import CostReport

GLYPHS = {"marketing": "█", "utility": "▓", "authentication": "▒", "service": "░"}
OTHER_GLYPH = "▪"
COLOURS = {
    "marketing": "#d1495b",
    "utility": "#00798c",
    "authentication": "#edae49",
    "service": "#66a182",
}
OTHER_COLOUR = "#8d96a3"
TEXT_WIDTH = 40


def chart_title(report: CostReport) -> str:
    what = f"estimated cost ({report.currency})" if report.currency else "billable messages"
    return f"WhatsApp {what} per day, by category, {report.first_day} to {report.last_day}"


def _categories(days: dict[date, dict[str, Decimal]]) -> list[str]:
    seen = {category for values in days.values() for category in values}
    known = [category for category in GLYPHS if category in seen]
    return known + sorted(seen - set(GLYPHS))


def text_chart(report: CostReport, *, width: int = TEXT_WIDTH) -> str:
    days = report.by_day()
    categories = _categories(days)
    top = max((sum(values.values(), Decimal(0)) for values in days.values()), default=Decimal(0))
    lines = [chart_title(report), ""]
    totals = {day: _amount(sum(values.values(), Decimal(0))) for day, values in days.items()}
    align = max((len(total) for total in totals.values()), default=0)
    for day, values in days.items():
        bar = ""
        for category in categories:
            cells = round(values.get(category, Decimal(0)) / top * width) if top else 0
            bar += GLYPHS.get(category, OTHER_GLYPH) * int(cells)
        lines.append(f"{day}  {bar[:width]:<{width}}  {totals[day]:>{align}}")
    if not days:
        lines.append("(no priced messages in these days)")
    legend = "   ".join(f"{GLYPHS.get(c, OTHER_GLYPH)} {c}" for c in categories)
    return "\n".join([*lines, "", legend] if categories else lines)


def markdown_chart(report: CostReport) -> str:
    body = text_chart(report).split("\n", 2)[2]  # the title goes in the heading
    return f"### {chart_title(report)}\n\n```\n{body}\n```\n\n{report.summary()}\n"


_BAR, _GAP, _LEFT, _PLOT, _BASE = 28, 12, 70, 180, 220  # SVG geometry, pixels


def svg_chart(report: CostReport) -> str:
    """Stacked vertical bars, one per day, with a legend; self-contained SVG."""
    days = report.by_day()
    categories = _categories(days)
    top = max((sum(v.values(), Decimal(0)) for v in days.values()), default=Decimal(0))
    width = _LEFT + max(len(days), 1) * (_BAR + _GAP) + 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="280" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="10" y="18" font-size="13">{escape(chart_title(report))}</text>',
        f'<line x1="{_LEFT - 4}" y1="{_BASE}" x2="{width - 150}" y2="{_BASE}" stroke="#444"/>',
        f'<text x="{_LEFT - 8}" y="{_BASE - _PLOT + 4}" text-anchor="end">{_amount(top)}</text>',
        f'<text x="{_LEFT - 8}" y="{_BASE + 4}" text-anchor="end">0</text>',
    ]
    for index, (day, values) in enumerate(days.items()):
        parts += _day_bar(_LEFT + index * (_BAR + _GAP), day, values, categories, top=top)
    for index, category in enumerate(categories):
        y = 40 + index * 16
        parts.append(
            f'<rect x="{width - 140}" y="{y - 9}" width="10" height="10" '
            f'fill="{COLOURS.get(category, OTHER_COLOUR)}"/>'
            f'<text x="{width - 125}" y="{y}">{escape(category)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _day_bar(
    x: int, day: date, values: dict[str, Decimal], categories: list[str], *, top: Decimal
) -> list[str]:
    parts, y = [], float(_BASE)
    for category in categories:
        value = values.get(category, Decimal(0))
        height = float(value / top) * _PLOT if top else 0.0
        if height > 0:
            y -= height
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{_BAR}" height="{height:.1f}" '
                f'fill="{COLOURS.get(category, OTHER_COLOUR)}">'
                f"<title>{day} {escape(category)}: {_amount(value)}</title></rect>"
            )
    parts.append(
        f'<text x="{x + _BAR / 2}" y="{_BASE + 14}" text-anchor="middle">{day:%m-%d}</text>'
    )
    return parts


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"
