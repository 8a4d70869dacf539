"""The default demo's RL settings raise the mean VADER reward (library path, ~1 min, 1 thread).

Runs corpus -> tiny-neox -> GRPO with exactly the settings of config/config.yaml (schema
defaults filled), and asserts the acceptance criterion: reward after > before, with margin.
"""

from pathlib import Path

import pytest
import yaml

from prefscope.io import read_json
from prefscope.rlhf import stages

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_grpo_raises_mean_vader_reward(tmp_path):
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"))
    lfp = config["lfp"]
    run = lfp["runs"]["vader"]
    corpus = {"sentences": tmp_path / "s.parquet", "prefixes": tmp_path / "p.parquet"}
    stages.corpus_stage({}, corpus, {"corpus": lfp["corpus"]}, 1)
    stages.base_stage(
        {"sentences": corpus["sentences"]},
        {"base": tmp_path / "base"},
        {"base_model": "tiny-neox", "tiny_neox": lfp["tiny_neox"]},
        1,
    )
    out = {"policy": tmp_path / "policy", "rlhf": tmp_path / "rlhf.json"}
    params = {
        "run": "vader",
        "task": "vader",
        "algorithm": run["algorithm"],
        "seed": run["seed"],
        "base_model": "tiny-neox",
        "rl": run["rl"],
        "dpo": None,
        "eval": run["eval"],
    }
    stages.rlhf_stage({"base": tmp_path / "base", "prefixes": corpus["prefixes"]}, out, params, 1)
    ev = read_json(out["rlhf"])["evaluation"]
    before, after = ev["before"], ev["after"]
    stderr = (
        before["std_reward"] ** 2 / before["n"] + after["std_reward"] ** 2 / after["n"]
    ) ** 0.5
    assert after["mean_reward"] > before["mean_reward"] + 5 * stderr
    assert after["mean_reward"] - before["mean_reward"] > 0.15
