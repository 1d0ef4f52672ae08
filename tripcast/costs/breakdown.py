"""Billable messages and their estimated cost per day × category × destination country.

The counts come from ``whatsapp_message_pricing`` (what Meta said each message is), the
prices from the operator's rate card; a (country, category) the card does not price is
listed as such, never counted as free.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from tripcast.costs.ratecard import RateCard

GROUPED = """
SELECT (priced_at AT TIME ZONE 'UTC')::date AS day, category, destination_country,
       count(*) AS messages, count(*) FILTER (WHERE billable) AS billable
FROM public.whatsapp_message_pricing
WHERE priced_at >= %(since)s AND priced_at < %(until)s
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
EMPTY_DAYS_SHOWN = 92  # a longer range charts only the days that had messages
CSV_COLUMNS = (
    "day", "category", "country", "messages", "billable", "unit_price", "cost", "currency",
)  # fmt: skip


@dataclass(frozen=True)
class CostRow:
    day: date
    category: str
    country: str
    messages: int
    billable: int
    unit_price: Decimal | None  # None: not priced (no card, or no line for it)
    cost: Decimal | None

    def as_dict(self, currency: str | None) -> dict[str, str | int]:
        return {
            "day": self.day.isoformat(),
            "category": self.category,
            "country": self.country,
            "messages": self.messages,
            "billable": self.billable,
            "unit_price": "" if self.unit_price is None else str(self.unit_price),
            "cost": "" if self.cost is None else str(self.cost),
            "currency": currency or "",
        }


@dataclass(frozen=True)
class CostReport:
    first_day: date
    last_day: date
    rows: list[CostRow]
    currency: str | None  # None without a rate card
    unpriced: list[tuple[str, str]] = field(default_factory=list)  # billable, no price

    @property
    def billable(self) -> int:
        return sum(row.billable for row in self.rows)

    @property
    def cost(self) -> Decimal:
        return sum((row.cost for row in self.rows if row.cost is not None), Decimal(0))

    def by_day(self) -> dict[date, dict[str, Decimal]]:
        """Per day, per category: the cost (or, without a card, billable messages).

        Days without messages are there too (an empty bar says "nothing", a missing one
        reads as "no data"), up to ``EMPTY_DAYS_SHOWN`` days of range."""
        days: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        span = (self.last_day - self.first_day).days + 1
        for offset in range(span if span <= EMPTY_DAYS_SHOWN else 0):
            days[self.first_day + timedelta(days=offset)] = defaultdict(Decimal)
        for row in self.rows:
            value = row.cost if self.currency is not None else Decimal(row.billable)
            days[row.day][row.category] += value or Decimal(0)
        return {day: dict(values) for day, values in sorted(days.items())}

    def summary(self) -> str:
        days = f"{self.first_day} to {self.last_day}"
        if self.currency is None:
            return f"{self.billable} billable messages {days} (no rate card: no cost estimate)"
        line = f"{self.billable} billable messages {days}, estimated {self.cost} {self.currency}"
        if self.unpriced:
            missing = ", ".join(f"{country} {category}" for country, category in self.unpriced)
            line += f"; not on the rate card: {missing}"
        return line

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row.as_dict(self.currency) for row in self.rows)
        return out.getvalue()


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """UTC instants covering both days whole."""
    if last_day < first_day:
        raise ValueError(f"--until {last_day} is before --since {first_day}")
    start = datetime.combine(first_day, time(), UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time(), UTC)


def cost_report(
    engine: Engine, *, first_day: date, last_day: date, card: RateCard | None = None
) -> CostReport:
    since, until = day_bounds(first_day, last_day)
    with engine.connect() as connection:
        grouped = connection.exec_driver_sql(GROUPED, {"since": since, "until": until}).all()
    rows: list[CostRow] = []
    unpriced: set[tuple[str, str]] = set()
    for day, category, country, messages, billable in grouped:
        price = card.price(country, category) if card is not None else None
        if card is not None and price is None and billable:
            unpriced.add((country, category))
        cost = price * billable if price is not None else None
        rows.append(CostRow(day, category, country, messages, billable, price, cost))
    return CostReport(
        first_day=first_day,
        last_day=last_day,
        rows=rows,
        currency=card.currency if card is not None else None,
        unpriced=sorted(unpriced),
    )
