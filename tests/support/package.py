"""The modules of the ``tripcast`` package, imported, for tests that check every one."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import tripcast

# Alembic's env and revisions run on import; __main__ modules start programs.
SKIPPED = ("tripcast.models.migrations", "__main__")


def tripcast_modules() -> list[ModuleType]:
    found = pkgutil.walk_packages(tripcast.__path__, prefix="tripcast.")
    names = [name for _, name, _ in found if not any(part in name for part in SKIPPED)]
    return [importlib.import_module(name) for name in names]
