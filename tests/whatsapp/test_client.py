"""WhatsAppClient over httpx's default transport, mocked with pytest-httpx."""

from __future__ import annotations

import json
import logging

import aiohttp
import httpx
import pytest
from pydantic import SecretStr
from pytest_httpx import HTTPXMock

from tests.whatsapp.meta_bodies import meta_error
from tripcast.whatsapp.api_errors import (
    AuthError,
    CallLimitError,
    MalformedResponseError,
    NetworkError,
    OutsideWindowError,
    PairRateLimitError,
    PermanentError,
    QualityLimitError,
    RecipientError,
    ServerError,
    TemplateError,
    ThroughputLimitError,
)
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.messages import TemplateMessage
from tripcast.whatsapp.phone import InvalidPhoneNumber
from tripcast.whatsapp.transport import network_error

pytestmark = pytest.mark.anyio

URL = "https://graph.example/v23.0/1234567890/messages"
TOKEN = "test-token-value"
ACCEPTED = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "351912345678", "wa_id": "351912345678"}],
    "messages": [{"id": "wamid.OK"}],
}


def make_client(**overrides: object) -> WhatsAppClient:
    options: dict[str, object] = {
        "base_url": "https://graph.example/",
        "api_version": "v23.0",
        "phone_number_id": "1234567890",
        "access_token": TOKEN,
        "transport": None,
        "timeout": 2.0,
    }
    return WhatsAppClient(**(options | overrides))  # type: ignore[arg-type]


async def test_send_text_posts_the_exact_payload_with_bearer_auth(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ACCEPTED)
    async with make_client() as client:
        result = await client.send_text("+351 912 345 678", "Boa viagem", callback_data="m-1")
    assert result.message_id == "wamid.OK"
    assert result.wa_id == "351912345678"
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "351912345678",
        "type": "text",
        "text": {"preview_url": False, "body": "Boa viagem"},
        "biz_opaque_callback_data": "m-1",
    }


async def test_send_template_sets_callback_data(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ACCEPTED)
    template = TemplateMessage.build("trip_reminder", "en_US", body=["Ana"])
    async with make_client() as client:
        await client.send_template("351912345678", template, callback_data="m-2")
    sent = json.loads(httpx_mock.get_request().content)  # type: ignore[union-attr]
    assert sent["type"] == "template"
    assert sent["template"] == template.api_object()
    assert sent["biz_opaque_callback_data"] == "m-2"


async def test_national_numbers_use_the_default_region(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ACCEPTED)
    async with make_client(default_region="PT") as client:
        await client.send_text("912 345 678", "hi")
    assert json.loads(httpx_mock.get_request().content)["to"] == "351912345678"  # type: ignore[union-attr]


async def test_invalid_phone_fails_before_any_http_call(httpx_mock: HTTPXMock) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidPhoneNumber):
            await client.send_text("12345", "hi")
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 130429, ThroughputLimitError),
        (400, 131056, PairRateLimitError),
        (400, 4, CallLimitError),
        (400, 80007, CallLimitError),
        (500, 131000, ServerError),
        (503, 131016, ServerError),
        (400, 131048, QualityLimitError),
        (400, 131047, OutsideWindowError),
        (400, 131026, RecipientError),
        (400, 100, PermanentError),
        (400, 132000, TemplateError),
        (404, 132001, TemplateError),
        (401, 190, AuthError),
    ],
)
async def test_error_answers_raise_their_family(
    httpx_mock: HTTPXMock, status: int, code: int, expected: type[Exception]
) -> None:
    httpx_mock.add_response(method="POST", url=URL, status_code=status, json=meta_error(code))
    async with make_client() as client:
        with pytest.raises(expected) as caught:
            await client.send_text("351912345678", "hi")
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.http_status == status  # type: ignore[attr-defined]


async def test_gateway_page_is_a_server_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=502, text="<html>bad gateway</html>")
    async with make_client() as client:
        with pytest.raises(ServerError, match="not JSON"):
            await client.send_text("351912345678", "hi")


