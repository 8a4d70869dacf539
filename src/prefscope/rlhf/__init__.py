"""Branch L, first half: base model, demo corpus, RLHF fine-tuning and layer divergence.

Modules (heavy imports stay inside them):

* ``reward``     — the VADER lexicon and the paper's lexicon reward (sum of valences / 5);
* ``corpus``     — synthetic movie-review sentences over lexicon words, and RL prefixes;
* ``tokenizer``  — a byte-level BPE tokenizer trained locally on the corpus;
* ``tiny_neox``  — a small GPT-NeoX (Pythia architecture) and its CPU pre-training;
* ``models``     — resolve/load base models, and architecture-agnostic layer discovery;
* ``preferences``— HH-RLHF / toxic-dpo / branch-W pairs -> ``prompt, chosen, rejected``;
* ``dpo``, ``rl``— TRL DPOTrainer and GRPO/RLOO with a reward function;
* ``sample``     — seeded sampling of completions and their mean reward;
* ``divergence`` — per-layer parameter change in fp32;
* ``stages``     — the workflow stage functions.
"""
