"""Template tests reuse dispatch's frozen clock and async support."""

from tests.dispatch.conftest import anyio_backend, clock

__all__ = ["anyio_backend", "clock"]
