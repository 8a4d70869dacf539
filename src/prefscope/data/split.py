"""Train/val split by connected components, so related rows never straddle the split.

Rows that share a value in any split column (the same prompt, the same conversation) are
linked; whole components go to one side. Otherwise near-identical comparisons of one prompt
would sit on both sides and inflate held-out scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def connected_components(frame: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Component id per row; rows sharing a non-null value in any column are connected."""
    uf = _UnionFind(frame.height)
    for column in columns:
        first_seen: dict[object, int] = {}
        for i, value in enumerate(frame.get_column(column).to_list()):
            if value is None:
                continue
            j = first_seen.setdefault(value, i)
            if j != i:
                uf.union(i, j)
    roots = np.array([uf.find(i) for i in range(frame.height)])
    _, ids = np.unique(roots, return_inverse=True)
    return ids


def component_split(
    frame: pl.DataFrame, columns: Sequence[str], train_fraction: float, seed: int
) -> np.ndarray:
    """Boolean mask of train rows: shuffled whole components fill train up to the fraction."""
    ids = connected_components(frame, columns)
    n_comp = int(ids.max()) + 1 if ids.size else 0
    sizes = np.bincount(ids, minlength=n_comp)
    order = np.random.default_rng(seed).permutation(n_comp)
    target = train_fraction * frame.height
    in_train = np.zeros(n_comp, dtype=bool)
    filled = 0
    for comp in order:
        if filled >= target:
            break
        in_train[comp] = True
        filled += sizes[comp]
    return in_train[ids]
