"""How profiles/slurm routes jobs to partitions, checked without a cluster.

The profiles use the slurm plugin's automatic partition selection (partitions.yaml) instead of a
per-rule list. These tests feed the plugin's own selection function the jobs of the current
workflow, with the resources a dry run through the profile evaluates (rule resources, attempt 1,
profile defaults), so a new GPU rule is covered without editing any list. No `slurm` marker:
they run wherever the plugin is installed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from smkapi import REPO, copy_workflow, parse_dryrun, run_snakemake

partitions = pytest.importorskip(
    "snakemake_executor_plugin_slurm.partitions", reason="needs pip install -e '.[slurm]'"
)

PROFILES = REPO / "profiles"


class FakeJob:
    """The parts of a Snakemake job the plugin's partition scoring reads."""

    def __init__(self, name: str, resources: dict, threads: int = 1) -> None:
        self.name = name
        self.threads = threads
        self.resources = resources


def select(job: FakeJob, profile: str = "slurm") -> str | None:
    config = yaml.safe_load((PROFILES / profile / "config.yaml").read_text())
    parts = partitions.read_partition_file(PROFILES / profile / config["slurm-partition-config"])
    return partitions.get_best_partition(parts, job, logging.getLogger("test"))


def _number(value: str) -> int | str:
    return int(value) if value.isdigit() else value


@pytest.mark.parametrize(
    ("resources", "threads", "expected"),
    [
        ({"gpu": 1, "mem_mb": 8000, "runtime": 60}, 1, "gpu"),
        ({"gpu": 2, "mem_mb": 16000, "runtime": 120}, 2, "gpu"),  # attempt 2 of a GPU rule
        ({"mem_mb": 4000, "runtime": 60}, 2, "cpu"),
        ({"mem_mb": 4000, "runtime": 60, "gpu": 0}, 1, "cpu"),
    ],
)
def test_gpu_jobs_go_to_gpu_partition_and_cpu_jobs_to_cpu(resources, threads, expected):
    assert select(FakeJob("r", resources, threads)) == expected
    assert select(FakeJob("r", resources, threads), "slurm-noacct") == expected


def test_gpu_job_no_partition_can_take_is_not_sent_to_the_cpu_partition():
    # selection gives up (the plugin then uses the cluster's default partition, where sbatch
    # rejects the GPU request loudly) instead of quietly picking the CPU partition
    assert select(FakeJob("r", {"gpu": 64, "mem_mb": 1000})) is None


def test_every_workflow_job_is_routed_by_its_gpu_resource(tmp_path: Path):
    wd = copy_workflow(tmp_path)
    result = run_snakemake(wd, "-n", "--profile", "profiles/slurm", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = [j for j in parse_dryrun(result.stdout) if j.rule != "all"]
    assert jobs, result.stdout[-2000:]
    routed = {}
    for job in jobs:
        resources = {k: _number(v) for k, v in job.resources.items()}
        routed[job.rule] = select(FakeJob(job.rule, resources))
        assert routed[job.rule] == ("gpu" if job.gpus else "cpu"), (job.rule, resources)


def test_profiles_differ_only_in_status_command_and_partition_file_path():
    slurm = yaml.safe_load((PROFILES / "slurm" / "config.yaml").read_text())
    noacct = yaml.safe_load((PROFILES / "slurm-noacct" / "config.yaml").read_text())
    assert slurm["slurm-status-command"] == "sacct"
    assert noacct["slurm-status-command"] == "squeue"
    assert (PROFILES / "slurm-noacct" / noacct["slurm-partition-config"]).resolve() == (
        PROFILES / "slurm" / slurm["slurm-partition-config"]
    ).resolve()
    for key in ("slurm-status-command", "slurm-partition-config"):
        del slurm[key], noacct[key]
    assert slurm == noacct
    # automatic selection is off for every rule as soon as a partition is set explicitly
    assert "slurm_partition" not in slurm["default-resources"]
    assert slurm["executor"] == "slurm" and slurm["retries"] >= 1
