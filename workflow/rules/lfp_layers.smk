# Branch L, layers: which layers the fine-tune changed most. Stage: prefscope.lfp.layers.stage.


rule lfp_divergence:
    input:
        base="results/lfp/base",
        policy="results/lfp/{run}/policy",
    output:
        divergence="results/lfp/{run}/divergence.json",
        plot=report(
            "results/lfp/{run}/divergence.png",
            caption="../report/lfp_divergence.rst",
            category="Learned feedback patterns",
            labels={"run": "{run}", "figure": "layer divergence"},
        ),
    log:
        "logs/lfp/{run}/divergence.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=attempt_scaled(16000),
    params:
        n_layers_keep=config["lfp"]["n_layers_keep"],
        rank_by=config["lfp"]["divergence"]["rank_by"],
        code=script_code("lfp_divergence.py"),
    script:
        "../scripts/lfp_divergence.py"
