"""Harvest MLP outputs of chosen layers, once, into shards that every SAE reuses.

Why this module exists: the reference code recomputed language-model forwards for every SAE
batch of every epoch, fed pad positions to the SAE, and registered a new forward hook per
batch without ever removing one. Here:

* hooks live only inside :func:`capture_mlp_outputs`, a context manager that removes them on
  exit *and* on error;
* only the base model runs (``model.base_model``: no vocabulary-sized ``lm_head``);
* only real tokens are kept (``attention_mask`` selects them; right padding, so a pad never
  precedes a real token and causal attention makes padded and unpadded runs agree);
* activations are written once, per shard of at most ``shard_tokens`` tokens, as safetensors
  holding one ``layer_<L>`` matrix per chosen layer plus ``seq``/``pos``/``token`` index
  vectors that locate every row. ``float16`` by default: it halves disk and memory, MLP
  outputs of Pythia-class models stay far inside its range, and SAEs cast to float32 on
  load; ``float32`` is available for exact work.

Which texts: :mod:`prefscope.lfp.harvest.texts`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from prefscope.errors import InputError
from prefscope.io import atomic_path, read_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class HarvestConfig:
    """Settings that change the harvested activations."""

    batch_size: int = 32
    max_length: int = 256
    dtype: str = "float16"  # "float16" | "float32"
    shard_tokens: int = 200_000
    max_texts: int | None = None
    seed: int = 0


# --------------------------------------------------------------------------- hooks


@contextlib.contextmanager
def capture_mlp_outputs(model: Any, layers: Sequence[int]) -> Iterator[dict[int, Any]]:
    """Forward hooks on the MLP of each layer in ``layers``; yields ``{layer: last output}``.

    The dict is overwritten by every forward pass. Hooks are removed when the block exits,
    whether it returns or raises, so a failed batch cannot leave a hook behind.
    """
    from prefscope.lfp.models import first_tensor, layer_modules, mlp_module

    blocks = layer_modules(model)
    captured: dict[int, Any] = {}
    handles = []
    try:
        for layer in layers:
            if not 0 <= int(layer) < len(blocks):
                raise InputError(f"layer {layer} out of range: the model has {len(blocks)} layers")

            def hook(_module: Any, _inputs: Any, output: Any, layer: int = int(layer)) -> None:
                captured[layer] = first_tensor(output).detach()

            handles.append(mlp_module(blocks[int(layer)]).register_forward_hook(hook))
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def count_forward_hooks(model: Any) -> int:
    """Forward hooks registered anywhere in ``model`` (tests assert this returns to 0)."""
    return sum(len(m._forward_hooks) for m in model.modules())


def base_forward(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """Run the transformer body only: the LM head's vocabulary projection is never needed."""
    body = getattr(model, "base_model", model)
    return body(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)


# --------------------------------------------------------------------------- harvesting


@dataclass
class Harvest:
    """Activations of real tokens: ``acts[layer]`` is ``[n_tokens, d_model]``."""

    acts: dict[int, np.ndarray]
    seq: np.ndarray  # int32 [n_tokens]: index of the text
    pos: np.ndarray  # int32 [n_tokens]: token position within the text
    token: np.ndarray  # int32 [n_tokens]: token id


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Right padding with a pad token (EOS when the tokenizer has none, as for Pythia)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def captured_batches(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    batch_size: int,
    max_length: int,
    *,
    offsets: bool = False,
    desc: str = "harvest",
    progress: bool = True,
) -> Iterator[tuple[int, Any, dict[int, Any]]]:
    """Yield ``(start, encoding, captured)`` per batch of ``texts``: the one tokenise-and-forward
    loop every reader of MLP outputs shares (``captured[layer]`` is [batch, seq, d_model] and
    is overwritten by the next batch; hooks are removed when the loop ends)."""
    import torch
    from tqdm.auto import tqdm

    prepare_tokenizer(tokenizer)
    device = next(model.parameters()).device
    model.eval()
    starts = range(0, len(texts), batch_size)
    with capture_mlp_outputs(model, layers) as captured, torch.inference_mode():
        for start in tqdm(starts, desc=desc, unit="batch", disable=not progress):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=max_length,
                return_offsets_mapping=offsets,
            )
            base_forward(model, enc["input_ids"].to(device), enc["attention_mask"].to(device))
            yield start, enc, captured


