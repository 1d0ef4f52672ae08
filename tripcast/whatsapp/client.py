"""``WhatsAppClient``: the typed façade over the messages endpoint.

Use it as an async context manager; one client keeps one connection pool, so share
it across a batch rather than building one per message::

    async with WhatsAppClient.from_settings(settings) as client:
        result = await client.send_text("+351 912 345 678", "Your trip starts tomorrow")
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

from tripcast.whatsapp.messages import OutboundMessage, SendResult, TemplateMessage, TextMessage
from tripcast.whatsapp.phone import is_bsuid, normalize_phone
from tripcast.whatsapp.transport import TransportChoice, build_endpoint

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"


class WhatsAppSettings(Protocol):
    """The attributes ``from_settings`` reads (``tripcast.settings.Settings`` has them)."""

    whatsapp_api_url: str
    whatsapp_api_version: str
    whatsapp_phone_number_id: str | None
    whatsapp_access_token: Any  # a pydantic SecretStr, or None when unset


class WhatsAppClient:
    """Sends text and template messages; raises ``WhatsAppError`` families on refusal.

    Phone numbers are validated and normalised before any request
    (``InvalidPhoneNumber``, a ``ValueError``, is raised without a call). ``timeout``
    bounds connecting and each read; ``deadline`` (default 1.5 × ``timeout``) the whole
    request, so an answer trickling in is given up as in doubt.
    """

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        max_connections: int = 256,
        timeout: float = 10.0,
        deadline: float | None = None,
        transport: TransportChoice = "aiohttp",
        default_region: str | None = None,
    ) -> None:
        if not phone_number_id:
            raise ValueError("phone_number_id is required")
        if not access_token:
            raise ValueError("access_token is required")
        self.phone_number_id = phone_number_id
        self.default_region = default_region
        self._version_url = f"{base_url.rstrip('/')}/{api_version}"
        self._endpoint = build_endpoint(
            url=f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages",
            access_token=access_token,
            max_connections=max_connections,
            timeout=timeout,
            deadline=deadline,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: WhatsAppSettings, **overrides: Any) -> WhatsAppClient:
        """Build from ``Settings``; ``overrides`` (e.g. ``transport``) pass through."""
        token = settings.whatsapp_access_token
        if settings.whatsapp_phone_number_id is None:
            raise ValueError("TRIPCAST_WHATSAPP_PHONE_NUMBER_ID is not set")
        if token is None:
            raise ValueError("TRIPCAST_WHATSAPP_ACCESS_TOKEN is not set")
        secret = token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
        options: dict[str, Any] = {
            "base_url": settings.whatsapp_api_url,
            "api_version": settings.whatsapp_api_version,
            "phone_number_id": settings.whatsapp_phone_number_id,
            "access_token": secret,
        }
        options.update(overrides)
        return cls(**options)

    @property
    def messages_url(self) -> str:
        return self._endpoint.url

    def __repr__(self) -> str:
        # Never the token.
        return f"WhatsAppClient(url={self.messages_url!r})"

    async def __aenter__(self) -> WhatsAppClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._endpoint.aclose()

    async def send_text(
        self,
        to: str,
        body: str,
        *,
        callback_data: str | None = None,
        preview_url: bool = False,
    ) -> SendResult:
        message = TextMessage(
            body=body, preview_url=preview_url, biz_opaque_callback_data=callback_data
        )
        return await self.send(message, to)

    async def send_template(
        self, to: str, template: TemplateMessage, *, callback_data: str | None = None
    ) -> SendResult:
        if callback_data is not None:
            template = template.with_callback_data(callback_data)
        return await self.send(template, to)

    async def mark_read(self, message_id: str, *, typing: bool = False) -> None:
        """Mark inbound ``message_id`` (a wamid) and the chat before it read; ``typing``
        also shows the typing indicator until the reply is sent (25 s at most)."""
        from tripcast.whatsapp.conversation import acknowledged, read_receipt

        acknowledged(*await self._endpoint.exchange(read_receipt(message_id, typing=typing)))

    async def send(
        self, message: OutboundMessage, to: str, *, phone_number_id: str | None = None
    ) -> SendResult:
        """Send any outbound message model to ``to`` (any common phone notation, or a
        business-scoped user ID, sent as it is), from ``phone_number_id`` when given
        (another sender of the same app), else this client's number; one connection
        pool serves every sender."""
        url = None
        if phone_number_id is not None and phone_number_id != self.phone_number_id:
            url = f"{self._version_url}/{phone_number_id}/messages"
        if is_bsuid(to):
            return await self._endpoint.post(message.to_payload(to), url=url)
        recipient = normalize_phone(to, default_region=self.default_region)
        return await self._endpoint.post(message.to_payload(recipient), url=url)
