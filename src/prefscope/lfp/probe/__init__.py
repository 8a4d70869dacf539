"""Branch L, probe: contrastive triples, SAE-code deltas, the probe and its controls."""
