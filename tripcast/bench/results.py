"""What a benchmark produces: figures, each beside the reference measured in the same run.

A ``Figure`` is one measured number with its reference ("ceiling": what this machine does
without tripcast's logic in the way, measured in the same run) and its target. The ratio
is always ``value / reference``, whatever the unit: 0.72 for a throughput at 72 % of the
bare client, 3.1 for a latency three times the bare server's.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    reference: float | None = None
    reference_label: str = ""
    target: str = ""
    met: bool | None = None  # None: informative, no target

    @property
    def ratio(self) -> float | None:
        if self.reference is None or self.reference == 0:
            return None
        return self.value / self.reference

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}


@dataclass
class BenchResult:
    """One benchmark's run: its figures, its notes and plan excerpts, and the load."""

    name: str
    size: str
    figures: list[Figure] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)  # what was measured, how
    notes: list[str] = field(default_factory=list)  # findings, in sentences
    excerpts: dict[str, str] = field(default_factory=dict)  # title -> preformatted text
    details: dict[str, Any] = field(default_factory=dict)  # raw numbers, for --json
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    @property
    def met(self) -> bool:
        return all(f.met is not False for f in self.figures)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "figures": [f.as_json() for f in self.figures],
            "setup": self.setup,
            "notes": self.notes,
            "excerpts": self.excerpts,
            "details": self.details,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "seconds": round(self.seconds, 1),
        }


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (``share`` in [0, 1])."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]
