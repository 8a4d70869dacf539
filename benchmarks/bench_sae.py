"""SAE training-step throughput: prefscope vs eai-sparsify vs hypothesaes vs bare matmuls.

Run: ``python benchmarks/bench_sae.py [--quick] [--threads 1] [--hypothesaes PATH]``.

Per shape (d, M, k, B) and per variant (TopK; BatchTopK + Matryoshka prefixes [M/4, M]),
all ReLU so the libraries do the same maths, it times each library's training step on the
same random batches, in paired rounds: every round runs each stepper ``steps`` times back to
back, so the ratio of two steppers within a round compares them under the same machine
load; a round's time is the median of its steps, and the table shows the median of the
per-round ratios (robust on a shared machine).

* **ours**: ``prefscope.sae.train.train_step`` (forward, loss incl. AuxK, backward,
  decoder-gradient projection, clip, Adam, renormalisation), i.e. what ``train_sae`` runs
  per batch;
* **sparsify** (PyPI ``eai-sparsify``, EleutherAI): one step of its ``Trainer.fit`` for an
  autoencoder with ``loss_fn="fvu"`` and ``optimizer="adam"``: ``SparseCoder`` forward
  (fused encoder with its sparse backward, ``embedding_bag`` decoder), FVU, backward,
  decoder-gradient projection, Adam, renormalisation, fired-latent bookkeeping. It has no
  BatchTopK or Matryoshka, so its TopK step stands in for the second variant too (marked
  ``*``); its AuxK is off by default (``auxk_alpha=0``), so it is off here;
* **hypothesaes**: the body of ``hypothesaes.sae.SparseAutoencoder.fit``'s batch loop
  (its forward, ``compute_loss``, backward, gradient adjustment, clip, Adam, normalise,
  ``loss.item()``), without its DataLoader;
* **bare matmul**: ``x @ W_enc`` and ``z @ W_dec`` on dense tensors, the forward cost of
  the same shapes with no sparsity, losses or backward pass ("dense-equivalent rate").

prefscope and hypothesaes count latents as dead after 8 steps. hypothesaes evaluates its
AuxK term in every step; ours skips it on CPU while no latent is dead.
The other libraries are optional: ``sparsify`` is used when importable; ``hypothesaes``
is never imported as a package (its ``__init__`` pulls in sentence-transformers, openai,
...): only its ``sae.py`` is loaded, found through ``--hypothesaes`` (a ``sae.py`` file or
the package folder) or an installed package.

The last line is ``min_ratio_vs_sparsify=<x> min_ratio_vs_hypothesaes=<y>``: prefscope's
speed over theirs, the minimum over shapes and variants ("nan" when not installed).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import math
import statistics
import time
from pathlib import Path
from types import ModuleType

import torch

from prefscope.sae import SAEConfig, SparseAutoencoder, TrainConfig
from prefscope.sae.train import make_optimizer, train_step

SHAPES = [  # (d, M, k, B)
    (1536, 32, 4, 256),  # WIMHF's own setting
    (1536, 256, 8, 512),
    (512, 4096, 32, 1024),
    (2048, 16384, 32, 1024),
]
SMOKE_SHAPES = [(32, 16, 4, 64), (32, 512, 4, 64)]
DEAD_STEPS = 8
BIG_SHAPE = 5e9  # d·M·B above which a shape gets at most 3 rounds of 3 steps
LR = 5e-4


def load_hypothesaes_sae(path: str | None) -> ModuleType | None:
    """``hypothesaes/sae.py`` as a stand-alone module, or None when it cannot be found."""
    if path:
        candidate = Path(path)
        file = candidate / "sae.py" if candidate.is_dir() else candidate
    else:
        spec = importlib.util.find_spec("hypothesaes")  # locates without running __init__
        if spec is None or not spec.submodule_search_locations:
            return None
        file = Path(next(iter(spec.submodule_search_locations))) / "sae.py"
    if not file.is_file():
        return None
    spec = importlib.util.spec_from_file_location("hypothesaes_sae", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_sparsify() -> ModuleType | None:
    """The ``sparsify`` package of eai-sparsify, or None (it prints a Triton notice on
    import, which is swallowed)."""
    if importlib.util.find_spec("sparsify") is None:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            import sparsify
        except ImportError:
            return None
    return sparsify if hasattr(sparsify, "SparseCoder") else None


def ours_stepper(d, m, k, batches, batch_topk):
    cfg = SAEConfig(
        d_in=d,
        n_latents=m,
        k=k,
        architecture="batchtopk" if batch_topk else "topk",
        matryoshka=[m // 4, m] if batch_topk else None,
        dead_steps=DEAD_STEPS,
    )
    model = SparseAutoencoder(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.b_pre.copy_(batches[0].median(dim=0).values)
    opt = make_optimizer(model, LR)
    train_cfg = TrainConfig()
    state = {"since": torch.zeros(m, dtype=torch.long), "step": DEAD_STEPS}  # AuxK active

    def step(xb):
        _, state["since"] = train_step(model, opt, xb, state["since"], state["step"], train_cfg)
        state["step"] += 1

    return step


def sparsify_stepper(sp, d, m, k, batches):
    torch.manual_seed(0)
    sae = sp.SparseCoder(d, sp.SparseCoderConfig(num_latents=m, k=k), "cpu")
    sae.b_dec.data = batches[0].mean(0)  # as its Trainer does on the first batch
    opt = torch.optim.Adam(sae.parameters(), lr=LR)
    did_fire = torch.zeros(m, dtype=torch.bool)

    def step(xb):  # one Trainer.fit step (loss_fn "fvu", optimizer "adam", no AuxK)
        sae.set_decoder_norm_to_unit_norm()
        out = sae(x=xb, y=xb, dead_mask=None)
        did_fire[out.latent_indices.flatten()] = True
        float(out.fvu.detach())
        out.fvu.backward()
        sae.remove_gradient_parallel_to_decoder_directions()
        opt.step()
        opt.zero_grad()

    return step


def hypothesaes_stepper(hs, d, m, k, batches, batch_topk):
    torch.manual_seed(0)
    sae = hs.SparseAutoencoder(
        d,
        m,
        k,
        dead_neuron_threshold_steps=DEAD_STEPS,
        prefix_lengths=[m // 4, m] if batch_topk else None,
        use_batch_topk=batch_topk,
        device="cpu",
    )
    sae.initialize_weights_(batches[0])
    sae.train()
    opt = torch.optim.Adam(sae.parameters(), lr=LR)

    def step(xb):  # the body of SparseAutoencoder.fit's batch loop (hypothesaes 2.0.1)
        recon, info = sae(xb)
        loss = sae.compute_loss(xb, recon, info, 1 / 32, 0.0)
        opt.zero_grad()
        loss.backward()
        sae.adjust_decoder_gradient_()
        torch.nn.utils.clip_grad_norm_(sae.parameters(), 1.0)
        opt.step()
        sae.normalize_decoder_()
        loss.item()

    return step


def bare_stepper(d, m, batch):
    w_enc, w_dec = torch.randn(d, m), torch.randn(m, d)
    z = torch.randn(batch, m)

    def step(xb):
        xb @ w_enc
        z @ w_dec

    return step


def time_rounds(
    steppers: dict, batches: list[torch.Tensor], steps: int, rounds: int, warmup: int
) -> list[dict[str, float]]:
    """Seconds per step of each stepper, one dict per round (steppers interleaved); a
    round's value is the median of its steps, so one step preempted by another process
    on a shared machine does not count."""
    for step in steppers.values():
        for i in range(warmup):
            step(batches[i % len(batches)])
    out = []
    for _ in range(rounds):
        sec = {}
        for name, step in steppers.items():
            times = []
            for i in range(steps):
                t0 = time.perf_counter()
                step(batches[i % len(batches)])
                times.append(time.perf_counter() - t0)
            sec[name] = statistics.median(times)
        out.append(sec)
    return out


def median_ratio(rounds: list[dict[str, float]], name: str) -> float:
    """Median over rounds of (their seconds / our seconds) = our speed over theirs."""
    return statistics.median(r[name] / r["ours"] for r in rounds)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and rounds (noisier)")
    ap.add_argument("--smoke", action="store_true", help="tiny shapes, one round (a test)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hypothesaes", help="path to hypothesaes' sae.py or its package folder")
    ap.add_argument("--no-sparsify", action="store_true", help="skip eai-sparsify")
    ap.add_argument("--shapes", help="d,M,k,B;d,M,k,B... instead of the default shapes")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps, rounds, warmup = (3, 3, 2) if args.quick else (5, 7, 3)
    shapes = SHAPES
    if args.smoke:
        steps, rounds, warmup, shapes = 1, 1, 1, SMOKE_SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";")]
    hs = load_hypothesaes_sae(args.hypothesaes)
    sp = None if args.no_sparsify else load_sparsify()
    if sp is None:
        print("eai-sparsify not found (pip install eai-sparsify): skipping it")
    if hs is None:
        print(
            "hypothesaes not found (pip install it elsewhere and pass --hypothesaes PATH): "
            "skipping it"
        )

    print(
        f"torch {torch.__version__}, {args.threads} thread(s), CPU; median of {rounds} paired "
        f"rounds x {steps} steps; ex/s = training rows per second; ratios = our speed / theirs"
    )
    head = (
        f"{'d':>5} {'M':>5} {'k':>3} {'B':>5}  {'variant':<16}{'ours ex/s':>11}"
        f"{'sp ex/s':>10}{'ours/sp':>9}{'hs ex/s':>10}{'ours/hs':>9}"
        f"{'bare ex/s':>11}{'ours/bare':>10}"
    )
    print(head)
    print("-" * len(head))
    worst = {"sp": math.inf, "hs": math.inf}
    for d, m, k, batch in shapes:
        gen = torch.Generator().manual_seed(0)
        batches = [torch.randn(batch, d, generator=gen) for _ in range(4)]
        sp_step = sparsify_stepper(sp, d, m, k, batches) if sp is not None else None
        for variant, batch_topk in (("topk", False), ("batchtopk+matr.", True)):
            steppers = {
                "ours": ours_stepper(d, m, k, batches, batch_topk),
                "bare": bare_stepper(d, m, batch),
            }
            if sp_step is not None:
                steppers["sp"] = sp_step
            if hs is not None:
                steppers["hs"] = hypothesaes_stepper(hs, d, m, k, batches, batch_topk)
            big = d * m * batch > BIG_SHAPE  # seconds per step: fewer, or it takes an hour
            timed = (
                time_rounds(steppers, batches, min(steps, 3), min(rounds, 3), 1)
                if big
                else time_rounds(steppers, batches, steps, rounds, warmup)
            )
            rate = {n: batch / statistics.median(r[n] for r in timed) for n in steppers}
            cols = ""
            for name in ("sp", "hs"):
                if name in steppers:
                    ratio = median_ratio(timed, name)
                    worst[name] = min(worst[name], ratio)
                    mark = "*" if name == "sp" and batch_topk else "x"
                    cols += f"{rate[name]:>10,.0f}{ratio:>8.2f}{mark}"
                else:
                    cols += f"{'-':>10}{'-':>9}"
            print(
                f"{d:>5} {m:>5} {k:>3} {batch:>5}  {variant:<16}{rate['ours']:>11,.0f}"
                f"{cols}{rate['ours'] / rate['bare']:>9.2f}x",
                flush=True,
            )
            del steppers
    print(
        "ours/X > 1: prefscope is faster; ours/bare: our full step's rate over the bare "
        "dense forward matmuls' rate; * sparsify ran its TopK step (no BatchTopK/Matryoshka)."
    )
    fmt = {n: "nan" if math.isinf(v) else f"{v:.2f}" for n, v in worst.items()}
    print(f"min_ratio_vs_sparsify={fmt['sp']} min_ratio_vs_hypothesaes={fmt['hs']}")


if __name__ == "__main__":
    main()
