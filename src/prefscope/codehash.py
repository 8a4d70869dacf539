"""Hash library source so that editing a module re-runs exactly the rules that use it.

Snakemake's code trigger only sees a rule's own script file (by mtime), not the library it
calls. Rules therefore pass ``code=module_hash("prefscope.x", ...)`` as a param: editing
``prefscope.x`` changes the param and re-plans those rules and their downstream, nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path


def _source_files(module: str) -> list[Path]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module)
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: every .py file below it
        return sorted(origin.parent.rglob("*.py"))
    return [origin]


def module_hash(*modules: str) -> str:
    """Short sha256 over the source text of the given modules or packages."""
    digest = hashlib.sha256()
    for module in sorted(modules):
        for path in _source_files(module):
            digest.update(module.encode())
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
