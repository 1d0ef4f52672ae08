"""The error every setup check raises: one line naming what to fix."""

from __future__ import annotations

from tripcast.settings import ConfigError


class SetupError(ConfigError):
    """The topology is not ready (no Prefect API, no work pool, a foreign checkout)."""
