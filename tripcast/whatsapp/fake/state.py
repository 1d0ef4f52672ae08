"""What the fake Cloud API knows and decides, free of any HTTP framework.

``handle_send`` applies Meta's rules in Meta's order (auth, injected faults, request
validation, recipient and template rules, throughput and pair rate limits) and
records every accepted send for the control endpoints and the tests.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tripcast.whatsapp.fake.config import FakeCloudApiConfig
from tripcast.whatsapp.fake.meta import (
    MetaRefusal,
    SendRequest,
    check_template_approved,
    parse_send_request,
    send_response,
)
from tripcast.whatsapp.fake.pricing import pricing_for

Fault = Literal[
    "server_error",
    "bad_gateway",
    "timeout",
    "disconnect",
    "accept_then_disconnect",
    "accept_then_trickle",
]
# Faults that accept the send first and then spoil the answer.
ACCEPTING_FAULTS = ("accept_then_disconnect", "accept_then_trickle")
ScriptedFault = Fault | int  # an int answers that Meta error code


@dataclass(slots=True)
class AcceptedMessage:
    wamid: str
    phone_number_id: str
    recipient: str
    type: str
    callback_data: str | None
    template_name: str | None
    accepted_at: datetime  # the fake's clock (frozen_now when set)
    accepted_epoch: float  # wall clock, for the per-second histogram
    failure_code: int | None = None  # reported later in a failed status webhook
    pricing: dict[str, Any] | None = None  # what its status webhooks will say it costs
    by_bsuid: bool = False  # sent to the traveller's BSUID rather than their number

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["accepted_at"] = self.accepted_at.isoformat()
        return data


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None
    fault: Fault | None = None
    accepted: AcceptedMessage | None = None


class FakeState:
    def __init__(
        self, config: FakeCloudApiConfig, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._monotonic = monotonic  # the limits' clock; tests move it by hand
        self._wamid_serial = itertools.count(1)  # never reset: wamids stay unique
        self.reset()

    def reset(self) -> None:
        self.accepted: list[AcceptedMessage] = []
        self.by_callback: Counter[str] = Counter()
        self.by_wamid: dict[str, AcceptedMessage] = {}
        self.per_second: Counter[tuple[str, int]] = Counter()
        self.refusals: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.requests = 0
        self.reseed()
        self._script: deque[ScriptedFault] = deque()
        self._last_inbound: dict[tuple[str, str], datetime] = {}
        self._last_to_recipient: dict[tuple[str, str], float] = {}
        self._recent_sends: defaultdict[str, deque[float]] = defaultdict(deque)
        # Read receipts (with the typing indicator or not) and media, for the tests.
        self.read_marks: list[dict[str, Any]] = []
        self.media: dict[str, Any] = {}

    def reseed(self) -> None:
        self._fault_rng = random.Random(self.config.fault_seed)

    def now(self) -> datetime:
        return self.config.frozen_now or datetime.now(UTC)

    def script_faults(self, faults: list[ScriptedFault]) -> None:
        """Faults for the next requests, in order, before any random ones."""
        self._script.extend(faults)

    def handle_send(self, phone_number_id: str, authorization: str | None, raw: bytes) -> Answer:
        self.requests += 1
        try:
            self._check_auth(phone_number_id, authorization)
            fault = self._next_fault()
            if fault is not None and fault not in ACCEPTING_FAULTS:
                return self._fault_answer(fault)
            request = parse_send_request(raw)
            failure_code = self._check_recipient(phone_number_id, request)
            self._check_limits(phone_number_id, request)
        except MetaRefusal as refusal:
            self.refusals[refusal.code] += 1
            return Answer(refusal.http_status, refusal.body())
        accepted = self._accept(phone_number_id, request, failure_code)
        if fault is not None:
            # An accepting fault is counted once it happened (the send was accepted).
            self.faults[fault] += 1
        return Answer(200, send_response(request, accepted.wamid), fault, accepted)

    def _check_auth(self, phone_number_id: str, authorization: str | None) -> None:
        if authorization != f"Bearer {self.config.access_token}":
            raise MetaRefusal(190)
        known = self.config.known_phone_number_ids
        if known is not None and phone_number_id not in known:
            # Graph API's answer for an object that does not exist (or may not be used).
            raise MetaRefusal(
                100,
                f"Unsupported post request. Object with ID '{phone_number_id}' does not exist.",
                subcode=33,
            )

    def _next_fault(self) -> Fault | None:
        # One draw per request whatever the outcome, so a seed replays the same faults.
        draw = self._fault_rng.random()
        if self._script:
            scripted = self._script.popleft()
            if isinstance(scripted, int):
                raise MetaRefusal(scripted)
            return scripted
        config = self.config
        for fault, share in (
            ("server_error", config.server_error_rate),
            ("timeout", config.timeout_rate),
            ("disconnect", config.disconnect_rate),
            ("accept_then_disconnect", config.accept_then_disconnect_rate),
        ):
            if draw < share:
                return fault  # type: ignore[return-value]
            draw -= share
        return None

    def _fault_answer(self, fault: Fault) -> Answer:
        self.faults[fault] += 1
        if fault == "server_error":
            refusal = MetaRefusal(131000)
            return Answer(refusal.http_status, refusal.body())
        if fault == "bad_gateway":
            return Answer(502, None)  # a proxy's page: no JSON at all
        return Answer(0, None, fault)

    def _check_recipient(self, phone_number_id: str, request: SendRequest) -> int | None:
        """Refuse or (failures_via_webhook) return the code a failed status will carry."""
        if request.wa_id == self.config.display_phone_number:
            raise MetaRefusal(131021)
        check_template_approved(request, self.config)
        code = None
        if request.wa_id in self.config.undeliverable_numbers:
            code = 131026
        elif request.type == "text" and not self._window_open(phone_number_id, request.wa_id):
            code = 131047
        if code is not None and not self.config.failures_via_webhook:
            raise MetaRefusal(code)
        return code

    def _window_open(self, phone_number_id: str, wa_id: str, *, enforced: bool = True) -> bool:
        if enforced and not self.config.enforce_service_window:
            return True
        last = self._last_inbound.get((phone_number_id, wa_id))
        window = timedelta(hours=self.config.service_window_hours)
        return last is not None and self.now() - last < window

    def _check_limits(self, phone_number_id: str, request: SendRequest) -> None:
        moment = self._monotonic()
        limit = self.config.throughput_per_second
        recent = self._recent_sends[phone_number_id]
        while recent and recent[0] <= moment - 1.0:
            recent.popleft()
        if limit is not None and len(recent) >= limit:
            raise MetaRefusal(130429)
        pair_window = self.config.pair_rate_window_seconds
        last = self._last_to_recipient.get((phone_number_id, request.wa_id))
        if pair_window is not None and last is not None and moment - last < pair_window:
            raise MetaRefusal(131056)
        recent.append(moment)
        self._last_to_recipient[(phone_number_id, request.wa_id)] = moment

    def _accept(
        self, phone_number_id: str, request: SendRequest, failure_code: int | None
    ) -> AcceptedMessage:
        wall = time.time()
        message = AcceptedMessage(
            wamid=self.new_wamid(),
            phone_number_id=phone_number_id,
            recipient=request.wa_id,
            type=request.type,
            callback_data=request.callback_data,
            template_name=request.template_name,
            accepted_at=self.now(),
            accepted_epoch=wall,
            failure_code=failure_code,
            pricing=pricing_for(
                message_type=request.type,
                template_name=request.template_name,
                config=self.config,
                window_open=self._window_open(phone_number_id, request.wa_id, enforced=False),
            ),
            by_bsuid=request.user_id is not None,
        )
        self.accepted.append(message)
        self.by_wamid[message.wamid] = message
        if message.callback_data is not None:
            self.by_callback[message.callback_data] += 1
        self.per_second[(phone_number_id, int(wall))] += 1
        return message

    def new_wamid(self) -> str:
        seed = f"{self.config.fault_seed}:{next(self._wamid_serial)}".encode()
        digest = hashlib.sha256(seed).digest()[:27]
        return "wamid.HBgL" + base64.urlsafe_b64encode(digest).decode()

    def record_inbound(self, sender: str, *, phone_number_id: str | None = None) -> datetime:
        """A traveller wrote to us: opens the 24 h window for free-form text."""
        moment = self.now()
        self._last_inbound[(phone_number_id or self.config.phone_number_id, sender)] = moment
        return moment
