"""Branch L, SAEs: one dictionary pair (n and 2n latents) per chosen layer, and their overlap."""
