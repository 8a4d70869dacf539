# Branch L: harvest MLP outputs of the chosen layers from the fine-tuned model, once per run.
# Shared helpers of the LFP probe rules (harvest.smk, lfp_sae.smk, lfp_probe.smk) live here.

LFP_RUNS = sorted(config["lfp"]["runs"])
LFP_RUN_RE = "|".join(LFP_RUNS) if LFP_RUNS else "__none__"


def lfp_task(wildcards):
    return config["lfp"]["runs"][wildcards.run]["task"]


def lfp_probe_texts(wildcards):
    """Corpus sentences (VADER task) or the run's preference table (DPO/HH/toxic)."""
    run = config["lfp"]["runs"][wildcards.run]
    if run["task"] == "vader":
        return "results/lfp/corpus/sentences.parquet"
    source = run["preferences"]
    if source in config["datasets"]:
        return f"results/{source}/pairs.parquet"
    return source


def lfp_gpu_mem(wildcards, attempt):
    return 8000 * attempt


def lfp_gpu_runtime(wildcards, attempt):
    return 60 * attempt


def lfp_probe_outputs():
    """Final branch-L probe outputs of every run (for rule all)."""
    return [
        f"results/lfp/{run}/{name}"
        for run in LFP_RUNS
        for name in ("summary.json", "summary.md")
    ]


rule lfp_harvest:
    input:
        policy="results/lfp/{run}/policy",
        divergence="results/lfp/{run}/divergence.json",
        texts=lfp_probe_texts,
    output:
        harvest=directory("results/lfp/{run}/harvest"),
    log:
        "logs/lfp/{run}/harvest.log",
    benchmark:
        "results/benchmarks/lfp/{run}/harvest.tsv"
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=lfp_gpu_mem,
        runtime=lfp_gpu_runtime,
    params:
        task=lfp_task,
        harvest=config["lfp"]["harvest"],
        code=module_hash("prefscope.harvest"),
    script:
        "../scripts/harvest.py"
