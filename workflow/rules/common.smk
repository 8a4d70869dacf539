import json

from snakemake.utils import validate

from prefscope.codehash import module_hash

validate(config, schema="../schemas/config.schema.yaml")

DATASETS = sorted(config["datasets"])


wildcard_constraints:
    ds="|".join(DATASETS) if DATASETS else "__none__",


localrules:
    all,


def ds_cfg(wildcards):
    return config["datasets"][wildcards.ds]


def is_demo(ds):
    return config["datasets"][ds]["source"] == "demo"


def ingest_input(wildcards):
    """The file ingest reads: the generated demo table, a local file, or none (hub ids)."""
    source = ds_cfg(wildcards)["source"]
    if source == "demo":
        return {"table": f"results/{wildcards.ds}/input/demo_pairs.parquet"}
    if source.startswith("hf:"):
        return {}
    return {"table": source}


def llm_cache():
    return config["llm"].get("cache", "results/cache/llm.sqlite")


def all_outputs():
    out = []
    for ds in DATASETS:
        out += [
            f"results/{ds}/summary.json",
            f"results/{ds}/summary.md",
            f"results/{ds}/features.tsv",
        ]
    return out