def iter_batches(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    cfg: HarvestConfig,
    *,
    progress: bool = True,
) -> Iterator[Harvest]:
    """Yield the real-token activations of each batch of ``texts`` (in order)."""
    import torch

    dtype = np.dtype(cfg.dtype)
    device = next(model.parameters()).device
    batches = captured_batches(
        model, tokenizer, texts, layers, cfg.batch_size, cfg.max_length, progress=progress
    )
    for start, enc, captured in batches:
        ids = enc["input_ids"].to(device)
        keep = enc["attention_mask"].to(device).bool()
        rows, cols = torch.nonzero(keep, as_tuple=True)
        yield Harvest(
            acts={
                layer: captured[layer][keep].float().cpu().numpy().astype(dtype) for layer in layers
            },
            seq=(rows.cpu().numpy() + start).astype(np.int32),
            pos=cols.cpu().numpy().astype(np.int32),
            token=ids[keep].cpu().numpy().astype(np.int32),
        )


def concat(parts: Sequence[Harvest], layers: Sequence[int]) -> Harvest:
    """Join batches (or shards) into one :class:`Harvest`."""
    return Harvest(
        acts={layer: np.concatenate([p.acts[layer] for p in parts]) for layer in layers},
        seq=np.concatenate([p.seq for p in parts]),
        pos=np.concatenate([p.pos for p in parts]),
        token=np.concatenate([p.token for p in parts]),
    )


def harvest(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    cfg: HarvestConfig,
    *,
    progress: bool = False,
) -> Harvest:
    """All real-token activations of ``texts`` in memory (small inputs, tests)."""
    parts = list(iter_batches(model, tokenizer, texts, layers, cfg, progress=progress))
    return concat(parts, layers)


# --------------------------------------------------------------------------- shards


def _save_shard(path: Path, part: Harvest) -> None:
    from safetensors.numpy import save_file

    tensors = {f"layer_{layer}": np.ascontiguousarray(a) for layer, a in part.acts.items()}
    tensors.update(seq=part.seq, pos=part.pos, token=part.token)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp))


def write_shards(
    batches: Iterator[Harvest], layers: Sequence[int], out_dir: str | Path, cfg: HarvestConfig
) -> dict[str, Any]:
    """Stream batches into shards of at most ``cfg.shard_tokens`` rows; return the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Any]] = []
    pending: list[Harvest] = []
    pending_rows = 0
    d_model = None

    def flush() -> None:
        nonlocal pending, pending_rows
        if not pending:
            return
        part = concat(pending, layers)
        name = f"shard-{len(shards):05d}.safetensors"
        _save_shard(out / name, part)
        shards.append({"file": name, "n_tokens": int(part.seq.shape[0])})
        pending, pending_rows = [], 0

    for batch in batches:
        d_model = next(iter(batch.acts.values())).shape[1]
        pending.append(batch)
        pending_rows += batch.seq.shape[0]
        if pending_rows >= cfg.shard_tokens:
            flush()
    flush()
    return {
        "layers": [int(x) for x in layers],
        "d_model": int(d_model or 0),
        "dtype": cfg.dtype,
        "n_tokens": int(sum(s["n_tokens"] for s in shards)),
        "shards": shards,
    }


def load_manifest(directory: str | Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise InputError("harvest manifest missing; re-run the harvest rule", file=str(path))
    return read_json(path)


def load_layer(directory: str | Path, layer: int, dtype: str = "float32") -> np.ndarray:
    """All harvested rows of one layer, concatenated over shards, as ``dtype``."""
    from safetensors import safe_open

    manifest = load_manifest(directory)
    if int(layer) not in manifest["layers"]:
        raise InputError(
            f"layer {layer} was not harvested (have {manifest['layers']})",
            file=str(Path(directory) / MANIFEST),
        )
    parts = []
    for shard in manifest["shards"]:
        with safe_open(str(Path(directory) / shard["file"]), framework="numpy") as fh:
            parts.append(fh.get_tensor(f"layer_{int(layer)}").astype(dtype))
    return np.concatenate(parts) if parts else np.zeros((0, manifest["d_model"]), dtype)


def load_index(directory: str | Path) -> dict[str, np.ndarray]:
    """``seq``, ``pos`` and ``token`` vectors aligned with :func:`load_layer` rows."""
    from safetensors import safe_open

    manifest = load_manifest(directory)
    out: dict[str, list[np.ndarray]] = {"seq": [], "pos": [], "token": []}
    for shard in manifest["shards"]:
        with safe_open(str(Path(directory) / shard["file"]), framework="numpy") as fh:
            for key in out:
                out[key].append(fh.get_tensor(key))
    return {k: (np.concatenate(v) if v else np.zeros(0, np.int32)) for k, v in out.items()}


# --------------------------------------------------------------------------- stage
