# Input and param helpers of rules/data.smk only (shared ones: rules/common.smk).


def ds_cfg(wildcards):
    return config["datasets"][wildcards.ds]


def ingest_input(wildcards):
    """The file ingest reads: the generated demo table, a local file, or none (hub ids)."""
    source = ds_cfg(wildcards)["source"]
    if source == "demo":
        return {"table": f"results/{wildcards.ds}/input/demo_pairs.parquet"}
    if source.startswith("hf:"):
        return {}
    if source.startswith(("http://", "https://")):
        return {"table": f"results/{wildcards.ds}/download/{url_file_name(source)}"}
    return {"table": source}
