rule analyze:
    input:
        pairs="results/{ds}/pairs.parquet",
        codes="results/{ds}/sae/codes.npy",
        deltas="results/{ds}/embed/deltas.npy",
    output:
        features="results/{ds}/analysis/features.parquet",
        summary="results/{ds}/analysis/summary.json",
    log:
        "logs/{ds}/analyze.log",
    benchmark:
        "results/benchmarks/{ds}/analyze.tsv"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        **config["analyze"],
        code=script_code("analyze.py"),
    script:
        "../scripts/analyze.py"
