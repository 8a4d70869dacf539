# Input and param helpers of rules/report.smk only (shared ones: rules/common.smk).


COMPARE_SUMMARY = "results/compare/summary.json"


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


def report_inputs(wildcards):
    ds = wildcards.ds
    inputs = {
        "pairs": f"results/{ds}/pairs.parquet",
        "ingest": f"results/{ds}/ingest.json",
        "embed_meta": f"results/{ds}/embed/meta.json",
        "sae_metrics": f"results/{ds}/sae/metrics.json",
        "codes": f"results/{ds}/sae/codes.npy",
        "fidelity": f"results/{ds}/interpret/fidelity.parquet",
        "fidelity_stats": f"results/{ds}/interpret/fidelity.json",
        "analysis": f"results/{ds}/analysis/features.parquet",
        "analysis_summary": f"results/{ds}/analysis/summary.json",
    }
    if is_demo(ds):
        inputs["truth"] = f"results/{ds}/truth/truth.json"
        inputs["concepts"] = f"results/{ds}/truth/concepts.parquet"
        inputs["deltas"] = f"results/{ds}/embed/deltas.npy"
    return inputs


def has_compare():
    """With two or more datasets, the cross-dataset comparison joins the index page (once a
    rule of this workflow makes it)."""
    if len(DATASETS) < 2:
        return False
    return any(COMPARE_SUMMARY in map(str, rule.output) for rule in workflow.rules)


def index_inputs(wildcards):
    inputs = {
        "datasets": [f"results/{ds}/summary.json" for ds in DATASETS],
        "runs": [f"results/lfp/{run}/summary.json" for run in RUNS],
    }
    if has_compare():
        inputs["compare"] = COMPARE_SUMMARY
    return inputs
