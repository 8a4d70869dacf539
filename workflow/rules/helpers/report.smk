# Input and param helpers of rules/report.smk only (shared ones: rules/common.smk).


def lfp_page_inputs(wildcards):
    base = f"results/lfp/{wildcards.run}"
    inputs = {
        "summary": f"{base}/summary.json",
        "explanations": f"{base}/probe/explanations.json",
        "divergence": f"{base}/divergence.png",
        "pca": f"{base}/probe/pca.png",
    }
    # per-word errors and the ablation exist for VADER runs only
    if lfp_task(wildcards) == "vader":
        inputs["error_vs_count"] = f"{base}/probe/error_vs_count.png"
        inputs["completions"] = f"{base}/probe/completions.parquet"
    return inputs
