"""The operator's rate card: validated whole, every error naming its line."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tripcast.costs.ratecard import RateCardError, load_rate_card, parse_rate_card

SAMPLE = Path(__file__).parents[2] / "tripcast" / "demo" / "rate-card.csv"


def test_the_shipped_sample_loads_and_falls_back_to_the_star_line() -> None:
    card = load_rate_card(SAMPLE)
    assert card.currency == "USD"
    assert card.price("PT", "marketing") == Decimal("0.0500")
    assert card.price("BR", "utility") == Decimal("0.0100")  # the * line
    assert card.price("BR", "marketing_lite") is None


def test_columns_in_any_order_and_case_with_blank_lines() -> None:
    card = parse_rate_card("Currency,PRICE,category,country\n\neur,0.12,Marketing,pt\n")
    assert card.currency == "EUR"
    assert card.price("PT", "marketing") == Decimal("0.12")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty; expected a header"),
        ("country,category,price\n", "line 1: the header must name"),
        ("country,category,price,currency,note\n", "line 1: the header must name"),
        ("country,category,price,currency\n", "no prices, only a header"),
        ("country,category,price,currency\nPT,utility,0.01\n", "line 2: 3 fields, expected 4"),
        (
            "country,category,price,currency\nPortugal,utility,0.01,USD\n",
            "line 2: country 'Portugal' is not ISO 3166",
        ),
        ("country,category,price,currency\nPT,promo,0.01,USD\n", "line 2: category 'promo'"),
        (
            "country,category,price,currency\nPT,utility,cheap,USD\n",
            "line 2: price 'cheap' is not a number",
        ),
        ("country,category,price,currency\nPT,utility,-1,USD\n", "line 2: price '-1' must be"),
        ("country,category,price,currency\nPT,utility,NaN,USD\n", "line 2: price 'NaN' must be"),
        ("country,category,price,currency\nPT,utility,1,dollars\n", "line 2: currency 'dollars'"),
        (
            "country,category,price,currency\nPT,utility,1,USD\n\nUS,utility,1,EUR\n",
            "line 4: currency EUR differs from USD (line 2)",
        ),
        (
            "country,category,price,currency\nPT,utility,1,USD\npt,UTILITY,2,USD\n",
            "line 3: PT utility is priced already on line 2",
        ),
    ],
)
def test_a_bad_card_is_refused_naming_the_line(text: str, error: str) -> None:
    with pytest.raises(RateCardError, match=re.escape(error)):
        parse_rate_card(text, source="card.csv")


def test_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(RateCardError, match=r"missing\.csv: cannot read the rate card"):
        load_rate_card(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("country,category,price,currency\nPT,utility,0,€\n".encode("cp1252"))
    with pytest.raises(RateCardError, match=r"latin\.csv: the rate card is not UTF-8"):
        load_rate_card(latin)
