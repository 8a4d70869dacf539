"""The cluster scripts refuse clearly instead of half-starting (no cluster needed)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from smkapi import REPO

UP = REPO / ".ci" / "slurm-up.sh"
DOWN = REPO / ".ci" / "slurm-down.sh"


@pytest.mark.parametrize("script", [UP, DOWN])
def test_scripts_are_executable_bash(script):
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_bad_setting_is_refused_before_touching_anything():
    result = subprocess.run(
        [str(UP)],
        env=dict(os.environ, PREFSCOPE_SLURM_ACCOUNTING="mysql"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "slurm-up: FAILED: PREFSCOPE_SLURM_ACCOUNTING must be 'none' or 'dbd', not 'mysql'"
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to a user"
)
def test_non_root_is_refused_with_the_reason():
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(UP)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "must run as root" in result.stderr
