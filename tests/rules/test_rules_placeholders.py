# ruff: noqa: E501 - case tables keep one case per line, with full one-line messages
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tripcast.rules.actions import readable_rendering, render_parameters
from tripcast.rules.config_errors import InvalidRuleConfig
from tripcast.rules.placeholders import format_value, namespaces, placeholders, render

CONTEXT = {
    "trip": {"title": "Lisbon getaway", "start_date": date(2025, 6, 1), "destination": None},
    "budget": {"percent": 92, "spent": Decimal("920.50"), "total": Decimal("1000.00")},
    "booking": {"type": "hotel", "created_at": datetime(2025, 5, 1, 9, 30, 15, tzinfo=UTC)},
}


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("{trip.title}", "Lisbon getaway"),
        ("{trip.title} starts {trip.start_date}", "Lisbon getaway starts 2025-06-01"),
        ("{budget.percent}% used ({budget.spent} of {budget.total})", "92% used (920.50 of 1000.00)"),
        ("{booking.type} since {booking.created_at}", "hotel since 2025-05-01T09:30+00:00"),
        ("{{trip.title}} is literal", "{trip.title} is literal"),
        ("no placeholders", "no placeholders"),
        ("", ""),
    ],
)  # fmt: skip
def test_render(text: str, rendered: str) -> None:
    assert render(text, CONTEXT) == rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{trip.destination}", "placeholder {trip.destination} has no value for this trip"),
        ("{trip.end_date}", "placeholder {trip.end_date} has no value for this trip"),
        ("{user.name}", "placeholder {user.name} has no value for this user"),
        ("{trip.title", "text '{trip.title' has an unmatched '{'"),
    ],
)
def test_render_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidRuleConfig, match=message.replace("{", r"\{").replace("}", r"\}")):
        render(text, CONTEXT)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2025, 6, 1), "2025-06-01"),
        (datetime(2025, 6, 1, 8, 5, 59, tzinfo=UTC), "2025-06-01T08:05+00:00"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1.2345E+3"), "1234.5"),
        (1234.5, "1234.5"),
        (1e-05, "0.00001"),
        (42, "42"),
        ("x", "x"),
    ],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


def test_render_parameters_sanitises_whitespace_for_the_cloud_api() -> None:
    context = {"trip": {"title": "Porto\n\tand   the     Douro", "status": "active"}}
    assert render_parameters(["{trip.title}", " {trip.status} "], context) == [
        "Porto and the Douro",
        "active",
    ]


def test_render_parameters_refuses_empty_values() -> None:
    with pytest.raises(InvalidRuleConfig, match=r"template parameter 2 \('\{trip.title\}'\)"):
        render_parameters(["x", "{trip.title}"], {"trip": {"title": "  \n"}})


def test_render_parameters_unknown_placeholder() -> None:
    with pytest.raises(InvalidRuleConfig, match=r"placeholder \{budget.percent\} has no value"):
        render_parameters(["{budget.percent}"], {"trip": {"title": "x"}})


@pytest.mark.parametrize(
    ("template", "rendered", "content"),
    [
        ("trip_reminder", ["Lisbon getaway", "2025-06-01"], "[trip_reminder] Lisbon getaway | 2025-06-01"),
        ("welcome", [], "[welcome]"),
    ],
)  # fmt: skip
def test_readable_rendering(template: str, rendered: list[str], content: str) -> None:
    assert readable_rendering(template, rendered) == content


def test_placeholders_and_namespaces() -> None:
    assert placeholders("{trip.title} {{x}} {budget.percent}") == ["trip.title", "budget.percent"]
    assert namespaces(["{trip.title}", "{booking.type} {trip.id}", "plain"]) == {"trip", "booking"}
    with pytest.raises(ValueError, match="unknown placeholder"):
        placeholders("{trip.nope}")
