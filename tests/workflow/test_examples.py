"""Every example config validates against the schema and plans (``snakemake -n``) offline.

Examples whose usage line says ``--replace-workflow-config`` are whole configs; the others
are overlays on ``config/config.yaml``. Planning must not touch the network: hub ids and
URL sources are fetched by jobs, never while the DAG is built (the tests run with the
Hugging Face offline variables set and no network).
"""

from __future__ import annotations

import pytest
import yaml
from smkapi import (
    REPO,
    copy_workflow,
    deep_merge,
    parse_dryrun,
    plan,
    run_snakemake,
    write_config,
)
from snakemake.utils import validate

pytestmark = pytest.mark.e2e

EXAMPLES = sorted((REPO / "config/examples").glob("*.yaml"))
WIMHF = {
    "chatbot_arena": (["prompt"], 0.8),
    "community_alignment": (["prompt", "conversation_id"], 0.6),
    "hh_rlhf": (["prompt"], 0.6),
    "pku": (["prompt"], 0.8),
    "prism": (["prompt", "conversation_id"], 0.8),
    "reddit": (["prompt"], 0.8),
    "tulu": (["prompt"], 0.8),
}


def effective_config(path) -> dict:
    example = yaml.safe_load(path.read_text())
    if "--replace-workflow-config" in path.read_text():
        return example
    return deep_merge(yaml.safe_load((REPO / "config/config.yaml").read_text()), example)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_and_plans(path, tmp_path):
    config = effective_config(path)
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    wd = copy_workflow(tmp_path)
    (wd / "config/config.yaml").write_text(yaml.safe_dump(effective_config(path)))
    planned = plan(wd)
    for ds in config["datasets"]:
        assert f"results/{ds}/summary.json" in planned, ds
    for run in config["lfp"]["runs"]:
        assert f"results/lfp/{run}/summary.json" in planned, run
    assert planned


def test_wimhf_examples_have_the_papers_settings():
    every = yaml.safe_load((REPO / "config/examples/wimhf_all.yaml").read_text())
    assert sorted(every["datasets"]) == sorted(WIMHF)
    for name, (split, fraction) in WIMHF.items():
        one = yaml.safe_load((REPO / f"config/examples/wimhf_{name}.yaml").read_text())
        assert one["datasets"] == {name: every["datasets"][name]}
        assert {k: v for k, v in one.items() if k != "datasets"} == {
            k: v for k, v in every.items() if k != "datasets"
        }, f"wimhf_{name}.yaml and wimhf_all.yaml differ outside datasets"
        ds = one["datasets"][name]
        assert ds["split_columns"] == split and ds["train_fraction"] == fraction
        assert ds["source"].startswith("https://huggingface.co/datasets/rmovva/wimhf-data/")
    sae, interpret = every["sae"], every["interpret"]
    assert (sae["n_latents"], sae["k"], sae["matryoshka"]) == (32, 4, [8, 32])
    assert (interpret["n_candidates"], interpret["n_examples"]) == (5, 10)
    assert (interpret["top_percentile"], interpret["scoring_n_examples"]) == ([95, 100], 300)
    assert every["embed"]["model"] == "openai:text-embedding-3-small"


def test_documented_command_plans_downloads_and_cpu_embedding(tmp_path):
    """``snakemake -n --configfile config/examples/wimhf_all.yaml --replace-workflow-config``:
    one download per dataset, and embedding through the API asks for no GPU."""
    wd = copy_workflow(tmp_path)
    result = run_snakemake(
        wd, "-n", "--configfile", "config/examples/wimhf_all.yaml", "--replace-workflow-config"
    )
    assert result.returncode == 0, result.stderr[-4000:]
    jobs = parse_dryrun(result.stdout)
    fetch = sorted(j.outputs[0] for j in jobs if j.rule == "fetch_source")
    assert fetch == sorted(f"results/{ds}/download/{ds}.json" for ds in WIMHF)
    embeds = [j for j in jobs if j.rule == "embed"]
    assert len(embeds) == 7 and all(j.gpus == 0 for j in embeds)
    assert not any(j.rule.startswith("lfp") for j in jobs)


@pytest.mark.parametrize(
    ("embed", "gpus"),
    [
        ({"model": "openai:text-embedding-3-small"}, 0),
        ({"model": "vllm:Qwen/Qwen3-Embedding-8B", "vllm": {"tensor_parallel_size": 2}}, 2),
        ({"model": "builtin:minilm", "device": "cpu"}, 0),
        ({"model": "builtin:minilm"}, 1),
    ],
    ids=["openai", "vllm", "minilm-cpu", "minilm"],
)
def test_embed_requests_gpus_by_kind_of_model(embed, gpus, tmp_path):
    wd = copy_workflow(tmp_path)
    write_config(wd, {"embed": embed})
    result = run_snakemake(wd, "-n", "results/demo/embed/meta.json")
    assert result.returncode == 0, result.stderr[-4000:]
    [job] = [j for j in parse_dryrun(result.stdout) if j.rule == "embed"]
    assert job.gpus == gpus
