"""Printing results as a table, and writing them into BENCHMARKS.md.

Each benchmark owns a block of BENCHMARKS.md between two markers; a run replaces the
blocks of the benchmarks it ran and leaves everything else (hand-written findings, other
benchmarks' blocks) as it was. A run of every benchmark also rewrites the summary block.
A block whose markers are missing is appended at the end of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tripcast.bench.machine import Machine
from tripcast.bench.results import BenchResult, Figure

TITLES = {
    "summary": "Summary",
    "dispatch": "Dispatch",
    "senders": "Senders",
    "planning": "Planning",
    "webhook": "Webhook",
    "scale": "Scale",
    "memory": "Memory",
}


@dataclass
class BenchRun:
    command: str
    size: str
    machine: Machine
    where: str
    results: list[BenchResult] = field(default_factory=list)


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def verdict(figure: Figure, *, size: str = "full") -> str:
    """Targets hold for the full size only; a small run's figures are not judged."""
    if figure.met is None:
        return ""
    if size != "full":
        return "(small run)"
    return "met" if figure.met else "MISSED"


def ratio(figure: Figure) -> str:
    return "—" if figure.ratio is None else f"{figure.ratio:.2f}×"


def table(results: list[BenchResult]) -> str:
    """The console table: every figure beside its reference, ratio and target."""
    header = ("benchmark", "figure", "value", "reference", "÷ ref", "target", "")
    rows = [header]
    for result in results:
        for f in result.figures:
            value = f"{number(f.value)} {f.unit}"
            reference = (
                f"{number(f.reference)} {f.unit} ({f.reference_label})" if f.reference else "—"
            )
            judged = verdict(f, size=result.size)
            rows.append((result.name, f.name, value, reference, ratio(f), f.target, judged))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def figures_markdown(results: list[BenchResult], *, with_benchmark: bool = False) -> list[str]:
    head = "| figure | value | reference (same run) | ÷ reference | target | |"
    lines = [("| benchmark " if with_benchmark else "") + head]
    lines.append(("|---" if with_benchmark else "") + "|---|---:|---|---:|---|---|")
    for result in results:
        for f in result.figures:
            reference = (
                f"{number(f.reference)} {f.unit} ({f.reference_label})" if f.reference else "—"
            )
            cells = [f.name, f"{number(f.value)} {f.unit}", reference, ratio(f), f.target]
            judged = verdict(f, size=result.size)
            cells.append(f"**{judged}**" if judged == "MISSED" else judged)
            prefix = f"| {result.name} " if with_benchmark else ""
            lines.append(prefix + "| " + " | ".join(cells) + " |")
    return lines


def header_lines(run: BenchRun, result: BenchResult | None = None) -> list[str]:
    lines = [f"- Command: `{run.command}` (size {run.size}; {run.where})."]
    lines += [f"- {line}" for line in run.machine.lines()]
    if result is not None:
        before, after = result.load_before, result.load_after
        lines.append(
            f"- Load average (1/5/15 min) before: {before[0]} / {before[1]} / {before[2]}, "
            f"after: {after[0]} / {after[1]} / {after[2]} (the bench's own processes "
            f"count too). Took {result.seconds:.0f} s."
        )
    return lines


def section(run: BenchRun, result: BenchResult) -> str:
    lines = [*header_lines(run, result), ""]
    lines += [f"- {line}" for line in result.setup] + [""]
    lines += [*figures_markdown([result]), ""]
    if result.notes:
        lines += [f"- {line}" for line in result.notes] + [""]
    for title, text in result.excerpts.items():
        lines += [f"{title}:", "", "```", text.rstrip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def summary(run: BenchRun) -> str:
    lines = [*header_lines(run), ""]
    lines += figures_markdown(run.results, with_benchmark=True)
    return "\n".join(lines) + "\n"


def write_benchmarks(path: Path, run: BenchRun, *, complete: bool) -> None:
    """Replace the blocks of the benchmarks in ``run`` (and the summary when ``complete``)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    blocks = {result.name: section(run, result) for result in run.results}
    if complete:
        blocks = {"summary": summary(run)} | blocks
    for name, body in blocks.items():
        text = replace_block(text, name, body=body)
    path.write_text(text)


def replace_block(text: str, name: str, *, body: str) -> str:
    begin, end = f"<!-- tripcast-bench:{name}:begin -->", f"<!-- tripcast-bench:{name}:end -->"
    block = f"{begin}\n{body}{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip() + f"\n\n## {TITLES.get(name, name)}\n\n{block}\n"
