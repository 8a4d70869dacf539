include: "helpers/data.smk"


rule demo_pairs:
    output:
        table="results/{ds}/input/demo_pairs.parquet",
        concepts="results/{ds}/truth/concepts.parquet",
        truth="results/{ds}/truth/truth.json",
    log:
        "logs/{ds}/demo_pairs.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        n_pairs=lambda wc: ds_cfg(wc)["demo"]["n_pairs"],
        seed=lambda wc: ds_cfg(wc)["demo"]["seed"],
        truth=lambda wc: ds_cfg(wc)["demo"].get("truth", {}),
        code=script_code("demo_pairs.py"),
    script:
        "../scripts/demo_pairs.py"


rule fetch_source:
    output:
        table="results/{ds}/download/{file}",
    log:
        "logs/{ds}/fetch_source_{file}.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        url=lambda wc: ds_cfg(wc)["source"],
        code=script_code("fetch_source.py"),
    script:
        "../scripts/fetch_source.py"


rule ingest:
    input:
        unpack(ingest_input),
    output:
        pairs="results/{ds}/pairs.parquet",
        stats="results/{ds}/ingest.json",
    log:
        "logs/{ds}/ingest.log",
    conda:
        "../../envs/cpu.yaml"
    params:
        source=lambda wc: ds_cfg(wc)["source"],
        columns=lambda wc: ds_cfg(wc).get("columns", {}),
        split_columns=lambda wc: ds_cfg(wc)["split_columns"],
        train_fraction=lambda wc: ds_cfg(wc)["train_fraction"],
        seed=lambda wc: ds_cfg(wc)["seed"],
        max_rows=lambda wc: ds_cfg(wc)["max_rows"],
        min_rows_per_class=lambda wc: ds_cfg(wc)["min_rows_per_class"],
        code=script_code("ingest.py"),
    script:
        "../scripts/ingest.py"
