# Config validation, wildcards, and the input/param helpers several rule files share. A helper
# that one rule file needs lives in rules/helpers/<that file>.smk, which it includes: functions
# never sit beside rules, so `snakemake --lint` sees rules and code apart.
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
RL_ALGORITHMS = ("grpo", "rloo")


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


# ---------------------------------------------------------------- branch W
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
    if source.startswith(("http://", "https://")):
        return {"table": f"results/{wildcards.ds}/download/{url_file_name(source)}"}
    return {"table": source}


def embed_cache():
    return os.path.join(config["embed"]["cache_dir"], "embeddings.sqlite")


def embed_gpus(wildcards):
    """A vLLM engine takes its GPUs; an endpoint none; local models one unless pinned to cpu."""
    kind = embed_kind(config["embed"]["model"])
    if kind == "openai":
        return 0
    if kind == "vllm":
        return config["embed"]["vllm"]["tensor_parallel_size"]
    return 0 if config["embed"]["device"] == "cpu" else 1


def embed_backend_params():
    """Only the settings that change the vectors of the configured kind of model; batch
    size, concurrency, retries, key variable and budget are read at run time and re-run
    nothing."""
    e = config["embed"]
    kind = embed_kind(e["model"])
    if kind == "openai":
        keys = ("base_url", "dimensions", "max_input_tokens")
    elif kind == "vllm":
        keys = ("revision", "dimensions", "max_input_tokens", "vllm")
    else:
        keys = ("revision", "batch_size", "device")
    out = {k: e[k] for k in keys}
    if "vllm" in out:
        out["engine"] = out.pop("vllm")
    return out


def llm_cache():
    return config["llm"]["cache"]  # the schema fills in its default


def llm_params(*backends):
    """The llm section only when a named backend is an LLM, so editing llm.* leaves offline
    (lexical) rules alone; the key never appears (backends name its environment variable).
    """
    return config["llm"] if any(b and b != "lexical" for b in backends) else None


def llm_cache_param(*backends):
    """The LLM cache path only for rules that call an LLM (not for lexical backends)."""
    return llm_cache() if llm_params(*backends) is not None else None


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


def interpret_backends():
    return config["interpret"]["backend"], config["interpret"].get("annotator")


def interpret_params(keys):
    return {k: config["interpret"][k] for k in keys}


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
        inputs["deltas"] = f"results/{ds}/embed/deltas.npy"
    return inputs


def reward_model_cfg():
    return config["analyze"]["reward_model"]


def analyze_inputs(wildcards):
    inputs = {
        "pairs": f"results/{wildcards.ds}/pairs.parquet",
        "codes": f"results/{wildcards.ds}/sae/codes.npy",
        "deltas": f"results/{wildcards.ds}/embed/deltas.npy",
        "fidelity": f"results/{wildcards.ds}/interpret/fidelity.parquet",
    }
    if reward_model_cfg():
        inputs["reward_scores"] = f"results/{wildcards.ds}/reward_model/scores.parquet"
    return inputs


def analyze_params():
    """The analyze section minus the reward model, whose scores are an input instead."""
    return {k: v for k, v in config["analyze"].items() if k != "reward_model"}


def reward_model_inputs(wildcards):
    """The pairs, and the base model when it is built here (tiny-neox) or a local directory."""
    inputs = {"pairs": f"results/{wildcards.ds}/pairs.parquet"}
    spec = reward_model_cfg()["model"]
    if spec == "tiny-neox":
        inputs["model"] = "results/lfp/base"
    elif Path(spec).expanduser().is_dir():
        inputs["model"] = spec
    return inputs


def reward_model_gpus(wildcards):
    """Fine-tuning takes a GPU unless the reward model is pinned to the CPU."""
    return 0 if (reward_model_cfg() or {}).get("device") == "cpu" else 1


def compare_inputs(kind):
    """Per-dataset inputs of the comparison, named ``<kind>_<dataset>``."""
    paths = {
        "pairs": "results/{}/pairs.parquet",
        "deltas": "results/{}/embed/deltas.npy",
        "truth": "results/{}/truth/truth.json",
        "concepts": "results/{}/truth/concepts.parquet",
    }[kind]
    return {f"{kind}_{ds}": paths.format(ds) for ds in COMPARED}


def compare_truth():
    """Demo ground truth joins the comparison when every compared dataset is a demo."""
    return bool(COMPARED) and all(is_demo(ds) for ds in COMPARED)


def compare_sae_settings():
    """The sae section with the comparison's overrides (compare.sae) on top."""
    unknown = sorted(set(config["compare"]["sae"]) - set(config["sae"]))
    if unknown:
        raise ValueError(f"config compare.sae: unknown SAE setting(s) {unknown}")
    return {**config["sae"], **config["compare"]["sae"]}


def compare_final_inputs(wildcards):
    inputs = {
        "pairs": "results/compare/pairs.parquet",
        "codes": "results/compare/sae/codes.npy",
        "sae_metrics": "results/compare/sae/metrics.json",
        "fidelity": "results/compare/interpret/fidelity.parquet",
        "fidelity_stats": "results/compare/interpret/fidelity.json",
    }
    if compare_truth():
        inputs.update(compare_inputs("truth"), **compare_inputs("concepts"))
    return inputs


def attempt_scaled(base):
    """A resource callable that grows with the attempt, so a retry gets more."""
    return lambda wildcards, attempt: base * attempt


# ---------------------------------------------------------------- branch L
def lfp_run(wildcards):
    return config["lfp"]["runs"][wildcards.run]


def lfp_task(wildcards):
    return lfp_run(wildcards)["task"]


def lfp_is_rl(wildcards):
    return lfp_run(wildcards)["algorithm"] in RL_ALGORITHMS


def lfp_prefixes(wildcards):
    """The RL run's prefix table (train + eval split): the demo corpus's or the user's."""
    prefixes = lfp_run(wildcards)["prefixes"]
    return "results/lfp/corpus/prefixes.parquet" if prefixes == "corpus" else prefixes


def lfp_probe_texts(wildcards):
    """Corpus sentences (VADER task) or the run's normalised preference table (DPO/HH/toxic)."""
    if lfp_task(wildcards) == "vader":
        return "results/lfp/corpus/sentences.parquet"
    return f"results/lfp/{wildcards.run}/preferences.parquet"


def rewrite_backend():
    """The LLM that writes contrastive triples for preference runs (None: none)."""
    return config["lfp"]["triples"]["rewrite_backend"]


# ---------------------------------------------------------------- report pages
COMPARE_SUMMARY = "results/compare/summary.json"


def has_compare():
    """With two or more datasets, the cross-dataset comparison joins the index page (once a
    rule of this workflow makes it)."""
    if len(DATASETS) < 2:
        return False
    return any(COMPARE_SUMMARY in map(str, rule.output) for rule in workflow.rules)


def index_inputs(wildcards):
    inputs = {
        "datasets": [f"results/{ds}/summary.json" for ds in DATASETS],
        "runs": [f"results/lfp/{run}/summary.json" for run in RUNS],
    }
    if has_compare():
        inputs["compare"] = COMPARE_SUMMARY
    return inputs


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
