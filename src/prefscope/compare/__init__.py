"""Cross-dataset comparison: one SAE on the pooled (balanced) differences of several datasets,
each feature's effect per dataset with CIs, and the features whose sign flips between them."""

from prefscope.compare.effects import dataset_effects, planted_comparison, sign_differences
from prefscope.compare.pool import balanced_rows, pool_pairs
from prefscope.compare.stage import compare, pool, train

__all__ = [
    "balanced_rows",
    "compare",
    "dataset_effects",
    "planted_comparison",
    "pool",
    "pool_pairs",
    "sign_differences",
    "train",
]
