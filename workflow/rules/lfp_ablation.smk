# Branch L, ablation (reward-function tasks): relevant features zeroed, and matched random
# ones. Stage: prefscope.lfp.ablation.stage.


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
