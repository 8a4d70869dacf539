rule train_sae:
    input:
        pairs="results/{ds}/pairs.parquet",
        deltas="results/{ds}/embed/deltas.npy",
    output:
        model="results/{ds}/sae/model.safetensors",
        config="results/{ds}/sae/config.json",
        codes="results/{ds}/sae/codes.npy",
        metrics="results/{ds}/sae/metrics.json",
    log:
        "logs/{ds}/train_sae.log",
    benchmark:
        "results/benchmarks/{ds}/train_sae.tsv"
    conda:
        "../../envs/cpu.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        sae=config["sae"],
        code=module_hash("prefscope.sae"),
    script:
        "../scripts/train_sae.py"
