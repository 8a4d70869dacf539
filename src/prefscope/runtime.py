"""Process set-up shared by every workflow script: threads, offline flags, logging.

Thread oversubscription is the biggest performance trap on small machines (two processes
with two torch threads each run about 4x slower than one thread each), so every script pins
torch and BLAS to exactly the threads Snakemake granted the job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

OFFLINE_DEFAULTS = {"HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}


def set_threads(threads: int) -> None:
    """Pin torch and BLAS thread pools to ``threads`` (call before heavy imports if possible)."""
    n = max(1, int(threads))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return
    torch.set_num_threads(n)
    with contextlib.suppress(RuntimeError):  # already set in this process
        torch.set_num_interop_threads(1)


def setup_logging(log_path: str | os.PathLike[str] | None = None) -> logging.Logger:
    """Log to the rule's log file (and stderr), and route warnings and tqdm there too."""
    logger = logging.getLogger("prefscope")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logging.captureWarnings(True)
    return logger
