"""Figures of branch L: PCA of probe inputs, |error| vs generation count."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from prefscope.io import atomic_path


def _save(fig, path: str | Path) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(
            tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight"
        )
    plt.close(fig)


def pca_plot(
    proj: np.ndarray, labels: Sequence[str], explained: Sequence[float], title: str, path
) -> None:
    """Scatter of the first two principal components, one colour per label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    labels = np.asarray(labels)
    for name in sorted(set(labels.tolist())):
        sel = labels == name
        ax.scatter(proj[sel, 0], proj[sel, 1], s=6, alpha=0.6, label=name)
    ev = [*list(explained), 0.0, 0.0]
    ax.set_xlabel(f"PC1 ({100 * ev[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ev[1]:.1f}%)")
    ax.set_title(title)
    ax.legend(markerscale=3)
    _save(fig, path)


def error_vs_count_plot(counts: Sequence[float], errors: Sequence[float], title: str, path) -> None:
    """|probe prediction − lexicon value| per word against its count in RL completions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(counts, errors, s=10, alpha=0.7)
    ax.set_xlabel("count in completions of the fine-tuned model")
    ax.set_ylabel("|prediction − lexicon value|")
    ax.set_title(title)
    _save(fig, path)
