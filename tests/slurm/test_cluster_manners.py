"""What the README promises on a cluster, executed on the real SLURM through profiles/slurm.

One run (module fixture) of the test-only workflow ``tests/slurm/workflow`` from a user's
analysis directory, as the README says (``--snakefile ... --configfile ... --profile slurm``, the
profile's own ``retries`` and ``keep-going``; only CI's polling flags added):

- ``slow`` sleeps 95 s under a 1-minute limit: SLURM kills it (TIMEOUT), the profile resubmits it
  with the attempt's larger limit (4 min), and it completes;
- ``hungry`` touches 1000 MB under ``mem_mb=900``: the cgroup OOM-kills it (step OUT_OF_MEMORY),
  the resubmission asks for 1800 MB and completes (skipped where memory is not enforced);
- ``part`` b reads a bad input: it fails on every attempt, the run fails with the rule's log
  shown, while parts a and c finish; after fixing the input, the same command resubmits only
  part b.

Evidence comes from ``sacct``: every attempt is a SLURM job with its own limits.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from slurmtools import POLL_FAST, SacctRow, memory_enforced, run_in, sacct, submitted_ids

pytestmark = pytest.mark.slurm

SNAKEFILE = Path(__file__).parent / "workflow" / "Snakefile"
COMMAND = ("--snakefile", str(SNAKEFILE), "--configfile", "cfg.yaml", "--profile", "slurm")
CONFIG = {"parts": ["a", "b", "c"], "slow_seconds": 95, "hungry_mb": 1000, "hungry_mem_mb": 900}
BAD_INPUT_MESSAGE = "inputs/b.txt, line 1: expected a whole number, got 'oops'"
RUN_TIMEOUT = 600  # seconds; about 4 minutes normally (two attempts of `slow`)


@dataclass
class Run:
    result: subprocess.CompletedProcess
    output: str
    jobs: list[SacctRow]  # jobs (not steps) in submission order
    steps: list[SacctRow]


def execute(wd: Path, env: dict[str, str]) -> Run:
    result = run_in(wd, *COMMAND, *POLL_FAST, env=env, timeout=RUN_TIMEOUT)
    output = result.stdout + result.stderr
    ids = submitted_ids(output)
    rows = sacct(ids) if ids else []
    order = {job_id: i for i, job_id in enumerate(ids)}
    jobs = sorted((r for r in rows if not r.step), key=lambda r: order[r.job_id])
    return Run(result, output, jobs, [r for r in rows if r.step])


@pytest.fixture(scope="module")
def analysis(slurm_cluster, profile_env, tmp_path_factory) -> Path:
    wd = tmp_path_factory.mktemp("my-analysis")
    (wd / "inputs").mkdir()
    for name, text in {"a": "1", "b": "oops", "c": "3"}.items():
        (wd / "inputs" / f"{name}.txt").write_text(text + "\n")
    (wd / "cfg.yaml").write_text(yaml.safe_dump(CONFIG))
    return wd


@pytest.fixture(scope="module")
def first_run(analysis, profile_env) -> Run:
    return execute(analysis, profile_env)


def attempts(run: Run, rule: str, wildcards: str = "") -> list[SacctRow]:
    return [j for j in run.jobs if j.rule == rule and j.wildcards == wildcards]


def test_job_over_its_time_limit_is_resubmitted_with_a_larger_limit(first_run, analysis):
    slow = attempts(first_run, "slow")
    assert [(j.state, j.time_limit) for j in slow] == [
        ("TIMEOUT", "00:01:00"),
        ("COMPLETED", "00:04:00"),
    ], first_run.output[-3000:]
    assert (analysis / "slow.txt").read_text() == "4\n"  # written by the 4-minute attempt


def test_job_over_its_memory_is_resubmitted_with_more(first_run, analysis):
    if not memory_enforced():
        pytest.skip("the test cluster does not enforce memory (no cgroup v1 memory controller)")
    hungry = attempts(first_run, "hungry")
    assert [(j.state, j.req_mem) for j in hungry] == [
        ("FAILED", "900M"),
        ("COMPLETED", "1800M"),
    ], first_run.output[-3000:]
    killed = [s.state for s in first_run.steps if s.job_id == hungry[0].job_id]
    assert "OUT_OF_MEMORY" in killed, killed
    assert (analysis / "hungry.txt").read_text() == "1800\n"


def test_bad_input_fails_for_good_with_its_log_shown_while_others_finish(first_run, analysis):
    assert first_run.result.returncode != 0
    # the profile's retries: 2 resubmit it twice; a bad input fails every time
    assert [j.state for j in attempts(first_run, "part", "b")] == ["FAILED"] * 3
    assert BAD_INPUT_MESSAGE in first_run.output  # show-failed-logs prints the rule's log
    assert "logs/part_b.log" in first_run.output
    assert not (analysis / "parts" / "b.txt").exists()
    # keep-going: the independent jobs finished, once each
    for name, doubled in (("a", "2"), ("c", "6")):
        assert [j.state for j in attempts(first_run, "part", name)] == ["COMPLETED"]
        assert (analysis / "parts" / f"{name}.txt").read_text() == doubled + "\n"


def test_rerun_after_the_fix_resubmits_only_what_failed(first_run, analysis, profile_env):
    assert first_run.result.returncode != 0  # the failed first run this test recovers from
    done = {p: p.stat().st_mtime_ns for p in analysis.glob("parts/*.txt")}
    (analysis / "inputs" / "b.txt").write_text("5\n")
    second = execute(analysis, profile_env)
    assert second.result.returncode == 0, second.output[-3000:]
    assert [(j.rule, j.wildcards, j.state) for j in second.jobs] == [("part", "b", "COMPLETED")]
    assert (analysis / "parts" / "b.txt").read_text() == "10\n"
    assert {p: p.stat().st_mtime_ns for p in done} == done  # finished outputs untouched
