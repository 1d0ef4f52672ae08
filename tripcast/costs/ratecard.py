"""The operator's rate card: what one message costs, by destination country and category.

A CSV with a header naming ``country``, ``category``, ``price`` and ``currency`` (any
order, any case; other columns are refused, so a typo never goes unnoticed). ``country``
is an ISO 3166 alpha-2 code or ``*`` for every country without a line of its own;
``category`` one of Meta's pricing categories; ``price`` a non-negative decimal per
message; ``currency`` an ISO 4217 code, the same on every line (totals must add up).
Every error names the file and the line, and the whole card is refused: a report
priced from half a card would be wrong without saying so.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tripcast.exceptions import EXIT_CONFIG, TripcastError

COLUMNS = ("country", "category", "price", "currency")
ANY_COUNTRY = "*"
# Meta's pricing categories (status webhooks' pricing.category), lower-case.
CATEGORIES = frozenset(
    {
        "marketing",
        "marketing_lite",
        "utility",
        "authentication",
        "authentication_international",
        "service",
        "referral_conversion",
    }
)
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


class RateCardError(TripcastError, ValueError):
    """A rate card that cannot be used; the message names the file and line."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class RateCard:
    currency: str
    prices: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    source: str = "rate card"

    def price(self, country: str, category: str) -> Decimal | None:
        """The country's own price for the category, else the ``*`` line's, else None."""
        found = self.prices.get((country, category))
        return found if found is not None else self.prices.get((ANY_COUNTRY, category))


def load_rate_card(path: Path) -> RateCard:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise RateCardError(f"{path}: cannot read the rate card: {error.strerror}") from None
    except UnicodeDecodeError:
        raise RateCardError(f"{path}: the rate card is not UTF-8 text") from None
    return parse_rate_card(text, source=str(path))


def parse_rate_card(text: str, *, source: str = "rate card") -> RateCard:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise RateCardError(f"{source}: empty; expected a header: {','.join(COLUMNS)}")
    order = _columns(header, source=source)
    prices: dict[tuple[str, str], Decimal] = {}
    lines: dict[tuple[str, str], int] = {}
    currency: tuple[str, int] | None = None
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue  # blank lines are harmless
        where = f"{source} line {line}"
        if len(values) != len(order):
            raise RateCardError(f"{where}: {len(values)} fields, expected {len(order)}")
        row = {name: value.strip() for name, value in zip(order, values, strict=True)}
        key, price, code = _row(row, where=where)
        if currency is None:
            currency = (code, line)
        elif code != currency[0]:
            raise RateCardError(
                f"{where}: currency {code} differs from {currency[0]} (line {currency[1]}); "
                "one rate card holds one currency"
            )
        if key in lines:
            raise RateCardError(
                f"{where}: {key[0]} {key[1]} is priced already on line {lines[key]}"
            )
        prices[key], lines[key] = price, line
    if currency is None:
        raise RateCardError(f"{source}: no prices, only a header")
    return RateCard(currency=currency[0], prices=prices, source=source)


def _columns(header: list[str], *, source: str) -> list[str]:
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in COLUMNS if name not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise RateCardError(
            f"{source} line 1: the header must name {', '.join(COLUMNS)} once each; "
            f"got {', '.join(names) or 'nothing'}"
        )
    return names


def _row(row: dict[str, str], *, where: str) -> tuple[tuple[str, str], Decimal, str]:
    country = row["country"].upper()
    if country != ANY_COUNTRY and not _COUNTRY.fullmatch(country):
        raise RateCardError(f"{where}: country {row['country']!r} is not ISO 3166 alpha-2 or *")
    category = row["category"].lower()
    if category not in CATEGORIES:
        raise RateCardError(
            f"{where}: category {row['category']!r} is not one of {', '.join(sorted(CATEGORIES))}"
        )
    try:
        price = Decimal(row["price"])
    except InvalidOperation:
        raise RateCardError(f"{where}: price {row['price']!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise RateCardError(f"{where}: price {row['price']!r} must be a non-negative number")
    currency = row["currency"].upper()
    if not _CURRENCY.fullmatch(currency):
        raise RateCardError(f"{where}: currency {row['currency']!r} is not an ISO 4217 code")
    return (country, category), price, currency
