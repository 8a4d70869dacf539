"""Atomic writes give results the mode the user's umask asks for, not tempfile's 0600."""

from __future__ import annotations

import os
import stat

import numpy as np
import polars as pl
import pytest

from prefscope.io import atomic_dir, save_npy, write_json, write_parquet, write_text


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    yield set_mask
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_atomic_writers_follow_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    write_json(tmp_path / "a.json", {"x": 1})
    write_text(tmp_path / "b.md", "hi\n")
    save_npy(tmp_path / "c.npy", np.zeros(3))
    write_parquet(tmp_path / "d.parquet", pl.DataFrame({"x": [1]}))
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "weights.bin").write_bytes(b"w")
        os.chmod(tmp / "weights.bin", 0o600)  # as safetensors leaves its files
    for name in ("a.json", "b.md", "c.npy", "d.parquet", "model/weights.bin"):
        assert _mode(tmp_path / name) == file_mode, name
    assert _mode(tmp_path / "model") == dir_mode
