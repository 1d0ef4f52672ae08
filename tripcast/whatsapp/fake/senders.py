"""The fake's business numbers: how Meta describes them, and Meta's events about them.

``GET /{version}/{phone_number_id}?fields=...`` answers the number node (quality rating,
throughput level, messaging-limit tier) for the configured ``phone_number_id`` and every
id in ``numbers``, only the fields asked for, like the Graph API. Events are delivered
as the signed ``phone_number_quality_update`` / ``account_update`` webhooks Meta sends,
and a quality event also changes what the number node says::

    POST /_fake/senders/quality   {"display_phone_number": "351210000001",
                                   "event": "FLAGGED", "current_limit": "TIER_2K"}
    POST /_fake/senders/account   {"phone_number": "351210000001",
                                   "event": "ACCOUNT_RESTRICTION", "restriction_info": [...]}
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tripcast.whatsapp.fake.config import FakeCloudApiConfig, FakeNumber
from tripcast.whatsapp.fake.meta import MetaRefusal
from tripcast.whatsapp.fake.state import FakeState
from tripcast.whatsapp.fake.webhooks import WebhookDispatcher

FIELDS = {"quality": "phone_number_quality_update", "account": "account_update"}
RATING_BY_EVENT = {"FLAGGED": "RED", "UNFLAGGED": "GREEN"}


def numbers(config: FakeCloudApiConfig) -> dict[str, FakeNumber]:
    """Every number the fake describes: the configured one first, then ``numbers``."""
    own = FakeNumber(display_phone_number=config.display_phone_number)
    return {config.phone_number_id: own} | config.numbers


def number_node(fake: FakeState, request: web.Request, phone_number_id: str) -> web.Response:
    """The phone number node, or Meta's refusal; only the fields asked for (and id)."""
    if request.headers.get("Authorization") != f"Bearer {fake.config.access_token}":
        refusal = MetaRefusal(190)
        return web.json_response(refusal.body(), status=refusal.http_status)
    number = numbers(fake.config)[phone_number_id]
    node: dict[str, Any] = {
        "id": phone_number_id,
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": number.quality_rating,
        "throughput": {"level": number.throughput_level},
        "messaging_limit_tier": number.messaging_limit_tier,
        "whatsapp_business_manager_messaging_limit": number.messaging_limit_tier,
    }
    asked = {name.strip() for name in request.query.get("fields", "").split(",") if name}
    return web.json_response({k: v for k, v in node.items() if k == "id" or k in asked})


def is_number(fake: FakeState, object_id: str) -> bool:
    return object_id in numbers(fake.config)


def _apply_quality(config: FakeCloudApiConfig, value: dict[str, Any]) -> None:
    """What a quality event says, also in the number node of that display number."""
    digits = "".join(ch for ch in str(value.get("display_phone_number", "")) if ch.isdigit())
    rating = RATING_BY_EVENT.get(str(value.get("event", "")).upper())
    tier = value.get("current_limit")
    changed = dict(config.numbers)
    for number_id, number in numbers(config).items():
        if number.display_phone_number != digits:
            continue
        update: dict[str, Any] = {"quality_rating": rating} if rating else {}
        if isinstance(tier, str) and tier.startswith("TIER_"):
            update["messaging_limit_tier"] = tier
        changed[number_id] = number.model_copy(update=update)
    config.numbers = changed


def add_routes(
    app: web.Application,
    *,
    state: web.AppKey[FakeState],
    dispatcher: web.AppKey[WebhookDispatcher],
) -> None:
    async def post_event(request: web.Request) -> web.Response:
        field = FIELDS.get(request.match_info["kind"])
        try:
            value = await request.json()
        except ValueError:
            value = None
        if field is None or not isinstance(value, dict):
            raise web.HTTPBadRequest(text="POST a JSON object to /_fake/senders/quality|account")
        if field == FIELDS["quality"]:
            _apply_quality(request.app[state].config, value)
        sent = request.app[dispatcher].enqueue_change(field, value)
        return web.json_response({"webhooks": int(sent), "field": field, "value": value})

    app.router.add_post("/_fake/senders/{kind}", post_event)
