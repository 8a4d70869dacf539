"""Editing one setting re-plans exactly the rules it invalidates, after one completed demo run.

Each test plans (dry run, Snakemake API ``updated_files``) with a config override or an edited copy
and compares the set of rules that would run with the set this edit must invalidate: the rule
whose params carry the setting plus everything downstream of it, and nothing else (no upstream
rule, no other branch, no other run). Planned outputs are mapped to rules with the demo run's
``snakemake --summary``.

Mechanisms under test: settings reach rules as plain params (params trigger); a dataset path is
both a param and the input file of ``ingest`` (params + input triggers); library code reaches
rules as ``code=script_code(...)`` params, the hash of each script's import closure
(``prefscope.codehash``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from smkapi import plan, plan_in_subprocess

import prefscope

pytestmark = pytest.mark.e2e

INDEX = "results/index.html"  # the entry page reads every summary.json
W_AFTER_SAE = {"train_sae", "explain", "fidelity", "analyze", "report"}
W_AFTER_PAIRS = {"ingest", "embed"} | W_AFTER_SAE
L_AFTER_RLHF = {
    "lfp_rlhf",
    "lfp_divergence",
    "lfp_harvest",
    "lfp_sae",
    "lfp_overlap",
    "lfp_deltas",
    "lfp_deltas_base",  # the base-model control reads the run's layers and SAEs
    "lfp_probe",
    "lfp_validate",
    "lfp_ablate",
    "lfp_summary",
    "lfp_report",
}

L_AFTER_PREFERENCES = (L_AFTER_RLHF - {"lfp_ablate"}) | {"lfp_preferences", "lfp_triples"}


def planned_rules(planned: list[str], demo_rules: dict[str, str]) -> set[str]:
    unknown = [f for f in planned if f not in demo_rules]
    assert not unknown, f"planned outputs the demo run did not make: {unknown}"
    return {demo_rules[f] for f in planned}


def test_noop_rerun_plans_nothing(demo_run: Path):
    assert plan(demo_run) == []


def test_sae_setting_replans_sae_and_downstream(demo_run, demo_rules):
    planned = plan(demo_run, config={"sae": {"k": 5}})
    assert planned_rules(planned, demo_rules) == W_AFTER_SAE | {"index"}
    assert "results/demo/embed/deltas.npy" not in planned


def test_interpretation_setting_replans_explain_fidelity_analyze_report(demo_run, demo_rules):
    # analyze follows fidelity: BH-FDR, the joint model and the Lasso test passed features only
    planned = plan(demo_run, config={"interpret": {"n_candidates": 2}})
    assert planned_rules(planned, demo_rules) == {
        "explain", "fidelity", "analyze", "report", "index"
    }  # fmt: skip


def test_analysis_setting_replans_analyze_and_report(demo_run, demo_rules):
    planned = plan(demo_run, config={"analyze": {"n_bootstrap": 100}})
    assert planned_rules(planned, demo_rules) == {"analyze", "report", "index"}


def test_rlhf_setting_replans_only_that_run(demo_run, demo_rules):
    planned = plan(demo_run, config={"lfp": {"runs": {"vader": {"rl": {"learning_rate": 2e-6}}}}})
    assert all(f.startswith("results/lfp/vader/") for f in planned if f != INDEX), planned
    # contrastive triples come from the corpus, not the policy: untouched by an RLHF edit
    assert planned_rules(planned, demo_rules) == L_AFTER_RLHF | {"index"}


def test_settings_of_the_other_algorithm_replan_nothing(demo_run):
    # the vader run trains with RL: its (unused) DPO settings are not among its params
    assert plan(demo_run, config={"lfp": {"runs": {"vader": {"dpo": {"beta": 0.3}}}}}) == []


def test_dataset_path_replans_ingest_and_everything_after(demo_run, demo_rules):
    table = demo_run / "data" / "demo_copy.parquet"
    table.parent.mkdir(exist_ok=True)
    shutil.copy2(demo_run / "results/demo/input/demo_pairs.parquet", table)
    try:
        planned = plan(
            demo_run, config={"datasets": {"demo": {"source": str(table.relative_to(demo_run))}}}
        )
    finally:
        shutil.rmtree(table.parent)
    branch_w = [f for f in planned if f.startswith("results/demo/")]
    dpo_run = [f for f in planned if f.startswith("results/lfp/dpo/")]
    assert sorted([*branch_w, *dpo_run, INDEX]) == planned, "nothing else (vader run, corpus...)"
    # the generated demo table is no longer an input, so demo_pairs is not rebuilt
    assert planned_rules(branch_w, demo_rules) == W_AFTER_PAIRS
    # the DPO run trains on this dataset's pairs: its whole chain follows (no ablation: DPO)
    assert planned_rules(dpo_run, demo_rules) == L_AFTER_PREFERENCES


@pytest.mark.parametrize(
    ("module_file", "expected"),
    [
        ("analyze/stage.py", {"analyze", "report", "index"}),
        ("interpret/lexical.py", {"explain", "fidelity", "analyze", "report", "index"}),
    ],
)
def test_library_edit_replans_the_rules_using_it(demo_run, demo_rules, module_file, expected):
    lib = demo_run / "edited-lib"
    used = Path(prefscope.__file__).parent  # the library the demo ran with
    shutil.copytree(used, lib / "prefscope", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(lib)}
    try:
        assert plan_in_subprocess(demo_run, env=env) == [], "unedited copy must plan nothing"
        with (lib / "prefscope" / module_file).open("a") as fh:
            fh.write("\n# edited by test_library_edit_replans_the_rules_using_it\n")
        planned = plan_in_subprocess(demo_run, env=env)
    finally:
        shutil.rmtree(lib)
    assert planned_rules(planned, demo_rules) == expected
