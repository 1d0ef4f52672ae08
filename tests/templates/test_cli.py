"""``tripcast templates sync`` fails with one clear line and leaves the catalog alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tripcast.cli import main
from tripcast.settings import get_settings


def catalog_size(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT count(*) FROM whatsapp_templates").scalar())


def test_without_the_account_id_it_names_the_variable(
    configured: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("TRIPCAST_WHATSAPP_ACCESS_TOKEN", "t0ken")
    get_settings.cache_clear()
    assert main(["templates", "sync"]) == 2
    assert capsys.readouterr().err.strip() == (
        "tripcast: TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID is not set (required here)"
    )
    assert catalog_size(configured) == 0


def test_a_refused_listing_exits_1_with_metas_reason(
    configured: Engine,
    fake_whatsapp: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", "999")  # not the fake's
    get_settings.cache_clear()
    assert main(["templates", "sync"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tripcast: template listing refused: (#100) Invalid parameter")
    assert "Object with ID '999' does not exist" in err
    assert "[code 100]" in err
    assert "\n" not in err.strip()
    assert catalog_size(configured) == 0
