from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tripcast.rules.statuses import (
    JOB_STATUSES,
    MESSAGE_STATUS_RANK,
    MESSAGE_STATUSES,
    ReceiptUpdate,
    apply_receipt,
    can_transition_job,
    next_status,
)

T0 = datetime(2025, 6, 1, 12, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)

# rows: current status; columns: incoming pending, sent, delivered, read, failed
NEXT = {
    "pending": (None, "sent", "delivered", "read", "failed"),
    "sent": (None, None, "delivered", "read", "failed"),
    "delivered": (None, None, None, "read", None),
    "read": (None, None, None, None, None),
    "failed": (None, None, None, None, None),
}


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        (current, incoming, row[i])
        for current, row in NEXT.items()
        for i, incoming in enumerate(MESSAGE_STATUSES)
    ],
)
def test_next_status_table(current: str, incoming: str, expected: str | None) -> None:
    assert next_status(current, incoming) == expected


@pytest.mark.parametrize(("current", "incoming"), [("queued", "sent"), ("sent", "deleted")])
def test_next_status_rejects_unknown_statuses(current: str, incoming: str) -> None:
    with pytest.raises(ValueError, match="must be one of pending, sent, delivered, read, failed"):
        next_status(current, incoming)


@pytest.mark.parametrize(
    ("current", "incoming", "delivered_at", "read_at", "expected"),
    [
        ("sent", "delivered", None, None, ReceiptUpdate("delivered", T1, None)),
        ("delivered", "read", T0, None, ReceiptUpdate("read", T0, T1)),
        # read without delivered: delivered_at is filled with the read time
        ("sent", "read", None, None, ReceiptUpdate("read", T1, T1)),
        ("pending", "read", None, None, ReceiptUpdate("read", T1, T1)),
        # in-doubt send reconciled from the webhook
        ("pending", "sent", None, None, ReceiptUpdate("sent", None, None)),
        ("pending", "delivered", None, None, ReceiptUpdate("delivered", T1, None)),
        # late delivered after read fills a missing delivered_at, never overwrites one
        ("read", "delivered", None, T0, ReceiptUpdate("read", T1, T0)),
        ("read", "delivered", T0, T0, None),
        # duplicates change nothing
        ("delivered", "delivered", T0, None, None),
        ("read", "read", T0, T0, None),
        ("sent", "sent", None, None, None),
        # late sent after delivered/read changes nothing
        ("delivered", "sent", T0, None, None),
        ("read", "sent", T0, T0, None),
        # failure
        ("sent", "failed", None, None, ReceiptUpdate("failed", None, None)),
        ("pending", "failed", None, None, ReceiptUpdate("failed", None, None)),
        ("delivered", "failed", T0, None, None),
        ("read", "failed", T0, T0, None),
        # failed is terminal: no status change and no timestamps
        ("failed", "delivered", None, None, None),
        ("failed", "read", None, None, None),
    ],
)
def test_apply_receipt(
    current: str,
    incoming: str,
    delivered_at: datetime | None,
    read_at: datetime | None,
    expected: ReceiptUpdate | None,
) -> None:
    got = apply_receipt(current, incoming, T1, delivered_at=delivered_at, read_at=read_at)
    assert got == expected


def test_apply_receipt_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply_receipt("sent", "delivered", datetime(2025, 6, 1))


@given(
    receipts=st.lists(
        st.tuples(
            st.sampled_from(["sent", "delivered", "read", "failed"]),
            st.integers(min_value=0, max_value=10_000),
        ),
        max_size=12,
    )
)
def test_property_receipts_are_monotonic_and_timestamps_set_once(
    receipts: list[tuple[str, int]],
) -> None:
    status, delivered_at, read_at = "pending", None, None
    for incoming, seconds in receipts:
        update = apply_receipt(
            status,
            incoming,
            T0 + timedelta(seconds=seconds),
            delivered_at=delivered_at,
            read_at=read_at,
        )
        if update is None:
            continue
        if status == "failed":
            pytest.fail("a failed message changed")
        if update.status != "failed":
            assert MESSAGE_STATUS_RANK[update.status] >= MESSAGE_STATUS_RANK[status]
        assert delivered_at is None or update.delivered_at == delivered_at
        assert read_at is None or update.read_at == read_at
        status, delivered_at, read_at = update.status, update.delivered_at, update.read_at
    if status == "read":
        assert delivered_at is not None and read_at is not None


@given(receipts=st.permutations(["sent", "delivered", "read"]))
def test_property_order_of_success_receipts_does_not_matter(receipts: list[str]) -> None:
    status = "pending"
    for incoming in receipts:
        status = next_status(status, incoming) or status
    assert status == "read"


JOB_ALLOWED = {
    ("pending", "running"),
    ("pending", "cancelled"),
    ("running", "completed"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "pending"),
}


@pytest.mark.parametrize(("current", "new"), [(a, b) for a in JOB_STATUSES for b in JOB_STATUSES])
def test_job_transitions(current: str, new: str) -> None:
    assert can_transition_job(current, new) is ((current, new) in JOB_ALLOWED)


def test_job_transition_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="job status must be one of"):
        can_transition_job("pending", "skipped")
