"""The bridge between a Snakemake ``script:`` and a library stage.

Workflow scripts stay three lines long: they hand the ``snakemake`` object and a stage
function to :func:`run_stage`, which pins threads, sends every log line, warning and
progress bar to the rule's ``log:`` file, and calls the stage with plain dicts. Stages are
therefore ordinary functions that tests call without Snakemake.

The convention (docs/architecture.md): rule ``X`` in ``workflow/rules/<pkg>.smk`` runs
``workflow/scripts/X.py``, which runs the stage function ``X`` defined in
``prefscope.<pkg>.stage`` (branch L's ``lfp_<name>.smk`` -> ``prefscope.lfp.<name>``).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from prefscope.runtime import set_threads, setup_logging


class Stage(Protocol):
    def __call__(
        self,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        params: dict[str, Any],
        threads: int,
    ) -> None: ...


def _named(items: Any) -> dict[str, Any]:
    """Snakemake's Namedlist -> dict of its named entries (unnamed ones by position)."""
    named = dict(items.items())
    if not named:
        named = {str(i): v for i, v in enumerate(items)}
    return named


def exit_when_orphaned(interval: float = 0.5) -> threading.Thread:
    """End this process at once if the process that started it (Snakemake) dies.

    Snakemake runs a ``script:`` as a child process; after ``kill -9`` of Snakemake the child
    is re-parented and would otherwise run on and rename its outputs into place while a re-run
    (after ``snakemake --unlock``) rebuilds them. A daemon thread polls the parent PID and
    exits with status 137 (as if killed) when it changes; nothing more is written, and files
    already in place are complete (atomic writes) and marked incomplete by Snakemake anyway.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                logging.getLogger("prefscope").error(
                    "the Snakemake process (pid %d) is gone; stopping this job", parent
                )
                for stream in (sys.stderr, sys.stdout):
                    with contextlib.suppress(Exception):
                        stream.flush()
                os._exit(137)
            threading.Event().wait(interval)

    thread = threading.Thread(target=watch, name="prefscope-orphan-watch", daemon=True)
    thread.start()
    return thread


def stage_kwargs(smk: Any, stage: Callable[..., None]) -> dict[str, Any]:
    """The keyword arguments of ``stage`` for a Snakemake job.

    Always ``inputs``, ``outputs``, ``params`` and ``threads``; also ``config`` (the whole
    workflow config as a dict) when the stage function has a ``config`` parameter. That is
    for run-time settings that never change outputs (batching, concurrency, retries, the
    name of a key variable): they stay out of the rule's ``params``, so editing them re-runs
    nothing, yet every script still reads ``run_stage(snakemake, X)``.
    """
    kwargs: dict[str, Any] = {
        "inputs": _named(smk.input),
        "outputs": _named(smk.output),
        "params": dict(smk.params.items()),
        "threads": int(smk.threads),
    }
    if "config" in inspect.signature(stage).parameters:
        kwargs["config"] = dict(smk.config)
    return kwargs


def run_stage(smk: Any, stage: Callable[..., None]) -> None:
    """Run ``stage`` for a Snakemake job, logging everything to ``smk.log[0]``.

    Arguments come from :func:`stage_kwargs` (``config`` only for stages that take it).
    """
    log_path = smk.log[0] if len(smk.log) else None
    setup_logging(None)
    with contextlib.ExitStack() as stack:
        if log_path:
            fh = stack.enter_context(open(log_path, "w", buffering=1))
            stack.enter_context(contextlib.redirect_stderr(fh))
            stack.enter_context(contextlib.redirect_stdout(fh))
            setup_logging(None)  # re-bind the stream handler to the redirected stderr
        set_threads(int(smk.threads))
        exit_when_orphaned()
        log = logging.getLogger("prefscope")
        log.info("rule %s, %d thread(s)", getattr(smk, "rule", "?"), smk.threads)
        # Where the job ran: lets a cluster user (and the SLURM tests) check the routing.
        log.info(
            "placement: host=%s pid=%d slurm_job_id=%s slurm_partition=%s cuda_visible_devices=%s",
            socket.gethostname(),
            os.getpid(),
            *(os.environ.get(k, "-") for k in ("SLURM_JOB_ID", "SLURM_JOB_PARTITION")),
            os.environ.get("CUDA_VISIBLE_DEVICES", "-"),
        )
        try:
            stage(**stage_kwargs(smk, stage))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            raise
        log.info("done")
