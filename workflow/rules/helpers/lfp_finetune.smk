# Input and param helpers of rules/lfp_finetune.smk only (shared ones: rules/common.smk).


RL_ALGORITHMS = ("grpo", "rloo")


def lfp_base_inputs(wildcards):
    """tiny-neox is built from the corpus; a local base directory is tracked as an input."""
    spec = config["lfp"]["base_model"]
    if spec == "tiny-neox":
        return {"sentences": "results/lfp/corpus/sentences.parquet"}
    if Path(spec).expanduser().is_dir():
        return {"source": spec}
    return {}


def lfp_preference_source(wildcards):
    """A branch-W dataset's pairs, a local table, or nothing for hf: ids."""
    source = lfp_run(wildcards)["preferences"]
    if not source:
        raise ValueError(
            f"config lfp.runs.{wildcards.run}: algorithm dpo needs 'preferences' (a dataset "
            "name under datasets:, a Parquet/JSONL/CSV path, or hf:<owner>/<dataset>)"
        )
    if source in config["datasets"]:
        return {"table": f"results/{source}/pairs.parquet"}
    if source.startswith("hf:"):
        return {}
    return {"table": source}


def lfp_train_inputs(wildcards):
    inputs = {"base": "results/lfp/base"}
    if lfp_is_rl(wildcards):
        inputs["prefixes"] = lfp_prefixes(wildcards)
    else:
        inputs["preferences"] = f"results/lfp/{wildcards.run}/preferences.parquet"
    return inputs


def lfp_settings(kind):
    """Only the settings of the run's own algorithm, so editing the other kind re-runs nothing."""

    def get(wildcards):
        wanted = "rl" if lfp_is_rl(wildcards) else "dpo"
        used = kind == wanted or (kind == "eval" and wanted == "rl")
        return lfp_run(wildcards)[kind] if used else None

    return get


def lfp_is_rl(wildcards):
    return lfp_run(wildcards)["algorithm"] in RL_ALGORITHMS
