"""A rule names the number to send from: ``action_config.sender``."""

from __future__ import annotations

import pytest

from tripcast.rules.actions import SendWhatsAppAction, parse_action_config
from tripcast.rules.config_errors import InvalidRuleConfig


def test_a_rule_may_name_its_sender() -> None:
    action = parse_action_config("send_whatsapp", {"template": "trip_reminder", "sender": "2002"})
    assert isinstance(action, SendWhatsAppAction)
    assert action.sender == "2002"


def test_a_sender_that_is_not_a_phone_number_id_is_refused_by_name() -> None:
    with pytest.raises(InvalidRuleConfig) as caught:
        parse_action_config("send_whatsapp", {"template": "trip_reminder", "sender": "PT"})
    assert "action_config.sender must be a phone number id, got 'PT'" in str(caught.value)
