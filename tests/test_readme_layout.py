"""The README's layout map stays true: one line per package and top-level module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^  (\S+?)(/?)\s+\S")


def readme_layout() -> set[str]:
    """Names on the map's ``tripcast/`` block, ``name/`` for packages."""
    text = (ROOT / "README.md").read_text()
    development = text[text.index("## Development") :]
    block = development[development.index("```\ntripcast/\n") :]
    block = block[: block.index("\n```", 4)]
    found: set[str] = set()
    for line in block.splitlines()[1:]:
        match = ENTRY.match(line)
        if match:
            found.add(match.group(1) + match.group(2))
    return found


def actual_layout() -> set[str]:
    package = ROOT / "tripcast"
    packages = {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def test_the_readme_layout_names_every_package_and_module_and_nothing_else() -> None:
    mapped = readme_layout()
    assert "dispatch/" in mapped and "cli.py" in mapped  # the block was found and parsed
    assert sorted(mapped) == sorted(actual_layout())
