"""`python -m prefscope.profiles` makes `snakemake --profile slurm` resolve (no SLURM needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prefscope import profiles

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME; XDG_CONFIG_HOME unset, so Snakemake's user dir is HOME/.config/snakemake."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


def _snakemake_profile_dir(name: str, cwd: Path) -> str:
    """Where Snakemake itself finds profile ``name`` when run in ``cwd`` (its own lookup)."""
    code = (
        "import sys; from snakemake.cli import get_profile_dir; print(get_profile_dir(sys.argv[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, name],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_command_links_cluster_profiles_where_snakemake_finds_them(home: Path, tmp_path: Path):
    analysis = tmp_path / "analysis"
    analysis.mkdir()
    assert _snakemake_profile_dir("slurm", analysis) == "None"  # not found before the step

    result = subprocess.run(
        [sys.executable, "-m", "prefscope.profiles"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    user_dir = home / ".config" / "snakemake"
    for name in ("slurm", "slurm-noacct"):
        link = user_dir / name
        assert link.is_symlink() and link.resolve() == (REPO / "profiles" / name).resolve()
        assert f"linked: {link}" in result.stdout
        found = _snakemake_profile_dir(name, analysis)
        assert found == f"({link!r}, {link / 'config.yaml'!r})", found


@pytest.mark.parametrize("name", ["slurm", "slurm-noacct"])
def test_partition_file_resolves_through_the_link(home: Path, name: str):
    profiles.link_profiles()
    profile = home / ".config" / "snakemake" / name
    setting = yaml.safe_load((profile / "config.yaml").read_text())["slurm-partition-config"]
    # Snakemake joins a profile value with the profile directory as found (the link)
    partitions = yaml.safe_load((profile / setting).read_text())["partitions"]
    assert set(partitions) == {"cpu", "gpu"}


def test_rerun_is_a_no_op_and_foreign_entries_are_kept(home: Path, tmp_path: Path):
    assert profiles.link_profiles() == {"slurm": "linked", "slurm-noacct": "linked"}
    assert profiles.link_profiles() == {"slurm": "unchanged", "slurm-noacct": "unchanged"}

    user_dir = home / ".config" / "snakemake"
    other = tmp_path / "elsewhere"
    (other / "slurm").mkdir(parents=True)
    (user_dir / "slurm").unlink()
    (user_dir / "slurm").symlink_to(other / "slurm")
    with pytest.raises(profiles.ProfileLinkError, match="--force"):
        profiles.link_profiles()
    assert (user_dir / "slurm").resolve() == other / "slurm"  # nothing changed
    assert profiles.link_profiles(force=True)["slurm"] == "replaced"
    assert (user_dir / "slurm").resolve() == (REPO / "profiles" / "slurm").resolve()

    # a real directory of that name is the user's own profile: refused even with --force
    (user_dir / "slurm-noacct").unlink()
    (user_dir / "slurm-noacct").mkdir()
    (user_dir / "slurm-noacct" / "config.yaml").write_text("jobs: 1\n")
    assert profiles.main(["--force"]) == 1
    assert (user_dir / "slurm-noacct" / "config.yaml").read_text() == "jobs: 1\n"


def test_missing_source_profile_is_refused(home: Path, tmp_path: Path):
    with pytest.raises(profiles.ProfileLinkError, match=r"config\.yaml missing"):
        profiles.link_profiles(source=tmp_path / "nowhere")
    assert not (home / ".config" / "snakemake").exists()
