# Branch L, harvest: MLP outputs of the chosen layers from the fine-tuned model, once per run.
# Stage: prefscope.lfp.harvest.stage.


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
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(8000),
        runtime=attempt_scaled(60),
    params:
        task=lfp_task,
        harvest=config["lfp"]["harvest"],
        code=script_code("lfp_harvest.py"),
    script:
        "../scripts/lfp_harvest.py"
