# Input and param helpers of rules/lfp_summary.smk only (shared ones: rules/common.smk).


def lfp_summary_inputs(wildcards):
    base = f"results/lfp/{wildcards.run}"
    inputs = {
        "rlhf": f"{base}/rlhf.json",
        "divergence": f"{base}/divergence.json",
        "sae_small": f"{base}/sae/small",
        "sae_big": f"{base}/sae/big",
        "overlap": f"{base}/probe/overlap.json",
        "probe": f"{base}/probe/probe.json",
        "per_word": f"{base}/probe/per_word.parquet",
        "validation": f"{base}/probe/validation.json",
    }
    if lfp_task(wildcards) == "vader":  # ablation needs the reward function
        inputs["ablation"] = f"{base}/probe/ablation.json"
        inputs["completions"] = f"{base}/probe/completions.parquet"
    return inputs
