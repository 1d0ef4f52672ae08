"""Read-only views of the fake's records, served by the ``/_fake/`` control endpoints."""

from __future__ import annotations

from collections import deque
from typing import Any

from tripcast.whatsapp.fake.state import AcceptedMessage, FakeState


def matching(
    state: FakeState,
    *,
    callback_data: str | None = None,
    wamid: str | None = None,
    recipient: str | None = None,
) -> list[AcceptedMessage]:
    """Accepted sends, filtered by any of callback data, wamid and recipient."""
    if wamid is not None:
        found = state.by_wamid.get(wamid)
        candidates = [found] if found is not None else []
    else:
        candidates = state.accepted
    return [
        message
        for message in candidates
        if (callback_data is None or message.callback_data == callback_data)
        and (recipient is None or message.recipient == recipient)
    ]


def duplicates(state: FakeState) -> dict[str, int]:
    """Callback data accepted more than once: each is a notification sent twice."""
    return {data: count for data, count in state.by_callback.items() if count > 1}


def histogram(state: FakeState, *, phone_number_id: str | None = None) -> list[list[int]]:
    """``[[epoch_second, accepted], ...]`` in time order (all senders when no id)."""
    seconds: dict[int, int] = {}
    for (sender, second), count in state.per_second.items():
        if phone_number_id is None or sender == phone_number_id:
            seconds[second] = seconds.get(second, 0) + count
    return [[second, seconds[second]] for second in sorted(seconds)]


def max_in_window(
    state: FakeState, *, window_seconds: float = 1.0, phone_number_id: str | None = None
) -> int:
    """Most sends accepted in any sliding window (the rate a limiter must keep under)."""
    moments = [
        message.accepted_epoch
        for message in state.accepted
        if phone_number_id is None or message.phone_number_id == phone_number_id
    ]
    moments.sort()
    inside: deque[float] = deque()
    best = 0
    for moment in moments:
        inside.append(moment)
        while inside[0] <= moment - window_seconds:
            inside.popleft()
        best = max(best, len(inside))
    return best


def summary(state: FakeState) -> dict[str, Any]:
    return {
        "now": state.now().isoformat(),
        "requests": state.requests,
        "accepted": len(state.accepted),
        "distinct_callback_data": len(state.by_callback),
        "duplicate_callback_data": len(duplicates(state)),
        "refusals": {str(code): count for code, count in sorted(state.refusals.items())},
        "faults": dict(state.faults),
        "max_accepted_in_1s": max_in_window(state),
    }
