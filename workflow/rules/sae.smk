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
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=attempt_scaled(4000),
        runtime=attempt_scaled(60),
    params:
        sae=config["sae"],
        code=script_code("train_sae.py"),
    script:
        "../scripts/train_sae.py"
