"""The demo summary's costs block: the day's messages priced from the sample rate card.

The sample card (``rate-card.csv`` beside this module) holds made-up prices in the shape
an operator supplies; real prices come from Meta's rate cards for the account's market.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy.engine import Engine

from tripcast.costs.breakdown import cost_report
from tripcast.costs.ratecard import load_rate_card

SAMPLE_RATE_CARD = Path(__file__).with_name("rate-card.csv")
PRICED_DAYS = """
SELECT min((priced_at AT TIME ZONE 'UTC')::date), max((priced_at AT TIME ZONE 'UTC')::date)
FROM public.whatsapp_message_pricing
"""


def costs_block(engine: Engine) -> list[tuple[str, int | str]]:
    """Billable and free messages by category, then the estimated cost."""
    with engine.connect() as connection:
        first_day, last_day = connection.exec_driver_sql(PRICED_DAYS).one()
    if first_day is None:
        return []
    card = load_rate_card(SAMPLE_RATE_CARD)
    report = cost_report(engine, first_day=first_day, last_day=last_day, card=card)
    counts: Counter[str] = Counter()
    for row in report.rows:
        counts[f"{row.category}, billable"] += row.billable
        counts[f"{row.category}, free"] += row.messages - row.billable
    rows: list[tuple[str, int | str]] = [(k, v) for k, v in sorted(counts.items()) if v]
    rows.append(("estimated cost (sample rate card)", f"{report.cost} {report.currency}"))
    return rows
