# Input and param helpers of rules/compare.smk only (shared ones: rules/common.smk).


def compare_inputs(kind):
    """Per-dataset inputs of the comparison, named ``<kind>_<dataset>``."""
    paths = {
        "pairs": "results/{}/pairs.parquet",
        "deltas": "results/{}/embed/deltas.npy",
        "truth": "results/{}/truth/truth.json",
        "concepts": "results/{}/truth/concepts.parquet",
    }[kind]
    return {f"{kind}_{ds}": paths.format(ds) for ds in COMPARED}


def compare_truth():
    """Demo ground truth joins the comparison when every compared dataset is a demo."""
    return bool(COMPARED) and all(is_demo(ds) for ds in COMPARED)


def compare_sae_settings():
    """The sae section with the comparison's overrides (compare.sae) on top."""
    unknown = sorted(set(config["compare"]["sae"]) - set(config["sae"]))
    if unknown:
        raise ValueError(f"config compare.sae: unknown SAE setting(s) {unknown}")
    return {**config["sae"], **config["compare"]["sae"]}


def compare_final_inputs(wildcards):
    inputs = {
        "pairs": "results/compare/pairs.parquet",
        "codes": "results/compare/sae/codes.npy",
        "sae_metrics": "results/compare/sae/metrics.json",
        "fidelity": "results/compare/interpret/fidelity.parquet",
        "fidelity_stats": "results/compare/interpret/fidelity.json",
    }
    if compare_truth():
        inputs.update(compare_inputs("truth"), **compare_inputs("concepts"))
    return inputs
