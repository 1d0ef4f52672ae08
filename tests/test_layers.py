"""The layer rule: Prefect only in the orchestration layer, which plain packages never import.

``flows/``, ``tasks/``, ``deployments/`` and ``commands/`` talk to Prefect; every other
package is plain Python a test or a script can call without a Prefect API. Any import
counts, at module level or inside a function, so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORCHESTRATION = ("flows", "tasks", "deployments", "commands")


def imported_modules(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def importers_of(*tops: str) -> set[str]:
    """Every module of the package that imports one of ``tops`` or one of its submodules."""
    importers: set[str] = set()
    for path in sorted((ROOT / "tripcast").rglob("*.py")):
        modules = imported_modules(path.read_text())
        if any(name == top or name.startswith(f"{top}.") for name in modules for top in tops):
            importers.add(path.relative_to(ROOT / "tripcast").as_posix())
    return importers


def in_orchestration_layer(path: str) -> bool:
    return path.split("/")[0] in ORCHESTRATION


def test_the_scan_sees_lazy_and_aliased_imports() -> None:
    source = "def f():\n    from prefect.deployments import run_deployment\nimport prefect as p\n"
    assert imported_modules(source) == {"prefect.deployments", "prefect"}


def test_prefect_is_imported_only_in_flows_tasks_deployments_and_commands() -> None:
    importers = importers_of("prefect")
    assert "flows/automations.py" in importers and "tasks/decorator.py" in importers
    outside = sorted(path for path in importers if not in_orchestration_layer(path))
    assert outside == []


def test_plain_packages_do_not_import_the_orchestration_layer() -> None:
    importers = importers_of(*(f"tripcast.{package}" for package in ORCHESTRATION))
    assert "commands/sweep.py" in importers  # the scan sees the layer's own imports
    outside = {path for path in importers if not in_orchestration_layer(path)}
    assert outside - {"cli.py"} == set()
