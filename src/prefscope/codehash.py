"""Hash library source so that editing a module re-runs exactly the rules that use it.

Snakemake's ``code`` rerun trigger only sees a rule's own ``script:`` file (by mtime), not the
library the script calls. Rules therefore pass ``code=module_hash("prefscope.x", ...)`` as a
param, listing the modules whose code decides their output: editing ``prefscope.x`` changes the
param, so those rules and everything downstream re-run, and nothing else does.

The list is explicit, not the transitive import closure: shared plumbing (``prefscope.io``,
``prefscope.workflow``, logging) changes often without changing any result, and following it would
re-run the whole workflow, RLHF included, on every such edit.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


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
    digest = hashlib.sha256()
    for module in sorted(set(modules)):
        for name, path in source_files(module):
            for part in (module, name):
                digest.update(part.encode())
                digest.update(b"\0")
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
    return digest.hexdigest()[:length]
