"""The fake's read receipts, typing indicators and inbound media.

A read receipt (``"status": "read"`` on the messages endpoint) is answered
``{"success": true}`` and recorded (``GET /_fake/reads``). Media a test uploads
(``POST /_fake/media``, the bytes with their Content-Type) can arrive in an inbound
message (``POST /_fake/inbound/media``) and is served like Meta serves it:
``GET /{version}/{media_id}`` answers the description with a ``url``, and that url
answers the bytes, both only with the bearer token. The same path with a business
number's id answers the number node (``fake.senders``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tripcast.whatsapp.fake import senders
from tripcast.whatsapp.fake.meta import MetaRefusal
from tripcast.whatsapp.fake.state import FakeState
from tripcast.whatsapp.fake.webhooks import WebhookDispatcher, epoch_text

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")


@dataclass(frozen=True)
class FakeMedia:
    content: bytes
    mime_type: str
    filename: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def read_receipt_answer(
    state: FakeState, authorization: str | None, raw: bytes
) -> ReadAnswer | None:
    """The answer to a read receipt, or None when ``raw`` is not one (a send)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != "read":
        return None
    if authorization != f"Bearer {state.config.access_token}":
        return _refusal(MetaRefusal(190))
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id.startswith("wamid."):
        return _refusal(MetaRefusal(100, "The parameter message_id is required."))
    typing = body.get("typing_indicator")
    if typing is not None and typing != {"type": "text"}:
        return _refusal(MetaRefusal(100, "Param typing_indicator.type must be 'text'."))
    state.read_marks.append(
        {"message_id": message_id, "typing": typing is not None, "at": state.now().isoformat()}
    )
    return 200, {"success": True}


ReadAnswer = tuple[int, dict[str, Any]]


def _refusal(refusal: MetaRefusal) -> ReadAnswer:
    return refusal.http_status, refusal.body()


def add_routes(
    app: web.Application, *, state: web.AppKey[FakeState], dispatcher: web.AppKey[WebhookDispatcher]
) -> None:
    """Register the media and read-receipt endpoints; the catch-all media one goes last."""

    async def upload(request: web.Request) -> web.Response:
        fake = request.app[state]
        media_id = str(900_000_000 + len(fake.media) + 1)
        fake.media[media_id] = FakeMedia(
            await request.read(), request.content_type, request.query.get("filename")
        )
        return web.json_response({"id": media_id})

    async def inbound(request: web.Request) -> web.Response:
        return inbound_media(request.app[state], request.app[dispatcher], await request.json())

    async def reads(request: web.Request) -> web.Response:
        return web.json_response({"reads": request.app[state].read_marks})

    async def info(request: web.Request) -> web.Response:
        fake, object_id = request.app[state], request.match_info["media_id"]
        if object_id not in fake.media and senders.is_number(fake, object_id):
            return senders.number_node(fake, request, object_id)
        return media_info(fake, request)

    async def download(request: web.Request) -> web.Response:
        fake, media_id = request.app[state], request.match_info["media_id"]
        if request.headers.get("Authorization") != f"Bearer {fake.config.access_token}":
            raise web.HTTPUnauthorized(text="a bearer token is required")
        if media_id not in fake.media:
            raise web.HTTPNotFound(text="no such media")
        media = fake.media[media_id]
        return web.Response(body=media.content, content_type=media.mime_type)

    app.router.add_post("/_fake/media", upload)
    app.router.add_post("/_fake/inbound/media", inbound)
    app.router.add_get("/_fake/reads", reads)
    app.router.add_get("/_fake/media/{media_id}/content", download)
    app.router.add_get("/{version}/{media_id}", info)


def media_info(fake: FakeState, request: web.Request) -> web.Response:
    media_id = request.match_info["media_id"]
    if request.headers.get("Authorization") != f"Bearer {fake.config.access_token}":
        refusal = MetaRefusal(190)
    elif media_id not in fake.media:
        refusal = MetaRefusal(100, f"Unsupported get request. Object with ID '{media_id}' "
                              "does not exist.")  # fmt: skip
    else:
        media = fake.media[media_id]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": str(request.url.with_path(f"/_fake/media/{media_id}/content")),
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.content),
                "id": media_id,
            }
        )
    return web.json_response(refusal.body(), status=refusal.http_status)


def inbound_media(fake: FakeState, dispatcher: WebhookDispatcher, body: Any) -> web.Response:
    """A traveller sends uploaded media: the inbound webhook, as Meta shapes it."""
    if not isinstance(body, dict) or body.get("media_id") not in fake.media:
        raise web.HTTPBadRequest(text="'media_id' must name media uploaded to /_fake/media")
    kind, sender = body.get("type", "image"), str(body.get("from", ""))
    if kind not in MEDIA_TYPES or not sender.isdigit():
        raise web.HTTPBadRequest(text=f"'type' must be one of {MEDIA_TYPES}; 'from' digits")
    media = fake.media[body["media_id"]]
    moment = fake.record_inbound(sender)
    item: dict[str, Any] = {"id": body["media_id"], "mime_type": media.mime_type,
                            "sha256": media.sha256}  # fmt: skip
    if body.get("caption") and kind in ("image", "video", "document"):
        item["caption"] = str(body["caption"])
    if media.filename and kind == "document":
        item["filename"] = media.filename
    message = {"from": sender, "id": fake.new_wamid(), "timestamp": epoch_text(moment),
               "type": kind, kind: item}  # fmt: skip
    contact = {"profile": {"name": "Traveller"}, "wa_id": sender}
    delivered = dispatcher.enqueue_inbound(
        phone_number_id=fake.config.phone_number_id, message=message, contact=contact
    )
    return web.json_response({"id": message["id"], "webhook": delivered})
