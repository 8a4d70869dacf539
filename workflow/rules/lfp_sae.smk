# Branch L: per chosen layer, one SAE of size {size} (small = d_model x multiple, big = 2x),
# trained on the harvested shards with prefscope.sae.


rule lfp_sae:
    input:
        harvest="results/lfp/{run}/harvest",
    output:
        sae=directory("results/lfp/{run}/sae/{size}"),
    log:
        "logs/lfp/{run}/sae_{size}.log",
    benchmark:
        "results/benchmarks/lfp/{run}/sae_{size}.tsv"
    wildcard_constraints:
        run=LFP_RUN_RE,
        size="small|big",
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=lfp_gpu_mem,
        runtime=lfp_gpu_runtime,
    params:
        size=lambda wc: wc.size,
        sae=config["lfp"]["sae"],
        code=module_hash(
            "prefscope.sae", "prefscope.lfp_probe.saes", "prefscope.harvest"
        ),
    script:
        "../scripts/lfp_sae.py"
