"""API hygiene: every module of the package says which of its names are public, in `__all__`, and says it right."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kpi_workbook"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.read_text(encoding="utf-8").strip())


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _own_public_names(tree: ast.Module) -> set[str]:
    """The public functions and classes a module defines at its top level."""
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not node.name.startswith("_")}


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_every_module_lists_its_public_names_in_all(path: Path):
    module = importlib.import_module(_module_name(path))
    listed = getattr(module, "__all__", None)
    assert listed is not None, f"{_module_name(path)} has no __all__"
    assert len(listed) == len(set(listed)), "a name is listed twice"
    assert [n for n in listed if not hasattr(module, n)] == [], "names listed that the module does not have"
    unlisted = _own_public_names(ast.parse(path.read_text(encoding="utf-8"))) - set(listed)
    assert unlisted == set(), f"public functions or classes missing from __all__: {sorted(unlisted)}"
