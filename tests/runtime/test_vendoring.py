"""The runtime can be vendored as ``<sdk>/_runtime``: relative imports, allowed libraries only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "src" / "loom" / "runtime"
ALLOWED = {"httpx", "pydantic", "pydantic_core", "typing_extensions"}
MODULES = sorted(RUNTIME.rglob("*.py"))
# The optional extra loom[prometheus]; the module imports it inside its constructor.
OPTIONAL = {"worker/prometheus.py": {"prometheus_client"}}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module (relative imports excluded)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(RUNTIME).as_posix())
def test_module_imports_only_stdlib_and_allowed_libraries_when_vendored(path: Path) -> None:
    allowed = ALLOWED | OPTIONAL.get(path.relative_to(RUNTIME).as_posix(), set())
    foreign = {
        root
        for root in imported_roots(path)
        if root not in allowed and root not in sys.stdlib_module_names and root != "__future__"
    }
    assert not foreign, f"{path.name} imports {sorted(foreign)}"
    assert "loom" not in imported_roots(path), f"{path.name} must import siblings relatively"


def test_every_module_stays_under_600_lines_when_measured() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in MODULES}
    assert all(n < 600 for n in sizes.values()), sizes
