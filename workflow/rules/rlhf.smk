# Branch L, first half: demo corpus, base model, RLHF fine-tune per run, layer divergence.
# Logic lives in prefscope.rlhf.stages; settings come from config["lfp"] (defaults filled
# by workflow/schemas/lfp_rlhf.schema.yaml).

from pathlib import Path

RLHF_RUNS = sorted(config["lfp"]["runs"])
RLHF_RUN_RE = "|".join(RLHF_RUNS) if RLHF_RUNS else "__none__"
RLHF_RL_ALGORITHMS = ("grpo", "rloo")


def rlhf_run(wildcards):
    return config["lfp"]["runs"][wildcards.run]


def rlhf_is_rl(wildcards):
    return rlhf_run(wildcards)["algorithm"] in RLHF_RL_ALGORITHMS


def rlhf_base_inputs(wildcards):
    """tiny-neox is built from the corpus; a local base directory is tracked as an input."""
    spec = config["lfp"]["base_model"]
    if spec == "tiny-neox":
        return {"sentences": "results/lfp/corpus/sentences.parquet"}
    if Path(spec).expanduser().is_dir():
        return {"source": spec}
    return {}


def rlhf_preference_table(wildcards):
    """A branch-W dataset's pairs, a local table, or nothing for hf: ids."""
    source = rlhf_run(wildcards)["preferences"]
    if source in config["datasets"]:
        return {"table": f"results/{source}/pairs.parquet"}
    if source.startswith("hf:"):
        return {}
    return {"table": source}


def rlhf_train_inputs(wildcards):
    inputs = {"base": "results/lfp/base"}
    if rlhf_is_rl(wildcards):
        prefixes = rlhf_run(wildcards)["prefixes"]
        inputs["prefixes"] = (
            "results/lfp/corpus/prefixes.parquet" if prefixes == "corpus" else prefixes
        )
    else:
        inputs["preferences"] = f"results/lfp/{wildcards.run}/preferences.parquet"
    return inputs


def rlhf_settings(kind):
    """Only the settings of the run's own algorithm, so editing the other kind re-runs nothing."""

    def get(wildcards):
        run = rlhf_run(wildcards)
        wanted = "rl" if run["algorithm"] in RLHF_RL_ALGORITHMS else "dpo"
        return (
            run[kind] if kind == wanted or kind == "eval" and wanted == "rl" else None
        )

    return get


def rlhf_mem_mb(wildcards, attempt):
    return 16000 * attempt


def rlhf_runtime(wildcards, attempt):
    return 240 * attempt


rule lfp_corpus:
    output:
        sentences="results/lfp/corpus/sentences.parquet",
        prefixes="results/lfp/corpus/prefixes.parquet",
    log:
        "logs/lfp/corpus.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        corpus=config["lfp"]["corpus"],
        code=module_hash(
            "prefscope.rlhf.corpus", "prefscope.rlhf.reward", "prefscope.rlhf.stages"
        ),
    script:
        "../scripts/rlhf_corpus.py"


rule lfp_base:
    input:
        unpack(rlhf_base_inputs),
    output:
        base=directory("results/lfp/base"),
    log:
        "logs/lfp/base.log",
    benchmark:
        "results/benchmarks/lfp/base.tsv"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=rlhf_mem_mb,
        runtime=rlhf_runtime,
    params:
        base_model=config["lfp"]["base_model"],
        tiny_neox=(
            config["lfp"]["tiny_neox"]
            if config["lfp"]["base_model"] == "tiny-neox"
            else None
        ),
        code=module_hash(
            "prefscope.rlhf.tiny_neox",
            "prefscope.rlhf.tokenizer",
            "prefscope.rlhf.models",
            "prefscope.rlhf.stages",
        ),
    script:
        "../scripts/rlhf_base.py"


rule lfp_preferences:
    input:
        unpack(rlhf_preference_table),
    output:
        preferences="results/lfp/{run}/preferences.parquet",
        info="results/lfp/{run}/preferences.json",
    log:
        "logs/lfp/{run}/preferences.log",
    wildcard_constraints:
        run=RLHF_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        source=lambda wc: rlhf_run(wc)["preferences"],
        format=lambda wc: rlhf_run(wc)["preference_format"],
        seed=lambda wc: rlhf_run(wc)["seed"],
        split=lambda wc: {
            k: rlhf_run(wc)["dpo"][k] for k in ("eval_fraction", "max_eval_pairs")
        },
        code=module_hash("prefscope.rlhf.preferences"),
    script:
        "../scripts/rlhf_preferences.py"


rule lfp_rlhf:
    input:
        unpack(rlhf_train_inputs),
    output:
        policy=directory("results/lfp/{run}/policy"),
        rlhf="results/lfp/{run}/rlhf.json",
    log:
        "logs/lfp/{run}/rlhf.log",
    benchmark:
        "results/benchmarks/lfp/{run}/rlhf.tsv"
    wildcard_constraints:
        run=RLHF_RUN_RE,
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=rlhf_mem_mb,
        runtime=rlhf_runtime,
    params:
        run=lambda wc: wc.run,
        task=lambda wc: rlhf_run(wc)["task"],
        algorithm=lambda wc: rlhf_run(wc)["algorithm"],
        seed=lambda wc: rlhf_run(wc)["seed"],
        base_model=config["lfp"]["base_model"],
        rl=rlhf_settings("rl"),
        dpo=rlhf_settings("dpo"),
        eval=rlhf_settings("eval"),
        code=module_hash(
            "prefscope.rlhf.rl",
            "prefscope.rlhf.dpo",
            "prefscope.rlhf.reward",
            "prefscope.rlhf.sample",
            "prefscope.rlhf.models",
            "prefscope.rlhf.stages",
        ),
    script:
        "../scripts/rlhf_train.py"


rule lfp_divergence:
    input:
        base="results/lfp/base",
        policy="results/lfp/{run}/policy",
    output:
        divergence="results/lfp/{run}/divergence.json",
        plot="results/lfp/{run}/divergence.png",
    log:
        "logs/lfp/{run}/divergence.log",
    wildcard_constraints:
        run=RLHF_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=rlhf_mem_mb,
    params:
        n_layers_keep=config["lfp"]["n_layers_keep"],
        rank_by=config["lfp"]["divergence"]["rank_by"],
        code=module_hash(
            "prefscope.rlhf.divergence",
            "prefscope.rlhf.models",
            "prefscope.rlhf.stages",
        ),
    script:
        "../scripts/rlhf_divergence.py"
