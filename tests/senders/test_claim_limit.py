"""A batch claims at the sum of the active numbers' rates, so several numbers together
send at the sum of their rates rather than at the default's alone."""

from __future__ import annotations

from tripcast.dispatch import DispatchSettings
from tripcast.senders.batch import combined_settings
from tripcast.senders.registry import Sender
from tripcast.senders.routing import Senders

SETTINGS = DispatchSettings(send_rate=80)


def test_active_numbers_rates_add_up() -> None:
    senders = Senders(
        by_id={
            "1": Sender("1"),
            "2": Sender("2", send_rate=40),
            "3": Sender("3"),  # TRIPCAST_SEND_RATE
            "4": Sender("4", send_rate=1000, status="paused"),
        },
        default="1",
    )
    combined = combined_settings(SETTINGS, senders)
    assert combined.send_rate == 80 + 40 + 80
    assert combined.claim_limit(500) == 96  # 200/s less 4 %, half a second
    assert SETTINGS.claim_limit(500) == 39


def test_one_number_or_unpaced_keeps_the_settings() -> None:
    assert combined_settings(SETTINGS, Senders({"1": Sender("1")}, "1")) is SETTINGS
    assert combined_settings(SETTINGS, None) is SETTINGS
    unpaced = DispatchSettings(send_rate=None)
    assert combined_settings(unpaced, Senders({"2": Sender("2")}, "1")) is unpaced
