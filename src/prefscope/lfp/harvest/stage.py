"""Stage of the ``lfp_harvest`` rule: MLP outputs of the chosen layers, once per run."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefscope.errors import InputError
from prefscope.io import write_json
from prefscope.lfp.harvest.activations import (
    MANIFEST,
    HarvestConfig,
    count_forward_hooks,
    iter_batches,
    write_shards,
)
from prefscope.lfp.harvest.texts import harvest_texts
from prefscope.lfp.layers.divergence import chosen_layers
from prefscope.lfp.models import load_model

log = logging.getLogger(__name__)


def lfp_harvest(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Workflow stage: policy + chosen layers + texts -> ``harvest/`` shards + manifest."""
    cfg = HarvestConfig(**params["harvest"])
    layers = chosen_layers(inputs["divergence"])
    texts = harvest_texts(inputs, params)
    if not texts:
        raise InputError("no texts to harvest", file=str(inputs["texts"]))
    model, tokenizer = load_model(inputs["policy"])
    log.info("harvesting %d texts at layers %s", len(texts), layers)
    out = Path(outputs["harvest"])
    batches = iter_batches(model, tokenizer, texts, layers, cfg, progress=True)
    manifest = write_shards(batches, layers, out, cfg)
    manifest.update(n_texts=len(texts), policy=str(inputs["policy"]), config=params["harvest"])
    if count_forward_hooks(model):
        raise RuntimeError("forward hooks left on the model after harvesting")
    write_json(out / MANIFEST, manifest)
    log.info("%d tokens in %d shard(s)", manifest["n_tokens"], len(manifest["shards"]))
