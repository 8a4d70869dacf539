# Branch L, SAEs: per-layer SAEs (small = d_model x multiple, big = 2x) and their overlap.
# Stages: prefscope.lfp.saes.stage.


rule lfp_sae:
    input:
        harvest="results/lfp/{run}/harvest",
    output:
        sae=directory("results/lfp/{run}/sae/{size}"),
    log:
        "logs/lfp/{run}/sae_{size}.log",
    benchmark:
        "results/benchmarks/lfp/{run}/sae_{size}.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(8000),
        runtime=attempt_scaled(60),
    params:
        size=lambda wc: wc.size,
        sae=config["lfp"]["sae"],
        code=script_code("lfp_sae.py"),
    script:
        "../scripts/lfp_sae.py"


rule lfp_overlap:
    input:
        divergence="results/lfp/{run}/divergence.json",
        small="results/lfp/{run}/sae/small",
        big="results/lfp/{run}/sae/big",
    output:
        overlap="results/lfp/{run}/probe/overlap.json",
    log:
        "logs/lfp/{run}/overlap.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        overlap=config["lfp"]["overlap"],
        code=script_code("lfp_overlap.py"),
    script:
        "../scripts/lfp_overlap.py"
