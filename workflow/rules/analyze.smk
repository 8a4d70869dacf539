include: "helpers/analyze.smk"


rule analyze:
    input:
        unpack(analyze_inputs),
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
        **analyze_params(),
        code=script_code("analyze.py"),
    script:
        "../scripts/analyze.py"


rule reward_model:
    input:
        unpack(reward_model_inputs),
    output:
        scores="results/{ds}/reward_model/scores.parquet",
        metrics="results/{ds}/reward_model/metrics.json",
    log:
        "logs/{ds}/reward_model.log",
    benchmark:
        "results/benchmarks/{ds}/reward_model.tsv"
    conda:
        conda_env(reward_model_gpus(None))
    threads: 2
    resources:
        gpu=reward_model_gpus,
        mem_mb=attempt_scaled(16000),
        runtime=attempt_scaled(240),
    params:
        reward_model=reward_model_cfg(),
        code=script_code("reward_model.py"),
    script:
        "../scripts/reward_model.py"
