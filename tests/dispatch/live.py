"""Helpers for tests against the running fake Cloud API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from tests.dispatch.builders import TEMPLATE, make_traveller, queue_message
from tests.support import net
from tripcast.whatsapp.fake import FakeCloudApiConfig

LIMIT = 20  # TRIPCAST_SEND_RATE for these tests


def config(**changes: Any) -> FakeCloudApiConfig:
    base: dict[str, Any] = {
        # Meta's own limiter would refuse (and so hide) any excess: measure ours instead.
        "throughput_per_second": None,
        "hang_seconds": 1.0,
        "webhook_flush_seconds": 0.02,
        "webhook_retry_seconds": 0.1,
    }
    return FakeCloudApiConfig.model_validate(base | changes)


def queue_for_new_travellers(
    engine: Engine, count: int, *, last_inbound_at: datetime | None, every_template: int = 0
) -> list[Any]:
    ids = []
    with engine.begin() as connection:
        for index in range(count):
            who = make_traveller(connection, last_inbound_at=last_inbound_at)
            as_template = every_template and index % every_template == 0
            ids.append(
                queue_message(
                    connection,
                    who,
                    message_type="template" if as_template else "text",
                    metadata={"template": TEMPLATE},
                )
            )
    return ids


def rows(engine: Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.exec_driver_sql(query, params).mappings()]


def wait_for(engine: Engine, query: str, *, timeout: float, **params: Any) -> int:
    """The first non-zero count ``query`` returns."""

    def found() -> int:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(query, params).scalar_one())

    return net.wait_for(found, timeout=timeout, what=f"a match for {query}")
