# Branch L, validation: explanations of the overlapping features and Table 7.
# Stage: prefscope.lfp.validation.stage.


include: "helpers/lfp_validation.smk"


rule lfp_validate:
    input:
        policy="results/lfp/{run}/policy",
        harvest="results/lfp/{run}/harvest",
        sae="results/lfp/{run}/sae/small",
        overlap="results/lfp/{run}/probe/overlap.json",
        x="results/lfp/{run}/probe/X.npy",
        meta="results/lfp/{run}/probe/inputs.json",
        predictions="results/lfp/{run}/probe/predictions.parquet",
    output:
        explanations="results/lfp/{run}/probe/explanations.json",
        validation="results/lfp/{run}/probe/validation.json",
    log:
        "logs/lfp/{run}/validate.log",
    benchmark:
        "results/benchmarks/lfp/{run}/validate.tsv"
    conda:
        conda_env(llm_gpus(validation_backend()), [validation_backend()])
    threads: 1
    resources:
        gpu=llm_gpus(validation_backend()),
    params:
        task=lfp_task,
        validation=lfp_validation_params(),
        code=script_code("lfp_validate.py"),
    script:
        "../scripts/lfp_validate.py"
