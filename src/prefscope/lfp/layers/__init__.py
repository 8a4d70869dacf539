"""Branch L, layers: per-layer parameter divergence of the policy from its base."""
