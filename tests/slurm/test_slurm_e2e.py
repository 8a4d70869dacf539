"""Branch W of the demo through a real SLURM cluster with profiles/slurm-noacct.

One run (module fixture) of a reduced demo config up to ``results/demo/summary.json``, then:
every planned job was a SLURM job that completed; jobs of GPU rules ran in partition ``gpu`` with
a GPU allocated, all others in ``cpu``; each rule's log records the SLURM job and partition it
ran in; and a second dry run through the profile plans nothing.

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
from smkapi import PlannedJob, copy_workflow, parse_dryrun, run_snakemake, write_config

pytestmark = pytest.mark.slurm

TARGET = "results/demo/summary.json"
PROFILE = ("--profile", "profiles/slurm-noacct")
# a smaller demo: the point is where jobs run, not what they find (tests/workflow checks that)
SMALL = {
    "datasets": {"demo": {"demo": {"n_pairs": 400}}},
    "sae": {"max_epochs": 5, "min_epochs": 1},
    "interpret": {"scoring_n_examples": 60},
    "analyze": {"n_bootstrap": 20},
}
# CI speed: poll SLURM early and often, fail fast (the profile's retries are for real clusters)
FAST = (
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--latency-wait",
    "5",
    "--retries",
    "0",
    "--jobs",
    "4",
)
RUN_TIMEOUT = 900  # seconds; about 2 minutes normally
SUBMITTED = r"has been submitted with SLURM jobid (\d+)"
PLACEMENT = re.compile(
    r"slurm_job_id=(?P<job>\S+) slurm_partition=(?P<partition>\S+) "
    r"cuda_visible_devices=(?P<cuda>\S+)"
)


@dataclass
class SlurmJob:
    job_id: str
    partition: str
    rule: str
    state: str
    tres_per_job: str


@dataclass
class SlurmRun:
    wd: Path
    planned: list[PlannedJob]
    jobs: dict[str, SlurmJob]  # by SLURM job id
    output: str
    returncode: int
    seconds: float


def slurm_jobs(ids: list[str]) -> dict[str, SlurmJob]:
    """Jobs by id from squeue (finished jobs stay listed: MinJobAge=600 on the test cluster)."""
    fmt = "JobID:|,Partition:|,Comment:|,State:|,tres-per-job:|"
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", ",".join(ids), "-O", fmt],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    jobs = {}
    for line in out.splitlines():
        job_id, partition, comment, state, tres = (f.strip() for f in line.split("|")[:5])
        # the plugin's comment: rule_<name>[_wildcards_<values>]
        rule = comment.removeprefix("rule_").split("_wildcards_")[0]
        jobs[job_id] = SlurmJob(job_id, partition, rule, state, tres)
    return jobs


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> SlurmRun:
    wd = copy_workflow(tmp_path_factory.mktemp("slurm"))
    write_config(wd, SMALL)
    dry = run_snakemake(wd, "-n", *PROFILE, TARGET, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    planned = parse_dryrun(dry.stdout)
    start = time.monotonic()
    try:
        result = run_snakemake(wd, *PROFILE, *FAST, TARGET, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:  # e.g. a job pending on a request no node fits
        output = _text(exc.stdout) + _text(exc.stderr)
        ids = re.findall(SUBMITTED, output)
        queue = subprocess.run(
            ["squeue", "-t", "all", "-o", "%i %P %T %R %k"], capture_output=True, text=True
        ).stdout
        if ids:
            subprocess.run(["scancel", *ids], capture_output=True)
        pytest.fail(f"no result after {RUN_TIMEOUT} s; queue:\n{queue}\n{output[-3000:]}")
    seconds = time.monotonic() - start
    output = result.stdout + result.stderr
    ids = re.findall(SUBMITTED, output)
    print(f"SLURM e2e: {len(ids)} jobs in {seconds:.0f} s")
    return SlurmRun(wd, planned, slurm_jobs(ids) if ids else {}, output, result.returncode, seconds)


def test_run_succeeds(slurm_run):
    assert slurm_run.returncode == 0, slurm_run.output[-5000:]
    assert (slurm_run.wd / TARGET).exists()


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
            assert "gpu" in job.tres_per_job, job  # a GPU was requested, not just the partition
        else:
            assert job.partition == "cpu", job
            assert "gpu" not in job.tres_per_job, job


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


def test_second_run_plans_nothing(slurm_run):
    assert slurm_run.returncode == 0
    dry = run_snakemake(slurm_run.wd, "-n", *PROFILE, TARGET, timeout=600)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert [j for j in parse_dryrun(dry.stdout) if j.rule != "all"] == []
