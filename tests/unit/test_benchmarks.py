"""Smoke run of the SAE step benchmark at tiny sizes: it runs and ends with its ratio line."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_sae_smoke_prints_the_ratio_line(capsys):
    _load("bench_sae").main(["--smoke"])
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [line for line in lines if re.match(r"\s+32\s+(16|512)\s+4\s+64\s", line)]
    assert len(rows) == 4  # two shapes x (topk, batchtopk+matryoshka)
    match = re.fullmatch(r"min_ratio_vs_sparsify=(\S+) min_ratio_vs_hypothesaes=(\S+)", lines[-1])
    assert match
    for value in match.groups():
        assert value == "nan" or float(value) > 0
