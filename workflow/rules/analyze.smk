rule analyze:
    input:
        pairs="results/{ds}/pairs.parquet",
        codes="results/{ds}/sae/codes.npy",
        deltas="results/{ds}/embed/deltas.npy",
    output:
        features="results/{ds}/analysis/features.parquet",
        summary="results/{ds}/analysis/summary.json",
    params:
        **config["analyze"],
        code=module_hash("prefscope.analyze"),
    threads: 1
    log:
        "logs/{ds}/analyze.log",
    benchmark:
        "benchmarks/{ds}/analyze.tsv"
    conda:
        "../../envs/cpu.yaml"
    script:
        "../scripts/analyze.py"
