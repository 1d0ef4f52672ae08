from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tripcast.whatsapp.webhook import (
    InvalidWebhookPayload,
    answer_verification,
    iter_inbound_messages,
    iter_statuses,
    parse_webhook,
    sign,
    verify_signature,
)

SECRET = "app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_valid_signature() -> None:
    assert verify_signature(SECRET, BODY, sign(SECRET, BODY))
    assert verify_signature(SECRET.encode(), BODY, sign(SECRET, BODY))


def test_signature_matches_meta_format() -> None:
    header = sign(SECRET, BODY)
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    # Upper-case hex is still the same digest.
    assert verify_signature(SECRET, BODY, "sha256=" + header.removeprefix("sha256=").upper())


@pytest.mark.parametrize("prefix", ["SHA256=", "Sha256=", " sha256="])
def test_prefix_case_and_surrounding_space_do_not_matter(prefix: str) -> None:
    digest = sign(SECRET, BODY).removeprefix("sha256=")
    assert verify_signature(SECRET, BODY, prefix + digest)
    assert verify_signature(SECRET, BODY, prefix + digest.upper())
    assert verify_signature(SECRET, BODY, prefix + sign("other-secret", BODY)[7:]) is False


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        sign("other-secret", BODY),
        sign(SECRET, BODY).replace("sha256=", "sha1="),
        sign(SECRET, BODY).removeprefix("sha256="),
        sign(SECRET, BODY)[:-2],
    ],
    ids=["missing", "empty", "no-digest", "wrong-secret", "wrong-prefix", "bare-hex", "short"],
)
def test_rejected_signatures(header: str | None) -> None:
    assert verify_signature(SECRET, BODY, header) is False


def test_tampered_body_is_rejected() -> None:
    header = sign(SECRET, BODY)
    assert verify_signature(SECRET, BODY.replace(b"[]", b"[{}]"), header) is False
    assert verify_signature(SECRET, BODY + b" ", header) is False


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "42"}, (200, "42")),
        (
            {"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "42"},
            (403, "forbidden"),
        ),
        (
            {"hub.mode": "other", "hub.verify_token": "vt", "hub.challenge": "42"},
            (403, "forbidden"),
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": "vt"}, (403, "forbidden")),
        ({}, (403, "forbidden")),
    ],
)
def test_verification_handshake(params: dict[str, str], expected: tuple[int, str]) -> None:
    assert answer_verification(params, verify_token="vt") == expected


def delivery(value: dict[str, Any], *, field: str = "messages") -> bytes:
    base = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "100", "display_phone_number": "15550001111"},
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": field, "value": base | value}]}],
        }
    ).encode()


def status(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "wamid.1",
        "status": name,
        "timestamp": "1795000000",
        "recipient_id": "351912345678",
        **extra,
    }


@pytest.mark.parametrize("name", ["sent", "delivered", "read", "failed"])
def test_every_status_kind_parses_with_an_aware_utc_timestamp(name: str) -> None:
    payload = parse_webhook(delivery({"statuses": [status(name, biz_opaque_callback_data="m-1")]}))
    (parsed,) = list(iter_statuses(payload))
    assert parsed.status == name
    assert parsed.id == "wamid.1"
    assert parsed.recipient_id == "351912345678"
    assert parsed.biz_opaque_callback_data == "m-1"
    assert parsed.timestamp == datetime.fromtimestamp(1795000000, tz=UTC)
    assert parsed.timestamp.tzinfo is not None


def test_failed_status_carries_errors_and_ignores_pricing() -> None:
    failed = status(
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "more than 24 hours"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
        conversation={"id": "c1", "origin": {"type": "utility"}},
        pricing={"billable": True, "pricing_model": "PMP", "category": "utility"},
    )
    (parsed,) = list(iter_statuses(parse_webhook(delivery({"statuses": [failed]}))))
    assert [(e.code, e.title, e.details) for e in parsed.errors] == [
        (131047, "Re-engagement message", "more than 24 hours")
    ]


