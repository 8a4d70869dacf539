"""prefscope: explain human feedback.

Two questions, one library: what a preference dataset rewards (branch W: SAEs over
response-embedding differences, feature descriptions, label statistics) and what a model
learned from it after RLHF (branch L: divergent layers, SAEs on MLP outputs, probes,
explanations, ablation). Heavy dependencies (torch, transformers, vllm) are imported
lazily by the submodules that need them, so ``import prefscope`` stays cheap.
"""

__version__ = "0.1.0"
