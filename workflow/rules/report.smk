def report_inputs(wildcards):
    ds = wildcards.ds
    inputs = {
        "pairs": f"results/{ds}/pairs.parquet",
        "ingest": f"results/{ds}/ingest.json",
        "embed_meta": f"results/{ds}/embed/meta.json",
        "sae_metrics": f"results/{ds}/sae/metrics.json",
        "codes": f"results/{ds}/sae/codes.npy",
        "fidelity": f"results/{ds}/interpret/fidelity.parquet",
        "fidelity_stats": f"results/{ds}/interpret/fidelity.json",
        "analysis": f"results/{ds}/analysis/features.parquet",
        "analysis_summary": f"results/{ds}/analysis/summary.json",
    }
    if is_demo(ds):
        inputs["truth"] = f"results/{ds}/truth/truth.json"
        inputs["concepts"] = f"results/{ds}/truth/concepts.parquet"
    return inputs


rule report:
    input:
        unpack(report_inputs),
    output:
        summary="results/{ds}/summary.json",
        markdown="results/{ds}/summary.md",
        features="results/{ds}/features.parquet",
        features_tsv=report(
            "results/{ds}/features.tsv",
            caption="../report/features.rst",
            category="{ds}",
            labels={"dataset": "{ds}", "table": "features"},
        ),
        effects_plot=report(
            "results/{ds}/effects.svg",
            caption="../report/effects.rst",
            category="{ds}",
            labels={"dataset": "{ds}", "figure": "label effects"},
        ),
        auc_plot=report(
            "results/{ds}/auc.svg",
            caption="../report/auc.rst",
            category="{ds}",
            labels={"dataset": "{ds}", "figure": "held-out AUC"},
        ),
        html=report(
            "results/{ds}/features.html",
            caption="../report/features_html.rst",
            category="{ds}",
            labels={"dataset": "{ds}", "page": "features with examples"},
        ),
    log:
        "logs/{ds}/report.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        dataset=lambda wc: wc.ds,
        fdr_q=config["analyze"]["fdr_q"],
        html_features=20,
        code=module_hash("prefscope.report"),
    script:
        "../scripts/report.py"
