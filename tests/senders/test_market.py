"""Routing prefers the traveller's stored market to the phone number's country
(override -> last conversation -> stored market -> phone prefix -> default)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from pytest_httpx import HTTPXMock
from sqlalchemy.engine import Engine

from tests.dispatch.builders import Traveller, message
from tests.dispatch.conftest import Clock
from tests.dispatch.mock_api import dispatch, traveller
from tests.senders.test_routing import (
    AMERICAS,
    DEFAULT,
    PORTUGAL,
    accept_any,
    from_numbers,
    inbound,
    senders,
    templated,
)
from tripcast.senders.markets import normalize_market, set_market
from tripcast.senders.registry import SenderError

pytestmark = pytest.mark.anyio
__all__ = ["senders"]


def stored(engine: Engine, who: Traveller, market: str | None) -> None:
    with engine.begin() as connection:
        set_market(connection, who.user_id, market)


async def test_the_stored_market_wins_over_the_phone_prefix(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    lisbon_on_us_sim = traveller(senders, phone="16175550188")
    boston_on_pt_sim = traveller(senders, phone="351912000188")
    unserved_market = traveller(senders, phone="351912000189")  # ES: no number serves it
    no_market = traveller(senders, phone="16175550189")
    stored(senders, lisbon_on_us_sim, "pt")
    stored(senders, boston_on_pt_sim, "US")
    stored(senders, unserved_market, "ES")
    ids = {
        who.phone: templated(senders, who)
        for who in (lisbon_on_us_sim, boston_on_pt_sim, unserved_market, no_market)
    }
    await dispatch(senders, clock)
    expected = {
        lisbon_on_us_sim.phone: PORTUGAL,
        boston_on_pt_sim.phone: AMERICAS,  # US is calling code 1, which AMERICAS lists
        unserved_market.phone: PORTUGAL,  # the phone prefix, next in line
        no_market.phone: AMERICAS,
    }
    assert from_numbers(httpx_mock) == expected
    for phone, message_id in ids.items():
        assert message(senders, message_id)["sender_phone_number_id"] == expected[phone]


async def test_the_last_conversation_still_wins_over_the_stored_market(
    senders: Engine, clock: Clock, httpx_mock: HTTPXMock
) -> None:
    accept_any(httpx_mock)
    who = traveller(senders, phone="16175550190")
    stored(senders, who, "PT")
    inbound(senders, who, to=DEFAULT, ago=timedelta(hours=3))
    templated(senders, who)
    await dispatch(senders, clock)
    assert from_numbers(httpx_mock) == {who.phone: DEFAULT}


def test_a_market_is_an_iso_country_checked_in_python_and_in_the_database(
    engine: Engine,
) -> None:
    assert normalize_market(" br ") == "BR"
    for bad in ("XX", "PRT", "351", "", "AQ"):
        with pytest.raises(SenderError, match="ISO 3166 alpha-2"):
            normalize_market(bad)
    who = traveller(engine, phone="351912000191")
    stored(engine, who, "PT")
    stored(engine, who, None)
    with engine.connect() as connection:
        market = connection.exec_driver_sql(
            "SELECT market FROM whatsapp_accounts WHERE user_id = %(u)s", {"u": who.user_id}
        ).scalar()
    assert market is None
    with (
        pytest.raises(sa.exc.IntegrityError, match="whatsapp_accounts_market_check"),
        engine.begin() as connection,
    ):
        connection.exec_driver_sql(
            "UPDATE whatsapp_accounts SET market = 'pt' WHERE user_id = %(u)s",
            {"u": who.user_id},
        )
