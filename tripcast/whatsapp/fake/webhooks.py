"""Signed webhook deliveries from the fake, batched and retried like Meta's.

Accepted sends turn into status updates (sent, delivered, read; or failed with
``errors[]``) and simulated traveller messages into inbound-message updates. They
are queued, flushed in batches of up to ``webhook_batch_size`` per POST, optionally
duplicated and shuffled, signed with the app secret, and re-posted on non-200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.identity import bsuid_for, hides_number, username_for
from tripcast.whatsapp.fake.meta import MetaRefusal
from tripcast.whatsapp.fake.state import AcceptedMessage, FakeState
from tripcast.whatsapp.webhook import SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class _Update:
    phone_number_id: str
    status: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    change: dict[str, Any] | None = None  # a whole change of another field (templates)


@dataclass
class WebhookStats:
    posts_ok: int = 0
    posts_failed: int = 0
    updates_delivered: int = 0
    updates_dropped: int = 0
    in_flight: int = 0
    last_error: str | None = None


class WebhookDispatcher:
    def __init__(self, state: FakeState) -> None:
        self._state = state
        self._queue: deque[_Update] = deque()
        self._wake = asyncio.Event()
        self._rng = random.Random(state.config.fault_seed + 1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self.stats = WebhookStats()

    @property
    def pending(self) -> int:
        return len(self._queue) + self.stats.in_flight

    def status_snapshot(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "pending": self.pending,
            "posts_ok": stats.posts_ok,
            "posts_failed": stats.posts_failed,
            "updates_delivered": stats.updates_delivered,
            "updates_dropped": stats.updates_dropped,
            "last_error": stats.last_error,
        }

    def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._runner = asyncio.create_task(self._run())

    async def aclose(self) -> None:
        for task in [*self._tasks, *([self._runner] if self._runner else [])]:
            task.cancel()
        for task in [*self._tasks, *([self._runner] if self._runner else [])]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    def clear(self) -> None:
        self._queue.clear()
        self.stats = WebhookStats(in_flight=self.stats.in_flight)

    def enqueue_accepted(self, message: AcceptedMessage) -> None:
        if self._state.config.webhook_url is None:
            return
        config = self._state.config
        if message.failure_code is not None:
            updates = [_failed_status(message, config)]
        else:
            updates = [
                _status(message, name, message.accepted_at + timedelta(seconds=step), config)
                for step, name in enumerate(config.webhook_statuses)
            ]
        for update in updates:
            contact = _status_contact(message, update, config)
            self._push(_Update(message.phone_number_id, status=update, contact=contact))
            if self._rng.random() < self._state.config.webhook_duplicate_rate:
                self._push(_Update(message.phone_number_id, status=update, contact=contact))

    def enqueue_inbound(
        self, *, phone_number_id: str, message: dict[str, Any], contact: dict[str, Any]
    ) -> bool:
        if self._state.config.webhook_url is None:
            return False
        self._push(_Update(phone_number_id, message=message, contact=contact))
        return True

    def enqueue_change(self, field: str, value: dict[str, Any]) -> bool:
        """A change of a non-messages field (``message_template_status_update`` ...)."""
        if self._state.config.webhook_url is None:
            return False
        change = {"field": field, "value": value}
        self._push(_Update(self._state.config.phone_number_id, change=change))
        return True

    def _push(self, update: _Update) -> None:
        self._queue.append(update)
        self._wake.set()

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self._state.config.webhook_concurrency)
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._state.config.webhook_flush_seconds)
            while self._queue:
                size = self._state.config.webhook_batch_size
                batch = [self._queue.popleft() for _ in range(min(size, len(self._queue)))]
                if self._state.config.webhook_shuffle:
                    self._rng.shuffle(batch)
                await slots.acquire()
                self.stats.in_flight += len(batch)
                task = asyncio.create_task(self._deliver(batch))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                task.add_done_callback(lambda _: slots.release())

    async def _deliver(self, batch: list[_Update]) -> None:
        body = json.dumps(_payload(self._state, batch)).encode()
        try:
            for attempt in range(1, self._state.config.webhook_max_attempts + 1):
                if await self._post(body):
                    self.stats.posts_ok += 1
                    self.stats.updates_delivered += len(batch)
                    return
                self.stats.posts_failed += 1
                await asyncio.sleep(self._state.config.webhook_retry_seconds * attempt)
            self.stats.updates_dropped += len(batch)
        finally:
            self.stats.in_flight -= len(batch)

    async def _post(self, body: bytes) -> bool:
        config = self._state.config
        if config.webhook_url is None or self._session is None:
            return False
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(config.app_secret, body),
        }
        try:
            async with self._session.post(config.webhook_url, data=body, headers=headers) as answer:
                if answer.status == 200:
                    return True
                self.stats.last_error = f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            self.stats.last_error = f"{type(error).__name__}: {error}"
        return False


def _payload(state: FakeState, batch: list[_Update]) -> dict[str, Any]:
    values: dict[str, dict[str, Any]] = {}
    others = [update.change for update in batch if update.change is not None]
    for update in batch:
        if update.change is not None:
            continue
        value = values.setdefault(update.phone_number_id, _value(state, update.phone_number_id))
        if update.status is not None:
            value.setdefault("statuses", []).append(update.status)
        if update.message is not None:
            value.setdefault("messages", []).append(update.message)
        if update.contact is not None and update.contact not in value.get("contacts", []):
            value.setdefault("contacts", []).append(update.contact)
    changes = [{"value": value, "field": "messages"} for value in values.values()] + others
    entry = {"id": state.config.business_account_id, "changes": changes}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def _value(state: FakeState, phone_number_id: str) -> dict[str, Any]:
    display = state.config.display_phone_number
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display, "phone_number_id": phone_number_id},
    }


def epoch_text(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def _status(
    message: AcceptedMessage, name: str, moment: datetime, config: FakeCloudApiConfig
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": message.wamid,
        "status": name,
        "timestamp": epoch_text(moment),
        "recipient_id": message.recipient,
        "recipient_user_id": bsuid_for(message.recipient),
    }
    if message.by_bsuid and hides_number(config, message.recipient):
        del status["recipient_id"]  # sent to the BSUID of a traveller with a username
    if name != "read" and message.pricing is not None:
        # Like Meta: pricing rides on sent and delivered; no ``conversation`` under PMP
        # outside free entry points, which the fake does not model.
        status["pricing"] = dict(message.pricing)
    if message.callback_data is not None:
        status["biz_opaque_callback_data"] = message.callback_data
    return status


def _status_contact(
    message: AcceptedMessage, status: dict[str, Any], config: FakeCloudApiConfig
) -> dict[str, Any] | None:
    """The ``contacts[]`` entry Meta adds to a status: none for a failed one; the
    username only on delivered and read, for a traveller who has one."""
    if status["status"] == "failed":
        return None
    contact: dict[str, Any] = {"user_id": status["recipient_user_id"]}
    if "recipient_id" in status:
        contact["wa_id"] = status["recipient_id"]
    if status["status"] in ("delivered", "read") and hides_number(config, message.recipient):
        contact["profile"] = {"username": username_for(message.recipient)}
    return contact


def _failed_status(message: AcceptedMessage, config: FakeCloudApiConfig) -> dict[str, Any]:
    code = message.failure_code or 131000
    refusal = MetaRefusal(code)
    error = refusal.body()["error"]
    status = _status(message, "failed", message.accepted_at, config)
    if not message.by_bsuid:
        del status["recipient_user_id"]  # as Meta: failed statuses of sends by number
    status.pop("pricing", None)
    status["errors"] = [
        {
            "code": code,
            "title": refusal.title.split(") ", 1)[-1],
            "message": refusal.title.split(") ", 1)[-1],
            "error_data": {"details": error["error_data"]["details"]},
        }
    ]
    return status