@pytest.mark.parametrize("body", [b'{"messaging_product": "whatsapp"', b"{}", b"ok"])
async def test_success_without_a_send_result_is_in_doubt(
    httpx_mock: HTTPXMock, body: bytes
) -> None:
    httpx_mock.add_response(status_code=200, content=body)
    async with make_client() as client:
        with pytest.raises(MalformedResponseError) as caught:
            await client.send_text("351912345678", "hi")
    assert caught.value.in_doubt is True


@pytest.mark.parametrize(
    ("raised", "failure", "in_doubt"),
    [
        (httpx.ConnectError("refused"), "connect", False),
        (httpx.ConnectTimeout("slow connect"), "connect", False),
        (httpx.PoolTimeout("pool"), "connect", False),
        (httpx.ReadTimeout("slow answer"), "timeout", True),
        (httpx.WriteTimeout("slow write"), "timeout", True),
        (httpx.ReadError("reset"), "disconnect", True),
        (httpx.RemoteProtocolError("Server disconnected"), "disconnect", True),
    ],
)
async def test_transport_failures_become_network_errors(
    httpx_mock: HTTPXMock, raised: Exception, failure: str, in_doubt: bool
) -> None:
    httpx_mock.add_exception(raised)
    async with make_client() as client:
        with pytest.raises(NetworkError) as caught:
            await client.send_text("351912345678", "hi")
    assert caught.value.failure == failure
    assert caught.value.in_doubt is in_doubt
    assert caught.value.transient is True


def _chained(outer: Exception, cause: Exception) -> Exception:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        # httpx-aiohttp maps a dropped connection to ConnectTimeout: the cause decides.
        (_chained(httpx.ConnectTimeout("x"), aiohttp.ServerDisconnectedError()), "disconnect"),
        (_chained(httpx.ReadTimeout("x"), aiohttp.SocketTimeoutError()), "timeout"),
        (_chained(httpx.ConnectTimeout("x"), aiohttp.ConnectionTimeoutError()), "connect"),
        (_chained(httpx.ConnectTimeout("x"), aiohttp.ClientOSError(104, "reset")), "disconnect"),
        (_chained(httpx.ReadError("x"), aiohttp.ClientPayloadError()), "disconnect"),
        (aiohttp.ServerDisconnectedError(), "disconnect"),
        (ConnectionRefusedError(), "connect"),
        (TimeoutError(), "timeout"),
    ],
)
def test_aiohttp_failures_are_classified_by_their_cause(error: Exception, failure: str) -> None:
    assert network_error(error).failure == failure


async def test_logs_mask_the_phone_and_never_show_the_token(
    httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(status_code=400, json=meta_error(131026, details="to 351912345678"))
    caplog.set_level(logging.DEBUG)
    async with make_client() as client:
        with pytest.raises(Exception):  # noqa: B017 - the family is tested above
            await client.send_text("351912345678", "hi")
    assert "3519*****678" in caplog.text
    assert "351912345678" not in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)


class _Settings:
    whatsapp_api_url = "https://graph.example"
    whatsapp_api_version = "v23.0"
    whatsapp_phone_number_id: str | None = "1234567890"
    whatsapp_access_token: SecretStr | None = SecretStr(TOKEN)


async def test_from_settings_reads_the_secret(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, json=ACCEPTED)
    async with WhatsAppClient.from_settings(_Settings(), transport=None) as client:
        assert client.messages_url == URL
        await client.send_text("351912345678", "hi")
    assert httpx_mock.get_request().headers["Authorization"] == f"Bearer {TOKEN}"  # type: ignore[union-attr]


@pytest.mark.parametrize("missing", ["whatsapp_phone_number_id", "whatsapp_access_token"])
def test_from_settings_names_the_missing_variable(missing: str) -> None:
    settings = _Settings()
    setattr(settings, missing, None)
    with pytest.raises(ValueError, match=f"TRIPCAST_{missing.upper()}"):
        WhatsAppClient.from_settings(settings)


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown transport"):
        make_client(transport="curl")


async def test_aiohttp_is_the_default_transport() -> None:
    from tripcast.whatsapp.transport import AiohttpMessagesEndpoint

    client = WhatsAppClient(phone_number_id="1", access_token=TOKEN)
    assert isinstance(client._endpoint, AiohttpMessagesEndpoint)
    await client.aclose()
