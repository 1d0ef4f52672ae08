"""A traveller's text is stored as written: only real NUL characters are replaced."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import scalar
from tests.webhooks.conftest import post
from tripcast.webhooks.deliveries import replace_nul_escapes
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LITERAL = "\\u0000"  # six characters: backslash, u, 0, 0, 0, 0


def stored_bodies(engine: Engine) -> list[str]:
    payload = scalar(engine, "SELECT payload FROM webhook_deliveries")
    return [m["text"]["body"] for m in payload["entry"][0]["changes"][0]["value"]["messages"]]


@pytest.mark.parametrize(
    "texts",
    [
        [f"path C:{LITERAL}x"],
        [f"path C:{LITERAL}x", "a\u0000b"],
        [f"a\\\u0000b {LITERAL} \\\\u0000"],
    ],
    ids=["escaped-literal", "literal-beside-a-real-nul", "backslashes-around-a-nul"],
)
def test_only_real_nul_characters_are_replaced(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine, texts: list[str]
) -> None:
    messages = [meta.text_message("351912345678", text, T0) for text in texts]
    assert post(http, receiver.url, meta.payload(messages=messages)).status_code == 200
    assert stored_bodies(engine) == [text.replace("\u0000", "\ufffd") for text in texts]


@pytest.mark.parametrize(
    "text",
    ["\u0000", "\\\u0000", "\\\\u0000", "\\\\\u0000", "x\\u0000y", "\\\\\\u0000", "\u0000\u0000"],
)
def test_replacing_nul_escapes_keeps_everything_else_verbatim(text: str) -> None:
    raw = json.dumps({"t": text})
    assert json.loads(replace_nul_escapes(raw)) == {"t": text.replace("\u0000", "\ufffd")}
