include: "helpers/report.smk"


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
        page=report(
            "results/{ds}/report.html",
            caption="../report/dataset_page.rst",
            category="{ds}",
            labels={"dataset": "{ds}", "page": "browsable report"},
        ),
    log:
        "logs/{ds}/report.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        dataset=lambda wc: wc.ds,
        fdr_q=config["analyze"]["fdr_q"],
        headline=config["analyze"]["headline"],
        page_example_features=200,
        page_examples=3,
        code=script_code("report.py"),
    script:
        "../scripts/report.py"


rule lfp_report:
    input:
        unpack(lfp_page_inputs),
    output:
        page=report(
            "results/lfp/{run}/report.html",
            caption="../report/lfp_page.rst",
            category="Learned feedback patterns",
            labels={"run": "{run}", "page": "browsable report"},
        ),
    log:
        "logs/lfp/{run}/report.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        code=script_code("lfp_report.py"),
    script:
        "../scripts/lfp_report.py"


rule index:
    input:
        unpack(index_inputs),
    output:
        index=report(
            "results/index.html",
            caption="../report/index_page.rst",
            category="Overview",
            labels={"page": "index of every result"},
        ),
    log:
        "logs/index.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        datasets=DATASETS,
        runs=RUNS,
        code=script_code("index.py"),
    script:
        "../scripts/index.py"
