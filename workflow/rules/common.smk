# Config validation, wildcards, and the input/param helpers several rule files share. A helper
# that only one rule file needs lives in rules/helpers/<that file>.smk, which that file
# includes. Functions never sit beside rules, so `snakemake --lint` sees rules and code apart.
import os
from pathlib import Path

from snakemake.utils import validate

from prefscope.codehash import script_hash
from prefscope.data.download import url_file_name
from prefscope.embed.model import embed_kind

validate(config, schema="../schemas/config.schema.yaml")


def canonical(value):
    """``value`` with every dict's keys sorted, recursively (lists keep their order).

    Snakemake compares a rule's params by their repr, dict key order included, so the same
    settings written in another order (a YAML round-trip, a ``--configfile`` overlay, a
    generated config) would re-run everything. The config is made canonical once, here, so
    every param taken from it is too. A param that builds a dict from anything else (a new
    rule, another file) wraps it: ``params: x=canonical({...})`` or, for a function of the
    wildcards, ``x=lambda wc: canonical(f(wc))``; tests/workflow/test_rerun_exact.py checks the
    finished demo plans nothing under a reordered config.
    """
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


_canonical_config = canonical(config)
config.clear()
config.update(_canonical_config)

SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def script_code(name):
    """A rule's ``code`` param: the hash of every library module its script ``name`` runs.

    Derived from the script's ``prefscope`` imports (``prefscope.codehash.script_hash``:
    followed by name through the library, plumbing such as ``prefscope.io`` left out), so a
    library edit re-runs exactly the rules whose code it touches and no list can miss a
    module. Each scripted rule passes ``code=script_code("<its script>.py")``
    (tests/workflow/test_rule_contracts.py checks that all do).
    """
    return script_hash(SCRIPTS / name)


DATASETS = sorted(config["datasets"])
RUNS = sorted(config["lfp"]["runs"])


def compare_datasets():
    """The datasets results/compare/ puts side by side: compare.datasets or all; none if < 2."""
    chosen = config["compare"]["datasets"]
    names = sorted(chosen) if chosen is not None else DATASETS
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        raise ValueError(f"config compare.datasets: {unknown} are not under datasets:")
    return names if len(names) >= 2 else []


COMPARED = compare_datasets()
# results/<name>/ folders the interpret rules describe: each dataset, and the pooled comparison
INTERPRETED = DATASETS + (["compare"] if COMPARED else [])


def alternatives(names):
    """A wildcard regex matching exactly ``names`` (and nothing when there are none)."""
    return "|".join(names) if names else "__none__"


wildcard_constraints:
    ds=alternatives(DATASETS),
    run=alternatives(RUNS),
    size="small|big",
    file=r"[^/]+",


localrules:
    all,


# ---------------------------------------------------------------- datasets and LLMs
def is_demo(ds):
    return config["datasets"][ds]["source"] == "demo"


def llm_cache():
    return config["llm"]["cache"]  # the schema fills in its default


def llm_gpus(*backends):
    """One GPU when an offline engine (vllm, transformers) serves one of ``backends``."""
    table = config["llm"].get("backends", {})
    local = {"vllm", "transformers"}
    return int(any(table.get(b, {}).get("type") in local for b in backends if b))


def conda_env(gpus=0, backends=(), vllm=False):
    """A rule's conda env (``conda:``, path relative to ``workflow/rules/``).

    ``envs/vllm.yaml`` when it runs a vLLM engine itself (``vllm``, e.g. a ``vllm:`` embedder)
    or one of the LLM ``backends`` it calls is an offline vLLM engine,
    ``envs/gpu.yaml`` when it takes a GPU (``gpus``: its ``gpu`` resource), else
    ``envs/cpu.yaml``. tests/workflow/test_rule_contracts.py checks each one.
    """
    table = config["llm"].get("backends", {})
    if vllm or any(table.get(b, {}).get("type") == "vllm" for b in backends if b):
        return "../../envs/vllm.yaml"
    return "../../envs/gpu.yaml" if gpus else "../../envs/cpu.yaml"


def attempt_scaled(base):
    """A resource callable that grows with the attempt, so a retry gets more."""
    return lambda wildcards, attempt: base * attempt


# ---------------------------------------------------------------- branch L
def lfp_run(wildcards):
    return config["lfp"]["runs"][wildcards.run]


def lfp_task(wildcards):
    return lfp_run(wildcards)["task"]


def lfp_prefixes(wildcards):
    """The RL run's prefix table (train + eval split): the demo corpus's or the user's."""
    prefixes = lfp_run(wildcards)["prefixes"]
    return "results/lfp/corpus/prefixes.parquet" if prefixes == "corpus" else prefixes


def lfp_probe_texts(wildcards):
    """Corpus sentences (VADER task) or the run's normalised preference table (DPO/HH/toxic)."""
    if lfp_task(wildcards) == "vader":
        return "results/lfp/corpus/sentences.parquet"
    return f"results/lfp/{wildcards.run}/preferences.parquet"


# ---------------------------------------------------------------- targets
def all_outputs():
    out = []
    for ds in DATASETS:
        out += [
            f"results/{ds}/{name}"
            for name in ("summary.json", "summary.md", "features.tsv", "report.html")
        ]
    if COMPARED:
        out += [f"results/compare/{name}" for name in ("summary.json", "summary.md")]
    for run in RUNS:
        out += [
            f"results/lfp/{run}/{name}"
            for name in ("summary.json", "summary.md", "report.html")
        ]
    return out + ["results/index.html"]
