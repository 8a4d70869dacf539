"""Branch L, ablation: zero relevant features through SAEs spliced into the policy (Table 6)."""
