include: "helpers/embed.smk"


rule embed:
    input:
        pairs="results/{ds}/pairs.parquet",
    output:
        deltas="results/{ds}/embed/deltas.npy",
        meta="results/{ds}/embed/meta.json",
    log:
        "logs/{ds}/embed.log",
    benchmark:
        "results/benchmarks/{ds}/embed.tsv"
    conda:
        conda_env(embed_gpus(None), vllm=embed_kind(config["embed"]["model"]) == "vllm")
    threads: 2
    resources:
        gpu=embed_gpus,
        mem_mb=attempt_scaled(4000),
        runtime=attempt_scaled(60),
    params:
        model=config["embed"]["model"],
        max_words=config["embed"]["max_words"],
        instruction=config["embed"]["instruction"],
        backend=embed_backend_params(),
        cache=embed_cache(),
        code=script_code("embed.py"),
    script:
        "../scripts/embed.py"
