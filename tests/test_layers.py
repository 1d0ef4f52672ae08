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


def prefect_importers() -> set[str]:
    """Every module of the package that imports ``prefect`` or one of its submodules."""
    importers: set[str] = set()
    for path in sorted((ROOT / "tripcast").rglob("*.py")):
        modules = imported_modules(path.read_text())
        if any(name == "prefect" or name.startswith("prefect.") for name in modules):
            importers.add(path.relative_to(ROOT / "tripcast").as_posix())
    return importers


def test_the_scan_sees_lazy_and_aliased_imports() -> None:
    source = "def f():\n    from prefect.deployments import run_deployment\nimport prefect as p\n"
    assert imported_modules(source) == {"prefect.deployments", "prefect"}


def test_prefect_is_imported_only_in_flows_tasks_deployments_and_commands() -> None:
    importers = prefect_importers()
    assert "flows/automations.py" in importers and "tasks/decorator.py" in importers
    outside = sorted(path for path in importers if path.split("/")[0] not in ORCHESTRATION)
    assert outside == []


def orchestration_importers_outside() -> set[str]:
    """Plain-Python modules that import the orchestration layer (the arrow points the other way)."""
    layer = tuple(f"tripcast.{package}" for package in ORCHESTRATION)
    importers: set[str] = set()
    for path in sorted((ROOT / "tripcast").rglob("*.py")):
        relative = path.relative_to(ROOT / "tripcast").as_posix()
        if relative.split("/")[0] in ORCHESTRATION or relative == "cli.py":
            continue
        modules = imported_modules(path.read_text())
        if any(name == top or name.startswith(f"{top}.") for name in modules for top in layer):
            importers.add(relative)
    return importers


def test_plain_packages_do_not_import_the_orchestration_layer() -> None:
    assert orchestration_importers_outside() == set()
