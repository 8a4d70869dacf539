"""Branch W at scale: every stage after embedding on a 100,000-pair data set, time and memory.

Run: ``python benchmarks/bench_scale.py [--n-pairs 100000] [--cores 2] [--workdir DIR]``.

It copies the workflow into a scratch directory, makes a synthetic (demo) preference set of
``--n-pairs`` pairs, and fills the embedding cache with a synthetic unit vector for every
text the embed rule will ask for, so no embedding model runs. Then it runs the embed rule
(all cache hits) and each later branch-W rule in turn, each as its own ``snakemake`` call,
and reports per rule the wall time of that call and the peak resident memory of the call's
process tree (Snakemake itself included), plus the job's own seconds and max RSS from the
rule's ``benchmark:`` file where it has one. The last line is
``total_s=<seconds> peak_rss_mb=<MB>`` over the post-embedding rules.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workflow"))
import smkapi  # noqa: E402  (the test helpers' workflow copy and config merge)

from prefscope.embed.cache import EmbeddingCache, text_key  # noqa: E402
from prefscope.embed.model import resolve_model  # noqa: E402
from prefscope.embed.stage import texts_to_embed  # noqa: E402

DS = "scale"
STAGES = ("train_sae", "explain", "fidelity", "analyze", "report")
# one output per rule: asking for it runs exactly that rule once its inputs exist
TARGETS = {
    "pairs": f"results/{DS}/pairs.parquet",
    "embed": f"results/{DS}/embed/deltas.npy",
    "train_sae": f"results/{DS}/sae/codes.npy",
    "explain": f"results/{DS}/interpret/explanations.json",
    "fidelity": f"results/{DS}/interpret/fidelity.parquet",
    "analyze": f"results/{DS}/analysis/summary.json",
    "report": f"results/{DS}/summary.json",
}
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "print(rc, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def snakemake(
    wd: Path, cores: int, threads: int | None, target: str, log: Path
) -> tuple[float, float]:
    """Run one target in a fresh measuring process; (wall seconds, peak RSS MB of the tree)."""
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", "none", "--rerun-incomplete"]
    cmd += [target, "--cores", str(cores)]  # the target before --set-threads' list
    if threads:
        cmd += ["--set-threads", *(f"{rule}={threads}" for rule in ("embed", *STAGES))]
    with open(log, "a") as fh:
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, *cmd],
            cwd=wd,
            stdout=subprocess.PIPE,
            stderr=fh,
            text=True,
            env=dict(os.environ, **smkapi.OFFLINE_ENV),
        )
    rc, wall, rss_kb = out.stdout.split()[-3:]
    if rc != "0":
        raise SystemExit(f"snakemake {target} failed (rc {rc}); see {log}")
    return float(wall), int(rss_kb) / 1024


def prefill_cache(wd: Path, config: dict, dim: int, seed: int) -> int:
    """A synthetic unit vector for every text the embed rule will embed; returns the count."""
    pairs = pl.read_parquet(wd / TARGETS["pairs"])
    emb = config["embed"]
    a, b = texts_to_embed(
        pairs, {"max_words": emb["max_words"], "instruction": emb.get("instruction")}
    )
    keys = list(dict.fromkeys(text_key(t) for t in a + b))
    model = resolve_model(emb["model"], emb.get("revision"))
    rng = np.random.default_rng(seed)
    with EmbeddingCache(wd / emb["cache_dir"] / "embeddings.sqlite") as cache:
        for start in range(0, len(keys), 20000):
            chunk = keys[start : start + 20000]
            vec = rng.standard_normal((len(chunk), dim)).astype(np.float32)
            vec /= np.linalg.norm(vec, axis=1, keepdims=True)
            cache.put(model.identity, zip(chunk, vec, strict=True))
    return len(keys)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-pairs", type=int, default=100_000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per rule (default: each rule's own); 1 avoids torch's spin-waiting "
        "on a machine other processes load",
    )
    ap.add_argument("--dim", type=int, default=384, help="embedding width (MiniLM: 384)")
    ap.add_argument("--workdir", help="scratch directory (default: a temporary one)")
    ap.add_argument("--config", default="{}", help="JSON merged into the config (e.g. sae)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prefscope-scale-") as tmp:
        wd = Path(args.workdir or tmp)
        wd.mkdir(parents=True, exist_ok=True)
        if not (wd / "Snakefile").exists():
            smkapi.copy_workflow(wd)
        overrides = {
            "datasets": {
                DS: {
                    "source": "demo",
                    "demo": {"n_pairs": args.n_pairs, "seed": 7},
                    "split_columns": ["prompt"],
                    "train_fraction": 0.8,
                    "seed": 42,
                }
            },
            "embed": {"cache_dir": "cache/embeddings", "device": "cpu"},
            **json.loads(args.config),
        }
        config = smkapi.write_config(wd, overrides)
        config["datasets"] = {DS: config["datasets"][DS]}
        (wd / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        log = wd / "bench_scale.log"
        print(
            f"{args.n_pairs} pairs, {args.cores} cores, threads per rule: "
            f"{args.threads or 'as the rules say'}, workdir {wd}",
            flush=True,
        )
        t0 = time.perf_counter()
        snakemake(wd, args.cores, args.threads, TARGETS["pairs"], log)
        print(f"synthetic pairs + ingest: {time.perf_counter() - t0:.1f}s", flush=True)
        t0 = time.perf_counter()
        n = prefill_cache(wd, config, args.dim, seed=0)
        print(
            f"cache pre-filled with {n} synthetic vectors: {time.perf_counter() - t0:.1f}s",
            flush=True,
        )

        head = f"{'rule':<12}{'wall s':>9}{'peak RSS MB':>13}{'job s':>9}{'job max_rss MB':>16}"
        print(head)
        print("-" * len(head))
        total, peak = 0.0, 0.0
        for rule in ("embed", *STAGES):
            wall, rss = snakemake(wd, args.cores, args.threads, TARGETS[rule], log)
            bench = wd / "results" / "benchmarks" / DS / f"{rule}.tsv"
            job = pl.read_csv(bench, separator="\t") if bench.exists() else None
            job_cols = (
                f"{job['s'][0]:>9.1f}{job['max_rss'][0]:>16.0f}"
                if job is not None
                else f"{'-':>9}{'-':>16}"
            )
            print(f"{rule:<12}{wall:>9.1f}{rss:>13.0f}{job_cols}", flush=True)
            if rule != "embed":
                total, peak = total + wall, max(peak, rss)
        print(
            "wall/peak: one snakemake call per rule (DAG building included); job: the "
            "rule's benchmark file. embed (all cache hits) is not in the total."
        )
        print(f"total_s={total:.1f} peak_rss_mb={peak:.0f}")


if __name__ == "__main__":
    main()
