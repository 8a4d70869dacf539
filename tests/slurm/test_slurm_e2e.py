"""Branch W of the demo through a real SLURM cluster with accounting, as users run it.

The README's way: the one-time ``python -m prefscope.profiles`` (the ``profile_env`` fixture),
then, in an analysis directory of one's own that is not the repository (here a scratch
directory with ``my.yaml``)::

    snakemake --snakefile <repository>/Snakefile --configfile my.yaml --profile slurm

with only CI's polling flags (``POLL_FAST``) added. One run (module fixture) of a reduced demo
(its default target, up to ``results/demo/summary.json``), then, from ``sacct`` (the profile's
status command): every planned job was a SLURM job that completed; jobs of GPU rules ran in
partition ``gpu`` with a GPU allocated, all others in ``cpu``; each rule's log records the SLURM
job and partition it ran in; a second dry run plans nothing. One quick run of the test-only
workflow through ``profiles/slurm-noacct`` (status from ``squeue``) checks the profile for
clusters without accounting.

Expected jobs and their GPU requests come from a dry run through the same profile, so the test
follows the workflow as rules are added.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from slurmtools import POLL_FAST, run_in, sacct, submitted_ids
from smkapi import REPO, PlannedJob, parse_dryrun, run_snakemake

pytestmark = pytest.mark.slurm

TARGET = "results/demo/summary.json"  # made by the default target `all`
# the README's command, from the user's analysis directory
COMMAND = ("--snakefile", str(REPO / "Snakefile"), "--configfile", "my.yaml", "--profile", "slurm")
# a smaller demo: the point is where jobs run, not what they find (tests/workflow checks that)
SMALL = {
    "datasets": {"demo": {"source": "demo", "demo": {"n_pairs": 400}}},
    "sae": {"max_epochs": 5, "min_epochs": 1},
    "interpret": {"scoring_n_examples": 60},
    "analyze": {"n_bootstrap": 20},
}
RUN_TIMEOUT = 900  # seconds; about 2 minutes normally
PLACEMENT = re.compile(
    r"slurm_job_id=(?P<job>\S+) slurm_partition=(?P<partition>\S+) "
    r"cuda_visible_devices=(?P<cuda>\S+)"
)


@dataclass
class SlurmRun:
    wd: Path
    planned: list[PlannedJob]
    jobs: dict[str, SlurmJob]  # by SLURM job id, from sacct
    output: str
    returncode: int
    seconds: float


@dataclass
class SlurmJob:
    job_id: str
    partition: str
    rule: str
    state: str
    gpu_allocated: bool


def slurm_jobs(ids: list[str]) -> dict[str, SlurmJob]:
    """Jobs by id as accounting (``sacct``) recorded them."""
    return {
        row.job_id: SlurmJob(
            row.job_id, row.partition, row.rule, row.state, "gres/gpu" in row.alloc_tres
        )
        for row in sacct(ids)
        if not row.step
    }


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, profile_env, tmp_path_factory) -> SlurmRun:
    wd = tmp_path_factory.mktemp("my-analysis")
    (wd / "my.yaml").write_text(yaml.safe_dump(SMALL))
    dry = run_snakemake(wd, "-n", *COMMAND, env=profile_env, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    planned = parse_dryrun(dry.stdout)
    start = time.monotonic()
    result = run_in(wd, *COMMAND, *POLL_FAST, env=profile_env, timeout=RUN_TIMEOUT)
    seconds = time.monotonic() - start
    output = result.stdout + result.stderr
    ids = submitted_ids(output)
    print(f"SLURM e2e: {len(ids)} jobs in {seconds:.0f} s")
    return SlurmRun(wd, planned, slurm_jobs(ids) if ids else {}, output, result.returncode, seconds)


def test_run_succeeds_in_the_analysis_directory(slurm_run):
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    assert (slurm_run.wd / TARGET).exists()
    # the profile found by name is the repository's, with its partition file
    assert "Auto-selected partition" in slurm_run.output


def test_every_planned_job_ran_as_a_completed_slurm_job(slurm_run):
    expected = Counter(j.rule for j in slurm_run.planned if j.rule != "all")
    ran = Counter(j.rule for j in slurm_run.jobs.values())
    assert ran == expected, slurm_run.output[-3000:]
    assert {j.state for j in slurm_run.jobs.values()} == {"COMPLETED"}


def test_gpu_rules_ran_in_gpu_partition_and_the_rest_in_cpu(slurm_run):
    gpu_rules = {j.rule for j in slurm_run.planned if j.gpus}
    assert gpu_rules, "the target has no GPU rule, so GPU routing would go untested"
    for job in slurm_run.jobs.values():
        if job.rule in gpu_rules:
            assert job.partition == "gpu", job
            assert job.gpu_allocated, job  # a GPU was allocated, not just the partition
        else:
            assert job.partition == "cpu", job
            assert not job.gpu_allocated, job


def test_rule_logs_record_their_slurm_job_and_partition(slurm_run):
    # the line comes from prefscope.workflow.run_stage, inside the job
    by_id = slurm_run.jobs
    for planned in slurm_run.planned:
        if planned.rule == "all" or not planned.log:
            continue
        text = (slurm_run.wd / planned.log[0]).read_text()
        match = PLACEMENT.search(text)
        assert match, f"{planned.log[0]} has no placement line:\n{text[:500]}"
        job = by_id.get(match["job"])
        assert job is not None and job.rule == planned.rule, (planned.rule, match.group(0))
        assert match["partition"] == job.partition
        if planned.gpus:
            assert match["cuda"] == "0", match.group(0)  # the fake GPU SLURM allocated


def test_second_run_plans_nothing(slurm_run, profile_env):
    assert slurm_run.returncode == 0
    dry = run_snakemake(slurm_run.wd, "-n", *COMMAND, env=profile_env, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert [j for j in parse_dryrun(dry.stdout) if j.rule != "all"] == []


def test_noacct_profile_runs_jobs_with_squeue_status(slurm_cluster, profile_env, tmp_path):
    """profiles/slurm-noacct by name: one job, its status from squeue, completes."""
    wd = tmp_path / "noacct"
    (wd / "inputs").mkdir(parents=True)
    (wd / "inputs" / "one.txt").write_text("21\n")
    (wd / "cfg.yaml").write_text(yaml.safe_dump({"parts": ["one"]}))
    snakefile = str(Path(__file__).parent / "workflow" / "Snakefile")
    args = ("--snakefile", snakefile, "--configfile", "cfg.yaml", "--profile", "slurm-noacct")
    result = run_in(wd, *args, *POLL_FAST, "parts/one.txt", env=profile_env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert (wd / "parts" / "one.txt").read_text() == "42\n"
    (job_id,) = submitted_ids(output)
    state = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    assert state == "COMPLETED"
