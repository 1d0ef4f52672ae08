"""The webhook-ingest flow, with Prefect persisting results as production often does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prefect.settings import PREFECT_RESULTS_PERSIST_BY_DEFAULT, temporary_settings
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_traveller, rows, store_delivery

pytestmark = pytest.mark.usefixtures("prefect_harness")

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_each_batch_is_applied_with_result_persistence_on(configured: Engine) -> None:
    from tripcast.flows.ingest import webhook_ingest
    from tripcast.tasks.ingest import apply_webhook_batch

    with configured.begin() as connection:
        ana = make_traveller(connection)
        for text in ("one", "two", "three"):
            data = meta.payload(messages=[meta.text_message(ana.phone, text, T0)])
            data["entry"][0]["changes"].append({"field": "account_update", "value": {}})
            store_delivery(connection, data)
    with temporary_settings({PREFECT_RESULTS_PERSIST_BY_DEFAULT: True}):
        totals = webhook_ingest(batch_size=1)
    # The same arguments every batch: a cached first report would stop after one.
    assert (totals["deliveries"], totals["inbound_stored"]) == (3, 3)
    assert totals["unused_field:account_update"] == 3
    contents = rows(configured, "SELECT content FROM whatsapp_messages ORDER BY content")
    assert [row["content"] for row in contents] == ["one", "three", "two"]
    assert apply_webhook_batch.persist_result is False
