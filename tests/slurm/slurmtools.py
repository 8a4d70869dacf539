"""Helpers of the `slurm` tests: accounting records, submitted job ids, guarded runs.

Kept out of conftest.py so test modules import them by a name no other test directory uses.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from smkapi import run_snakemake

# CI speed, the only flags the tests add to the README's commands: the first status check after 2 s
# instead of 40 s, and 5 s instead of 60 s for outputs to appear (the filesystem is local)
POLL_FAST = ("--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5")


def command_output(*cmd: str, timeout: int = 20) -> str | None:
    """stdout of ``cmd``, or None when it fails or cannot run."""
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def memory_enforced() -> bool:
    """Whether jobs are held to their --mem (cgroups, as .ci/slurm-up.sh sets up where it can)."""
    config = command_output("scontrol", "show", "config") or ""
    return any(
        line.split("=", 1)[0].strip() == "TaskPlugin" and "task/cgroup" in line
        for line in config.splitlines()
    )


@dataclass
class SacctRow:
    """One line of ``sacct``: a job (``step`` empty) or one of its steps."""

    job_id: str
    step: str
    rule: str  # from the executor plugin's comment rule_<name>[_wildcards_<values>]
    wildcards: str
    partition: str
    state: str
    time_limit: str
    req_mem: str
    alloc_tres: str


SACCT_FIELDS = "JobID,Comment,Partition,State,Timelimit,ReqMem,AllocTRES"


def sacct(ids: list[str]) -> list[SacctRow]:
    """Accounting records of the SLURM jobs ``ids`` and their steps, as users read them."""
    out = subprocess.run(
        ["sacct", "-n", "-P", "-j", ",".join(ids), "-o", SACCT_FIELDS],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    rows = []
    for line in out.splitlines():
        job, comment, partition, state, limit, mem, tres = line.split("|")
        job_id, _, step = job.partition(".")
        rule, _, wildcards = comment.removeprefix("rule_").partition("_wildcards_")
        rows.append(SacctRow(job_id, step, rule, wildcards, partition, state, limit, mem, tres))
    return rows


def submitted_ids(output: str) -> list[str]:
    """SLURM job ids in the order Snakemake submitted them."""
    return re.findall(r"has been submitted with SLURM jobid (\d+)", output)


def run_in(wd: Path, *args: str, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    """``snakemake ARGS`` in ``wd``; on a timeout, cancel its jobs and fail showing the queue."""
    try:
        return run_snakemake(wd, *args, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:  # e.g. a job pending on a request no node fits
        output = _text(exc.stdout) + _text(exc.stderr)
        ids = submitted_ids(output)
        queue = command_output("squeue", "-t", "all", "-o", "%i %P %T %R %k") or ""
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True, timeout=30)
        pytest.fail(f"no result after {timeout} s; queue:\n{queue}\n{output[-3000:]}")


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")
