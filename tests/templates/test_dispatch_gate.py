"""Dispatch checks the template catalog before calling Meta (Cloud API: pytest-httpx)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import message
from tests.dispatch.conftest import NOW, Clock
from tests.dispatch.mock_api import accept_all, dispatch, posted, queued, refuse, traveller
from tripcast.templates.gate import PAUSE_RECHECK
from tripcast.templates.records import set_status

pytestmark = pytest.mark.anyio

ONE_PARAM = [{"type": "BODY", "text": "Your trip to {{1}} starts tomorrow."}]


def template(name: str = "trip_reminder", language: str = "en_US", n: int = 1) -> dict[str, Any]:
    parameters = [{"type": "text", "text": f"p{i}"} for i in range(n)]
    return {
        "name": name,
        "language": {"code": language},
        "components": [{"type": "body", "parameters": parameters}],
    }


def catalog(engine: Engine, *rows: tuple[str, str, str, str]) -> None:
    with engine.begin() as connection:
        for name, language, status, category in rows:
            connection.exec_driver_sql(
                "INSERT INTO whatsapp_templates (name, language, status, category, components)"
                " VALUES (%(n)s, %(l)s, %(s)s, %(c)s, %(comp)s)",
                {
                    "n": name,
                    "l": language,
                    "s": status,
                    "c": category,
                    "comp": json.dumps(ONE_PARAM),
                },
            )


def queue_template(engine: Engine, who: Any, **kw: Any) -> Any:
    return queued(engine, who, message_type="template", metadata={"template": template(**kw)})


def catalog_status(engine: Engine, name: str, language: str) -> str:
    with engine.connect() as connection:
        return str(
            connection.exec_driver_sql(
                "SELECT status FROM whatsapp_templates WHERE name = %(n)s AND language = %(l)s",
                {"n": name, "l": language},
            ).scalar_one()
        )


async def test_empty_catalog_sends_as_before(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    sent = queue_template(engine, traveller(engine), n=3)  # unchecked: nothing to check with
    await dispatch(engine, clock)
    assert message(engine, sent)["status"] == "sent"


async def test_paused_waits_unsent_then_leaves_when_reinstated(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    catalog(engine, ("trip_reminder", "en_US", "PAUSED", "UTILITY"))
    waiting = queue_template(engine, traveller(engine))
    report = await dispatch(engine, clock)
    row = message(engine, waiting)
    assert (row["status"], row["retry_count"], row["next_attempt_at"]) == (
        "pending",
        0,
        NOW + PAUSE_RECHECK,
    )
    assert posted(httpx_mock) == []
    assert report.counts()["deferred"] == 1
    with engine.begin() as connection:
        set_status(
            connection,
            name="trip_reminder",
            language="en_US",
            status="APPROVED",
            reason=None,
            now=NOW,
        )
    clock.advance(minutes=5)
    await dispatch(engine, clock)
    assert message(engine, waiting)["status"] == "sent"
    assert len(posted(httpx_mock)) == 1


@pytest.mark.parametrize(
    ("status", "queued_as", "reason"),
    [
        ("DISABLED", {}, 'template "trip_reminder" (en_US) is DISABLED'),
        ("REJECTED", {}, 'template "trip_reminder" (en_US) is REJECTED'),
        ("APPROVED", {"name": "nobody_knows"}, 'template "nobody_knows" (en_US) is not in the'),
        ("APPROVED", {"n": 2}, 'template "trip_reminder" (en_US) takes 1 body parameters'),
    ],
)
async def test_unusable_templates_fail_before_meta_naming_the_template(
    engine: Engine,
    clock: Clock,
    httpx_mock: HTTPXMock,
    status: str,
    queued_as: dict[str, Any],
    reason: str,
) -> None:
    accept_all(httpx_mock)
    catalog(engine, ("trip_reminder", "en_US", status, "UTILITY"))
    failed = queue_template(engine, traveller(engine), **queued_as)
    await dispatch(engine, clock)
    row = message(engine, failed)
    assert row["status"] == "failed"
    assert row["failed_reason"].startswith(reason)
    assert posted(httpx_mock) == []


async def test_fallback_language_is_sent(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    catalog(engine, ("trip_reminder", "en_GB", "APPROVED", "UTILITY"))
    sent = queue_template(engine, traveller(engine), language="en_US")
    await dispatch(engine, clock)
    assert message(engine, sent)["status"] == "sent"
    (payload,) = posted(httpx_mock)
    assert payload["template"]["language"] == {"code": "en_GB"}


async def test_a_template_moved_to_marketing_needs_marketing_consent(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_all(httpx_mock)
    catalog(engine, ("trip_reminder", "en_US", "APPROVED", "MARKETING"))
    refused = queue_template(engine, traveller(engine, marketing=False))
    allowed = queue_template(engine, traveller(engine, marketing=True))
    await dispatch(engine, clock)
    row = message(engine, refused)
    assert (row["status"], row["failed_reason"]) == ("failed", "cancelled: marketing not allowed")
    assert message(engine, allowed)["status"] == "sent"


@pytest.mark.parametrize(("code", "status"), [(132015, "PAUSED"), (132016, "DISABLED")])
async def test_meta_refusals_update_the_catalog(
    engine: Engine, clock: Clock, httpx_mock: HTTPXMock, code: int, status: str
) -> None:
    catalog(engine, ("trip_reminder", "en_US", "APPROVED", "UTILITY"))
    refuse(httpx_mock, code, f"(#{code}) template not sendable")
    first = queue_template(engine, traveller(engine))
    await dispatch(engine, clock)
    assert catalog_status(engine, "trip_reminder", "en_US") == status
    row = message(engine, first)
    # Paused: retried later (Meta may reinstate it); disabled: failed for good.
    assert row["status"] == ("pending" if code == 132015 else "failed")
    second = queue_template(engine, traveller(engine))
    clock.advance(seconds=1)
    await dispatch(engine, clock)
    assert len(posted(httpx_mock)) == 1  # the catalog now answers before Meta
    assert message(engine, second)["status"] == ("pending" if code == 132015 else "failed")
    if code == 132015:
        assert message(engine, second)["next_attempt_at"] == clock.now + PAUSE_RECHECK
    else:
        assert message(engine, second)["failed_reason"] == (
            'template "trip_reminder" (en_US) is DISABLED'
        )
