"""Catalog conventions: lint, formatting, conda envs per rule group, profiles, and the report."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from smkapi import REPO, parse_dryrun, run_snakemake

RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))
ENV_NAMES = {"cpu.yaml", "gpu.yaml", "vllm.yaml"}


def test_snakemake_lint_is_clean(workflow_copy: Path):
    result = run_snakemake(workflow_copy, "--lint", timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_snakefmt_check_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("name", sorted(ENV_NAMES))
def test_env_file_is_conda_forge_and_installs_this_project(name: str):
    env = yaml.safe_load((REPO / "envs" / name).read_text())
    assert env["channels"][0] == "conda-forge" and "defaults" not in env["channels"]
    deps = env["dependencies"]
    assert any(str(d).startswith("python") for d in deps)
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    # conda runs pip from the env file's directory: `-e ..` is the repository root
    project = next(p for p in pip if p.startswith("-e "))
    root = (REPO / "envs" / project.split()[1].split("[")[0]).resolve()
    assert (root / "pyproject.toml").exists() and root == REPO
    extras = re.search(r"\[(.*)\]", project).group(1).split(",")
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert set(extras) <= set(pyproject["project"]["optional-dependencies"])
    if name == "vllm.yaml":
        assert "vllm" in extras


def test_no_profile_is_named_default():
    # Snakemake loads profiles/default on every run, SLURM or not
    assert not (REPO / "profiles" / "default").exists()
    assert {"local", "slurm", "slurm-noacct"} <= {p.name for p in (REPO / "profiles").iterdir()}


@pytest.mark.parametrize("profile", ["local", "slurm", "slurm-noacct"])
def test_profile_dry_run_works_without_a_cluster(workflow_copy: Path, profile: str):
    result = run_snakemake(workflow_copy, "-n", "--profile", f"profiles/{profile}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = parse_dryrun(result.stdout)
    assert {j.rule for j in jobs} >= {"ingest", "embed", "train_sae", "report"}


@pytest.mark.e2e
def test_report_builds_with_registered_outputs_and_captions(demo_run: Path, tmp_path: Path):
    report = tmp_path / "report.zip"
    result = run_snakemake(demo_run, "--report", str(report), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(report) as zf:
        names = zf.namelist()
        # the report's own page (the bundled pages are also called report.html)
        html = zf.read(f"{report.stem}/report.html").decode()
    stored = {Path(n).name for n in names}
    registered, captions = set(), set()
    for path in RULE_FILES:
        if path.name == "compare.smk":  # its outputs exist only with two or more datasets
            continue
        for call in re.findall(r"\breport\((.*?)\)", path.read_text(), flags=re.S):
            caption = re.search(r'caption="([^"]+)"', call)
            assert caption, f"{path.name}: report() without caption: {call.strip()[:80]}"
            captions.add((path.parent / caption.group(1)).resolve())
            registered.add(Path(re.match(r'\s*"([^"]+)"', call).group(1)).name)
    assert registered
    for name in registered:  # wildcards in a file name match any value
        pattern = re.sub(r"\\\{\w+\\\}", ".+", re.escape(name))
        assert any(re.fullmatch(pattern, s) for s in stored), f"{name} not in the report"
    captions.add(REPO / "workflow" / "report" / "workflow.rst")
    for caption in captions:
        first_words = " ".join(caption.read_text().split()[:5])
        assert first_words in html, f"caption {caption.name} missing from the report"
