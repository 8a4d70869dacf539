"""Branch L, fine-tune: the base model, its training data, and the RLHF / DPO policy.

* ``corpus``      — synthetic movie-review sentences over lexicon words, and RL prefixes;
* ``tokenizer``   — a byte-level BPE tokenizer trained locally on the corpus;
* ``tiny_neox``   — a small GPT-NeoX (Pythia architecture) and its CPU pre-training;
* ``preferences`` — HH-RLHF / toxic-dpo / branch-W pairs -> ``prompt, chosen, rejected``;
* ``dpo``, ``rl`` — TRL DPOTrainer, and GRPO/RLOO with a reward function;
* ``sample``      — seeded sampling of completions and their mean reward;
* ``stage``       — the stages of ``workflow/rules/lfp_finetune.smk``.
"""
