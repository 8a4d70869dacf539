# Cross-dataset comparison (results/compare/): one SAE on the pooled, balanced differences of the
# compared datasets; its features are described by the interpret rules (results/compare/ is one
# of their folders) and their effects estimated per dataset. Logic: prefscope.compare.


include: "helpers/compare.smk"


rule compare_pool:
    input:
        **compare_inputs("pairs"),
        **compare_inputs("deltas"),
    output:
        pairs="results/compare/pairs.parquet",
        deltas="results/compare/embed/deltas.npy",
    log:
        "logs/compare/compare_pool.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        datasets=COMPARED,
        code=script_code("compare_pool.py"),
    script:
        "../scripts/compare_pool.py"


rule compare_sae:
    input:
        pairs="results/compare/pairs.parquet",
        deltas="results/compare/embed/deltas.npy",
    output:
        model="results/compare/sae/model.safetensors",
        config="results/compare/sae/config.json",
        codes="results/compare/sae/codes.npy",
        metrics="results/compare/sae/metrics.json",
    log:
        "logs/compare/compare_sae.log",
    benchmark:
        "results/benchmarks/compare/train_sae.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=attempt_scaled(4000),
        runtime=attempt_scaled(60),
    params:
        sae=compare_sae_settings(),
        balance=config["compare"]["balance"],
        seed=config["compare"]["seed"],
        code=script_code("compare_sae.py"),
    script:
        "../scripts/compare_sae.py"


rule compare:
    input:
        unpack(compare_final_inputs),
    output:
        summary="results/compare/summary.json",
        markdown="results/compare/summary.md",
        effects="results/compare/effects.parquet",
        differences="results/compare/differences.parquet",
        effects_plot=report(
            "results/compare/effects.svg",
            caption="../report/compare_effects.rst",
            category="Comparison",
            labels={"figure": "effects per dataset"},
        ),
    log:
        "logs/compare/compare.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        datasets=COMPARED,
        analyze={k: config["analyze"][k] for k in ("controls", "fdr_q")},
        truth=compare_truth(),
        heatmap_features=config["compare"]["heatmap_features"],
        code=script_code("compare.py"),
    script:
        "../scripts/compare.py"
