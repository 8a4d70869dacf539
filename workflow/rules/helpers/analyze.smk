# Input and param helpers of rules/analyze.smk only (shared ones: rules/common.smk).


def reward_model_cfg():
    return config["analyze"]["reward_model"]


def analyze_inputs(wildcards):
    inputs = {
        "pairs": f"results/{wildcards.ds}/pairs.parquet",
        "codes": f"results/{wildcards.ds}/sae/codes.npy",
        "deltas": f"results/{wildcards.ds}/embed/deltas.npy",
        "fidelity": f"results/{wildcards.ds}/interpret/fidelity.parquet",
    }
    if reward_model_cfg():
        inputs["reward_scores"] = f"results/{wildcards.ds}/reward_model/scores.parquet"
    return inputs


def analyze_params():
    """The analyze section minus the reward model, whose scores are an input instead."""
    return {k: v for k, v in config["analyze"].items() if k != "reward_model"}


def reward_model_inputs(wildcards):
    """The pairs, and the base model when it is built here (tiny-neox) or a local directory."""
    inputs = {"pairs": f"results/{wildcards.ds}/pairs.parquet"}
    spec = reward_model_cfg()["model"]
    if spec == "tiny-neox":
        inputs["model"] = "results/lfp/base"
    elif Path(spec).expanduser().is_dir():
        inputs["model"] = spec
    return inputs


def reward_model_gpus(wildcards):
    """Fine-tuning takes a GPU unless the reward model is pinned to the CPU."""
    return 0 if (reward_model_cfg() or {}).get("device") == "cpu" else 1
