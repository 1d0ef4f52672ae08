"""Sender tests reuse dispatch's frozen clock and the webhook tests' running receiver."""

from tests.dispatch.conftest import anyio_backend, clock
from tests.webhooks.conftest import http, receiver, receiver_config

__all__ = ["anyio_backend", "clock", "http", "receiver", "receiver_config"]
