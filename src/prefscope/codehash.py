"""Hash library source so that editing a module re-runs exactly the rules that use it.

Snakemake's ``code`` rerun trigger only sees a rule's own ``script:`` file (by mtime), not the
library the script calls. Rules therefore pass ``code=script_hash(path)`` as a param: the hash
of every ``prefscope`` module the script reaches through imports (:func:`import_closure`,
followed statically, lazy imports inside functions and ``"prefscope.x"`` module-name strings
included). Editing any of them changes the param, so the rule and everything downstream re-run;
nothing else does, and no hand-written list can miss a module.

One explicit set of plumbing modules is left out (:data:`PLUMBING`): atomic writes, the
script/stage bridge, logging and threads, and error classes change without changing any result,
and following them would re-run the whole workflow, RLHF included, on every such edit.
:func:`module_hash` hashes named modules or whole packages (kept for callers that need it).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import os
import re
from pathlib import Path

_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}

#: Modules that never decide a result: left out of every import closure (documented above).
PLUMBING = frozenset(
    {
        "prefscope",
        "prefscope.codehash",
        "prefscope.errors",
        "prefscope.io",
        "prefscope.runtime",
        "prefscope.workflow",
    }
)
_ROOT = "prefscope"


def source_files(module: str) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of every file of a module, or below a package's directory.

    Files are located with :func:`importlib.util.find_spec`, i.e. from wherever ``import`` would
    load the module (an editable install points at the checkout's ``src/``). Package data files
    count too: a prompt template changes results as much as code does.
    """
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ModuleNotFoundError(f"module_hash: no module named {module!r}", name=module)
    if not spec.submodule_search_locations:  # a plain module
        if spec.origin is None:
            raise ModuleNotFoundError(f"module_hash: {module!r} has no source file", name=module)
        origin = Path(spec.origin)
        return [(origin.name, origin)]
    found = []
    for location in spec.submodule_search_locations:  # one, or several for namespace packages
        root = Path(location)
        found += [
            (p.relative_to(root).as_posix(), p)
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix not in _SKIP_SUFFIXES
            and not _SKIP_DIRS.intersection(p.relative_to(root).parts)
        ]
    return sorted(found)


def module_hash(*modules: str, length: int = 16) -> str:
    """Short sha256 over the source of the given modules or packages (order-insensitive).

    Hashes module name, relative file name and bytes of each file, so renaming or moving a file
    changes the hash as well as editing it. Raises ``ModuleNotFoundError`` for an unknown name,
    which makes a typo in a rule fail when the workflow is parsed.
    """
    if not modules:
        raise ValueError("module_hash needs at least one module name")
    return _digest(((m, source_files(m)) for m in sorted(set(modules))), length)


def _digest(modules, length: int) -> str:
    """sha256 over ``(module, [(file name, path), ...])``: names and bytes, length-prefixed,
    so renaming or moving a file changes the hash as well as editing it."""
    digest = hashlib.sha256()
    for module, files in modules:
        for name, path in files:
            for part in (module, name):
                digest.update(part.encode())
                digest.update(b"\0")
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()[:length]


@functools.cache
def _package_dirs(root: str) -> tuple[Path, ...]:
    """Where the top-level package ``root`` lives (only its light ``__init__`` is imported)."""
    spec = importlib.util.find_spec(root)
    return tuple(Path(p) for p in (spec.submodule_search_locations or ())) if spec else ()


def _source(name: str) -> Path | None:
    """The source file of module ``name``, found on disk without importing anything.

    ``find_spec("a.b.c")`` imports ``a.b`` to search it, and code-hash lookups probe names
    such as ``prefscope.sae.stage.train_sae`` (a function, not a module): that would import
    the stage and torch with it, seconds per workflow parse and per cluster job. Inside a
    package of plain directories the file is simply ``a/b/c.py`` or ``a/b/c/__init__.py``.
    """
    root, *rest = name.split(".")
    for base in _package_dirs(root):
        path = base.joinpath(*rest)
        candidates = (
            (path / "__init__.py", path.parent / f"{path.name}.py")
            if rest
            else (base / "__init__.py",)
        )
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    return None


@functools.cache
def _is_module(name: str) -> bool:
    if _source(name) is not None:
        return True
    if name.split(".")[0] == _ROOT:  # ours: on disk or not at all
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent is not a package
        return False


def _module_file(module: str) -> Path:
    found = _source(module)
    if found is not None:
        return found
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"code hash: no source for module {module!r}", name=module)
    return Path(spec.origin)


def _ours(module: str, root: str) -> bool:
    return module.split(".")[0] == root and module not in PLUMBING


@dataclasses.dataclass
class _Index:
    """One parsed module: its top-level definitions and the names its imports bind."""

    top: dict[str, list[ast.AST]]
    aliases: dict[str, tuple[str, str | None]]  # local name -> (module, attribute or None)
    package: str


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    anchor = parts[: len(parts) - node.level + 1]
    return ".".join([*anchor, node.module] if node.module else anchor)


