"""The real client against the running fake Cloud API over loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tripcast.whatsapp.api_errors import (
    AuthError,
    NetworkError,
    OutsideWindowError,
    PairRateLimitError,
    RecipientError,
    ServerError,
    TemplateError,
    ThroughputLimitError,
    WhatsAppError,
)
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.fake import FakeCloudApi, FakeTemplate
from tripcast.whatsapp.messages import TemplateMessage
from tripcast.whatsapp.transport import TransportName

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TRAVELLER = "351912345678"
REMINDER = TemplateMessage.build("trip_reminder", "en_US", body=["Ana", "Lisbon"])


@pytest.fixture(params=["aiohttp", "httpx-default"])
def transport(request: pytest.FixtureRequest) -> TransportName:
    return request.param


def client_for(fake: FakeCloudApi, transport: TransportName, **overrides: object) -> WhatsAppClient:
    return fake.client(**({"transport": transport, "timeout": 5.0} | overrides))


async def test_accepted_sends_are_recorded_by_callback_data_and_wamid(
    fake: FakeCloudApi, transport: TransportName
) -> None:
    fake.send_inbound(TRAVELLER, "hello")
    async with client_for(fake, transport) as client:
        text = await client.send_text("+351 912 345 678", "See you", callback_data="m-1")
        template = await client.send_template("351912345679", REMINDER, callback_data="m-2")
    assert text.wa_id == TRAVELLER
    assert fake.accepted_count("m-1") == 1
    assert fake.accepted_count(wamid=template.message_id) == 1
    (recorded,) = fake.accepted(callback_data="m-2")
    assert (recorded["wamid"], recorded["type"]) == (template.message_id, "template")
    assert fake.duplicates() == {}


@pytest.mark.parametrize(
    ("setup", "expected", "code"),
    [
        ({"undeliverable_numbers": [TRAVELLER]}, RecipientError, 131026),
        ({"templates": {"other": FakeTemplate()}}, TemplateError, 132001),
        ({"templates": {"trip_reminder": FakeTemplate(body_parameters=3)}}, TemplateError, 132000),
    ],
)
async def test_meta_rules_reach_the_client_as_error_families(
    fake: FakeCloudApi,
    transport: TransportName,
    setup: dict[str, object],
    expected: type[WhatsAppError],
    code: int,
) -> None:
    fake.set_config(**setup)
    async with client_for(fake, transport) as client:
        with pytest.raises(expected) as caught:
            await client.send_template(TRAVELLER, REMINDER, callback_data="m")
    assert caught.value.code == code
    assert fake.accepted_count("m") == 0


async def test_free_text_outside_the_window_is_131047(
    fake: FakeCloudApi, transport: TransportName
) -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    fake.set_now(now)
    fake.send_inbound(TRAVELLER)
    fake.set_now(now + timedelta(hours=25))
    async with client_for(fake, transport) as client:
        with pytest.raises(OutsideWindowError):
            await client.send_text(TRAVELLER, "too late")
        await client.send_template(TRAVELLER, REMINDER)  # a template still may go


async def test_limits_answer_130429_and_131056(
    fake: FakeCloudApi, transport: TransportName
) -> None:
    fake.set_config(throughput_per_second=2, pair_rate_window_seconds=None)
    async with client_for(fake, transport) as client:
        await client.send_template("351912345671", REMINDER)
        await client.send_template("351912345672", REMINDER)
        with pytest.raises(ThroughputLimitError):
            await client.send_template("351912345673", REMINDER)
        fake.set_config(throughput_per_second=None, pair_rate_window_seconds=6.0)
        with pytest.raises(PairRateLimitError):
            await client.send_template("351912345671", REMINDER)


async def test_wrong_token_is_fatal(fake: FakeCloudApi, transport: TransportName) -> None:
    async with client_for(fake, transport, access_token="expired") as client:
        with pytest.raises(AuthError) as caught:
            await client.send_template(TRAVELLER, REMINDER)
    assert (caught.value.code, caught.value.http_status, caught.value.fatal) == (190, 401, True)


@pytest.mark.parametrize(
    ("fault", "expected", "failure", "accepted"),
    [
        ("server_error", ServerError, None, 0),
        ("bad_gateway", ServerError, None, 0),
        ("timeout", NetworkError, "timeout", 0),
        ("disconnect", NetworkError, "disconnect", 0),
        ("accept_then_disconnect", NetworkError, "disconnect", 1),
    ],
)
async def test_faults_reach_the_client_as_transient_errors(
    fake: FakeCloudApi,
    transport: TransportName,
    fault: str,
    expected: type[WhatsAppError],
    failure: str | None,
    accepted: int,
) -> None:
    fake.script_faults(fault)  # type: ignore[arg-type]
    async with client_for(fake, transport, timeout=0.3) as client:
        with pytest.raises(expected) as caught:
            await client.send_template(TRAVELLER, REMINDER, callback_data="in-doubt?")
        assert caught.value.transient is True
        assert getattr(caught.value, "failure", None) == failure
        # The in-doubt case: the fake did accept it, so a blind re-send would duplicate.
        assert fake.accepted_count("in-doubt?") == accepted
        await client.send_template("351912345679", REMINDER)  # the client still works


async def test_connection_refused_is_a_connect_failure_not_in_doubt(
    transport: TransportName,
) -> None:
    async with WhatsAppClient(
        base_url="http://127.0.0.1:9", phone_number_id="1", access_token="t", transport=transport
    ) as client:
        with pytest.raises(NetworkError) as caught:
            await client.send_text(TRAVELLER, "hi")
    assert (caught.value.failure, caught.value.in_doubt) == ("connect", False)


async def test_random_faults_follow_their_shares(fake: FakeCloudApi) -> None:
    fake.set_config(
        server_error_rate=0.3, pair_rate_window_seconds=None, throughput_per_second=None
    )
    outcomes = []
    async with client_for(fake, "aiohttp") as client:
        for index in range(60):
            try:
                await client.send_template(f"3519123450{index:02d}", REMINDER)
                outcomes.append("ok")
            except ServerError:
                outcomes.append("5xx")
    assert 8 <= outcomes.count("5xx") <= 32
    assert fake.state()["faults"] == {"server_error": outcomes.count("5xx")}
