"""The set-based SQL agrees with the Python reference (fold.py, on rules.statuses), and
shuffled, duplicated receipts end where the in-order history does."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from tests.webhooks import meta
from tests.webhooks.builders import make_outbound, make_traveller, message_row, store_delivery
from tests.webhooks.fold import MessageState, ReceiptEvent, apply_one, batch_order, fold_batch
from tripcast.webhooks.ingest import ingest_once

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

moments = st.integers(0, 12).map(lambda s: T0 + timedelta(seconds=s))
maybe_moment = st.none() | moments
initial_states = st.builds(
    MessageState,
    status=st.sampled_from(["pending", "sent", "delivered", "read", "failed"]),
    sent_at=maybe_moment,
    delivered_at=maybe_moment,
    read_at=maybe_moment,
    failed_at=maybe_moment,
)
receipt_lists = st.lists(
    st.tuples(
        st.sampled_from(["sent", "delivered", "read", "failed"]),
        moments,
        st.sampled_from([131026, 131047]),
    ),
    max_size=6,
)


@dataclass
class Tracked:
    id: uuid.UUID
    wamid: str
    state: MessageState
    error_code: int | None = None


def db_state(engine: Engine, message_id: uuid.UUID) -> tuple[MessageState, int | None]:
    row = message_row(engine, message_id)
    state = MessageState(
        row["status"], row["sent_at"], row["delivered_at"], row["read_at"], row["failed_at"]
    )
    return state, row["error_code"]


def expected_after(tracked: Tracked, receipts: list[tuple[str, datetime, int]]) -> Tracked:
    """The reference fold; the error of the failed receipt that fails the message, if any."""
    events = [ReceiptEvent(name, at, seq) for seq, (name, at, _) in enumerate(receipts)]
    state, code = tracked.state, tracked.error_code
    for event in batch_order(events):
        after = apply_one(state, event)
        if event.status == "failed" and after.status == "failed" != state.status:
            code = receipts[event.seq][2]
        state = after
    return Tracked(tracked.id, tracked.wamid, state, code)


@PROPERTY
@given(
    cases=st.lists(st.tuples(initial_states, receipt_lists, receipt_lists), min_size=1, max_size=4)
)
def test_sql_applies_receipts_as_the_python_reference(engine: Engine, cases: list) -> None:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        tracked = []
        for state, _, _ in cases:
            wamid = meta.new_wamid()
            columns = {k: v for k, v in vars(state).items() if k != "status"}
            message = make_outbound(
                connection, traveller, status=state.status, wamid=wamid, **columns
            )
            tracked.append(Tracked(message, wamid, state))
    for batch in (1, 2):
        statuses = []
        for index, case in enumerate(cases):
            for name, at, code in case[batch]:
                errors = [meta.meta_error(code)] if name == "failed" else None
                statuses.append(meta.status(tracked[index].wamid, name, at, errors=errors))
        if not statuses:
            continue
        with engine.begin() as connection:
            store_delivery(connection, meta.payload(statuses=statuses))
        ingest_once(engine, now=T0)
        tracked = [expected_after(t, case[batch]) for t, case in zip(tracked, cases, strict=True)]
        for t in tracked:
            assert db_state(engine, t.id) == (t.state, t.error_code)


LADDERS = [
    ["sent"],
    ["sent", "delivered"],
    ["sent", "delivered", "read"],
    ["sent", "read"],
    ["delivered", "read"],
    ["sent", "failed"],
    ["failed"],
]


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[list[tuple[str, datetime]]], list[bool], int]:
    count = draw(st.integers(1, 4))
    stories = []
    for _ in range(count):
        ladder = draw(st.sampled_from(LADDERS))
        gaps = draw(st.lists(st.integers(1, 4), min_size=len(ladder), max_size=len(ladder)))
        times = [T0 + timedelta(seconds=sum(gaps[: i + 1])) for i in range(len(ladder))]
        stories.append(list(zip(ladder, times, strict=True)))
    in_doubt = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    return stories, in_doubt, draw(st.integers(0, 2**32))


def arrivals(stories: list, rng: random.Random) -> list[list[tuple[int, str, datetime]]]:
    """Every receipt one to three times, shuffled, cut into one to four deliveries."""
    items = [(i, name, at) for i, story in enumerate(stories) for name, at in story]
    items = [item for item in items for _ in range(rng.randint(1, 3))]
    rng.shuffle(items)
    cuts = sorted(rng.sample(range(1, len(items)), min(rng.randint(0, 3), len(items) - 1)))
    return [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]


def setup_messages(engine: Engine, in_doubt: list[bool]) -> list[tuple[uuid.UUID, str]]:
    with engine.begin() as connection:
        traveller = make_traveller(connection)
        made = []
        for doubt in in_doubt:
            wamid = meta.new_wamid()
            if doubt:  # pending, send in doubt: matched by callback data
                made.append(
                    (
                        make_outbound(connection, traveller, status="pending", send_started_at=T0),
                        wamid,
                    )
                )
            else:
                made.append(
                    (make_outbound(connection, traveller, status="sent", wamid=wamid), wamid)
                )
        return made


def store(engine: Engine, messages: list, delivery: list, number: int) -> None:
    statuses = []
    for index, name, at in delivery:
        message_id, wamid = messages[index]
        errors = [meta.meta_error()] if name == "failed" else None
        statuses.append(meta.status(wamid, name, at, callback=str(message_id), errors=errors))
    data = meta.payload(statuses=statuses)
    data["entry"][0]["id"] = str(number)  # identical bodies are one delivery; these are not
    with engine.begin() as connection:
        store_delivery(connection, data)


def in_order(start: str, story: list[tuple[str, datetime]]) -> MessageState:
    state = MessageState(start)
    for name, at in story:
        state = apply_one(state, ReceiptEvent(name, at))
    return state


@PROPERTY
@given(history=histories(), one_batch=st.booleans())
def test_shuffled_duplicated_receipts_end_as_the_in_order_history(
    engine: Engine, history: tuple, one_batch: bool
) -> None:
    stories, in_doubt, seed = history
    messages = setup_messages(engine, in_doubt)
    deliveries = arrivals(stories, random.Random(seed))
    starts = ["pending" if doubt else "sent" for doubt in in_doubt]
    reference = [MessageState(start) for start in starts]
    for number, delivery in enumerate(deliveries):
        store(engine, messages, delivery, number)
        if not one_batch:
            ingest_once(engine, now=T0)
            for i, state in enumerate(reference):
                mine = [
                    ReceiptEvent(name, at, seq)
                    for seq, (j, name, at) in enumerate(delivery)
                    if j == i
                ]
                reference[i] = fold_batch(state, mine)
    if one_batch:
        ingest_once(engine, now=T0, batch_size=1000)
    for i, (message_id, wamid) in enumerate(messages):
        actual, _ = db_state(engine, message_id)
        ordered = in_order(starts[i], stories[i])
        if one_batch:
            assert actual == ordered  # the whole history in one batch: exactly in order
        else:
            # Across batches arrival order decides timestamps (a read applied before its
            # delivered fills delivered_at), as the reference says; the outcome does not.
            assert actual == reference[i]
            assert (actual.status, actual.read_at, actual.failed_at) == (
                ordered.status,
                ordered.read_at,
                ordered.failed_at,
            )
        assert message_row(engine, message_id)["external_id"] == wamid


def test_reference_examples() -> None:
    at = [T0 + timedelta(seconds=s) for s in range(5)]
    sent = MessageState("sent", sent_at=at[0])
    # one batch: sorted by time, so read before delivered in arrival still fills delivered_at right
    both = [ReceiptEvent("read", at[3], 0), ReceiptEvent("delivered", at[2], 1)]
    assert fold_batch(sent, both) == MessageState("read", at[0], at[2], at[3])
    # two batches: the read came first, so its time fills delivered_at and stays
    after_read = fold_batch(sent, [ReceiptEvent("read", at[3])])
    assert fold_batch(after_read, [ReceiptEvent("delivered", at[2])]) == MessageState(
        "read", at[0], at[3], at[3]
    )
    # a failure after delivery changes nothing; before it, it is terminal
    delivered = fold_batch(sent, [ReceiptEvent("delivered", at[1])])
    assert fold_batch(delivered, [ReceiptEvent("failed", at[2])]) == delivered
    failed = fold_batch(sent, [ReceiptEvent("failed", at[1]), ReceiptEvent("read", at[2])])
    assert failed == MessageState("failed", at[0], None, None, at[1])
    # equal timestamps: sent < delivered < read < failed, as WhatsApp emits them
    tie = fold_batch(
        MessageState("pending"), [ReceiptEvent("failed", at[1]), ReceiptEvent("sent", at[1])]
    )
    assert tie == MessageState("failed", at[1], None, None, at[1])