@functools.cache
def _index(module: str) -> _Index:
    origin = _module_file(module)
    tree = ast.parse(origin.read_text(), filename=str(origin))
    package = module if origin.name == "__init__.py" else module.rpartition(".")[0]
    top: dict[str, list[ast.AST]] = {}
    aliases: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top.setdefault(node.name, []).append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        top.setdefault(name.id, []).append(node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                aliases[local] = (alias.name if alias.asname else local, None)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, package)
            for alias in node.names:
                aliases[alias.asname or alias.name] = (source, alias.name)
    return _Index(top, aliases, package)


def import_closure(
    *roots: str, files: tuple[str | os.PathLike[str], ...] = (), package: str = _ROOT
) -> list[str]:
    """Every ``prefscope`` module whose code a script (``files``) or module (``roots``) runs.

    Followed by name, statically: from the names a script imports (e.g. a stage function),
    through the functions, classes and constants they use, into the modules those come from,
    lazy imports inside functions included, and into every module named by a string literal
    (``importlib.import_module`` tables, taken whole). A module whose names are never used does
    not count, so one module of several stage functions ties each rule to its own stage's code.
    :data:`PLUMBING` is neither returned nor followed; only modules of ``package`` count.
    """
    module_name = re.compile(rf"^{re.escape(package)}(\.[A-Za-z_][A-Za-z0-9_]*)+$")
    modules: set[str] = set()
    seen: set[tuple[str, str | None]] = set()
    todo: list[tuple[str, str | None]] = [(root, None) for root in roots]

    def uses(tree: ast.AST, where: str | None, index: _Index | None) -> None:
        """Queue what ``tree`` uses: imports inside it, names of its module, module strings."""
        loggers = {  # logging.getLogger("prefscope.x") names a logger, not a dependency
            id(arg)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and getattr(call.func, "attr", getattr(call.func, "id", None)) == "getLogger"
            for arg in call.args
        }
        for node in ast.walk(tree):
            if id(node) in loggers:
                continue
            if isinstance(node, ast.Import):
                todo.extend((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, index.package if index else "")
                todo.extend((source, alias.name) for alias in node.names)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if module_name.match(node.value) and _is_module(node.value):
                    todo.append((node.value, None))
            elif isinstance(node, ast.Name) and index is not None and where is not None:
                if node.id in index.top:
                    todo.append((where, node.id))
                elif node.id in index.aliases:
                    todo.append(index.aliases[node.id])

    for path in files:
        uses(ast.parse(Path(path).read_text(), filename=str(path)), None, None)
    while todo:
        module, name = todo.pop()
        if module.split(".")[0] != package:  # first: find_spec would import other packages
            continue
        if name is not None and _is_module(f"{module}.{name}"):  # from package import module
            module, name = f"{module}.{name}", None
        if (module, name) in seen or not _ours(module, package) or not _is_module(module):
            continue
        seen.add((module, name))
        modules.add(module)
        index = _index(module)
        if name is None:  # the whole module
            todo.extend((module, top) for top in index.top)
            todo.extend(index.aliases.values())
            continue
        if name in index.aliases:  # re-exported
            todo.append(index.aliases[name])
        for node in index.top.get(name, []):
            uses(node, module, index)
    return sorted(modules)


def own_files(module: str) -> list[tuple[str, Path]]:
    """A module's own files: its source, plus a package's data files outside its subpackages.

    (:func:`source_files` takes a whole package; a closure lists each submodule itself.)
    """
    origin = _module_file(module)
    if origin.name != "__init__.py":
        return [(origin.name, origin)]
    root = origin.parent
    found = [("__init__.py", origin)]
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        inside_subpackage = any(
            (root / Path(*rel.parts[: i + 1]) / "__init__.py").exists()
            for i in range(len(rel.parts) - 1)
        )
        if (
            path.is_file()
            and path.suffix not in {".py", *_SKIP_SUFFIXES}
            and not _SKIP_DIRS.intersection(rel.parts)
            and not inside_subpackage
        ):
            found.append((rel.as_posix(), path))
    return found


def closure_hash(
    *roots: str,
    files: tuple[str | os.PathLike[str], ...] = (),
    package: str = _ROOT,
    length: int = 16,
) -> str:
    """Short sha256 over the own files of every module in :func:`import_closure`."""
    modules = import_closure(*roots, files=files, package=package)
    if not modules:
        raise ValueError(f"code hash: no prefscope module reachable from {roots or files}")
    return _digest(((m, own_files(m)) for m in modules), length)


def script_hash(path: str | os.PathLike[str], length: int = 16) -> str:
    """The ``code`` param of a rule: :func:`closure_hash` of its ``script:`` file's imports."""
    return closure_hash(files=(path,), length=length)
