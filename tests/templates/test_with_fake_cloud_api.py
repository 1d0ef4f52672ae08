"""The template lifecycle end to end over loopback: the fake Cloud API lists its
templates (paged) for ``tripcast templates sync``, pauses and reinstates one with signed
webhooks through the real receiver and ingest, and dispatch holds, then sends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from tests.dispatch.builders import make_traveller, message, queue_message
from tests.support.net import wait_until
from tests.webhooks.conftest import APP_SECRET
from tripcast.cli import main
from tripcast.dispatch import DispatchSettings, dispatch_pending
from tripcast.settings import get_settings
from tripcast.templates.gate import PAUSE_RECHECK
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver
from tripcast.whatsapp.api_errors import TemplateError, TemplatePausedError
from tripcast.whatsapp.fake import (
    FakeCloudApi,
    FakeCloudApiConfig,
    FakeTemplate,
    running_fake_cloud_api,
)
from tripcast.whatsapp.messages import TemplateMessage

pytestmark = pytest.mark.integration

TEMPLATES = {
    "trip_reminder": FakeTemplate(body_parameters=1, languages=["en_US", "pt_PT"]),
    "budget_alert": FakeTemplate(body_parameters=2),
    "summer_offer": FakeTemplate(body_parameters=0, category="MARKETING"),
}
REMINDER = {
    "name": "trip_reminder",
    "language": {"code": "en_US"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Porto"}]}],
}


def catalog_status(engine: Engine) -> str | None:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT status FROM whatsapp_templates"
            " WHERE name = 'trip_reminder' AND language = 'en_US'"
        ).scalar()
    return None if found is None else str(found)


def dispatch(engine: Engine, fake: FakeCloudApi, now: datetime) -> None:
    async def run() -> None:
        async with fake.client() as client:
            settings = DispatchSettings(send_rate=None, lanes=1)
            await dispatch_pending(engine, client=client, settings=settings, now_fn=lambda: now)

    asyncio.run(run())


def apply_webhooks(engine: Engine, fake: FakeCloudApi, now: datetime, status: str) -> None:
    fake.wait_for_webhooks()
    wait_until(lambda: (drain(engine, now=now), catalog_status(engine))[1] == status)


def test_sync_pause_wait_reinstate_send(
    configured: Engine,
    fake_whatsapp: FakeCloudApi,
    receiver: BackgroundReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine, fake = configured, fake_whatsapp
    config = FakeCloudApiConfig(
        latency_seconds=0,
        templates=TEMPLATES,
        webhook_url=receiver.url,
        app_secret=APP_SECRET,
        webhook_flush_seconds=0.01,
        enforce_service_window=False,
    )
    fake.reset(config)
    monkeypatch.setenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", config.business_account_id)
    get_settings.cache_clear()
    assert main(["templates", "sync"]) == 0
    assert capsys.readouterr().out.strip() == (
        "templates synced: 4 new, 0 changed, 0 unchanged, 0 gone"
    )
    assert catalog_status(engine) == "APPROVED"

    now = datetime.now(UTC)
    with engine.begin() as connection:
        waiting = queue_message(
            connection,
            make_traveller(connection),
            message_type="template",
            metadata={"template": REMINDER},
        )
    fake.set_template("trip_reminder", status="PAUSED", reason="LOW_QUALITY")
    apply_webhooks(engine, fake, now, "PAUSED")
    dispatch(engine, fake, now)
    row = message(engine, waiting)
    assert (row["status"], row["next_attempt_at"]) == ("pending", now + PAUSE_RECHECK)
    assert fake.accepted_count() == 0

    fake.set_template("trip_reminder", status="APPROVED")  # Meta's REINSTATED
    apply_webhooks(engine, fake, now, "APPROVED")
    dispatch(engine, fake, now)  # released at once: no need to wait for the re-check
    assert message(engine, waiting)["status"] == "sent"
    assert fake.accepted_count(str(waiting)) == 1


def test_sync_pages_through_the_fake_listing(engine: Engine) -> None:
    from tripcast.templates.sync import sync_templates
    from tripcast.whatsapp.templates import TemplatesClient

    many = {f"t{i:02d}": FakeTemplate(body_parameters=i % 3) for i in range(7)}
    config = FakeCloudApiConfig(latency_seconds=0, templates=many)
    with running_fake_cloud_api(config) as fake:

        async def run() -> object:
            async with TemplatesClient(
                waba_id=config.business_account_id,
                access_token=config.access_token,
                base_url=fake.base_url,
            ) as client:
                return await sync_templates(
                    engine, client, waba_id=config.business_account_id, page_limit=3
                )

        counts = asyncio.run(run())
    assert counts.summary() == "7 new, 0 changed, 0 unchanged, 0 gone"
    with engine.connect() as connection:
        placeholders = connection.exec_driver_sql(
            "SELECT components -> 0 ->> 'text' FROM whatsapp_templates WHERE name = 't02'"
        ).scalar()
    assert placeholders == "t02: {{1}} {{2}}"


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [("PAUSED", TemplatePausedError, 132015), ("DISABLED", TemplateError, 132016)],
)
def test_the_fake_refuses_paused_and_disabled_templates(
    status: str, error: type[Exception], code: int
) -> None:
    config = FakeCloudApiConfig(latency_seconds=0, templates=dict(TEMPLATES))
    with running_fake_cloud_api(config) as fake:
        fake.set_template("trip_reminder", status=status)
        reminder = TemplateMessage.build("trip_reminder", "en_US", body=["Porto"])

        async def send() -> None:
            async with fake.client() as client:
                await client.send_template("351912345678", reminder)

        with pytest.raises(error) as raised:
            asyncio.run(send())
    assert raised.value.code == code  # type: ignore[attr-defined]


def test_a_template_moved_to_marketing_needs_consent(
    configured: Engine,
    fake_whatsapp: FakeCloudApi,
    receiver: BackgroundReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, fake = configured, fake_whatsapp
    config = FakeCloudApiConfig(
        latency_seconds=0,
        templates={"trip_reminder": FakeTemplate(body_parameters=1, languages=["en_US"])},
        webhook_url=receiver.url,
        app_secret=APP_SECRET,
        webhook_flush_seconds=0.01,
        pair_rate_window_seconds=None,
    )
    fake.reset(config)
    monkeypatch.setenv("TRIPCAST_WHATSAPP_BUSINESS_ACCOUNT_ID", config.business_account_id)
    get_settings.cache_clear()
    assert main(["templates", "sync"]) == 0
    fake.set_template("trip_reminder", category="MARKETING")
    now = datetime.now(UTC)
    fake.wait_for_webhooks()

    def recategorised() -> bool:
        drain(engine, now=now)
        with engine.connect() as connection:
            category = connection.exec_driver_sql(
                "SELECT category FROM whatsapp_templates WHERE name = 'trip_reminder'"
            ).scalar()
        return category == "MARKETING"

    wait_until(recategorised)
    with engine.begin() as connection:
        template = {"template": REMINDER}
        refused = queue_message(
            connection, make_traveller(connection), message_type="template", metadata=template
        )
        allowed = queue_message(
            connection,
            make_traveller(connection, marketing=True),
            message_type="template",
            metadata=template,
        )
    dispatch(engine, fake, now)
    row = message(engine, refused)
    assert (row["status"], row["failed_reason"]) == ("failed", "cancelled: marketing not allowed")
    assert message(engine, allowed)["status"] == "sent"
    assert fake.accepted_count(str(refused)) == 0


def test_the_fake_refuses_unknown_templates_and_bad_listing_requests() -> None:
    import httpx

    config = FakeCloudApiConfig(latency_seconds=0, templates=dict(TEMPLATES))
    with running_fake_cloud_api(config) as fake:
        with pytest.raises(RuntimeError, match="HTTP 404"):
            fake.set_template("nope", status="PAUSED")
        url = f"{fake.base_url}/v23.0/{config.business_account_id}/message_templates"
        auth = {"Authorization": f"Bearer {config.access_token}"}
        with httpx.Client(trust_env=False) as http:
            assert http.get(url).json()["error"]["code"] == 190
            bad_cursor = http.get(url, params={"after": "zz"}, headers=auth)
            assert (bad_cursor.status_code, bad_cursor.json()["error"]["code"]) == (400, 100)
            listed = http.get(url, params={"limit": "2"}, headers=auth).json()
    assert [t["name"] for t in listed["data"]] == ["budget_alert", "summer_offer"]
    assert "next" in listed["paging"]