def test_inbound_text_message_and_contact() -> None:
    raw = delivery(
        {
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "351912345678"}],
            "messages": [
                {
                    "from": "351912345678",
                    "id": "wamid.IN",
                    "timestamp": "1795000100",
                    "type": "text",
                    "text": {"body": "STOP"},
                }
            ],
        }
    )
    payload = parse_webhook(raw)
    (message,) = list(iter_inbound_messages(payload))
    assert (message.sender, message.id, message.type, message.text_body) == (
        "351912345678",
        "wamid.IN",
        "text",
        "STOP",
    )
    assert message.timestamp == datetime.fromtimestamp(1795000100, tz=UTC)
    (value,) = list(payload.message_values())
    assert value.contacts[0].profile is not None
    assert value.contacts[0].profile.name == "Ana"
    assert value.metadata.phone_number_id == "100"
    assert list(iter_statuses(payload)) == []


def test_quick_reply_button_text_is_the_body() -> None:
    button = {
        "from": "1",
        "id": "w",
        "timestamp": "1",
        "type": "button",
        "button": {"payload": "STOP", "text": "Stop"},
    }
    (message,) = list(iter_inbound_messages(parse_webhook(delivery({"messages": [button]}))))
    assert message.text_body == "Stop"


def test_non_text_message_has_no_body() -> None:
    image = {"from": "1", "id": "w", "timestamp": "1", "type": "image", "image": {"id": "media"}}
    (message,) = list(iter_inbound_messages(parse_webhook(delivery({"messages": [image]}))))
    assert message.text_body is None


def test_statuses_across_entries_and_changes_keep_their_order() -> None:
    change = lambda ids: {  # noqa: E731
        "field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "100"},
            "statuses": [status("sent") | {"id": i} for i in ids],
        },
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "A", "changes": [change(["w1", "w2"]), change(["w3"])]},
            {"id": "B", "changes": [change(["w4"])]},
        ],
    }
    payload = parse_webhook(json.dumps(body).encode())
    assert [s.id for s in iter_statuses(payload)] == ["w1", "w2", "w3", "w4"]


def test_unknown_fields_and_other_subscriptions_are_tolerated() -> None:
    raw = json.dumps(
        {
            "object": "whatsapp_business_account",
            "new_top_level": True,
            "entry": [
                {
                    "id": "WABA",
                    "time": 1,
                    "changes": [
                        {"field": "message_template_status_update", "value": {"event": "APPROVED"}},
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "100", "extra": 1},
                                "statuses": [status("read", new_field={"x": 1})],
                            },
                        },
                    ],
                }
            ],
        }
    ).encode()
    payload = parse_webhook(raw)
    assert [s.status for s in iter_statuses(payload)] == ["read"]
    assert payload.entry[0].changes[0].value == {"event": "APPROVED"}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (delivery({"statuses": [status("sent")]})[:-10], "not valid JSON"),
        (b"<xml/>", "not valid JSON"),
        (b"[]", "wrong shape"),
        (b'{"object": "x"}', "entry"),
        # any status name is Meta's to add (played, ...); an empty one is no status
        (delivery({"statuses": [status("")]}), "statuses.0.status"),
        (delivery({"statuses": [status("sent", timestamp="99999999999999999999")]}), "year 9999"),
        (delivery({"statuses": [status("sent", timestamp="yesterday")]}), "timestamp"),
        (delivery({"statuses": [status("sent", timestamp=True)]}), "timestamp"),
        (delivery({"statuses": [{"status": "sent"}]}), "statuses.0.id"),
        (
            delivery({"messages": [{"id": "w", "timestamp": "1", "type": "text"}]}),
            "messages.0: Value error, message has neither a phone number nor a business-scoped",
        ),
        (
            delivery({"statuses": [{"id": "w", "status": "sent", "timestamp": "1"}]}),
            "statuses.0: Value error, status has neither a phone number nor a business-scoped",
        ),
        (delivery({"metadata": None}), "metadata"),
    ],
)
def test_malformed_deliveries_raise_a_clear_error(raw: bytes, fragment: str) -> None:
    with pytest.raises(InvalidWebhookPayload) as caught:
        parse_webhook(raw)
    assert fragment in str(caught.value)
