"""Branch L after the fine-tune: SAEs on harvested MLP outputs, probes, validation, ablation.

Modules, in pipeline order: ``saes`` (per-layer SAEs of sizes n and 2n, MMCS overlap),
``triples`` (contrastive inputs), ``deltas`` (SAE codes at the substituted word and the
activation deltas), ``probes`` + ``metrics`` (Ridge / logistic probes, Kendall tau on values),
``explain`` + ``validation`` (token-level explanations, relevance, the paper's Table 7),
``ablation`` (SAE spliced into the model, features zeroed, reward before/after) and
``summary``. Heavy imports (torch, transformers) stay inside the functions that need them.
"""
