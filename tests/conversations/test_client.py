"""Read receipts, the typing indicator and media downloads, against pytest-httpx."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from pytest_httpx import HTTPXMock

from tests.whatsapp.meta_bodies import meta_error
from tripcast.whatsapp.api_errors import MalformedResponseError, PermanentError, WhatsAppError
from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.conversation import MediaClient, MediaIntegrityError

pytestmark = pytest.mark.anyio

MESSAGES = "https://graph.example/v23.0/1234567890/messages"
TOKEN = "test-token-value"
PHOTO = b"\xff\xd8\xff\xe0 a small jpeg"


def client() -> WhatsAppClient:
    return WhatsAppClient(
        base_url="https://graph.example",
        api_version="v23.0",
        phone_number_id="1234567890",
        access_token=TOKEN,
        transport=None,
    )


def media_client() -> MediaClient:
    return MediaClient(base_url="https://graph.example", api_version="v23.0",
                       access_token=TOKEN, transport=None)  # fmt: skip


@pytest.mark.parametrize("typing", [False, True])
async def test_mark_read_posts_the_read_status(httpx_mock: HTTPXMock, typing: bool) -> None:
    httpx_mock.add_response(method="POST", url=MESSAGES, json={"success": True})
    async with client() as whatsapp:
        await whatsapp.mark_read("wamid.IN1", typing=typing)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    expected = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}
    if typing:
        expected["typing_indicator"] = {"type": "text"}  # type: ignore[assignment]
    assert json.loads(request.content) == expected


async def test_mark_read_raises_metas_refusal_and_odd_answers(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=MESSAGES, status_code=400,
                            json=meta_error(100, "Invalid parameter"))  # fmt: skip
    httpx_mock.add_response(method="POST", url=MESSAGES, json={"success": False})
    async with client() as whatsapp:
        with pytest.raises(WhatsAppError) as refused:
            await whatsapp.mark_read("wamid.OLD")
        assert isinstance(refused.value, PermanentError)
        with pytest.raises(MalformedResponseError, match=re.escape("not {'success': true}")):
            await whatsapp.mark_read("wamid.IN2")


async def test_download_follows_the_url_with_the_token_and_checks_sha256(
    httpx_mock: HTTPXMock,
) -> None:
    url = "https://lookaside.example/whatsapp_business/attachments/?mid=42"
    httpx_mock.add_response(
        method="GET", url="https://graph.example/v23.0/4242",
        json={"messaging_product": "whatsapp", "url": url, "mime_type": "image/jpeg",
              "sha256": hashlib.sha256(PHOTO).hexdigest(), "file_size": len(PHOTO), "id": "4242"},
    )  # fmt: skip
    httpx_mock.add_response(method="GET", url=url, content=PHOTO)
    async with media_client() as media:
        info, content = await media.download("4242")
    assert (info.mime_type, content) == ("image/jpeg", PHOTO)
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in httpx_mock.get_requests())


async def test_a_download_that_does_not_match_its_sha256_is_refused(httpx_mock: HTTPXMock) -> None:
    url = "https://lookaside.example/x"
    httpx_mock.add_response(method="GET", url="https://graph.example/v23.0/7",
                            json={"url": url, "sha256": "00" * 32})  # fmt: skip
    httpx_mock.add_response(method="GET", url=url, content=PHOTO)
    async with media_client() as media:
        with pytest.raises(MediaIntegrityError, match="do not match its sha256"):
            await media.download("7")


async def test_an_expired_media_id_raises_metas_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url="https://graph.example/v23.0/8", status_code=400,
                            json=meta_error(100, "Unsupported get request"))  # fmt: skip
    async with media_client() as media:
        with pytest.raises(WhatsAppError, match="Unsupported get request"):
            await media.info("8")
        with pytest.raises(ValueError, match="not a WhatsApp media id"):
            await media.info("../../me")
