"""Test-wide settings: offline hub, one thread (tests share two cores), matplotlib headless."""

import os

for _var, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
}.items():
    os.environ.setdefault(_var, _value)

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass
