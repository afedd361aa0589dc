"""Imports run downward. Every module's imports are read from its source (function-level ones
included: an import hidden in a function still ties the two modules together) and checked
against a table of which parts of `mssr` may use which; the parts' graph and the modules' graph
have no cycle. Imports under `if TYPE_CHECKING:` are left out: they never run."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mssr

SOURCE = Path(mssr.__file__).parent

# Which parts of mssr each part may import (a part is a subpackage or a top-level module). The
# table itself must be acyclic: a part lower down never reaches back up.
ALLOWED = {
    "errors": set(),
    "paths": {"errors"},
    "files": set(),
    "answers": set(),
    "typed_config": {"errors"},
    "templates": {"errors"},
    "bundled": {"errors", "paths"},
    "replay": {"errors", "typed_config"},
    "simulation_worlds": set(),
    "simulation": {"errors", "replay", "simulation_worlds", "typed_config"},
    "run_config": {"errors", "paths", "replay", "templates", "typed_config"},
    "data": {"answers", "errors", "paths", "run_config", "templates", "typed_config"},
    "losses": {"data"},
    "evaluation": {"answers", "data", "errors", "losses"},
    "report": {"errors", "evaluation", "files"},
    "engine": {"bundled", "data", "errors", "evaluation", "files", "losses", "replay",
               "report", "run_config"},
    "integrations": {"data", "engine", "errors", "losses", "replay", "report", "run_config",
                     "typed_config"},
    "commands": {"data", "engine", "errors", "paths", "replay", "report", "run_config",
                 "simulation", "typed_config"},
    "cli": {"errors"},  # commands are imported by name (importlib), see cli.py
    "__main__": {"cli"},
}
# Third-party packages a part must never import: the replay core is numpy alone.
FORBIDDEN = {"replay": {"torch", "transformers", "peft", "accelerate", "trl", "datasets"}}
# Cycles tolerated for now: none (the last, replay.strategy <-> replay.forever, went with the
# strategy registry).
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = ("mssr", *path.relative_to(SOURCE).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


MODULES = module_names()


def part(module: str) -> str:
    return module.split(".")[1]


def imported(module: str, path: Path) -> Iterator[str]:
    """Every module `module` imports when it runs (top-level or in a function), as absolute
    names; `from package import name` counts as the submodule when `name` is one."""
    tree = ast.parse(path.read_text(), str(path))
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and "TYPE_CHECKING" in ast.unparse(block.test)
                 for statement in block.body for node in ast.walk(statement)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def import_graph() -> dict[str, set[str]]:
    """mssr module -> the mssr modules it imports."""
    return {module: {name for name in imported(module, path)
                     if name.startswith("mssr.") and name != module}
            for module, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_part_of_mssr_is_in_the_table():
    parts = {part(module) for module in MODULES if module != "mssr"}
    assert parts == set(ALLOWED), "add a new part to ALLOWED with what it may import"


def test_imports_follow_the_table():
    wrong = sorted(f"{module} imports {name}"
                   for module, names in import_graph().items() if module != "mssr"
                   for name in names
                   if part(name) != part(module) and part(name) not in ALLOWED[part(module)])
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_replay_core_needs_no_deep_learning_framework():
    wrong = sorted(f"{module} imports {name}"
                   for module, path in MODULES.items() if module != "mssr"
                   for name in imported(module, path)
                   if name.split(".")[0] in FORBIDDEN.get(part(module), ()))
    assert not wrong, "\n".join(wrong)


def test_the_table_has_no_cycle():
    assert cycles(ALLOWED) == []


def test_no_module_cycle_even_through_function_level_imports():
    found = [component for component in cycles(import_graph())
             if frozenset(component) not in KNOWN_CYCLES]
    assert not found, f"import cycles: {found}"


def test_the_known_cycle_is_still_there():
    """When the replay rewrite removes it, this fails: remove KNOWN_CYCLES' entry then."""
    assert {frozenset(component) for component in cycles(import_graph())} == KNOWN_CYCLES


@pytest.mark.parametrize("module", ["mssr.evaluation.metrics", "mssr.report", "mssr.files",
                                    "mssr.replay"])
def test_module_imports_neither_torch_nor_the_engine(module):
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('mssr.engine')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]", f"{module} pulls in {loaded}"
