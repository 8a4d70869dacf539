# Branch L, probe: contrastive triples, activation deltas (policy and base model) and the
# probe. Stages: prefscope.lfp.probe.stage.


include: "helpers/lfp_probe.smk"


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
