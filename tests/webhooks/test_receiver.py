"""The receiver over loopback: handshake, signature, size and shape checks, durable storage."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import rows, scalar
from tests.webhooks.conftest import APP_SECRET, VERIFY_TOKEN, post
from tripcast.settings import ConfigError, Settings
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver, config_from_settings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def one_status() -> dict:
    return meta.payload(statuses=[meta.status(meta.new_wamid(), "sent", T0)])


def stored(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM webhook_deliveries"))


def test_handshake_answers_the_challenge_as_plain_text(
    receiver: BackgroundReceiver, http: httpx.Client
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = http.get(receiver.url, params=params)
    assert answer.status_code == 200
    assert answer.text == "1158201444"
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
    ],
    ids=["wrong-token", "wrong-mode", "no-token"],
)
def test_handshake_refuses_anything_else(
    receiver: BackgroundReceiver, http: httpx.Client, params: dict[str, str]
) -> None:
    answer = http.get(receiver.url, params=params)
    assert answer.status_code == 403
    assert "1" not in answer.text


def test_unsigned_delivery_is_401_and_not_stored(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    answer = post(http, receiver.url, one_status(), secret=None)
    assert answer.status_code == 401
    assert "X-Hub-Signature-256" in answer.json()["error"]
    assert stored(engine) == 0


@pytest.mark.parametrize(
    "signature",
    ["other-secret", "sha256=" + "0" * 64, "md5=abc", "tampered"],
)
def test_wrongly_signed_delivery_is_403_and_not_stored(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, signature: str
) -> None:
    data = meta.body(one_status())
    if signature == "other-secret":
        answer = post(http, receiver.url, data, secret="other-secret")
    elif signature == "tampered":
        from tripcast.whatsapp.webhook import sign

        answer = post(http, receiver.url, data + b" ", signature=sign(APP_SECRET, data))
    else:
        answer = post(http, receiver.url, data, signature=signature)
    assert answer.status_code == 403
    assert "does not match" in answer.json()["error"]
    assert stored(engine) == 0


def test_body_over_3_mb_is_413_and_not_stored(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    data = one_status()
    data["padding"] = "x" * (3 * 1024 * 1024)
    answer = post(http, receiver.url, data)
    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]
    assert stored(engine) == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"object": "whatsapp_business_account", "entry": [', "not valid JSON"),
        (b"", "empty"),
        (b'{"object": "whatsapp_business_account"}', "wrong shape at entry"),
        (
            json.dumps(meta.payload(statuses=[{"id": "wamid.x", "status": "sent"}])).encode(),
            "wrong shape",
        ),
    ],
    ids=["truncated", "empty", "no-entry", "status-without-timestamp"],
)
def test_malformed_delivery_is_400_with_the_reason(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, raw: bytes, reason: str
) -> None:
    answer = post(http, receiver.url, raw)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert stored(engine) == 0


def test_delivery_is_stored_once_and_acknowledged(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    data = meta.payload(
        statuses=[meta.status(meta.new_wamid(), "delivered", T0)],
        messages=[meta.text_message("351912345678", "hi", T0)],
    )
    raw = meta.body(data)
    first, again = post(http, receiver.url, raw), post(http, receiver.url, raw)
    assert (first.status_code, first.json()) == (200, {"status": "stored"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [row] = rows(engine, "SELECT body_sha256, payload, item_count, status FROM webhook_deliveries")
    assert row == {
        "body_sha256": hashlib.sha256(raw).hexdigest(),
        "payload": data,
        "item_count": 2,
        "status": "received",
    }


def test_liveness_and_readiness(receiver: BackgroundReceiver, http: httpx.Client) -> None:
    assert http.get(receiver.base_url + "/healthz").status_code == 200
    ready = http.get(receiver.base_url + "/readyz")
    assert (ready.status_code, ready.text.split(":")[0]) == (200, "ready")


def test_logs_carry_no_secret_token_or_phone_number(
    receiver: BackgroundReceiver,
    http: httpx.Client,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = "351912345678"
    http.get(receiver.url, params={"hub.mode": "subscribe", "hub.verify_token": "guess"})
    http.get(receiver.url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN})
    post(http, receiver.url, one_status(), secret="not-the-secret")
    inbound = meta.payload(messages=[meta.text_message(phone, "hello", T0)])
    assert post(http, receiver.url, inbound).status_code == 200
    assert drain(engine).unknown_senders == 1
    # Ours and the server's logs; the test's own HTTP client logs its URLs, tokens included.
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("tripcast", "uvicorn", "starlette"))
    )
    assert "refused with 403" in ours
    assert "3519*****678" in ours  # the unknown sender is logged, masked
    for secret in (APP_SECRET, VERIFY_TOKEN, phone):
        assert secret not in ours


def test_a_nul_character_is_stored_rather_than_refused(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    raw = meta.body(meta.payload(messages=[meta.text_message("351912345678", "a\u0000b", T0)]))
    assert b"\\u0000" in raw  # jsonb cannot hold it as is
    assert post(http, receiver.url, raw).status_code == 200
    payload = scalar(engine, "SELECT payload FROM webhook_deliveries")
    assert payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == "a\ufffdb"


@pytest.mark.parametrize("missing", ["whatsapp_app_secret", "whatsapp_verify_token"])
def test_the_receiver_will_not_start_without_its_secrets(missing: str) -> None:
    values = {"whatsapp_app_secret": "s", "whatsapp_verify_token": "v", missing: " "}
    settings = Settings(database_url="postgresql://u@localhost/db", **values)
    with pytest.raises(ConfigError, match=f"TRIPCAST_{missing.upper()} is not set"):
        config_from_settings(settings)
