"""The library's import graph says its architecture: no cycles, imports only run downward
through the layers below, and no module reaches into another's private names.

The layers, lowest first (docs/architecture.md explains each): plumbing, the LLM client,
branch W's stages in data-flow order, branch L (its shared modules, then its stages in
data-flow order), then the report pages and the cross-dataset comparison that read them all.
A module may import from its own package and from any lower layer, never from a higher one.
Function-level imports count like top-level ones: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = SRC / "prefscope"

PLUMBING = ("errors", "io", "runtime", "codehash", "profiles", "workflow")
LAYERS: tuple[tuple[str, ...], ...] = (
    PLUMBING,
    ("llm",),
    ("data",),
    ("embed",),
    ("sae",),
    ("interpret",),
    ("analyze",),
    # branch L: modules directly under lfp/ are shared by its stages, so they sit below them
    ("lfp",),
    ("lfp.finetune",),
    ("lfp.layers",),
    ("lfp.harvest",),
    ("lfp.saes",),
    ("lfp.probe",),
    ("lfp.validation",),
    ("lfp.ablation",),
    ("lfp.summary",),
    ("report",),
    ("compare",),
)
# the unit a layer is made of, e.g. "lfp.probe" for prefscope.lfp.probe.stage
UNITS = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def unit_of(module: str) -> str:
    """The longest entry of :data:`UNITS` that ``module`` (``prefscope.x.y``) sits in."""
    parts = module.split(".")[1:]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in UNITS:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no layer of tests/unit/test_architecture.py")


def absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class Import(NamedTuple):
    target: str  # the imported module
    name: str  # the name imported from it, "" when the module itself is imported
    line: int
    local: str | None  # the name bound to the module object in the importer, if any


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """Every prefscope import of ``module`` (at any depth: lazy imports count too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "prefscope":
                    yield Import(alias.name, "", node.lineno, alias.asname)
        elif isinstance(node, ast.ImportFrom):
            target = absolute(node, module, path.name == "__init__.py")
            if target.split(".")[0] != "prefscope":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:  # `from prefscope.lfp import controls`: a module
                    yield Import(sub, "", node.lineno, alias.asname or alias.name)
                else:
                    yield Import(target, alias.name, node.lineno, None)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        mod: {i.target for i in imports(mod, path, known) if i.target != mod}
        for mod, path in known.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_planted_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    edges = graph()
    # a package's __init__ importing its own submodules is the usual re-export, not a cycle
    # through the code; anything else in a cycle is
    pruned = {
        mod: {t for t in targets if not (mod == t.rsplit(".", 1)[0] and mod in edges)}
        for mod, targets in edges.items()
    }
    assert cycles(pruned) == []


def test_every_module_has_a_layer():
    for mod in modules():
        if mod != "prefscope":
            unit_of(mod)


def test_imports_only_run_down_the_layers():
    known = modules()
    upward = []
    for mod, path in known.items():
        if mod == "prefscope":
            continue
        rank = UNITS[unit_of(mod)]
        for target, _, line, _ in imports(mod, path, known):
            if target == "prefscope":
                continue
            if UNITS[unit_of(target)] > rank:
                upward.append(f"{path.relative_to(SRC)}:{line} {mod} -> {target}")
    assert upward == []


def test_no_private_name_is_imported_across_modules():
    known = modules()
    private = []
    for mod, path in known.items():
        for target, name, line, _ in imports(mod, path, known):
            if name.startswith("_") and not name.startswith("__") and target != mod:
                private.append(f"{path.relative_to(SRC)}:{line} {target}.{name}")
    assert private == []


def test_no_private_attribute_of_another_module_is_used():
    """``from prefscope.x import y; y._z`` reaches in just like ``from x.y import _z``."""
    known = modules()
    reached = []
    for mod, path in known.items():
        tree = ast.parse(path.read_text())
        bound = {i.local: i.target for i in imports(mod, path, known) if i.local}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                reached.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value.id}.{node.attr}")
    assert reached == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from prefscope.lfp.probe import triples\n", ("prefscope.lfp.probe.triples", "")),
        ("from prefscope.lfp.probe.triples import _x\n", ("prefscope.lfp.probe.triples", "_x")),
        ("from .triples import y\n", ("prefscope.lfp.probe.triples", "y")),
        ("from . import triples\n", ("prefscope.lfp.probe.triples", "")),
    ],
)
def test_import_reader_resolves_modules_names_and_relative_imports(tmp_path, source, expected):
    path = tmp_path / "stage.py"
    path.write_text(source)
    known = {"prefscope.lfp.probe.triples": path}
    found = list(imports("prefscope.lfp.probe.stage", path, known))
    assert [(i.target, i.name) for i in found] == [expected]


MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def test_files_and_functions_stay_small():
    """One idea per module, one step per function: long ones are where bugs hide."""
    too_long = []
    for path in modules().values():
        text = path.read_text()
        if text.count("\n") > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(SRC)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}: {length}")
    assert too_long == []
