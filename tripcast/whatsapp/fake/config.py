"""Settings of the local fake Cloud API; every field can be changed while it runs."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

FaultName = Literal["server_error", "timeout", "disconnect", "accept_then_disconnect"]
# "played" (a voice message was played) is Meta's too; off by default, for tests of a
# receiver that must acknowledge statuses it does not use.
WebhookStatus = Literal["sent", "delivered", "read", "played"]


def _all_statuses() -> list[WebhookStatus]:
    return ["sent", "delivered", "read"]


class FakeTemplate(BaseModel):
    """A template: its body parameter count and languages (None: any), its category and
    its status (``PAUSED`` answers 132015, ``DISABLED`` 132016, other non-approved 132001).
    Listed by ``GET message_templates`` (``languages`` None lists ``en_US``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    body_parameters: int | None = Field(default=None, ge=0)
    languages: list[str] | None = None
    category: str = "UTILITY"
    status: str = "APPROVED"


class FakeNumber(BaseModel):
    """A business number as ``GET /{version}/{phone_number_id}`` describes it. A
    ``phone_number_quality_update`` the fake emits for its display number changes it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    display_phone_number: str = "15550001111"
    verified_name: str = "Tripcast"
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_2K"  # the portfolio's, as Meta reports it per number
    throughput_level: str = "STANDARD"


class FakeCloudApiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Identity and auth
    access_token: str = "fake-access-token"
    phone_number_id: str = "100000000000001"  # sender of simulated inbound messages
    display_phone_number: str = "15550001111"
    business_account_id: str = "200000000000001"
    known_phone_number_ids: list[str] | None = None  # None: any id is ours
    # The numbers GET /{version}/{id} describes; phone_number_id is always one of them.
    numbers: dict[str, FakeNumber] = Field(default_factory=dict)

    # Timing and Meta's limits
    latency_seconds: float = Field(default=0.1, ge=0)
    throughput_per_second: float | None = Field(default=80.0, gt=0)  # None: unlimited
    pair_rate_window_seconds: float | None = Field(default=6.0, gt=0)  # None: no pair limit
    enforce_service_window: bool = True
    service_window_hours: float = Field(default=24.0, gt=0)
    frozen_now: AwareDatetime | None = None  # the fake's "now" for the 24 h window

    # Recipients and templates
    undeliverable_numbers: list[str] = Field(default_factory=list)
    # Travellers with a username (see fake/identity.py): Meta withholds their number in
    # inbound messages and in statuses of sends to their BSUID.
    username_share: float = Field(default=0.0, ge=0, le=1)
    username_numbers: list[str] = Field(default_factory=list)
    templates: dict[str, FakeTemplate] | None = None  # None: every template is approved
    # Meta reports 131047 and 131026 in a failed status webhook after accepting the
    # send; False answers them synchronously instead, which is easier to test.
    failures_via_webhook: bool = False

    # Fault injection: shares of requests, drawn from a generator seeded with fault_seed
    fault_seed: int = 0
    server_error_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    disconnect_rate: float = Field(default=0.0, ge=0, le=1)
    accept_then_disconnect_rate: float = Field(default=0.0, ge=0, le=1)
    hang_seconds: float = Field(default=30.0, ge=0)  # a "timeout" outlasts the client
    # accept_then_trickle (scripted only): a 200 whose body comes one byte at a time.
    trickle_seconds: float = Field(default=5.0, gt=0)

    # Status webhooks
    webhook_url: str | None = None
    app_secret: str = "fake-app-secret"
    webhook_statuses: list[WebhookStatus] = Field(default_factory=_all_statuses)
    webhook_batch_size: int = Field(default=100, ge=1, le=1000)
    webhook_flush_seconds: float = Field(default=0.05, ge=0)
    webhook_concurrency: int = Field(default=4, ge=1)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_shuffle: bool = False  # deliver each batch out of order
    webhook_retry_seconds: float = Field(default=0.5, ge=0)
    webhook_max_attempts: int = Field(default=10, ge=1)

    def fault_total(self) -> float:
        return (
            self.server_error_rate
            + self.timeout_rate
            + self.disconnect_rate
            + self.accept_then_disconnect_rate
        )
