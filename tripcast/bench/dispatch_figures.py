"""The dispatch benchmark's figures, setup and notes, from its measured details."""

from __future__ import annotations

from typing import Any

from tripcast.bench.results import BenchResult, Figure

THROUGHPUT = 1000.0
SHARE_OF_CEILING = 0.80
SEED_FACTOR = 20.0
CEILINGS = ("ceiling_before", "ceiling_between", "ceiling_after")


def describe_run(result: BenchResult) -> None:
    d = result.details
    plan = d["plan"]
    result.setup = [
        "Fake Cloud API in its own process, answering every send after 100 ms, Meta's "
        "limits lifted; one traveller per message, inside the 24-hour window.",
        f"One process: `dispatch_pending` over a backlog of {plan['backlog']:,} pending "
        f"texts, rate limit lifted, {plan['lanes']} lanes, {plan['in_flight']} in flight, "
        f"batches of {plan['batch_size']:,}; from the first claim to the last outcome and "
        "delivery log committed.",
        f"Two followers: two always-on dispatchers (`dispatch.follow`, as `tripcast "
        f"dispatch --follow` runs it) in processes of their own, {plan['in_flight'] // 2} "
        f"in flight each, listening before a second backlog of {plan['backlog']:,} is "
        "committed at once; from that commit to the last outcome and delivery log.",
        "Exactly once: the fake accepted every message of each backlog once, and each is "
        "sent with one delivery log.",
        f"Ceiling: a bare `WhatsAppClient` against the same fake, {plan['in_flight']} in "
        f"flight, {plan['ceiling_requests']:,} sends, no database; measured before, between "
        "and after the two throughput runs, the highest counts for both.",
        f"Rate: {plan['rate_messages']:,} messages at `TRIPCAST_SEND_RATE=80` with the "
        f"dispatcher's default settings ({d['rate']['margin']:.0%} margin), then again with "
        f"a {d['rate_experiment']['margin']:.0%} margin (the default before, for "
        "comparison); rates as the fake accepted the sends.",
        f"Seed's design: {plan['baseline_messages']:,} messages through the seed's "
        "`send-whatsapp-message` steps, one after the other (select account, insert row, "
        "POST, update row, insert log; each statement its own transaction).",
    ]
    result.notes = _notes(d)


def _notes(d: dict[str, Any]) -> list[str]:
    ceilings = [d[key] for key in CEILINGS]
    sent, two, seed = d["throughput"], d["followers"], d["seed_design"]
    notes = [
        "Ceiling before / between / after: "
        + " / ".join(f"{c['requests_per_second']:,}" for c in ceilings)
        + " sends/s (p99 "
        + " / ".join(str(c["latency_p99_ms"]) for c in ceilings)
        + " ms).",
        f"One process: {sent['sent']:,} sent and {sent['logged']:,} delivery logs in "
        f"{sent['seconds']} s over {sent['batches']} batches; outcomes {sent['outcomes']}; "
        f"{sent['accepted']:,} sends accepted, {sent['accepted_distinct']:,} distinct.",
        f"Two followers: {two['sent']:,} sent and {two['logged']:,} delivery logs in "
        f"{two['seconds']} s, claimed {' + '.join(f'{n:,}' for n in two['claimed_each'])}; "
        f"{two['accepted']:,} sends accepted, {two['accepted_distinct']:,} distinct.",
        f"Seed's design: {seed['sent']} sent in {seed['seconds']} s.",
        f"Cores used, one process: {sent['cores_text']}; two followers: {two['cores_text']}.",
    ]
    for key, label in (("rate", "default"), ("rate_experiment", "for comparison")):
        r = d[key]
        notes.append(
            f"Rate, {r['margin']:.0%} margin ({label}): paced at {r['paced_rate']:g}/s, "
            f"{r['accepted']:,} accepted at {r['achieved_per_second']}/s; busiest sliding "
            f"second {r['max_in_1s']}, busiest calendar second "
            f"{r['busiest_calendar_second']}; outcomes {r['outcomes']}."
        )
    return notes


def add_figures(result: BenchResult, *, limit: float) -> None:
    d = result.details
    backlog = d["plan"]["backlog"]
    ceiling = max(d[key]["requests_per_second"] for key in CEILINGS)
    rate = float(d["throughput"]["per_second"])
    for key, label in (("throughput", "one process"), ("followers", "two followers")):
        run = d[key]
        per_second = float(run["per_second"])
        complete = run["sent"] == backlog == run["logged"] and run["exactly_once"]
        result.add(
            Figure(
                f"throughput, {backlog:,} backlog, rate lifted, {label}",
                per_second,
                "msgs/s",
                reference=ceiling,
                reference_label="bare client, no database",
                target=f"≥ {THROUGHPUT:,.0f}/s and ≥ {SHARE_OF_CEILING:.2f}× ceiling, once each",
                met=complete
                and per_second >= THROUGHPUT
                and per_second >= SHARE_OF_CEILING * ceiling,
            )
        )
    _rate_figures(result, d["rate"], limit=limit, label="")
    margin = d["rate_experiment"]["margin"]
    _rate_figures(result, d["rate_experiment"], limit=limit, label=f", {margin:.0%} margin")
    seed_rate = float(d["seed_design"]["per_second"])
    result.add(
        Figure(
            "tripcast ÷ the seed's design",
            rate,
            "msgs/s",
            reference=seed_rate,
            reference_label="seed's design, one at a time",
            target=f"≥ {SEED_FACTOR:g}×",
            met=seed_rate > 0 and rate / seed_rate >= SEED_FACTOR,
        )
    )


def _rate_figures(result: BenchResult, r: dict[str, Any], *, limit: float, label: str) -> None:
    achieved = float(r["achieved_per_second"])
    informative = bool(label)
    result.add(
        Figure(
            f"achieved rate at TRIPCAST_SEND_RATE=80{label}",
            achieved,
            "msgs/s",
            reference=limit,
            reference_label="the limit",
            target="" if informative else "within 5 % of 80/s",
            met=None if informative else limit * 0.95 <= achieved <= limit,
        )
    )
    busiest = float(r["max_in_1s"])
    result.add(
        Figure(
            f"busiest sliding second at 80/s{label}",
            busiest,
            "msgs",
            reference=limit,
            reference_label="the limit",
            target="≤ 80",
            met=busiest <= limit,
        )
    )
