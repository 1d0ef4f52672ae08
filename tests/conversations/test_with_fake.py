"""Over loopback with the fake Cloud API: a traveller's photo is kept with its media id and
downloaded on demand; answering them marks their message read, typing indicator shown."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.costs.test_with_fake import fake_config
from tests.webhooks.builders import make_outbound, make_traveller, rows
from tests.webhooks.conftest import APP_SECRET
from tripcast.cli import main
from tripcast.conversations.acknowledge import acknowledge_answers
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import ReceiverConfig, running_receiver
from tripcast.whatsapp.fake import FakeCloudApi, running_fake_cloud_api

pytestmark = pytest.mark.integration

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4  # a jpeg's first bytes, then some


@pytest.fixture
def fake(configured: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudApi]:
    from tripcast.settings import get_settings

    config = ReceiverConfig(
        database_url=configured.url.render_as_string(hide_password=False),
        app_secret=APP_SECRET,
        verify_token="conversations-verify-token",
    )
    with running_receiver(config) as receiver, running_fake_cloud_api(fake_config(receiver)) as f:
        monkeypatch.setenv("TRIPCAST_WHATSAPP_API_URL", f.base_url)
        monkeypatch.setenv("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID", f.phone_number_id)
        monkeypatch.setenv("TRIPCAST_WHATSAPP_ACCESS_TOKEN", f.access_token)
        get_settings.cache_clear()
        yield f
    get_settings.cache_clear()


def test_a_photo_is_kept_downloaded_on_demand_and_its_answer_marks_it_read(
    fake: FakeCloudApi, configured: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with configured.begin() as connection:
        traveller = make_traveller(connection, phone="351912345678")
    media_id = fake.upload_media(PHOTO, "image/jpeg")
    wamid = fake.send_inbound_media(traveller.phone, media_id, caption="our hotel?")["id"]
    fake.wait_for_webhooks(timeout=20)
    drain(configured)
    (stored,) = rows(configured, "SELECT id, content, metadata FROM whatsapp_messages "
                     "WHERE direction = 'inbound'")  # fmt: skip
    assert stored["content"] == "[image] our hotel?"
    assert stored["metadata"] == {
        "wa_type": "image", "media_id": media_id, "mime_type": "image/jpeg",
        "sha256": hashlib.sha256(PHOTO).hexdigest(), "caption": "our hotel?",
    }  # fmt: skip

    assert main(["media", "download", wamid, "--output", str(tmp_path)]) == 0
    assert (tmp_path / f"{media_id}.jpg").read_bytes() == PHOTO
    assert main(["media", "download", str(stored["id"]), "--output", str(tmp_path / "a.jpg")]) == 0
    assert (tmp_path / "a.jpg").read_bytes() == PHOTO
    assert main(["media", "download", "wamid.NOPE"]) == 1
    assert "no inbound message with id or wamid 'wamid.NOPE'" in capsys.readouterr().err

    with configured.begin() as connection:
        make_outbound(connection, traveller, status="pending")  # the automation's answer
    asyncio.run(_acknowledge(fake, configured))
    assert [(m["message_id"], m["typing"]) for m in fake.read_marks()] == [(wamid, True)]


async def _acknowledge(fake: FakeCloudApi, engine: Engine) -> None:
    async with fake.client() as client:
        report = await acknowledge_answers(engine, client, now=datetime.now(UTC))
    assert report.marked_read == 1


def test_a_sweep_without_a_prefect_server_marks_answered_messages_read_too(
    fake: FakeCloudApi, configured: Engine
) -> None:
    """``tripcast sweep`` with no Prefect server runs the sweep's steps in its own process:
    the read receipts are one of them, as in the flow."""
    from tripcast.automations.sweep import sweep_once
    from tripcast.settings import get_settings

    with configured.begin() as connection:
        traveller = make_traveller(connection, phone="351912345679")
        connection.exec_driver_sql(
            "INSERT INTO whatsapp_messages (user_id, whatsapp_account_id, direction, "
            "message_type, content, external_id, status, delivered_at) VALUES (%(u)s, %(a)s, "
            "'inbound', 'text', 'Is the ferry on time?', 'wamid.FERRY', 'delivered', now())",
            {"u": traveller.user, "a": traveller.account},
        )
        make_outbound(connection, traveller, status="pending")  # the automation's answer
    sweep_once(configured, now=None, settings=get_settings(), batch_size=50, dispatch=True)
    assert [mark["message_id"] for mark in fake.read_marks()] == ["wamid.FERRY"]
