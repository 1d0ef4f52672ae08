"""``tripcast senders``: seeded from the single-number settings, added, paused, resumed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tripcast.cli import main
from tripcast.settings import get_settings


@pytest.fixture
def single_number(configured: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", "1001")
    monkeypatch.setenv("TRIPCAST_SEND_RATE", "40")
    get_settings.cache_clear()
    return configured


def rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return list(
            connection.exec_driver_sql(
                "SELECT phone_number_id, markets, send_rate, status, paused_reason "
                "FROM whatsapp_senders ORDER BY phone_number_id"
            ).tuples()
        )


def test_list_seeds_the_single_number_as_default(
    single_number: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["senders", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1001 (default) - markets=- rate=40/s")
    assert "status=active" in out
    assert rows(single_number) == [("1001", [], None, "active", None)]


def test_add_pause_resume(single_number: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["senders", "add", "2002", "--market", "pt,351", "--rate", "20"]) == 0
    assert main(["senders", "pause", "2002", "--reason", "brand review"]) == 0
    assert rows(single_number) == [
        ("1001", [], None, "active", None),
        ("2002", ["PT", "351"], 20.0, "paused", "brand review"),
    ]
    assert main(["senders", "resume", "2002"]) == 0
    assert rows(single_number)[1][3:] == ("active", None)
    assert "sender 2002 active" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["senders", "add", "abc"], "tripcast: sender phone_number_id: Value error, a phone"),
        (["senders", "add", "3003", "--market", "Portugal"], "tripcast: sender markets:"),
        (["senders", "add", "1001"], "tripcast: sender 1001 already exists"),
        (["senders", "pause", "9999"], "tripcast: no sender 9999"),
    ],
)
def test_bad_requests_fail_with_one_line_and_change_nothing(
    single_number: Engine, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert [row for row in rows(single_number) if row[0] != "1001"] == []
    assert all(row[3] == "active" for row in rows(single_number))
