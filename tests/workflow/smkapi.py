"""Drive Snakemake from tests: scratch copies, plans through the v9 API, CLI runs, dry-run parsing.

Shared by tests/workflow (conftest.py imports it) and tests/slurm. Also a tiny CLI, so a plan can
be computed in a fresh interpreter (needed when a test points ``PYTHONPATH`` at an edited copy
of the library)::

    python tests/workflow/smkapi.py plan WORKDIR [--config JSON] [TARGET ...]   # prints JSON
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
# what Snakemake needs; the library itself is imported from the installed (editable) package
COPY = ("Snakefile", "workflow", "config", "profiles", "envs")
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONUNBUFFERED": "1",
}


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow files of the repository into ``dest`` (never run in the checkout)."""
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def deep_merge(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``, recursing into dicts (the way Snakemake merges config)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def write_config(wd: Path, overrides: dict) -> dict:
    """Merge ``overrides`` into ``wd/config/config.yaml`` (typed YAML, unlike ``--config``)."""
    path = wd / "config" / "config.yaml"
    config = deep_merge(yaml.safe_load(path.read_text()), overrides)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config


def run_snakemake(
    wd: Path, *args: str, timeout: int = 1800, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``snakemake ARGS`` in ``wd`` as a user would type it, never loading a default profile."""
    full_env = dict(os.environ, **OFFLINE_ENV, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--workflow-profile", "none", *args],
        cwd=wd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def _api_workflow(wd: Path, config: dict | None) -> Iterator[Any]:
    """The workflow in ``wd`` parsed through Snakemake's v9 API, quiet, with ``config``
    overrides in Python types (``--config`` would turn numbers into strings)."""
    from snakemake.api import ConfigSettings, OutputSettings, ResourceSettings, SnakemakeApi
    from snakemake.settings.types import Quietness

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        yield api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(config=config or {}),
            snakefile=wd / "Snakefile",
            workdir=wd,
        )


def plan(wd: Path, config: dict | None = None, targets: tuple[str, ...] = ()) -> list[str]:
    """Outputs a run would (re)build now, sorted: a dry run through the Snakemake API.

    ``config`` overrides the config file the way ``--config`` does, but keeps Python types
    (``--config`` turns numbers into strings, which would change every params repr).
    """
    from snakemake.api import DAGSettings

    updated: list[str] = []
    with _api_workflow(wd, config) as workflow:
        dag = workflow.dag(DAGSettings(targets=set(targets)))
        try:  # Snakemake >= 9.2x validates against the real executor and fakes the run
            dag.execute_workflow(executor="local", pseudo_executor="dryrun", updated_files=updated)
        except TypeError:  # older 9.x: the dry run is an executor of its own
            dag.execute_workflow(executor="dryrun", updated_files=updated)
    return sorted(set(updated))


@dataclass
class ParsedRule:
    """What a rule declares once the workflow is parsed (no DAG, nothing evaluated per job)."""

    name: str
    conda: str | None  # the env file as the rule names it
    gpu: object  # the gpu resource: an int, a callable of the wildcards, or None
    script: str | None
    params: dict[str, object]  # plain (non-callable) params only


def parsed_rules(wd: Path, config: dict | None = None) -> dict[str, ParsedRule]:
    """Every rule of the workflow in ``wd`` as parsed with ``config`` overrides (Python types)."""
    rules: dict[str, ParsedRule] = {}
    with _api_workflow(wd, config) as api_workflow:
        for rule in api_workflow._workflow.rules:
            gpu = rule.resources.get("gpu")
            gpu = gpu._evaluator or gpu.value if gpu is not None else None
            params = dict(rule.params.items()) if rule.params else {}
            rules[rule.name] = ParsedRule(
                name=rule.name,
                conda=None if rule.conda_env is None else str(rule.conda_env),
                gpu=gpu,
                script=rule.script,
                params={k: v for k, v in params.items() if not callable(v)},
            )
    return rules


def plan_in_subprocess(
    wd: Path,
    config: dict | None = None,
    targets: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> list[str]:
    """:func:`plan` in a fresh interpreter (e.g. with ``PYTHONPATH`` on an edited library)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "plan", str(wd)]
    if config:
        cmd += ["--config", json.dumps(config)]
    result = subprocess.run(
        [*cmd, *targets],
        env=dict(os.environ, **OFFLINE_ENV, **(env or {})),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"plan failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def output_rules(wd: Path) -> dict[str, str]:
    """Map every output file of the workflow to the rule that makes it (``snakemake --summary``)."""
    result = run_snakemake(wd, "--summary", "--cores", "1", timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"--summary failed:\n{result.stderr[-4000:]}")
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("output_file\t"))
    header = lines[start].split("\t")
    file_col, rule_col = header.index("output_file"), header.index("rule")
    mapping = {}
    for line in lines[start + 1 :]:
        cols = line.split("\t")
        if len(cols) == len(header):
            mapping[cols[file_col]] = cols[rule_col]
    return mapping


@dataclass
class PlannedJob:
    """One job block of ``snakemake -n`` output."""

    rule: str
    outputs: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    wildcards: dict[str, str] = field(default_factory=dict)

    @property
    def gpus(self) -> int:
        return int(self.resources.get("gpu", 0) or 0)


_BLOCK_START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(", ") if "=" in item)


def parse_dryrun(text: str) -> list[PlannedJob]:
    """The jobs of a ``snakemake -n`` listing, with their evaluated resources (e.g. ``gpu``)."""
    jobs: list[PlannedJob] = []
    current: PlannedJob | None = None
    for line in text.splitlines():
        match = _BLOCK_START.match(line.strip())
        if match and not line.startswith(" "):
            current = PlannedJob(rule=match.group(1))
            jobs.append(current)
            continue
        if current is None or not line.startswith("    "):
            continue
        key, _, value = line.strip().partition(": ")
        if key == "output":
            current.outputs = value.split(", ")
        elif key == "log":
            current.log = [
                v.removesuffix(" (check log file(s) for error details)") for v in value.split(", ")
            ]
        elif key == "resources":
            current.resources = _pairs(value)
        elif key == "wildcards":
            current.wildcards = _pairs(value)
    return jobs


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    plan_cmd = sub.add_parser("plan", help="print the outputs a run would build, as JSON")
    plan_cmd.add_argument("workdir", type=Path)
    plan_cmd.add_argument("--config", type=json.loads, default=None)
    plan_cmd.add_argument("targets", nargs="*")
    args = parser.parse_args(argv)
    planned = plan(args.workdir, config=args.config, targets=tuple(args.targets))
    print(json.dumps(planned))


if __name__ == "__main__":
    _main(sys.argv[1:])
