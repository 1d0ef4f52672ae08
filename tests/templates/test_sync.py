"""``tripcast templates sync``: the paged listing (stubbed with pytest-httpx) upserted
into the catalog, with counts of new, changed, unchanged and gone templates."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tripcast.templates.sync import sync_templates
from tripcast.whatsapp.api_errors import AuthError
from tripcast.whatsapp.templates import TemplatesClient

WABA = "200000000000001"
URL = re.compile(rf"https://graph\.test/v23\.0/{WABA}/message_templates.*")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def listed(name: str, language: str = "en", **extra: Any) -> dict[str, Any]:
    body = {"type": "BODY", "text": "Hi {{1}}, your trip to {{2}} starts soon."}
    return {
        "name": name,
        "language": language,
        "status": extra.pop("status", "APPROVED"),
        "category": extra.pop("category", "UTILITY"),
        "components": extra.pop("components", [body]),
        "id": extra.pop("id", f"9{abs(hash((name, language))) % 10**9}"),
        "quality_score": {"score": "GREEN", "date": 1764662400},
        **extra,
    }


def page(data: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    paging: dict[str, Any] = {"cursors": {"before": "b", "after": after or "end"}}
    if after is not None:
        paging["next"] = f"https://graph.test/v23.0/{WABA}/message_templates?after={after}"
    return {"data": data, "paging": paging}


def client() -> TemplatesClient:
    return TemplatesClient(
        waba_id=WABA, access_token="t0ken", base_url="https://graph.test", transport=None
    )


def sync(engine: Engine) -> Any:
    async def run() -> Any:
        async with client() as templates:
            return await sync_templates(engine, templates, waba_id=WABA, now=NOW)

    return asyncio.run(run())


def catalog(engine: Engine) -> dict[tuple[str, str], tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name, language, status, category, quality, meta_template_id, waba_id,"
            " jsonb_array_length(components) FROM whatsapp_templates"
        )
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def test_sync_follows_the_cursor_and_fills_the_catalog(
    engine: Engine, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=URL, json=page([listed("trip_reminder")], after="c1"))
    second = [listed("trip_reminder", "pt_PT"), listed("promo", category="MARKETING")]
    httpx_mock.add_response(url=URL, json=page(second))
    counts = sync(engine)
    assert (counts.new, counts.changed, counts.unchanged, counts.gone) == (3, 0, 0, 0)
    requests = httpx_mock.get_requests()
    assert requests[0].headers["Authorization"] == "Bearer t0ken"
    assert "after" not in requests[0].url.params
    assert requests[1].url.params["after"] == "c1"
    assert "quality_score" in requests[0].url.params["fields"]
    rows = catalog(engine)
    assert rows[("promo", "en")][:3] == ("APPROVED", "MARKETING", "GREEN")
    assert rows[("trip_reminder", "pt_PT")][4:] == (WABA, 1)


def test_a_second_sync_counts_changed_unchanged_and_gone(
    engine: Engine, httpx_mock: HTTPXMock
) -> None:
    first = [listed("trip_reminder"), listed("budget_alert"), listed("old_offer")]
    httpx_mock.add_response(url=URL, json=page(first))
    sync(engine)
    second = [listed("trip_reminder", status="PAUSED"), listed("budget_alert"), listed("new_one")]
    httpx_mock.add_response(url=URL, json=page(second))
    counts = sync(engine)
    assert (counts.new, counts.changed, counts.unchanged, counts.gone) == (1, 1, 1, 1)
    rows = catalog(engine)
    assert rows[("trip_reminder", "en")][0] == "PAUSED"
    assert rows[("old_offer", "en")][0] == "DELETED"  # kept, so its messages fail by name


def test_a_refused_listing_changes_nothing(engine: Engine, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=page([listed("trip_reminder")]))
    sync(engine)
    httpx_mock.add_response(url=URL, json=page([listed("other")], after="c1"))
    expired = {"error": {"message": "Error validating access token", "code": 190, "type": "x"}}
    httpx_mock.add_response(url=URL, status_code=401, json=expired)
    with pytest.raises(AuthError, match="code 190"):
        sync(engine)
    assert set(catalog(engine)) == {("trip_reminder", "en")}  # nothing marked gone
