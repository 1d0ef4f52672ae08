from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tripcast.whatsapp.messages import SendResult, TemplateMessage, TextMessage


def test_text_payload_is_exactly_the_cloud_api_json() -> None:
    message = TextMessage(body="Your trip starts tomorrow", biz_opaque_callback_data="msg-1")
    assert message.to_payload("351912345678") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "351912345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Your trip starts tomorrow"},
        "biz_opaque_callback_data": "msg-1",
    }


def test_text_payload_without_callback_data_has_no_such_key() -> None:
    payload = TextMessage(body="hi", preview_url=True).to_payload("351912345678")
    assert "biz_opaque_callback_data" not in payload
    assert payload["text"] == {"preview_url": True, "body": "hi"}


@pytest.mark.parametrize(
    "changes",
    [{"body": ""}, {"body": "x" * 4097}, {"biz_opaque_callback_data": "x" * 513}],
)
def test_text_message_limits(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TextMessage.model_validate({"body": "hi"} | changes)


def test_template_payload_with_header_body_and_button_parameters() -> None:
    template = TemplateMessage.build(
        "trip_reminder",
        "pt_PT",
        header=["Lisboa"],
        body=["Ana", "25 Nov"],
        quick_reply_payloads=["STOP"],
        callback_data="msg-2",
    )
    assert template.to_payload("351912345678") == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "351912345678",
        "type": "template",
        "template": {
            "name": "trip_reminder",
            "language": {"code": "pt_PT"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "Lisboa"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ana"},
                        {"type": "text", "text": "25 Nov"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "STOP"}],
                },
            ],
        },
        "biz_opaque_callback_data": "msg-2",
    }
    assert template.body_parameter_count == 2


STORED_TEMPLATE = {
    "name": "budget_alert",
    "language": {"code": "en_US"},
    "components": [
        {
            "type": "header",
            "parameters": [{"type": "image", "image": {"link": "https://example.com/a.png"}}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {
                    "type": "currency",
                    "currency": {"fallback_value": "€120.50", "code": "EUR", "amount_1000": 120500},
                },
                {"type": "date_time", "date_time": {"fallback_value": "November 25, 2026"}},
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "trip/42"}],
        },
    ],
}


def test_template_object_stored_in_metadata_round_trips_exactly() -> None:
    template = TemplateMessage.model_validate(STORED_TEMPLATE)
    assert template.api_object() == STORED_TEMPLATE
    assert template.to_payload("351912345678")["template"] == STORED_TEMPLATE
    assert template.body_parameter_count == 3


def test_template_without_components_omits_the_key() -> None:
    template = TemplateMessage.build("hello_world", "en_US")
    assert template.api_object() == {"name": "hello_world", "language": {"code": "en_US"}}


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "", "language": {"code": "en_US"}},
        {"name": "x"},
        {"name": "x", "language": {"code": "en_US"}, "components": [{"type": "footer"}]},
        {
            "name": "x",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text"}]}],
        },
        {
            "name": "x",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "sticker", "x": 1}]}],
        },
        {"name": "x", "language": {"code": "en_US"}, "unknown": 1},
    ],
)
def test_malformed_template_objects_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TemplateMessage.model_validate(bad)


def test_with_callback_data_validates_and_keeps_the_template() -> None:
    template = TemplateMessage.model_validate(STORED_TEMPLATE)
    tagged = template.with_callback_data("msg-3")
    assert tagged.to_payload("1")["biz_opaque_callback_data"] == "msg-3"
    assert tagged.api_object() == STORED_TEMPLATE
    with pytest.raises(ValidationError):
        template.with_callback_data("x" * 513)


def test_send_result_parses_meta_answer() -> None:
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+351 912 345 678", "wa_id": "351912345678"}],
        "messages": [{"id": "wamid.ABC", "message_status": "accepted"}],
    }
    result = SendResult.from_response(answer)
    assert (result.wa_id, result.message_id, result.input) == (
        "351912345678",
        "wamid.ABC",
        "+351 912 345 678",
    )
    assert result.message_status == "accepted"


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"contacts": [], "messages": [{"id": "x"}]},
        {"contacts": [{"input": "1", "wa_id": "1"}], "messages": []},
        {"contacts": [{"input": "1"}], "messages": [{"id": "x"}]},
        [1, 2],
        None,
    ],
)
def test_send_result_rejects_other_shapes(answer: Any) -> None:
    with pytest.raises(ValueError, match="not a send result"):
        SendResult.from_response(answer)
