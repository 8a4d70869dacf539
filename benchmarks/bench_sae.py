"""SAE training-step throughput: prefscope vs the ``hypothesaes`` SAE vs bare matmuls.

Run: ``python benchmarks/bench_sae.py [--quick] [--threads 1] [--hypothesaes PATH]``.

Per shape (d, M, k, B) and per variant (TopK; BatchTopK + Matryoshka prefixes [M/4, M]),
all ReLU so both libraries do the same maths, it times, interleaved in rounds on the same
random batches (best of the rounds per step, as timeit does: the
least-disturbed measurement on a shared machine):

* **ours**: ``prefscope.sae.train.train_step`` (forward, loss incl. AuxK, backward,
  decoder-gradient projection, clip, Adam, renormalisation), i.e. what ``train_sae`` runs
  per batch;
* **hypothesaes**: the body of ``hypothesaes.sae.SparseAutoencoder.fit``'s batch loop
  (its forward, ``compute_loss``, backward, gradient adjustment, clip, Adam, normalise,
  ``loss.item()``), without its DataLoader;
* **bare matmul**: ``x @ W_enc`` and ``z @ W_dec`` on dense tensors, the forward cost of
  the same shapes with no sparsity, losses or backward pass.

Both count latents as dead after 8 steps. hypothesaes evaluates its AuxK term in every step;
ours skips it on CPU while no latent is dead (as here: random data), a real saving that is
part of the measured difference.
``hypothesaes`` is optional and never imported as a package (its ``__init__`` pulls in
sentence-transformers, openai, ...): only its ``sae.py`` is loaded, found through
``--hypothesaes`` (a ``sae.py`` file or the package folder) or an installed package.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from types import ModuleType

import torch

from prefscope.sae import SAEConfig, SparseAutoencoder, TrainConfig
from prefscope.sae.train import train_step

SHAPES = [  # (d, M, k, B)
    (384, 32, 4, 256),
    (1536, 256, 8, 512),
    (512, 4096, 32, 1024),
]
DEAD_STEPS = 8


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


def ours_stepper(d, m, k, batches, batch_topk):
    cfg = SAEConfig(d_in=d, n_latents=m, k=k, architecture="batchtopk" if batch_topk else "topk",
                    matryoshka=[m // 4, m] if batch_topk else None, dead_steps=DEAD_STEPS)
    model = SparseAutoencoder(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.b_pre.copy_(batches[0].median(dim=0).values)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    train_cfg = TrainConfig()
    state = {"since": torch.zeros(m, dtype=torch.long), "step": DEAD_STEPS}  # AuxK active

    def step(xb):
        _, state["since"] = train_step(model, opt, xb, state["since"], state["step"], train_cfg)
        state["step"] += 1

    return step


def hypothesaes_stepper(hs, d, m, k, batches, batch_topk):
    torch.manual_seed(0)
    sae = hs.SparseAutoencoder(d, m, k, dead_neuron_threshold_steps=DEAD_STEPS,
                               prefix_lengths=[m // 4, m] if batch_topk else None,
                               use_batch_topk=batch_topk, device="cpu")
    sae.initialize_weights_(batches[0])
    sae.train()
    opt = torch.optim.Adam(sae.parameters(), lr=5e-4)

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


def time_rounds(steppers: dict, batches: list[torch.Tensor], steps: int, rounds: int,
                warmup: int) -> dict[str, float]:
    """Best-round seconds per step of each stepper, measured in interleaved rounds."""
    for step in steppers.values():
        for i in range(warmup):
            step(batches[i % len(batches)])
    per_step: dict[str, list[float]] = {name: [] for name in steppers}
    for _ in range(rounds):
        for name, step in steppers.items():
            t0 = time.perf_counter()
            for i in range(steps):
                step(batches[i % len(batches)])
            per_step[name].append((time.perf_counter() - t0) / steps)
    return {name: min(ts) for name, ts in per_step.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and rounds (noisier)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hypothesaes", help="path to hypothesaes' sae.py or its package folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps, rounds, warmup = (2, 3, 2) if args.quick else (5, 7, 3)
    hs = load_hypothesaes_sae(args.hypothesaes)
    if hs is None:
        print("hypothesaes not found (pip install it elsewhere and pass --hypothesaes PATH): "
              "comparing with bare matmuls only")

    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU; "
          f"best of {rounds} rounds x {steps} steps; ex/s = training rows per second")
    head = (f"{'d':>5} {'M':>5} {'k':>3} {'B':>5}  {'variant':<16}{'ours ex/s':>11}"
            f"{'hs ex/s':>10}{'ours/hs':>9}{'bare ex/s':>11}{'ours/bare':>10}")
    print(head)
    print("-" * len(head))
    for d, m, k, batch in SHAPES:
        gen = torch.Generator().manual_seed(0)
        batches = [torch.randn(batch, d, generator=gen) for _ in range(4)]
        for variant, batch_topk in (("topk", False), ("batchtopk+matr.", True)):
            steppers = {"ours": ours_stepper(d, m, k, batches, batch_topk),
                        "bare": bare_stepper(d, m, batch)}
            if hs is not None:
                steppers["hs"] = hypothesaes_stepper(hs, d, m, k, batches, batch_topk)
            sec = time_rounds(steppers, batches, steps, rounds, warmup)
            rate = {name: batch / s for name, s in sec.items()}
            hs_cols = (f"{rate['hs']:>10,.0f}{rate['ours'] / rate['hs']:>8.2f}x" if hs
                       else f"{'-':>10}{'-':>9}")
            print(f"{d:>5} {m:>5} {k:>3} {batch:>5}  {variant:<16}{rate['ours']:>11,.0f}"
                  f"{hs_cols}{rate['bare']:>11,.0f}{sec['ours'] / sec['bare']:>9.1f}x",
                  flush=True)
    print("ours/hs > 1: prefscope is faster; ours/bare: our full step costs this many bare "
          "forward matmul pairs.")


if __name__ == "__main__":
    main()
