"""The request layer of the Graph API's read endpoints (template listing, media).

One ``httpx`` client carrying the bearer token (so pytest-httpx can stub it); Meta's
error answers and network failures mapped to the same ``WhatsAppError`` families as
sends; a body that is not what the endpoint documents is a ``MalformedResponseError``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
import httpx
from pydantic import BaseModel, ValidationError

from tripcast.whatsapp.api_errors import MalformedResponseError
from tripcast.whatsapp.error_codes import error_from_response
from tripcast.whatsapp.transport import TransportChoice, build_http_client, network_error

Model = TypeVar("Model", bound=BaseModel)


class GraphReader:
    """GETs against the Graph API; an async context manager that closes its client."""

    def __init__(
        self, *, access_token: str, timeout: float, transport: TransportChoice = None
    ) -> None:
        self._http = build_http_client(
            access_token=access_token, max_connections=4, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _get(self, url: str, *, params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = await self._http.get(url, params=params)
        except (httpx.RequestError, aiohttp.ClientError, OSError) as error:
            raise network_error(error) from error
        if not 200 <= response.status_code < 300:
            raise error_from_response(response.status_code, response.content)
        return response


def parse_body(model: type[Model], response: httpx.Response, *, what: str) -> Model:
    """``response``'s body as ``model``; ``what`` names it in the error when it is not."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        raise MalformedResponseError(
            f"HTTP {response.status_code}, but the body is not {what}: {error.errors()[0]['msg']}",
            http_status=response.status_code,
        ) from None
