"""SAE configuration: the architecture (saved with the model) and the optimisation (not saved)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from prefscope.errors import InputError

ARCHITECTURES = ("topk", "batchtopk", "relu_l1")


@dataclass
class SAEConfig:
    """What the autoencoder *is*; stored beside its weights so it reloads exactly.

    ``k`` is the number of active latents per row for ``topk`` and the mean number per row
    for ``batchtopk`` (the batch keeps its k·B largest entries). ``signed`` selects by
    |pre-activation| and keeps the sign (identity activation), which suits antisymmetric
    inputs such as embedding differences; otherwise activations pass through a ReLU.

    The defaults are the config schema's shared SAE block (``$defs/sae_architecture``),
    pinned by tests/unit/test_config_defaults.py; config sections that differ (branch W's
    ``signed``, branch L's tied ReLU) say so in the schema.
    """

    d_in: int
    n_latents: int
    architecture: str = "batchtopk"
    k: int = 4
    signed: bool = False
    matryoshka: list[int] | None = None
    tied: bool = False
    l1_coef: float = 1e-3
    aux_k: int | None = None
    aux_coef: float = 1 / 32
    dead_steps: int = 64

    def __post_init__(self) -> None:
        def bad(message: str, column: str) -> InputError:
            return InputError(message, column=column)

        if self.architecture not in ARCHITECTURES:
            raise bad(f"must be one of {ARCHITECTURES}, got {self.architecture!r}", "architecture")
        if int(self.d_in) < 1:
            raise bad(f"must be positive, got {self.d_in}", "d_in")
        if int(self.n_latents) < 1:
            raise bad(f"must be positive, got {self.n_latents}", "n_latents")
        self.d_in, self.n_latents, self.k = int(self.d_in), int(self.n_latents), int(self.k)
        if self.architecture != "relu_l1" and not 1 <= self.k <= self.n_latents:
            raise bad(f"must be in [1, n_latents={self.n_latents}], got {self.k}", "k")
        if self.tied and self.architecture != "relu_l1":
            raise bad("tied weights are supported for architecture relu_l1 only", "tied")
        if self.architecture == "relu_l1" and self.signed:
            raise bad("relu_l1 is a ReLU architecture; signed needs topk or batchtopk", "signed")
        if self.matryoshka:
            if self.architecture == "relu_l1":
                raise bad("matryoshka prefixes need topk or batchtopk", "matryoshka")
            prefixes = [int(p) for p in self.matryoshka]
            ascending = prefixes == sorted(set(prefixes)) and prefixes[0] >= 1
            if not ascending or prefixes[-1] != self.n_latents:
                raise bad(
                    "prefix lengths must be strictly ascending, >= 1 and end at n_latents "
                    f"({self.n_latents}), got {self.matryoshka}",
                    "matryoshka",
                )
            self.matryoshka = prefixes
        else:
            self.matryoshka = None
        if self.aux_k is not None and int(self.aux_k) < 1:
            raise bad(f"must be positive or null, got {self.aux_k}", "aux_k")
        if int(self.dead_steps) < 1:
            raise bad(f"must be positive, got {self.dead_steps}", "dead_steps")

    @property
    def prefixes(self) -> list[int]:
        """Matryoshka prefix ends; a plain SAE is one prefix covering every latent."""
        return list(self.matryoshka) if self.matryoshka else [self.n_latents]

    @property
    def aux_latents(self) -> int:
        """How many dead latents the AuxK loss may use per row (default 2k)."""
        return min(self.aux_k if self.aux_k is not None else 2 * self.k, self.n_latents)

    @classmethod
    def from_dict(cls, values: dict[str, Any], file: str | None = None) -> SAEConfig:
        """Build from saved JSON, refusing unknown or missing keys (a config we cannot
        reproduce exactly must not load silently)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"unknown SAE config keys {unknown}", file=file)
        missing = sorted({"d_in", "n_latents"} - set(values))
        if missing:
            raise InputError(f"SAE config lacks {missing}", file=file)
        return cls(**values)


@dataclass
class TrainConfig:
    """How the autoencoder is trained; not part of the saved model.

    ``device`` None picks CUDA when available, else CPU. Runs are bit-reproducible on CPU;
    on CUDA some backward kernels (embedding_bag, index_add) use atomics.
    """

    lr: float = 5e-4
    batch_size: int = 256
    max_epochs: int = 50
    min_epochs: int = 10
    patience: int = 3
    seed: int = 0
    grad_clip: float = 1.0
    threshold_ema: float = 0.01
    progress: bool = True
    device: str | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_epochs", "patience"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"must be positive, got {getattr(self, name)}", column=name)
        if not self.lr > 0:
            raise InputError(f"must be positive, got {self.lr}", column="lr")
        if not 0 < self.threshold_ema <= 1:
            raise InputError(f"must be in (0, 1], got {self.threshold_ema}", column="threshold_ema")


def configs_from_settings(
    settings: Mapping[str, Any], d_in: int, **fixed: Any
) -> tuple[SAEConfig, TrainConfig]:
    """The SAE and training configs of a config section (``sae`` or ``lfp.sae``).

    Both sections share the schema's SAE definition, so one reading serves both: each key
    goes to the dataclass with a field of that name, ``fixed`` values (``n_latents`` when the
    caller sizes the dictionary) override the section, and keys of neither (branch L's
    ``multiple``, ``val_fraction``) are the caller's. Absent keys keep the dataclass
    defaults, which tests/unit/test_config_defaults.py pins to the schema's.
    """
    values = {**settings, "d_in": d_in, **fixed}
    arch = {f.name for f in fields(SAEConfig)}
    train = {f.name for f in fields(TrainConfig)}
    return (
        SAEConfig(**{k: v for k, v in values.items() if k in arch}),
        TrainConfig(**{k: v for k, v in values.items() if k in train}),
    )
