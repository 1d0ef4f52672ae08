"""Validated ``trigger_config`` per ``trigger_type`` and when each trigger is due.

``parse_trigger_config(trigger_type, raw)`` accepts a dict or JSON text and returns one
of the models below, or raises ``InvalidRuleConfig`` with a one-line message. Numbers
must be JSON numbers (``1`` or ``1.0``; not ``"1"`` or ``true``); unknown fields are
errors.

Local send times (``send_at``) are wall times in the traveller's timezone
(``notification_preferences.timezone``); DST handling is ``occurrences.local_instant``'s.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripcast.rules._fields import LocalTime, WholeNumber
from tripcast.rules._parsing import check_type, parse_config
from tripcast.rules._tz import require_aware, zone
from tripcast.rules.config_errors import UnknownTimezone
from tripcast.rules.occurrences import MAX_CRON_TICKS, cron_ticks, local_instant, validate_cron

TriggerType = Literal["trip_start", "trip_end", "booking_pending", "budget_exceeded", "schedule"]
TRIGGER_TYPES: tuple[TriggerType, ...] = (
    "trip_start",
    "trip_end",
    "booking_pending",
    "budget_exceeded",
    "schedule",
)
DEFAULT_SEND_AT = time(9, 0)
MAX_PENDING_HOURS = 24 * 90


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TripStartTrigger(_Config):
    """Fire ``days_before`` days before the trip's start date, at ``send_at`` local time."""

    days_before: WholeNumber = Field(ge=0, le=365, description="an integer between 0 and 365")
    send_at: LocalTime = DEFAULT_SEND_AT

    def due_at(self, start_date: date, *, timezone: str) -> datetime:
        """UTC instant to send for a trip starting on ``start_date``."""
        return local_instant(start_date - timedelta(days=self.days_before), self.send_at, timezone)


class TripEndTrigger(_Config):
    """Fire ``days_after`` days after the trip's end date, at ``send_at`` local time."""

    days_after: WholeNumber = Field(ge=0, le=365, description="an integer between 0 and 365")
    send_at: LocalTime = DEFAULT_SEND_AT

    def due_at(self, end_date: date, *, timezone: str) -> datetime:
        """UTC instant to send for a trip ending on ``end_date``."""
        return local_instant(end_date + timedelta(days=self.days_after), self.send_at, timezone)


class BookingPendingTrigger(_Config):
    """Fire when a booking is still pending ``hours`` after it was created."""

    hours: float = Field(
        strict=True,
        gt=0,
        le=MAX_PENDING_HOURS,
        allow_inf_nan=False,
        description=f"a number of hours greater than 0 and at most {MAX_PENDING_HOURS}",
    )

    def due_at(self, created_at: datetime) -> datetime:
        """The instant a booking created at ``created_at`` becomes overdue (same timezone)."""
        return require_aware(created_at, "created_at") + timedelta(hours=self.hours)


def _decimal(value: Decimal | int | float, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def budget_percent(spent: Decimal | int | float, budget: Decimal | int | float) -> int | None:
    """Whole percent of ``budget`` spent, rounded down; ``None`` when there is no budget (<= 0)."""
    spent_d, budget_d = _decimal(spent, "spent"), _decimal(budget, "budget")
    if budget_d <= 0:
        return None
    return int((spent_d * 100) // budget_d)


class BudgetExceededTrigger(_Config):
    """Fire when spending reaches ``threshold_percent`` % of the trip budget."""

    threshold_percent: WholeNumber = Field(
        ge=1, le=1000, description="an integer between 1 and 1000"
    )

    def reached(self, spent: Decimal | int | float, budget: Decimal | int | float) -> bool:
        """True when ``spent >= threshold% × budget`` (exact decimal arithmetic).

        A trip without a positive budget never triggers.
        """
        percent = budget_percent(spent, budget)
        return percent is not None and percent >= self.threshold_percent


class ScheduleTrigger(_Config):
    """Fire on each tick of a 5-field ``cron`` expression evaluated in ``timezone``."""

    cron: str = Field(strict=True, description="a 5-field cron expression such as '0 9 * * 1'")
    timezone: str = Field(
        default="UTC",
        strict=True,
        description="an IANA timezone name such as 'Europe/Lisbon'",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        return validate_cron(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except UnknownTimezone:
            raise ValueError("must be an IANA timezone name such as 'Europe/Lisbon'") from None
        return value

    def ticks(
        self, *, after: datetime, until: datetime, max_ticks: int = MAX_CRON_TICKS
    ) -> list[datetime]:
        """UTC ticks in ``(after, until]``; see ``occurrences.cron_ticks``."""
        return cron_ticks(
            self.cron, timezone=self.timezone, after=after, until=until, max_ticks=max_ticks
        )


TriggerConfig = (
    TripStartTrigger
    | TripEndTrigger
    | BookingPendingTrigger
    | BudgetExceededTrigger
    | ScheduleTrigger
)

TRIGGER_MODELS: dict[str, type[TriggerConfig]] = {
    "trip_start": TripStartTrigger,
    "trip_end": TripEndTrigger,
    "booking_pending": BookingPendingTrigger,
    "budget_exceeded": BudgetExceededTrigger,
    "schedule": ScheduleTrigger,
}


def parse_trigger_config(trigger_type: str, raw: object) -> TriggerConfig:
    """Validate ``raw`` (dict or JSON text) as the ``trigger_config`` of ``trigger_type``.

    Raises ``InvalidRuleConfig`` for an unknown type or any invalid, missing or extra field.
    """
    name = check_type(trigger_type, TRIGGER_TYPES, "trigger_type")
    return parse_config(TRIGGER_MODELS[name], raw, kind="trigger_config", type_name=name)
