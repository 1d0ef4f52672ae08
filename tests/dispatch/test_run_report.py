"""When a dispatch run leaves nothing due behind: the sweep's cue to stop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tripcast.dispatch.run_report import DispatchReport


def report(*, drained: bool, kinds: list[str]) -> DispatchReport:
    made = DispatchReport(drained=drained)
    if kinds:
        outcomes = [SimpleNamespace(kind=kind, reason="r") for kind in kinds]
        made.add_batch(outcomes, claimed=len(kinds), attempts=len(kinds))  # type: ignore[arg-type]
    return made


@pytest.mark.parametrize(
    ("drained", "kinds", "finished"),
    [
        (True, [], True),  # nothing was due
        (True, ["sent", "failed"], True),
        (True, ["sent", "deferred"], False),  # a send handed back may be due at once
        (False, ["sent", "sent"], False),  # stopped at its batch limit, more may wait
    ],
)
def test_a_run_is_finished_when_it_drained_the_queue_and_handed_nothing_back(
    drained: bool, kinds: list[str], finished: bool
) -> None:
    assert report(drained=drained, kinds=kinds).finished is finished
