"""The fake's template endpoints: the paged listing and pausing, disabling, reinstating.

``GET /{version}/{waba_id}/message_templates`` lists ``config.templates`` (every name in
each of its languages, ``en_US`` when it names none) in Meta's shape, ``limit`` per
page with an ``after`` cursor. A template with ``body_parameters`` gets a body with that
many ``{{n}}`` placeholders; one without (any count accepted) is listed with no
components. ``POST /_fake/templates/{name}`` changes a template's status and/or
category and delivers the signed ``message_template_status_update`` /
``template_category_update`` webhook Meta would send, one per language.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from aiohttp import web

from tripcast.whatsapp.fake.config import FakeCloudApiConfig, FakeTemplate
from tripcast.whatsapp.fake.meta import MetaRefusal
from tripcast.whatsapp.fake.state import FakeState
from tripcast.whatsapp.fake.webhooks import WebhookDispatcher

DEFAULT_LIMIT = 25  # Meta's default page size
DEFAULT_LANGUAGE = "en_US"


def template_id(name: str, language: str) -> int:
    digest = hashlib.sha256(f"{name}:{language}".encode()).digest()
    return 100_000_000_000_000 + int.from_bytes(digest[:6]) % 900_000_000_000_000


def listing(config: FakeCloudApiConfig) -> list[dict[str, Any]]:
    """Every template in every language, as Meta lists them."""
    found: list[dict[str, Any]] = []
    for name, template in sorted((config.templates or {}).items()):
        for language in template.languages or [DEFAULT_LANGUAGE]:
            found.append(_listed(name, language, template))
    return found


def _listed(name: str, language: str, template: FakeTemplate) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if template.body_parameters is not None:
        slots = " ".join(f"{{{{{n}}}}}" for n in range(1, template.body_parameters + 1))
        components.append({"type": "BODY", "text": f"{name}: {slots}".strip()})
    score = "RED" if template.status in ("PAUSED", "DISABLED") else "GREEN"
    return {
        "name": name,
        "language": language,
        "status": template.status,
        "category": template.category,
        "components": components,
        "id": str(template_id(name, language)),
        "quality_score": {"score": score},
    }


def page(items: list[dict[str, Any]], *, after: str | None, limit: int, url: str) -> dict[str, Any]:
    start = _decode(after) if after else 0
    chunk = items[start : start + limit]
    end = start + len(chunk)
    paging: dict[str, Any] = {"cursors": {"before": _encode(start), "after": _encode(end)}}
    if end < len(items):
        paging["next"] = f"{url}?limit={limit}&after={_encode(end)}"
    return {"data": chunk, "paging": paging}


def _encode(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("i:"))
    except ValueError:
        raise MetaRefusal(100, f"Invalid cursor: {cursor!r}") from None


def change(
    config: FakeCloudApiConfig,
    name: str,
    *,
    status: str | None = None,
    category: str | None = None,
    reason: str | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Apply a status and/or category change; the (field, value) webhooks it causes."""
    templates = config.templates or {}
    if name not in templates:
        raise KeyError(name)
    template = templates[name]
    events: list[tuple[str, dict[str, Any]]] = []
    for language in template.languages or [DEFAULT_LANGUAGE]:
        ids = {
            "message_template_id": template_id(name, language),
            "message_template_name": name,
            "message_template_language": language,
        }
        if status is not None and status != template.status:
            event = "REINSTATED" if (template.status, status) == ("PAUSED", "APPROVED") else status
            value = {"event": event, **ids, "reason": reason or "NONE"}
            value["message_template_category"] = template.category
            events.append(("message_template_status_update", value))
        if category is not None and category != template.category:
            value = {**ids, "previous_category": template.category, "new_category": category}
            events.append(("template_category_update", value))
    # A new object rather than a change in place: the caller's config stays its own.
    updated = template.model_copy(
        update={"status": status or template.status, "category": category or template.category}
    )
    config.templates = {**templates, name: updated}
    return events


def add_routes(
    app: web.Application,
    *,
    state: web.AppKey[FakeState],
    dispatcher: web.AppKey[WebhookDispatcher],
) -> None:
    """Register the listing and the control endpoint on the fake's application."""

    async def list_templates(request: web.Request) -> web.Response:
        return answer_listing(request.app[state].config, request)

    async def post_template(request: web.Request) -> web.Response:
        events = change_from_request(request.app[state].config, request, await _body(request))
        sent = [request.app[dispatcher].enqueue_change(field, value) for field, value in events]
        return web.json_response({"webhooks": sum(sent), "events": [v for _, v in events]})

    app.router.add_get("/{version}/{waba_id}/message_templates", list_templates)
    app.router.add_post("/_fake/templates/{name}", post_template)


def answer_listing(config: FakeCloudApiConfig, request: web.Request) -> web.Response:
    try:
        _check_listing_auth(config, request)
        limit = int(request.query.get("limit", DEFAULT_LIMIT))
        if not 1 <= limit <= 1000:
            raise MetaRefusal(100, "Param limit must be between 1 and 1000.")
        url = str(request.url.with_query(None))
        body = page(listing(config), after=request.query.get("after"), limit=limit, url=url)
    except ValueError:
        return _refused(MetaRefusal(100, "Param limit must be an integer."))
    except MetaRefusal as refusal:
        return _refused(refusal)
    return web.json_response(body)


def change_from_request(
    config: FakeCloudApiConfig, request: web.Request, body: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    try:
        return change(
            config,
            request.match_info["name"],
            status=_upper(body.get("status")),
            category=_upper(body.get("category")),
            reason=body.get("reason"),
        )
    except KeyError:
        raise web.HTTPNotFound(text="no such template in config.templates") from None


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _check_listing_auth(config: FakeCloudApiConfig, request: web.Request) -> None:
    if request.headers.get("Authorization") != f"Bearer {config.access_token}":
        raise MetaRefusal(190)
    waba_id = request.match_info["waba_id"]
    if waba_id != config.business_account_id:
        raise MetaRefusal(
            100, f"Unsupported get request. Object with ID '{waba_id}' does not exist."
        )


def _refused(refusal: MetaRefusal) -> web.Response:
    return web.json_response(refusal.body(), status=refusal.http_status)


def _upper(value: Any) -> str | None:
    return str(value).strip().upper() if value else None
