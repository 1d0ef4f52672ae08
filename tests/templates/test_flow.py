"""The hourly template-catalog deployment's flow, against the fake Cloud API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tripcast.settings import get_settings
from tripcast.whatsapp.fake import FakeCloudApiConfig, FakeTemplate

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_refresh_fills_the_catalog_and_reports_counts(
    configured: Engine, fake_whatsapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripcast.flows.templates import refresh_template_catalog

    config = FakeCloudApiConfig(
        latency_seconds=0, templates={"trip_reminder": FakeTemplate(body_parameters=1)}
    )
    fake_whatsapp.reset(config)
    monkeypatch.setenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", config.business_account_id)
    get_settings.cache_clear()
    assert refresh_template_catalog() == {"new": 1, "changed": 0, "unchanged": 0, "gone": 0}
    assert refresh_template_catalog() == {"new": 0, "changed": 0, "unchanged": 1, "gone": 0}
    with configured.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM whatsapp_templates").scalars().all()
    assert names == ["trip_reminder"]


def test_without_an_account_id_the_run_says_so_and_changes_nothing(
    configured: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripcast.flows.templates import refresh_template_catalog

    monkeypatch.delenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", raising=False)
    get_settings.cache_clear()
    assert refresh_template_catalog() == {}
    with configured.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM whatsapp_templates").scalar()
    assert count == 0
