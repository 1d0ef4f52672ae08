"""Planning one claimed message: consent, marketing, the 24-hour window, the payload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.dispatch.builders import TEMPLATE
from tripcast.dispatch.message_plan import Claimed, Refuse, Send, plan_message
from tripcast.whatsapp.messages import TemplateMessage, TextMessage

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
OPEN = NOW - timedelta(hours=23, minutes=59)
CLOSED = NOW - timedelta(hours=24)


def claimed(**changes: Any) -> Claimed:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "message_type": "text",
        "content": "See you in Porto",
        "metadata": {},
        "retry_count": 0,
        "phone_number": "351912345678",
        "opt_in_status": "opted_in",
        "last_inbound_at": OPEN,
        "marketing": None,
    }
    return Claimed(**(values | changes))


def test_text_inside_the_window_goes_as_text_with_our_id_as_callback_data() -> None:
    message = claimed()
    plan = plan_message(message, now=NOW)
    assert isinstance(plan, Send)
    assert plan.form == "text"
    assert isinstance(plan.message, TextMessage)
    assert plan.message.body == "See you in Porto"
    assert plan.message.biz_opaque_callback_data == str(message.id)


@pytest.mark.parametrize("last_inbound", [CLOSED, None], ids=["24h-old", "never-wrote"])
def test_text_outside_the_window_goes_as_its_template(last_inbound: datetime | None) -> None:
    message = claimed(last_inbound_at=last_inbound, metadata={"template": TEMPLATE})
    plan = plan_message(message, now=NOW)
    assert isinstance(plan, Send)
    assert plan.form == "template"
    assert isinstance(plan.message, TemplateMessage)
    assert plan.message.api_object() == TEMPLATE
    assert plan.message.biz_opaque_callback_data == str(message.id)


def test_text_outside_the_window_without_template_is_refused_with_a_clear_reason() -> None:
    plan = plan_message(claimed(last_inbound_at=CLOSED), now=NOW)
    assert isinstance(plan, Refuse)
    assert plan.reason == "outside 24h window and no template"
    assert not plan.cancelled


def test_template_message_sends_its_template_even_inside_the_window() -> None:
    message = claimed(message_type="template", metadata={"template": TEMPLATE})
    plan = plan_message(message, now=NOW)
    assert isinstance(plan, Send)
    assert plan.form == "template"


def test_template_message_without_template_is_refused() -> None:
    plan = plan_message(claimed(message_type="template"), now=NOW)
    assert isinstance(plan, Refuse)
    assert plan.reason == "template message without metadata.template"


@pytest.mark.parametrize(
    ("status", "reason"),
    [("opted_out", "cancelled: opted out"), ("pending", "cancelled: not opted in")],
)
def test_only_opted_in_accounts_receive(status: str, reason: str) -> None:
    plan = plan_message(claimed(opt_in_status=status), now=NOW)
    assert isinstance(plan, Refuse)
    assert (plan.reason, plan.cancelled) == (reason, True)


@pytest.mark.parametrize(("marketing", "sent"), [(True, True), (False, False), (None, False)])
def test_marketing_needs_an_explicit_yes(marketing: bool | None, sent: bool) -> None:
    message = claimed(metadata={"category": "marketing"}, marketing=marketing)
    plan = plan_message(message, now=NOW)
    assert isinstance(plan, Send) is sent
    if not sent:
        assert isinstance(plan, Refuse)
        assert plan.reason == "cancelled: marketing not allowed"


def test_other_categories_are_not_gated_at_dispatch() -> None:
    plan = plan_message(claimed(metadata={"category": "trip_reminders"}, marketing=False), now=NOW)
    assert isinstance(plan, Send)


@pytest.mark.parametrize(
    ("changes", "reason_start"),
    [
        ({"message_type": "image"}, "unsupported message type: image"),
        ({"metadata": {"template": {"name": "x"}}}, "invalid metadata.template at language"),
        ({"content": ""}, "invalid text:"),
        ({"content": "x" * 4097}, "invalid text:"),
        ({"phone_number": "447700900123"}, "invalid phone number: not a valid number"),
    ],
)
def test_unsendable_rows_are_refused_with_the_reason(
    changes: dict[str, Any], reason_start: str
) -> None:
    plan = plan_message(claimed(**changes), now=NOW)
    assert isinstance(plan, Refuse)
    assert plan.reason.startswith(reason_start)


def test_an_account_without_a_usable_number_is_sent_to_by_its_bsuid() -> None:
    plan = plan_message(claimed(phone_number="", bsuid="PT.123456"), now=NOW)
    assert isinstance(plan, Send)
    assert (plan.to, plan.recipient) == ("PT.123456", "PT.123456")
    assert plan.message.to_payload(plan.to)["recipient"] == "PT.123456"


def test_an_account_with_a_number_is_sent_to_by_number_even_with_a_bsuid() -> None:
    plan = plan_message(claimed(bsuid="PT.123456"), now=NOW)
    assert isinstance(plan, Send)
    assert (plan.to, plan.recipient) == ("351912345678", None)


def test_no_usable_number_and_no_bsuid_is_refused() -> None:
    plan = plan_message(claimed(phone_number=""), now=NOW)
    assert isinstance(plan, Refuse)
    assert plan.reason.startswith("invalid phone number")
