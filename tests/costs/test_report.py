"""``tripcast report costs`` and the daily flow: per day × category × country, priced."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy.engine import Engine

from tests.costs.support import priced_message
from tests.costs.test_ratecard import SAMPLE
from tests.support.flow_runs import run_flow
from tripcast.cli import main
from tripcast.costs.breakdown import cost_report
from tripcast.costs.chart import text_chart
from tripcast.costs.ratecard import load_rate_card
from tripcast.demo.costs import costs_block
from tripcast.flows.costs import daily_costs


def day(d: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, d, hour, tzinfo=UTC)


@pytest.fixture
def priced(engine: Engine) -> Engine:
    with engine.begin() as connection:
        for n in range(3):
            priced_message(connection, phone=f"35191234567{n}", category="marketing",
                           at=day(1), country="PT")  # fmt: skip
        priced_message(connection, phone="16175550123", category="utility", at=day(1, 23),
                       country="US")  # fmt: skip
        priced_message(connection, phone="16175550124", category="service", at=day(2),
                       billable=False, country="US")  # fmt: skip
        priced_message(connection, phone="5511987654321", category="utility", at=day(2),
                       country="BR")  # fmt: skip
        priced_message(connection, phone="5511987654322", category="marketing_lite", at=day(2),
                       country="BR")  # fmt: skip
        priced_message(connection, phone="351912345699", category="utility", at=day(4),
                       country="PT")  # outside the days asked  # fmt: skip
    return engine


def test_billable_messages_priced_per_day_category_and_country(priced: Engine) -> None:
    card = load_rate_card(SAMPLE)
    report = cost_report(priced, first_day=date(2026, 3, 1), last_day=date(2026, 3, 2), card=card)
    got = {
        (r.day.day, r.category, r.country): (r.messages, r.billable, r.cost) for r in report.rows
    }
    assert got == {
        (1, "marketing", "PT"): (3, 3, Decimal("0.1500")),
        (1, "utility", "US"): (1, 1, Decimal("0.0040")),
        (2, "service", "US"): (1, 0, Decimal("0")),
        (2, "utility", "BR"): (1, 1, Decimal("0.0100")),  # priced by the * line
        (2, "marketing_lite", "BR"): (1, 1, None),  # not on the card: not free either
    }
    assert report.billable == 6
    assert report.cost == Decimal("0.1640")
    assert report.unpriced == [("BR", "marketing_lite")]
    assert "not on the rate card: BR marketing_lite" in report.summary()
    chart = text_chart(report).splitlines()
    first, second = (line for line in chart if line.startswith("2026-03-0"))
    assert first.count("█") > second.count("▓") > 0  # day 1's marketing dwarfs day 2's utility


def test_the_command_prints_and_writes_csv_and_svg(
    priced: Engine, configured: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "costs" / "march.csv"
    args = ["report", "costs", "--since", "2026-03-01", "--until", "2026-03-02",
            "--rate-card", str(SAMPLE), "--output", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "6 billable messages 2026-03-01 to 2026-03-02, estimated 0.1640 USD" in printed
    lines = out.read_text().splitlines()
    assert lines[0] == "day,category,country,messages,billable,unit_price,cost,currency"
    assert "2026-03-01,marketing,PT,3,3,0.0500,0.1500,USD" in lines
    svg = ElementTree.fromstring(out.with_suffix(".svg").read_text())
    bars = [el for el in svg.iter("{http://www.w3.org/2000/svg}rect") if el.find("*") is not None]
    titles = sorted(el.findtext("{http://www.w3.org/2000/svg}title") or "" for el in bars)
    assert titles == ["2026-03-01 marketing: 0.15", "2026-03-01 utility: 0.004",
                      "2026-03-02 utility: 0.01"]  # fmt: skip


def test_a_bad_rate_card_exits_2_naming_the_line(
    configured: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = tmp_path / "card.csv"
    card.write_text("country,category,price,currency\nPT,utility,free,USD\n")
    assert main(["report", "costs", "--rate-card", str(card)]) == 2
    assert f"{card} line 2: price 'free' is not a number" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_the_daily_flow_publishes_yesterday_as_a_table_and_a_chart(
    priced: Engine, configured: Engine
) -> None:
    totals, flow_run_id = run_flow(daily_costs, now=day(3, 0), rate_card=str(SAMPLE))
    assert totals == {"billable": 2, "cost": "0.0100", "currency": "USD"}
    published = artifacts(flow_run_id)
    table = json.loads(published["whatsapp-costs"])
    assert [(row["category"], row["cost"]) for row in table] == [
        ("marketing_lite", ""), ("service", "0"), ("utility", "0.0100"),
    ]  # fmt: skip
    chart = published["whatsapp-costs-chart"]
    assert "2026-03-02  ▓" in chart and "estimated cost (USD)" in chart


def artifacts(flow_run_id: object) -> dict[str, str]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read() -> dict[str, str]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
        return {str(a.key): str(a.data) for a in found}

    return asyncio.run(read())


def test_the_demo_summary_prices_every_priced_day_from_the_sample_card(priced: Engine) -> None:
    assert costs_block(priced) == [
        ("marketing, billable", 3),
        ("marketing_lite, billable", 1),
        ("service, free", 1),
        ("utility, billable", 3),
        ("estimated cost (sample rate card)", "0.1790 USD"),  # 0.15 + 0.004 + 0.01 + 0.015
    ]


def test_days_given_backwards_are_refused(
    configured: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "costs", "--since", "2026-03-05", "--until", "2026-03-01"]) == 2
    assert "--until 2026-03-01 is before --since 2026-03-05" in capsys.readouterr().err


def test_a_day_without_messages_is_charted_empty(priced: Engine) -> None:
    report = cost_report(priced, first_day=date(2026, 3, 2), last_day=date(2026, 3, 3))
    chart = [line for line in text_chart(report).splitlines() if line.startswith("2026-03-0")]
    assert chart[1].split() == ["2026-03-03", "0"]  # no bar, nothing billable
    assert "billable messages" in text_chart(report)  # no card: counts, not money
