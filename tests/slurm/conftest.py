"""A real single-node SLURM cluster, with accounting, for the `slurm` tests.

``slurm_cluster`` (session) uses the cluster of ``.ci/slurm-up.sh`` if it is up with accounting,
else starts it (root only) and stops it again at the end of the session. Where SLURM cannot
start, the tests skip with the reason, unless ``PREFSCOPE_REQUIRE_SLURM=1`` (set by ``.ci/run``
once the cluster is up) turns that into a failure, so CI cannot pass by skipping.

The tests only submit to the test cluster (``ClusterName=prefscope``), never to a real cluster
that happens to be configured on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from slurmtools import command_output as _out
from smkapi import REPO

CLUSTER_NAME = "prefscope"  # ClusterName written by .ci/slurm-up.sh
PARTITIONS = ("cpu", "gpu")
SLURM_CONF = Path("/etc/slurm/slurm.conf")


def cluster_problem() -> str | None:
    """Why the local test cluster is not usable right now (None when it is)."""
    if not shutil.which("sinfo"):
        return "SLURM client tools (sinfo, sbatch) are not installed"
    config = _out("scontrol", "show", "config")
    if config is None:
        return "no SLURM controller answers (scontrol show config failed)"
    name = next(
        (
            line.split("=", 1)[1].strip()
            for line in config.splitlines()
            if line.replace(" ", "").startswith("ClusterName=")
        ),
        None,
    )
    if name != CLUSTER_NAME:
        return f"the configured SLURM cluster is {name!r}, not the test cluster {CLUSTER_NAME!r}"
    states = _out("sinfo", "-h", "-o", "%R %a %T") or ""
    ready = {
        part
        for part, avail, state in (line.split()[:3] for line in states.splitlines() if line)
        if avail == "up" and state.rstrip("*") in {"idle", "mixed", "allocated", "completing"}
    }
    missing = [p for p in PARTITIONS if p not in ready]
    if missing:
        return f"partitions not up with a usable node: {missing}"
    if "accounting_storage/slurmdbd" not in config or _out("sacct", "-n", "-X") is None:
        return "SLURM accounting (slurmdbd, sacct) is not up: profiles/slurm needs it"
    if "job_comment" not in config:  # sacct's Comment names each job's rule
        return "accounting does not store job comments (an older .ci/slurm-up.sh config)"
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("PREFSCOPE_REQUIRE_SLURM") == "1":
        pytest.fail(f"SLURM required (PREFSCOPE_REQUIRE_SLURM=1) but unavailable: {reason}")
    pytest.skip(f"no local SLURM test cluster: {reason}")


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    """The single-node test cluster with partitions cpu and gpu, up for the whole session."""
    if os.environ.get("PREFSCOPE_REQUIRE_SLURM") != "1":
        pytest.importorskip(
            "snakemake_executor_plugin_slurm", reason="needs pip install -e '.[slurm]'"
        )
    else:
        import snakemake_executor_plugin_slurm  # noqa: F401  (fail, not skip, in CI)
    problem = cluster_problem()
    started_here = False
    if problem:
        foreign = SLURM_CONF.exists() and ".ci/slurm-up.sh" not in SLURM_CONF.read_text()
        if foreign:
            _unavailable(f"{problem}; {SLURM_CONF} belongs to another SLURM setup")
        if os.geteuid() != 0:
            _unavailable(f"{problem}; starting it (.ci/slurm-up.sh) needs root")
        result = subprocess.run(
            [str(REPO / ".ci" / "slurm-up.sh")], capture_output=True, text=True, timeout=900
        )
        if result.returncode != 0:
            failed = [ln for ln in result.stderr.splitlines() if "FAILED" in ln]
            _unavailable(
                f".ci/slurm-up.sh failed: {failed[-1] if failed else result.stderr[-500:]}"
            )
        started_here = True
        problem = cluster_problem()
        if problem:
            _unavailable(f"started, but {problem}")
    yield
    if started_here:
        subprocess.run([str(REPO / ".ci" / "slurm-down.sh")], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def profile_env(tmp_path_factory) -> dict[str, str]:
    """Environment in which ``--profile slurm`` resolves by name, after the README's one-time step.

    ``python -m prefscope.profiles`` links the profiles into Snakemake's user config directory;
    here that directory is a scratch one (``XDG_CONFIG_HOME``), so the tests never touch the
    real ``~/.config/snakemake``.
    """
    env = {"XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("xdg-config"))}
    subprocess.run(
        [sys.executable, "-m", "prefscope.profiles"],
        env=dict(os.environ, **env),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return env
