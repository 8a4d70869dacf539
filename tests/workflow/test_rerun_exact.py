"""Exact re-runs after the session's finished demo (issue 13).

* The same settings in another key order re-run nothing (every rule's params are canonical).
* Every result file is readable by group and others under umask 022 (atomic writes follow
  the umask instead of tempfile's 0600).
* ``kill -9`` of Snakemake mid-rule: the job's process stops too (no orphan writing on), the
  directory stays locked until ``snakemake --unlock``, and the re-run (``--rerun-incomplete``,
  as in ``profiles/local``) rebuilds a byte-identical ``summary.json``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from smkapi import OFFLINE_ENV, copy_workflow, plan, run_snakemake

pytestmark = pytest.mark.e2e


def _reordered(value, how: str):
    """``value`` with every dict's keys sorted or in reverse of their current order."""
    if isinstance(value, dict):
        keys = sorted(value, key=str) if how == "sorted" else list(reversed(list(value)))
        return {key: _reordered(value[key], how) for key in keys}
    if isinstance(value, list):
        return [_reordered(item, how) for item in value]
    return value


@pytest.mark.parametrize("how", ["sorted", "reversed"])
def test_config_in_another_key_order_plans_nothing(demo_run: Path, how: str):
    path = demo_run / "config" / "config.yaml"
    original = path.read_text()
    config = yaml.safe_load(original)
    reordered = _reordered(config, how)
    assert reordered == config and yaml.safe_dump(reordered, sort_keys=False) != yaml.safe_dump(
        config, sort_keys=False
    )
    try:
        path.write_text(yaml.safe_dump(reordered, sort_keys=False))
        assert plan(demo_run) == []
    finally:
        path.write_text(original)


def test_results_are_readable_by_group_and_others(demo_run: Path):
    # the session's demo runs under umask 022 (conftest.demo_run)
    paths = [p for p in (demo_run / "results").rglob("*") if not p.is_symlink()]
    assert len(paths) > 100
    private = [
        f"{p.relative_to(demo_run)} {stat.filemode(p.stat().st_mode)}"
        for p in paths
        if stat.S_IMODE(p.stat().st_mode) & (0o055 if p.is_dir() else 0o044)
        != (0o055 if p.is_dir() else 0o044)
    ]
    assert not private, private[:20]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_kill_9_mid_rule_unlock_and_rerun_is_byte_identical(demo_run: Path, tmp_path: Path):
    # a copy of the finished branch-W results (mtimes and Snakemake metadata kept)
    wd = tmp_path / "wd"
    wd.mkdir()
    copy_workflow(wd)
    shutil.copytree(demo_run / "results" / "demo", wd / "results" / "demo")
    shutil.copytree(demo_run / ".snakemake" / "metadata", wd / ".snakemake" / "metadata")
    target = "results/demo/summary.json"
    assert plan(wd, targets=(target,)) == []
    expected = (demo_run / target).read_bytes()
    # as if a first run had got as far as the label analysis: its and the report's outputs go
    report = (
        "summary.json",
        "summary.md",
        "features.parquet",
        "features.tsv",
        "effects.svg",
        "auc.svg",
        "report.html",
    )
    for path in [
        *(wd / "results/demo/analysis").iterdir(),
        *(wd / "results/demo" / f for f in report),
    ]:
        path.unlink()

    log = wd / "logs" / "demo" / "analyze.log"
    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--workflow-profile", "none", "--cores", "2", target],
        cwd=wd,
        env=dict(os.environ, **OFFLINE_ENV),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: log.exists() and "placement:" in log.read_text(), 600, "analyze")
        job = int(re.search(r"placement: host=\S+ pid=(\d+)", log.read_text()).group(1))
        assert _alive(job)
        os.kill(run.pid, signal.SIGKILL)  # kill -9 of the snakemake process only
        run.wait(timeout=30)
        _wait_for(lambda: not _alive(job), 15, "the orphaned analyze job to stop")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert not (wd / "results/demo/analysis/summary.json").exists()
    assert not (wd / target).exists()
    assert "the Snakemake process" in log.read_text()

    locked = run_snakemake(wd, "--cores", "2", "--rerun-incomplete", target)
    assert locked.returncode != 0 and "--unlock" in locked.stderr + locked.stdout
    assert run_snakemake(wd, "--unlock").returncode == 0
    rerun = run_snakemake(wd, "--cores", "2", "--rerun-incomplete", target)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    rerun_log = log.read_text()  # the re-run's own analyze job, run to the end
    assert "the Snakemake process" not in rerun_log and rerun_log.rstrip().endswith("done")
    assert (wd / target).read_bytes() == expected
    assert plan(wd, targets=(target,)) == []
