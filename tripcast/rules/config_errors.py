"""Errors raised by the domain rules. Both are ``ValueError`` subclasses."""

from __future__ import annotations

from tripcast.exceptions import EXIT_CONFIG, TripcastError


class InvalidRuleConfig(TripcastError, ValueError):
    """A rule's ``trigger_config`` / ``action_config`` (or a value rendered from it) is invalid.

    The message is one line naming the rule part, the field and what is wrong, e.g.
    ``trip_start trigger_config.days_before must be an integer between 0 and 365, got 'soon'``.
    """

    exit_code = EXIT_CONFIG


class UnknownTimezone(TripcastError, ValueError):
    """A timezone name is not an IANA key known to this machine's tz database."""

    exit_code = EXIT_CONFIG
