"""Cross-dataset comparison: one SAE on the pooled (balanced) differences of several datasets,
each feature's effect per dataset with CIs, and the features whose sign flips between them."""

from prefscope.compare.effects import dataset_effects, planted_comparison, sign_differences
from prefscope.compare.pool import balanced_rows, pool_pairs

__all__ = [
    "balanced_rows",
    "dataset_effects",
    "planted_comparison",
    "pool_pairs",
    "sign_differences",
]
