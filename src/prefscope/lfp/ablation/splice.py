"""Zero-ablate relevant features through SAEs spliced into the fine-tuned model (Table 6).

A forward hook on a chosen layer's MLP replaces its output by the small SAE's
reconstruction computed from the SAE *code* with the selected features set to zero — the
features are zeroed before decoding (the reference zeroed coordinates of the reconstruction,
loaded a randomly initialised model of the wrong class and ablated an empty list).

Splicing an SAE changes the model even with nothing zeroed (reconstruction error), so four
conditions are sampled with identical prefixes (the run's held-out evaluation prefixes, which
end before the review word), batches, sampling settings and seeds
(``prefscope.lfp.finetune.sample``, the sampler of the before/after reward):

* ``original``: the fine-tuned model, no hook;
* ``spliced``: SAEs spliced in at the layers that have relevant features, nothing zeroed;
* ``ablated``: spliced, relevant features zeroed;
* ``random_00`` … ``random_<R-1>``: spliced, as many random non-relevant *live* features
  zeroed per layer, each of nearest firing-rate rank to a relevant one, in R independent
  draws (control; ``mean_reward.random`` is their mean).

The effect of the ablation is ``ablated − spliced``; the R draws give the distribution of
``random − spliced`` that any features of that count and firing profile would cause, and the
empirical p says where the relevant ablation falls in it. One draw is not evidence. Rewards
use the training reward function on the completions (``prefscope.lfp.reward.vader_reward``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

log = logging.getLogger(__name__)


def ablated_reconstruction(sae: Any, x: Any, zero: Sequence[int]) -> Any:
    """Decode of the SAE code of ``x`` with features ``zero`` set to 0 (torch in, torch out)."""
    import torch

    codes = sae.encode(x.float())
    if len(zero):
        codes = codes.clone()
        codes[..., torch.as_tensor(list(zero), dtype=torch.long, device=codes.device)] = 0
    return sae.decode(codes).to(x.dtype)


@contextlib.contextmanager
def splice_saes(model: Any, saes: dict[int, Any], zero: dict[int, Sequence[int]]) -> Iterator[None]:
    """Replace the MLP output of each layer in ``zero`` by the ablated SAE reconstruction.

    Hooks are removed on exit, also on error. ``zero[layer]`` may be empty (splice only).
    """
    from prefscope.lfp.models import first_tensor, layer_modules, mlp_module

    blocks = layer_modules(model)
    handles = []
    try:
        for layer, features in zero.items():
            sae = saes[int(layer)]
            device = next(model.parameters()).device
            sae.to(device)

            def hook(_m: Any, _i: Any, output: Any, sae: Any = sae, features=tuple(features)):
                recon = ablated_reconstruction(sae, first_tensor(output), features)
                return (recon, *output[1:]) if isinstance(output, tuple) else recon

            handles.append(mlp_module(blocks[int(layer)]).register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def sample_arms(
    model: Any,
    tokenizer: Any,
    prefixes: list[str],
    saes: dict[int, Any],
    conditions: dict[str, dict[int, list[int]] | None],
    cfg: Any,
) -> tuple[dict[str, list[Any]], dict[str, list[float]]]:
    """Completions and their rewards for every arm (condition), on identical prefixes.

    ``conditions`` maps an arm to the features it zeroes per layer (``None``: no splice).
    Returns the completion rows (condition, prefix, completion, reward) and each arm's
    rewards in prefix order, so arms pair completion by completion.
    """
    from prefscope.lfp.finetune.sample import sample_completions
    from prefscope.lfp.reward import vader_reward

    rows: dict[str, list[Any]] = {"condition": [], "prefix": [], "completion": [], "reward": []}
    scores_by: dict[str, list[float]] = {}
    for name, zero in tqdm(conditions.items(), desc="ablation arms", unit="arm"):
        with contextlib.ExitStack() as stack:
            if zero is not None:
                stack.enter_context(splice_saes(model, saes, zero))
            completions = sample_completions(model, tokenizer, prefixes, cfg)
        scores = [float(r) for r in vader_reward(completions)]
        scores_by[name] = scores
        rows["condition"] += [name] * len(completions)
        rows["prefix"] += prefixes
        rows["completion"] += completions
        rows["reward"] += scores
        log.info("%s: mean reward %.3f", name, float(np.mean(scores)))
    return rows, scores_by
