from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tripcast.rules.window import choose_message_form, window_open

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_inbound_at", "is_open"),
    [
        (None, False),
        (NOW, True),
        (NOW - timedelta(hours=1), True),
        (NOW - timedelta(hours=24) + timedelta(microseconds=1), True),
        (NOW - timedelta(hours=24), False),  # strictly under 24 h
        (NOW - timedelta(days=3), False),
        (NOW + timedelta(seconds=5), True),  # clock skew
        (datetime(2025, 5, 31, 13, 30, tzinfo=ZoneInfo("Europe/Lisbon")), True),  # 12:30Z
        (datetime(2025, 5, 31, 12, 30, tzinfo=ZoneInfo("Europe/Lisbon")), False),  # 11:30Z
    ],
)
def test_window_open(last_inbound_at: datetime | None, is_open: bool) -> None:
    assert window_open(last_inbound_at, NOW) is is_open


def test_window_open_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        window_open(None, datetime(2025, 6, 1))
    with pytest.raises(ValueError, match="last_inbound_at must be timezone-aware"):
        window_open(datetime(2025, 6, 1), NOW)


@pytest.mark.parametrize(
    ("has_text", "has_template", "is_open", "form"),
    [
        (True, True, True, "text"),
        (True, False, True, "text"),
        (True, True, False, "template"),
        (True, False, False, "outside_24h_window_without_template"),
        (False, True, True, "template"),
        (False, True, False, "template"),
        (False, False, True, "no_text_or_template"),
        (False, False, False, "no_text_or_template"),
    ],
)
def test_choose_message_form(has_text: bool, has_template: bool, is_open: bool, form: str) -> None:
    assert (
        choose_message_form(has_text=has_text, has_template=has_template, window_open=is_open)
        == form
    )
