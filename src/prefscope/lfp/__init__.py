"""Branch L: what a model learned from human feedback (after *Interpreting Learned Feedback
Patterns*, NeurIPS 2024).

Subpackages follow the data, one rule file each (``workflow/rules/lfp_<name>.smk``), and each
has a ``stage`` module with one stage function per rule, named after the rule:

1. ``finetune``   — demo corpus, base model, preference table, RLHF / DPO fine-tune;
2. ``layers``     — per-layer parameter divergence; the layers kept;
3. ``harvest``    — MLP outputs of the kept layers on the probe texts, written once;
4. ``saes``       — per-layer SAEs of sizes n and 2n, and their overlap (MMCS);
5. ``probe``      — contrastive triples, SAE-code deltas, the probe and its controls;
6. ``validation`` — token-level explanations of the overlapping features, Table 7;
7. ``ablation``   — relevant features zeroed through spliced SAEs, and matched random ones;
8. ``summary``    — every output of a run in summary.json / summary.md.

Shared by several of them, below them all: ``models`` (loading models, finding layers and
their MLPs), ``lexicon`` and ``reward`` (the VADER lexicon and the paper's reward),
``metrics`` and ``controls`` (Kendall tau, bootstrap CIs, firing-rate-matched features) and
``plots``. A subpackage imports only from earlier ones and these; heavy imports (torch,
transformers, TRL) stay inside the functions that need them.
"""
