"""``FakeCloudApi``: a synchronous handle on a running fake, over its control endpoints."""

from __future__ import annotations

import time
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic_core import to_jsonable_python

from tripcast.whatsapp.client import WhatsAppClient
from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.state import ScriptedFault


class FakeCloudApi:
    """Where the fake listens, what it accepted, and knobs to turn while it runs."""

    def __init__(self, base_url: str, config: FakeCloudApiConfig) -> None:
        self.base_url = base_url
        self.api_version = "v23.0"
        self.phone_number_id = config.phone_number_id
        self.access_token = config.access_token
        self.app_secret = config.app_secret
        # trust_env off: a proxy from the environment must never see loopback traffic.
        self._http = httpx.Client(base_url=base_url, timeout=30, trust_env=False)

    def __enter__(self) -> FakeCloudApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.api_version}/{self.phone_number_id}/messages"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``WhatsAppClient`` pointing at this fake."""
        return {
            "base_url": self.base_url,
            "api_version": self.api_version,
            "phone_number_id": self.phone_number_id,
            "access_token": self.access_token,
        }

    def client(self, **overrides: Any) -> WhatsAppClient:
        """A ``WhatsAppClient`` for this fake; ``overrides`` change any option."""
        return WhatsAppClient(**(self.client_options() | overrides))

    def state(self) -> dict[str, Any]:
        """Totals, refusals by code, faults, webhook delivery counters, config."""
        return self._call("GET", "/_fake/state")

    def accepted(
        self,
        *,
        callback_data: str | None = None,
        wamid: str | None = None,
        recipient: str | None = None,
    ) -> list[dict[str, Any]]:
        params = _params(callback_data=callback_data, wamid=wamid, recipient=recipient)
        return list(self._call("GET", "/_fake/accepted", params=params)["messages"])

    def accepted_count(
        self,
        callback_data: str | None = None,
        *,
        wamid: str | None = None,
        recipient: str | None = None,
    ) -> int:
        params = _params(callback_data=callback_data, wamid=wamid, recipient=recipient)
        params["count_only"] = "1"
        return int(self._call("GET", "/_fake/accepted", params=params)["count"])

    def duplicates(self) -> dict[str, int]:
        """Callback data accepted more than once (each a notification sent twice)."""
        params = {"count_only": "1", "duplicates": "1"}
        return dict(self._call("GET", "/_fake/accepted", params=params)["duplicates"])

    def histogram(self, phone_number_id: str | None = None) -> dict[str, Any]:
        """``{"per_second": [[epoch_second, n], ...], "max_in_1s": n}`` of accepted sends."""
        params = _params(phone_number_id=phone_number_id)
        return self._call("GET", "/_fake/histogram", params=params)

    def set_config(self, **changes: Any) -> dict[str, Any]:
        """Change config fields while running (e.g. ``latency_seconds=0``)."""
        return self._call("POST", "/_fake/config", json=to_jsonable_python(changes))

    def set_now(self, moment: datetime | None) -> None:
        """Freeze the fake's clock (for the 24 h window); ``None`` follows real time."""
        self.set_config(frozen_now=moment)

    def reset(self, config: FakeCloudApiConfig | None = None) -> None:
        """Forget every record (and the scripted faults); optionally replace the config."""
        body = {"config": config.model_dump(mode="json")} if config is not None else {}
        self._call("POST", "/_fake/reset", json=body)
        if config is not None:
            self.phone_number_id = config.phone_number_id
            self.access_token = config.access_token
            self.app_secret = config.app_secret

    def script_faults(self, *faults: ScriptedFault) -> None:
        """The next requests fail in this order: a fault name or a Meta error code."""
        self._call("POST", "/_fake/faults", json={"faults": list(faults)})

    def send_inbound(
        self,
        sender: str,
        text: str = "Hello",
        *,
        name: str | None = None,
        phone_number_id: str | None = None,
    ) -> dict[str, Any]:
        """Simulate a traveller's message: opens their 24 h window, sends the webhook."""
        body = {"from": sender, "text": text, "name": name, "phone_number_id": phone_number_id}
        return self._call("POST", "/_fake/inbound", json=body)

    def send_user_preference(self, wa_id: str, value: str) -> dict[str, Any]:
        """Simulate a traveller stopping (``stop``) or resuming (``resume``) marketing
        messages inside WhatsApp: sends the ``user_preferences`` webhook."""
        return self._call("POST", "/_fake/user_preferences", json={"wa_id": wa_id, "value": value})

    def set_template(
        self,
        name: str,
        *,
        status: str | None = None,
        category: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Pause, disable, reinstate (``APPROVED``) or recategorise a configured template;
        the fake delivers the template webhooks Meta would send."""
        body = {"status": status, "category": category, "reason": reason}
        return self._call("POST", f"/_fake/templates/{name}", json=body)

    def sender_event(self, kind: str, **value: Any) -> dict[str, Any]:
        """Meta's word about a business number, as its webhook: ``kind`` ``quality``
        (``display_phone_number``, ``event``, ``current_limit``) or ``account``
        (``phone_number``, ``event``, ``restriction_info``, ``ban_info``)."""
        return self._call("POST", f"/_fake/senders/{kind}", json=value)

    def wait_for_webhooks(self, timeout: float = 10.0) -> dict[str, Any]:
        """Block until every queued webhook was delivered or dropped."""
        deadline = time.monotonic() + timeout
        while True:
            webhooks = dict(self.state()["webhooks"])
            if webhooks["pending"] == 0:
                return webhooks
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhooks still pending after {timeout}s: {webhooks}")
            time.sleep(0.02)

    def upload_media(self, content: bytes, mime_type: str, *, filename: str | None = None) -> str:
        """Media a traveller may send (``send_inbound_media``); its media id."""
        params = _params(filename=filename)
        headers = {"Content-Type": mime_type}
        answer = self._call("POST", "/_fake/media", content=content, headers=headers, params=params)
        return str(answer["id"])

    def send_inbound_media(
        self, sender: str, media_id: str, *, kind: str = "image", caption: str | None = None
    ) -> dict[str, Any]:
        """A traveller sends uploaded media: opens their window, sends the webhook."""
        body = {"from": sender, "media_id": media_id, "type": kind, "caption": caption}
        return self._call("POST", "/_fake/inbound/media", json=body)

    def read_marks(self) -> list[dict[str, Any]]:
        """Read receipts received: ``message_id``, ``typing`` (indicator shown), ``at``."""
        return list(self._call("GET", "/_fake/reads")["reads"])

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"fake {method} {path}: HTTP {response.status_code}: {response.text}"
            )
        return dict(response.json())


def _params(**values: str | None) -> dict[str, str]:
    return {key: value for key, value in values.items() if value is not None}
