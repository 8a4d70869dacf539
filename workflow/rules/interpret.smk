include: "helpers/interpret.smk"


rule explain:
    input:
        pairs="results/{ds}/pairs.parquet",
        codes="results/{ds}/sae/codes.npy",
    output:
        explanations="results/{ds}/interpret/explanations.json",
    log:
        "logs/{ds}/explain.log",
    benchmark:
        "results/benchmarks/{ds}/explain.tsv"
    wildcard_constraints:
        ds=alternatives(INTERPRETED),
    conda:
        conda_env(llm_gpus(*interpret_backends()), interpret_backends())
    threads: 1
    resources:
        gpu=llm_gpus(*interpret_backends()),
    params:
        **interpret_params(
            [
                "backend",
                "annotator",
                "n_candidates",
                "n_examples",
                "top_percentile",
                "max_words",
                "seed",
            ]
        ),
        llm=llm_params(*interpret_backends()),
        cache_path=llm_cache_param(*interpret_backends()),
        code=script_code("explain.py"),
    script:
        "../scripts/explain.py"


rule fidelity:
    input:
        pairs="results/{ds}/pairs.parquet",
        codes="results/{ds}/sae/codes.npy",
        explanations="results/{ds}/interpret/explanations.json",
    output:
        table="results/{ds}/interpret/fidelity.parquet",
        stats="results/{ds}/interpret/fidelity.json",
    log:
        "logs/{ds}/fidelity.log",
    benchmark:
        "results/benchmarks/{ds}/fidelity.tsv"
    wildcard_constraints:
        ds=alternatives(INTERPRETED),
    conda:
        conda_env(llm_gpus(*interpret_backends()), interpret_backends())
    threads: 1
    resources:
        gpu=llm_gpus(*interpret_backends()),
    params:
        **interpret_params(
            [
                "backend",
                "annotator",
                "scoring_n_examples",
                "concepts_per_call",
                "max_words",
                "fidelity_alpha",
                "seed",
            ]
        ),
        llm=llm_params(*interpret_backends()),
        cache_path=llm_cache_param(*interpret_backends()),
        code=script_code("fidelity.py"),
    script:
        "../scripts/fidelity.py"
