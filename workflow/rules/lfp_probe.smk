# Branch L after the harvest: per-layer SAEs (small = d_model x multiple, big = 2x), overlap,
# contrastive triples, activation deltas, probes, explanations + Table 7, ablation (reward-function
# tasks) and the per-run summary. Logic: prefscope.lfp_probe.


rule lfp_sae:
    input:
        harvest="results/lfp/{run}/harvest",
    output:
        sae=directory("results/lfp/{run}/sae/{size}"),
    log:
        "logs/lfp/{run}/sae_{size}.log",
    benchmark:
        "results/benchmarks/lfp/{run}/sae_{size}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(8000),
        runtime=attempt_scaled(60),
    params:
        size=lambda wc: wc.size,
        sae=config["lfp"]["sae"],
        code=script_code("lfp_sae.py"),
    script:
        "../scripts/lfp_sae.py"


rule lfp_overlap:
    input:
        divergence="results/lfp/{run}/divergence.json",
        small="results/lfp/{run}/sae/small",
        big="results/lfp/{run}/sae/big",
    output:
        overlap="results/lfp/{run}/probe/overlap.json",
    log:
        "logs/lfp/{run}/overlap.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        overlap=config["lfp"]["overlap"],
        code=script_code("lfp_overlap.py"),
    script:
        "../scripts/lfp_overlap.py"


rule lfp_triples:
    input:
        texts=lfp_probe_texts,
    output:
        triples="results/lfp/{run}/probe/triples.parquet",
    log:
        "logs/lfp/{run}/triples.log",
    conda:
        conda_env(llm_gpus(rewrite_backend()), [rewrite_backend()])
    threads: 1
    resources:
        gpu=llm_gpus(rewrite_backend()),
    params:
        task=lfp_task,
        triples=config["lfp"]["triples"],
        rewrite=lfp_triples_llm,
        code=script_code("lfp_triples.py"),
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
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(8000),
        runtime=attempt_scaled(60),
    params:
        task=lfp_task,
        deltas=config["lfp"]["deltas"],
        code=script_code("lfp_deltas.py"),
    script:
        "../scripts/lfp_deltas.py"


# base-model control: the same triples and SAEs (the policy's, so the probe reads the same
# dictionary), activations of the pre-RL base model
use rule lfp_deltas as lfp_deltas_base with:
    input:
        policy="results/lfp/base",
        divergence="results/lfp/{run}/divergence.json",
        sae="results/lfp/{run}/sae/small",
        triples="results/lfp/{run}/probe/triples.parquet",
    output:
        x="results/lfp/{run}/probe/base_model/X.npy",
        inputs="results/lfp/{run}/probe/base_model/inputs.parquet",
        meta="results/lfp/{run}/probe/base_model/inputs.json",
    log:
        "logs/lfp/{run}/deltas_base.log",
    benchmark:
        "results/benchmarks/lfp/{run}/deltas_base.tsv"


rule lfp_probe:
    input:
        x="results/lfp/{run}/probe/X.npy",
        inputs="results/lfp/{run}/probe/inputs.parquet",
        base_x="results/lfp/{run}/probe/base_model/X.npy",
        base_inputs="results/lfp/{run}/probe/base_model/inputs.parquet",
    output:
        probe="results/lfp/{run}/probe/probe.json",
        predictions="results/lfp/{run}/probe/predictions.parquet",
        per_word="results/lfp/{run}/probe/per_word.parquet",
        pca=report(
            "results/lfp/{run}/probe/pca.png",
            caption="../report/lfp_pca.rst",
            category="Learned feedback patterns",
            labels={"run": "{run}", "figure": "probe inputs (PCA)"},
        ),
    log:
        "logs/lfp/{run}/probe.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        task=lfp_task,
        probe=config["lfp"]["probe"],
        code=script_code("lfp_probe.py"),
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
    conda:
        conda_env(llm_gpus(validation_backend()), [validation_backend()])
    threads: 1
    resources:
        gpu=llm_gpus(validation_backend()),
    params:
        task=lfp_task,
        validation=lfp_validation_params(),
        code=script_code("lfp_validate.py"),
    script:
        "../scripts/lfp_validate.py"


rule lfp_ablate:
    input:
        policy="results/lfp/{run}/policy",
        divergence="results/lfp/{run}/divergence.json",
        sae="results/lfp/{run}/sae/small",
        harvest="results/lfp/{run}/harvest",
        explanations="results/lfp/{run}/probe/explanations.json",
        prefixes=lfp_prefixes,
    output:
        ablation="results/lfp/{run}/probe/ablation.json",
        completions="results/lfp/{run}/probe/completions.parquet",
    log:
        "logs/lfp/{run}/ablate.log",
    benchmark:
        "results/benchmarks/lfp/{run}/ablate.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(8000),
        runtime=attempt_scaled(60),
    params:
        ablation=config["lfp"]["ablation"],
        code=script_code("lfp_ablate.py"),
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
            caption="../report/lfp_error_vs_count.rst",
            category="Learned feedback patterns",
            labels={"run": "{run}", "figure": "probe error vs word count"},
        ),
    log:
        "logs/lfp/{run}/summary.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        run=lambda wc: wc.run,
        task=lfp_task,
        code=script_code("lfp_summary.py"),
    script:
        "../scripts/lfp_summary.py"
