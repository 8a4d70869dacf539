"""The analysis's settings and validated inputs: labels, split, controls, codes, clusters.

Only rows with label 0 or 1 count as labeled; null labels (ties, "other") are excluded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from prefscope.errors import InputError

log = logging.getLogger("prefscope.analyze")


@dataclass(frozen=True)
class AnalyzeSettings:
    """Every setting that changes the outputs (the rule's ``params``)."""

    controls: tuple[str, ...] = ("length_delta",)
    lasso_top_k: tuple[int, ...] = (5, 10)
    n_bootstrap: int = 1000
    fdr_q: float = 0.05
    seed: int = 0
    tested_features: str = "passed"  # "passed" (fidelity) or "all"
    cluster: bool = True  # cluster-robust SEs and cluster bootstrap by prompt component
    n_bootstrap_effects: int = 200  # (cluster) bootstrap refits of the joint + per-feature fits

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AnalyzeSettings:
        s = cls(
            controls=tuple(str(c) for c in params.get("controls", cls.controls)),
            lasso_top_k=tuple(int(k) for k in params.get("lasso_top_k", cls.lasso_top_k)),
            n_bootstrap=int(params.get("n_bootstrap", cls.n_bootstrap)),
            fdr_q=float(params.get("fdr_q", cls.fdr_q)),
            seed=int(params.get("seed", cls.seed)),
            tested_features=str(params.get("tested_features", cls.tested_features)),
            cluster=bool(params.get("cluster", cls.cluster)),
            n_bootstrap_effects=int(params.get("n_bootstrap_effects", cls.n_bootstrap_effects)),
        )
        if s.tested_features not in ("passed", "all"):
            raise InputError("tested_features must be 'passed' or 'all'", column="tested_features")
        if any(k < 1 for k in s.lasso_top_k):
            raise InputError("lasso_top_k values must be >= 1", column="lasso_top_k")
        if s.n_bootstrap < 0:
            raise InputError("n_bootstrap must be >= 0", column="n_bootstrap")
        if not 0 < s.fdr_q < 1:
            raise InputError("fdr_q must lie in (0, 1)", column="fdr_q")
        return s


@dataclass(frozen=True)
class AnalysisData:
    """Validated inputs, row-aligned with pairs.parquet; boolean masks select rows."""

    y: np.ndarray  # int8 labels, -1 where not 0/1
    labeled: np.ndarray  # bool
    train: np.ndarray  # bool
    controls: np.ndarray  # [N, c] float64 (constant ones already dropped)
    control_names: list[str]
    dropped_controls: list[str]
    codes: np.ndarray  # [N, M]
    deltas: np.ndarray | None  # [N, d]
    groups: np.ndarray | None = None  # cluster id per row (None: rows independent)
    tested: np.ndarray | None = None  # bool [M]: description passed fidelity (None: all)

    def tested_mask(self) -> np.ndarray:
        m = self.codes.shape[1]
        return np.ones(m, dtype=bool) if self.tested is None else self.tested


def _load_matrix(path: str | Path, n_rows: int, name: str) -> np.ndarray:
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    if arr.ndim != 2 or arr.shape[0] != n_rows:
        raise InputError(
            f"{name} has shape {arr.shape}, expected ({n_rows}, ...) to match pairs", file=str(path)
        )
    arr = np.asarray(arr)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise InputError(f"{name} has NaN/inf values", file=str(path), row=int(bad.argmax()) + 1)
    return arr


def _control_matrix(pairs: pl.DataFrame, names: tuple[str, ...], source: str) -> np.ndarray:
    cols = []
    for name in names:
        if name not in pairs.columns:
            raise InputError("control column not found in pairs", file=source, column=name)
        col = pairs.get_column(name)
        if not col.dtype.is_numeric():
            raise InputError(f"control must be numeric, got {col.dtype}", file=source, column=name)
        values = col.cast(pl.Float64).to_numpy()
        missing = ~np.isfinite(values)
        if missing.any():
            raise InputError(
                f"control has {int(missing.sum())} missing/non-finite value(s)",
                file=source,
                row=int(missing.argmax()) + 1,
                column=name,
            )
        cols.append(values)
    return np.column_stack(cols) if cols else np.empty((pairs.height, 0))


def varying(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Columns of x that are not constant over ``rows``."""
    sub = x[rows]
    if sub.shape[0] == 0:
        return np.zeros(x.shape[1], dtype=bool)
    return sub.max(axis=0) > sub.min(axis=0)


def _tested(path: str | Path | None, m: int, settings: AnalyzeSettings) -> np.ndarray | None:
    """Features whose description passed fidelity (``kept``), or None = test all of them."""
    if settings.tested_features == "all" or not path:
        return None
    fid = pl.read_parquet(path)
    for col in ("feature", "kept"):
        if col not in fid.columns:
            raise InputError("required column missing", file=str(path), column=col)
    tested = np.zeros(m, dtype=bool)
    feats = fid.get_column("feature").to_numpy()
    if feats.size and (feats.min() < 0 or feats.max() >= m):
        raise InputError(f"feature ids must lie in [0, {m})", file=str(path), column="feature")
    tested[feats] = fid.get_column("kept").fill_null(False).to_numpy()
    log.info(
        "fidelity gate: %d of %d features tested, %d unexplained", tested.sum(), m, m - tested.sum()
    )
    return tested


def load_inputs(inputs: dict[str, Any], settings: AnalyzeSettings) -> AnalysisData:
    source = str(inputs["pairs"])
    pairs = pl.read_parquet(source)
    codes = _load_matrix(inputs["codes"], pairs.height, "SAE codes")
    deltas = (
        _load_matrix(inputs["deltas"], pairs.height, "embedding deltas")
        if inputs.get("deltas")
        else None
    )
    tested = _tested(inputs.get("fidelity"), codes.shape[1], settings)
    return analysis_data(pairs, codes, deltas, settings, source, tested)


def analysis_data(
    pairs: pl.DataFrame,
    codes: np.ndarray,
    deltas: np.ndarray | None,
    settings: AnalyzeSettings,
    source: str,
    tested: np.ndarray | None = None,
) -> AnalysisData:
    """Labels, split and controls of ``pairs`` beside row-aligned codes (and deltas);
    ``tested`` marks the features whose descriptions passed fidelity (None = all).

    Separate from file reading so that the cross-dataset comparison can analyse one
    dataset's slice of pooled codes exactly as the per-dataset analysis does.
    """
    for col in ("label", "split"):
        if col not in pairs.columns:
            raise InputError("required column missing", file=source, column=col)
    label = pairs.get_column("label").cast(pl.Int8, strict=False)
    labeled = label.is_in([0, 1]).fill_null(False).to_numpy()
    y = np.where(labeled, label.fill_null(-1).to_numpy(), -1).astype(np.int8)
    split = pairs.get_column("split").to_numpy()
    bad_split = ~np.isin(split, ["train", "val"])
    if bad_split.any():
        raise InputError(
            f"split must be 'train' or 'val', got {split[bad_split.argmax()]!r}",
            file=source,
            row=int(bad_split.argmax()) + 1,
            column="split",
        )
    controls = _control_matrix(pairs, settings.controls, source)
    keep = varying(controls, labeled)
    dropped = [n for n, k in zip(settings.controls, keep, strict=True) if not k]
    if dropped:
        log.warning("dropping control(s) constant over the labeled rows: %s", ", ".join(dropped))
    groups = None
    if settings.cluster:
        if "component" in pairs.columns:
            groups = pairs.get_column("component").to_numpy()
        else:
            log.warning("pairs have no 'component' column: rows treated as independent")
    return AnalysisData(
        groups=groups,
        tested=tested,
        y=y,
        labeled=labeled,
        train=split == "train",
        controls=controls[:, keep],
        control_names=[n for n, k in zip(settings.controls, keep, strict=True) if k],
        dropped_controls=dropped,
        codes=codes,
        deltas=deltas,
    )
