"""A stage whose Snakemake process was killed stops instead of writing on (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", {stage!r}])
print(grandchild.pid, flush=True)
time.sleep(60)
"""

STAGE = """
import pathlib, time
from prefscope.workflow import exit_when_orphaned
exit_when_orphaned(interval=0.1)
time.sleep(2)
pathlib.Path({out!r}).write_text("written after the parent died")
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited (only its parent has not reaped it)


def test_stage_process_exits_when_its_parent_is_killed(tmp_path):
    out = tmp_path / "late.txt"
    code = CHILD.format(stage=STAGE.format(out=str(out)))
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    stage_pid = int(parent.stdout.readline())
    time.sleep(0.5)
    assert _alive(stage_pid)
    parent.send_signal(signal.SIGKILL)  # kill -9 of "Snakemake"
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(stage_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(stage_pid), "the orphaned stage kept running"
    time.sleep(2.5)
    assert not out.exists()
