"""The fake's business-number events: quality changes and account updates, delivered as
the signed ``phone_number_quality_update`` / ``account_update`` webhooks Meta sends.

The fake serves any number of phone number ids already (the id comes from the URL; its
limits and histograms are per id); this adds Meta's word about them::

    POST /_fake/senders/quality   {"display_phone_number": "351210000001",
                                   "event": "FLAGGED", "current_limit": "TIER_2K"}
    POST /_fake/senders/account   {"phone_number": "351210000001",
                                   "event": "ACCOUNT_RESTRICTION", "restriction_info": [...]}
"""

from __future__ import annotations

from aiohttp import web

from tripcast.whatsapp.fake.state import FakeState
from tripcast.whatsapp.fake.webhooks import WebhookDispatcher

FIELDS = {"quality": "phone_number_quality_update", "account": "account_update"}


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
        sent = request.app[dispatcher].enqueue_change(field, value)
        return web.json_response({"webhooks": int(sent), "field": field, "value": value})

    app.router.add_post("/_fake/senders/{kind}", post_event)
