"""One stage convention, found the same way for every rule (docs/architecture.md):

    rule X in workflow/rules/<file>.smk  ->  workflow/scripts/X.py  ->  prefscope.<pkg>.stage.X

where ``<pkg>`` is the rule file's name with branch L's ``lfp_`` prefix read as the ``lfp``
package (``lfp_probe.smk`` -> ``prefscope.lfp.probe``). Every script is the same three lines,
every stage function is defined (not re-exported) in its package's ``stage`` module under
its rule's name, and a stage module holds no stage function that no rule runs.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from smkapi import REPO, copy_workflow, parsed_rules

RULES_DIR = REPO / "workflow" / "rules"
SCRIPTS = REPO / "workflow" / "scripts"
SRC = REPO / "src" / "prefscope"
STAGE_ARGS = ["inputs", "outputs", "params", "threads"]
# a stage may also take the whole run config: run-time settings that never change outputs
OPTIONAL_ARGS = ["config"]
TEMPLATE = (
    "from prefscope.{pkg}.stage import {rule}\n"
    "from prefscope.workflow import run_stage\n"
    "\n"
    "run_stage(snakemake, {rule})\n"
)
RULE_RE = re.compile(r"^rule (\w+):", re.M)
USE_RE = re.compile(r"^use rule (\w+) as (\w+)", re.M)


def package_of(rule_file: Path) -> str:
    """``lfp_probe.smk`` -> ``lfp.probe``; ``analyze.smk`` -> ``analyze``."""
    stem = rule_file.stem
    return "lfp." + stem.removeprefix("lfp_") if stem.startswith("lfp_") else stem


def rule_files() -> dict[str, tuple[Path, str]]:
    """rule name -> (its rule file, the rule whose script it runs: itself or its parent)."""
    found: dict[str, tuple[Path, str]] = {}
    for path in sorted(RULES_DIR.glob("*.smk")):
        text = path.read_text()
        for name in RULE_RE.findall(text):
            found[name] = (path, name)
        for parent, name in USE_RE.findall(text):
            found[name] = (path, parent)
    return found


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory):
    return parsed_rules(copy_workflow(tmp_path_factory.mktemp("convention")))


def test_package_names_follow_rule_files():
    assert package_of(Path("lfp_probe.smk")) == "lfp.probe"
    assert package_of(Path("analyze.smk")) == "analyze"


def test_every_rule_is_found_in_a_rule_file(rules):
    assert set(rules) - {"all"} == set(rule_files())


def test_every_script_is_named_after_its_rule_and_runs_its_stage(rules):
    files = rule_files()
    for name, rule in rules.items():
        if rule.script is None:
            assert name == "all", f"rule {name} has no script:"
            continue
        path, owner = files[name]
        script = (RULES_DIR / rule.script).resolve()
        assert script.parent == SCRIPTS and script.stem == owner, (name, rule.script)
        expected = TEMPLATE.format(pkg=package_of(path), rule=owner)
        assert script.read_text() == expected, f"{script.name} differs from the template"


def test_every_rule_file_has_a_stage_module():
    for path in sorted(RULES_DIR.glob("*.smk")):
        if RULE_RE.search(path.read_text()):
            stage = SRC.joinpath(*package_of(path).split(".")) / "stage.py"
            assert stage.is_file(), f"{path.name}: no {stage.relative_to(REPO)}"


def test_stage_functions_carry_their_rule_names_and_the_stage_signature():
    by_module: dict[str, set[str]] = {}
    for name, (path, owner) in rule_files().items():
        if owner != name:  # `use rule`: runs its parent's stage
            continue
        module = f"prefscope.{package_of(path)}.stage"
        by_module.setdefault(module, set()).add(name)
        fn = getattr(importlib.import_module(module), name, None)
        assert fn is not None, f"{module} has no stage function {name}"
        assert (fn.__module__, fn.__name__) == (module, name), f"{module}.{name} is re-exported"
        args = list(inspect.signature(fn).parameters)
        assert args in (STAGE_ARGS, STAGE_ARGS + OPTIONAL_ARGS), (name, args)
    for module, names in by_module.items():
        loaded = importlib.import_module(module)
        stages = {
            n
            for n, fn in vars(loaded).items()
            if inspect.isfunction(fn)
            and fn.__module__ == module
            and list(inspect.signature(fn).parameters)[:4] == STAGE_ARGS
        }
        assert stages == names, f"{module}: stage functions without a rule: {stages - names}"


def test_every_script_serves_a_rule_of_its_name():
    owners = {owner for _, owner in rule_files().values()}
    orphans = sorted(p.name for p in SCRIPTS.glob("*.py") if p.stem not in owners)
    assert orphans == []
