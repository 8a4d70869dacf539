# Branch L after the SAEs: overlap, contrastive triples, activation deltas, probe,
# explanations + Table 7, ablation (reward-function tasks) and the per-run summary.


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
    if lfp_task(wildcards) == "vader":
        inputs["ablation"] = f"{base}/probe/ablation.json"
        inputs["completions"] = f"{base}/probe/completions.parquet"
    return inputs


def lfp_validation_params():
    validation = dict(config["lfp"]["validation"])
    if validation["backend"] != "lexical":
        validation["llm"] = config["llm"]
    return validation


rule lfp_overlap:
    input:
        divergence="results/lfp/{run}/divergence.json",
        small="results/lfp/{run}/sae/small",
        big="results/lfp/{run}/sae/big",
    output:
        overlap="results/lfp/{run}/probe/overlap.json",
    log:
        "logs/lfp/{run}/overlap.log",
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        overlap=config["lfp"]["overlap"],
        code=module_hash("prefscope.sae", "prefscope.lfp_probe.saes"),
    script:
        "../scripts/lfp_overlap.py"


rule lfp_triples:
    input:
        texts=lfp_probe_texts,
    output:
        triples="results/lfp/{run}/probe/triples.parquet",
    log:
        "logs/lfp/{run}/triples.log",
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        task=lfp_task,
        triples=config["lfp"]["triples"],
        code=module_hash("prefscope.lfp_probe.triples", "prefscope.lfp_probe.lexicon"),
    script:
        "../scripts/lfp_triples.py"


rule lfp_deltas:
    input:
        policy="results/lfp/{run}/policy",
        divergence="results/lfp/{run}/divergence.json",
        sae="results/lfp/{run}/sae/small",
        triples="results/lfp/{run}/probe/triples.parquet",
    output:
        x="results/lfp/{run}/probe/X.npy",
        inputs="results/lfp/{run}/probe/inputs.parquet",
        meta="results/lfp/{run}/probe/inputs.json",
    log:
        "logs/lfp/{run}/deltas.log",
    benchmark:
        "results/benchmarks/lfp/{run}/deltas.tsv"
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
        deltas=config["lfp"]["deltas"],
        code=module_hash(
            "prefscope.lfp_probe.deltas", "prefscope.harvest", "prefscope.sae"
        ),
    script:
        "../scripts/lfp_deltas.py"


rule lfp_probe:
    input:
        x="results/lfp/{run}/probe/X.npy",
        inputs="results/lfp/{run}/probe/inputs.parquet",
    output:
        probe="results/lfp/{run}/probe/probe.json",
        predictions="results/lfp/{run}/probe/predictions.parquet",
        per_word="results/lfp/{run}/probe/per_word.parquet",
        pca=report(
            "results/lfp/{run}/probe/pca.png", category="Learned feedback patterns"
        ),
    log:
        "logs/lfp/{run}/probe.log",
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        task=lfp_task,
        probe=config["lfp"]["probe"],
        code=module_hash(
            "prefscope.lfp_probe.probe_stage",
            "prefscope.lfp_probe.probes",
            "prefscope.lfp_probe.metrics",
            "prefscope.lfp_probe.plots",
        ),
    script:
        "../scripts/lfp_probe.py"


rule lfp_validate:
    input:
        policy="results/lfp/{run}/policy",
        harvest="results/lfp/{run}/harvest",
        sae="results/lfp/{run}/sae/small",
        overlap="results/lfp/{run}/probe/overlap.json",
        x="results/lfp/{run}/probe/X.npy",
        meta="results/lfp/{run}/probe/inputs.json",
        predictions="results/lfp/{run}/probe/predictions.parquet",
    output:
        explanations="results/lfp/{run}/probe/explanations.json",
        validation="results/lfp/{run}/probe/validation.json",
    log:
        "logs/lfp/{run}/validate.log",
    benchmark:
        "results/benchmarks/lfp/{run}/validate.tsv"
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        task=lfp_task,
        validation=lfp_validation_params(),
        code=module_hash(
            "prefscope.lfp_probe.validation",
            "prefscope.lfp_probe.explain",
            "prefscope.sae",
        ),
    script:
        "../scripts/lfp_validate.py"


rule lfp_ablate:
    input:
        policy="results/lfp/{run}/policy",
        divergence="results/lfp/{run}/divergence.json",
        sae="results/lfp/{run}/sae/small",
        explanations="results/lfp/{run}/probe/explanations.json",
        texts="results/lfp/corpus/sentences.parquet",
    output:
        ablation="results/lfp/{run}/probe/ablation.json",
        completions="results/lfp/{run}/probe/completions.parquet",
    log:
        "logs/lfp/{run}/ablate.log",
    benchmark:
        "results/benchmarks/lfp/{run}/ablate.tsv"
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
        ablation=config["lfp"]["ablation"],
        code=module_hash("prefscope.lfp_probe.ablation", "prefscope.sae"),
    script:
        "../scripts/lfp_ablate.py"


rule lfp_summary:
    input:
        unpack(lfp_summary_inputs),
    output:
        summary="results/lfp/{run}/summary.json",
        markdown="results/lfp/{run}/summary.md",
        plot=report(
            "results/lfp/{run}/probe/error_vs_count.png",
            category="Learned feedback patterns",
        ),
    log:
        "logs/lfp/{run}/summary.log",
    wildcard_constraints:
        run=LFP_RUN_RE,
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        run=lambda wc: wc.run,
        task=lfp_task,
        code=module_hash("prefscope.lfp_probe.summary", "prefscope.lfp_probe.metrics"),
    script:
        "../scripts/lfp_summary.py"
