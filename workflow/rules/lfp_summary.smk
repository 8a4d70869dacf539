# Branch L, summary: every output of a run in summary.json / summary.md.
# Stage: prefscope.lfp.summary.stage.


include: "helpers/lfp_summary.smk"


rule lfp_summary:
    input:
        unpack(lfp_summary_inputs),
    output:
        summary="results/lfp/{run}/summary.json",
        markdown="results/lfp/{run}/summary.md",
        plot=report(
            "results/lfp/{run}/probe/error_vs_count.png",
            caption="../report/lfp_error_vs_count.rst",
            category="Learned feedback patterns",
            labels={"run": "{run}", "figure": "probe error vs word count"},
        ),
    log:
        "logs/lfp/{run}/summary.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        run=lambda wc: wc.run,
        task=lfp_task,
        code=script_code("lfp_summary.py"),
    script:
        "../scripts/lfp_summary.py"
