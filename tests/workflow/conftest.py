"""Fixtures that run the real workflow in a scratch copy of the repository.

``demo_run`` runs the default demo (both branches) once per test session, offline, in a temp
copy; every end-to-end assertion (demo results, rerun plans, report) reads that one run, so CI
pays for the demo once. Tests must not change its results: plan with config overrides
(``smkapi.plan(wd, config=...)``), or edit copies, and undo any file they add.

Helpers live in ``smkapi.py`` (importable from tests here as ``import smkapi``):
``plan`` (dry run through the Snakemake 9 API, returns the outputs it would rebuild),
``plan_in_subprocess``, ``run_snakemake`` (CLI, ``--workflow-profile none``), ``output_rules``
(output file -> rule, from ``--summary``), ``parse_dryrun`` and ``write_config``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from smkapi import REPO, copy_workflow, output_rules, run_snakemake

__all__ = ["REPO", "copy_workflow", "run_snakemake"]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Workdir of one completed run of the default demo (fails the session's e2e tests if not).

    ``PREFSCOPE_DEMO_DIR=/path`` reuses a scratch workdir across sessions while developing:
    the workflow files are copied there once and the run only brings it up to date.
    """
    reuse = os.environ.get("PREFSCOPE_DEMO_DIR")
    if reuse:
        wd = Path(reuse)
        if not (wd / "Snakefile").exists():
            wd.mkdir(parents=True, exist_ok=True)
            copy_workflow(wd)
    else:
        wd = copy_workflow(tmp_path_factory.mktemp("demo"))
    old_umask = os.umask(0o022)  # a common shared-cluster umask: results must be 0644 / 0755
    try:
        result = run_snakemake(wd, "--cores", "2")
    finally:
        os.umask(old_umask)
    if result.returncode != 0:
        logs = (
            "\n".join(
                f"--- {p}\n{p.read_text()[-2000:]}" for p in sorted((wd / "logs").rglob("*.log"))
            )
            if (wd / "logs").exists()
            else ""
        )
        pytest.fail(f"demo run failed:\n{result.stderr[-4000:]}\n{logs[-8000:]}")
    return wd


@pytest.fixture(scope="session")
def demo_rules(demo_run: Path) -> dict[str, str]:
    """Output file -> rule that made it, for every output of the demo run."""
    return output_rules(demo_run)


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    """A fresh copy of the workflow files (nothing run) for static checks."""
    return copy_workflow(tmp_path)
