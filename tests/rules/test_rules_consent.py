from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tripcast.rules.consent import (
    START_PHRASES,
    STOP_PHRASES,
    account_skip_reason,
    classify_inbound,
)


@pytest.mark.parametrize(
    "text",
    [
        "STOP", "stop", "Stop.", "stop!", " STOP!! ", "stop 🙏", "STOP😡", "\tstop\n", "ｓｔｏｐ",
        "STOPALL", "stop all", "Stop-All", "UNSUBSCRIBE", "Cancel", "END", "quit", "opt out",
        "Opt-Out", "OPTOUT", "revoke", "Pare", "PARAR", "sair", "cancelar", "stopp",
        "Arrêter", "ARRETER", "arrêt", "désabonner", "abmelden", "basta", "baja",
    ],
)  # fmt: skip
def test_stop_keywords(text: str) -> None:
    assert classify_inbound(text) == "stop"


@pytest.mark.parametrize(
    "text",
    ["START", "start", "Start!", "UNSTOP", "subscribe", "Yes", "YES.", "opt in", "Opt-In", "optin"],
)
def test_start_keywords(text: str) -> None:
    assert classify_inbound(text) == "start"


@pytest.mark.parametrize(
    "text",
    [
        "please stop by the hotel",
        "don't stop",
        "stop please",
        "Can we stop at Sintra?",
        "bus stop",
        "the trip ends tomorrow",
        "cancel my hotel booking",
        "yes please",
        "sim",
        "oui",
        "hello",
        "",
        "   ",
        "?!",
        None,
        "s" + "top" * 40,
    ],
)
def test_ordinary_messages(text: str | None) -> None:
    assert classify_inbound(text) is None


@given(
    phrase=st.sampled_from(sorted(STOP_PHRASES)),
    upper=st.lists(st.booleans(), min_size=20, max_size=20),
    before=st.sampled_from(["", " ", "  \n", "*"]),
    after=st.sampled_from(["", ".", "!!", " 🙏", "?", " \t"]),
)
def test_property_decorated_stop_is_still_stop(
    phrase: str, upper: list[bool], before: str, after: str
) -> None:
    cased = "".join(c.upper() if up else c for c, up in zip(phrase, upper * 2, strict=False))
    assert classify_inbound(before + cased + after) == "stop"


@given(
    phrase=st.sampled_from(sorted(STOP_PHRASES | START_PHRASES)),
    words=st.lists(st.sampled_from(["please", "the", "hotel", "now", "bus", "ok"]), min_size=1),
)
def test_property_keyword_inside_a_sentence_is_not_a_command(phrase: str, words: list[str]) -> None:
    assert classify_inbound(" ".join([*words, phrase])) is None
    assert classify_inbound(" ".join([phrase, *words])) is None


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (None, "no_whatsapp_account"),
        ({"is_verified": False, "opt_in_status": "opted_in"}, "account_not_verified"),
        ({"is_verified": None, "opt_in_status": "opted_in"}, "account_not_verified"),
        ({"is_verified": True, "opt_in_status": "opted_out"}, "opted_out"),
        ({"is_verified": True, "opt_in_status": "pending"}, "not_opted_in"),
        ({"is_verified": True}, "not_opted_in"),
        ({"is_verified": True, "opt_in_status": "opted_in"}, None),
    ],
)
def test_account_skip_reason(account: dict[str, object] | None, reason: str | None) -> None:
    assert account_skip_reason(account) == reason
