"""Genuine payload shapes (tests/fixtures/whatsapp_webhooks): none refused, all understood."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.webhooks.builders import make_outbound, make_traveller, message_row, rows, scalar
from tests.webhooks.conftest import post
from tripcast.webhooks.ingest import drain
from tripcast.webhooks.receiver_server import BackgroundReceiver

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).parent.parent / "fixtures" / "whatsapp_webhooks"
FILES = sorted(CORPUS.glob("*.json"))
NOTICES = ("system_number_changed", "system_identity_changed", "edit", "revoke", "value_errors")
OUTBOUND = {
    "a": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
    "b": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJCNkU0RjNFNjE2QjM1OUU4RTgA",
    "c": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJEOUY1RjlBNjM2QjNCMUY4RjkA",
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_the_corpus_covers_every_message_type_and_field() -> None:
    fields = {load(p)["entry"][0]["changes"][0]["field"] for p in FILES}
    kinds = {
        m["type"]
        for p in FILES
        for m in load(p)["entry"][0]["changes"][0]["value"].get("messages", [])
    }
    assert kinds >= {
        "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
        "interactive", "button", "reaction", "order", "system", "unsupported", "edit", "revoke",
    }  # fmt: skip
    assert len(fields) >= 12


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_receiver_refuses_no_genuine_payload(
    receiver: BackgroundReceiver, http: httpx.Client, path: Path
) -> None:
    answer = post(http, receiver.url, path.read_bytes())
    assert (answer.status_code, answer.json()) == (200, {"status": "stored"})


def test_the_ingest_applies_what_it_understands_and_counts_the_rest(
    receiver: BackgroundReceiver, http: httpx.Client, engine: Engine
) -> None:
    with engine.begin() as connection:
        ana = make_traveller(connection, phone="16505551234")
        ben = make_traveller(connection, phone="16505559876")
        sent = {key: make_outbound(connection, ana, wamid=w) for key, w in OUTBOUND.items()}
    for path in FILES:
        assert post(http, receiver.url, path.read_bytes()).status_code == 200
    report = drain(engine)
    assert (report.rejected, report.items_rejected, report.failed) == (0, 0, 0)
    messages = [p for p in FILES if p.stem.startswith("messages_")]
    assert report.inbound_stored == len([p for p in messages if not p.stem.endswith(NOTICES)])
    assert report.notices == {"number_changed": 1, "identity_changed": 1, "edit": 1, "revoke": 1}
    assert (message_row(engine, sent["a"])["status"], message_row(engine, sent["b"])["status"]) == (
        "read",
        "failed",
    )
    assert message_row(engine, sent["b"])["error_code"] == 131026
    # user_preferences is applied: Ana, never opted in to marketing, stops it (unchanged)
    assert (report.marketing_unchanged, report.marketing_unmatched) == (1, 0)
    applied = {"messages", "user_preferences"}
    other_fields = {load(p)["entry"][0]["changes"][0]["field"] for p in FILES} - applied
    assert set(report.unused) == {f"field:{f}" for f in other_fields} | {
        "status:played",
        "value:errors",
    }
    phone = scalar(
        engine, "SELECT phone_number FROM whatsapp_accounts WHERE id = %(a)s", a=ben.account
    )
    assert phone == "351912345679"
    texts = rows(engine, "SELECT content FROM whatsapp_messages WHERE direction = 'inbound'")
    assert not any(row["content"].startswith(("[system", "[edit", "[revoke")) for row in texts)
    assert {"content": "Is breakfast included in the price?"} in texts
