"""Make ``snakemake --profile slurm`` resolve: link the repository's cluster profiles by name.

Snakemake looks a profile *name* up in the working directory, the user's config directory
(``~/.config/snakemake``, or ``$XDG_CONFIG_HOME/snakemake``) and the site config directory
(``/etc/xdg/snakemake``), never under a repository's ``profiles/``. This one-time step puts a
symbolic link per profile into the user's config directory::

    python -m prefscope.profiles            # links slurm and slurm-noacct
    snakemake --profile slurm                # now works from any directory

Links rather than copies, so that editing the site settings in ``profiles/slurm`` (partitions,
account) takes effect, and so that relative paths inside a profile keep resolving: Snakemake
resolves ``slurm-partition-config: partitions.yaml`` against the profile's directory as reached
through the link, and ``../slurm/partitions.yaml`` in ``slurm-noacct`` goes through the link's
target. Running it again is a no-op; an entry of the same name that is not this repository's
link is never replaced silently.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

CLUSTER_PROFILES = ("slurm", "slurm-noacct")
# src/prefscope/profiles.py -> the repository root of an editable install (the README's install)
REPO_PROFILES = Path(__file__).resolve().parents[2] / "profiles"


class ProfileLinkError(RuntimeError):
    """A profile cannot be linked; the message says what to do."""


def user_profile_dir() -> Path:
    """The directory Snakemake searches for profiles of this user (same rule as Snakemake's)."""
    from platformdirs import user_config_dir  # a Snakemake dependency; what Snakemake itself uses

    return Path(user_config_dir("snakemake", "snakemake"))


def link_profiles(
    names: Sequence[str] = CLUSTER_PROFILES,
    source: Path = REPO_PROFILES,
    dest: Path | None = None,
    force: bool = False,
) -> dict[str, str]:
    """Link ``source/<name>`` to ``dest/<name>`` for each name; returns what happened per name.

    The result maps each name to ``"linked"``, ``"unchanged"`` (already this link) or
    ``"replaced"`` (another symbolic link, only with ``force``). A real file or directory of that
    name is never touched: it may be the user's own profile.
    """
    dest = user_profile_dir() if dest is None else Path(dest)
    source = Path(source).resolve()
    for name in names:  # check everything before changing anything
        profile = source / name
        if not any((profile / f).is_file() for f in ("config.yaml", "profile.yaml")):
            raise ProfileLinkError(
                f"no Snakemake profile {profile} (config.yaml missing); pass --source with the "
                "repository's profiles/ directory"
            )
        link = dest / name
        if link.is_symlink():
            if Path(os.readlink(link)) != profile and not force:
                raise ProfileLinkError(
                    f"{link} already links to {os.readlink(link)}; rerun with --force to point "
                    f"it at {profile}"
                )
        elif link.exists():
            raise ProfileLinkError(
                f"{link} exists and is not a link (your own profile?); move it away first"
            )
    dest.mkdir(parents=True, exist_ok=True)
    done: dict[str, str] = {}
    for name in names:
        profile, link = source / name, dest / name
        if link.is_symlink():
            if Path(os.readlink(link)) == profile:
                done[name] = "unchanged"
                continue
            link.unlink()
            done[name] = "replaced"
        else:
            done[name] = "linked"
        link.symlink_to(profile, target_is_directory=True)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m prefscope.profiles [--dest DIR] [--force] [NAME ...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m prefscope.profiles",
        description="Link prefscope's cluster profiles into Snakemake's profile directory, so "
        "that `snakemake --profile slurm` works from any directory.",
    )
    parser.add_argument("names", nargs="*", default=list(CLUSTER_PROFILES), help="profiles")
    parser.add_argument("--source", type=Path, default=REPO_PROFILES, help="profiles/ to link")
    parser.add_argument("--dest", type=Path, default=None, help="default: ~/.config/snakemake")
    parser.add_argument("--force", action="store_true", help="replace other links of that name")
    args = parser.parse_args(argv)
    dest = user_profile_dir() if args.dest is None else args.dest
    try:
        done = link_profiles(args.names, args.source, dest, args.force)
    except ProfileLinkError as exc:
        print(f"prefscope.profiles: {exc}", file=sys.stderr)
        return 1
    for name, what in done.items():
        print(f"{what}: {dest / name} -> {(args.source / name).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
