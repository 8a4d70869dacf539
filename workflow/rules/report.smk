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
        code=script_code("report.py"),
    script:
        "../scripts/report.py"
