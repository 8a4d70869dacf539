"""Sparse autoencoders shared by both branches (embedding differences; MLP activations)."""

from prefscope.sae.api import encode, evaluate, load_sae, mmcs, save_sae
from prefscope.sae.config import SAEConfig, TrainConfig
from prefscope.sae.model import SparseAutoencoder
from prefscope.sae.train import train_sae

__all__ = [
    "SAEConfig",
    "SparseAutoencoder",
    "TrainConfig",
    "encode",
    "evaluate",
    "load_sae",
    "mmcs",
    "save_sae",
    "train_sae",
]
