"""Atomic file output.

Every artifact is written to a temporary sibling and renamed into place, so a killed or
failed job never leaves a half-written file that a later run could mistake for a result.
``tempfile`` creates those siblings private (0600 files, 0700 directories); :func:`share_mode`
gives them the mode a plain ``open``/``mkdir`` would have had under the user's umask, so results
on a shared cluster filesystem are as readable as the user's umask allows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read by setting and restoring it; guarded against other threads)."""
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def share_mode(path: str | os.PathLike[str]) -> None:
    """Give a file 0o666, a directory 0o777, minus the umask, as ``open``/``mkdir`` would."""
    base = 0o777 if Path(path).is_dir() else 0o666
    os.chmod(path, base & ~current_umask())


def share_tree(root: str | os.PathLike[str]) -> None:
    """:func:`share_mode` on a directory and everything in it.

    For directories filled by other libraries: ``safetensors`` (and so ``save_pretrained``)
    writes its files 0600 like ``tempfile``.
    """
    share_mode(root)
    for path in Path(root).rglob("*"):
        if not path.is_symlink():
            share_mode(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            share_mode(tmp_path)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; it replaces ``path`` only on success.

    Its tree gets the umask's modes first (``mkdtemp`` makes it 0700, ``safetensors`` writes
    0600), so a model directory is as readable as a file written by ``open``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        share_tree(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_jsonable(obj: Any) -> Any:
    """Round-trip through JSON so numpy scalars and NaN become plain values (NaN -> null)."""
    text = json.dumps(obj, default=_json_default, allow_nan=True)
    return _nan_to_none(json.loads(text))


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write strict JSON (NaN becomes null) atomically, keys in insertion order."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    return json.loads(Path(path).read_text())


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def load_npy(path: str | os.PathLike[str]) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def write_parquet(path: str | os.PathLike[str], frame: Any) -> None:
    """Write a polars DataFrame atomically."""
    with atomic_path(path) as tmp:
        frame.write_parquet(tmp)


def write_tsv(path: str | os.PathLike[str], frame: Any) -> None:
    with atomic_path(path) as tmp:
        frame.write_csv(tmp, separator="\t")
