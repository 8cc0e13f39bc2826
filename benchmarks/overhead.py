"""Overhead of llcore's inversion loop against a bare hand-written torch Adam loop on the same F.

    overhead = (llcore seconds / bare seconds) − 1,   θ = identity (descent in X)

Both loops run the same number of Adam steps on the same targets; repeats are interleaved and the
median of each is compared, so both see the same machine load; on a GPU each timing ends with a device
sync. Writes results/<profile>/bench/overhead.json (or --out DIR/overhead.json; a Markdown table next to it).

    .venv/bin/python benchmarks/overhead.py [--profile default] [--steps 200] [--repeats 7] [--device auto]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import nn

import llcore
from llcore import Identity, Problem, invert
from llcore.io import atomic_write_json, atomic_write_text
from llcore.paths import repo_root
from llcore.problems.toy import mse_loss, toy_problem, toy_targets
from llcore.results import now, provenance
from llcore.runtime import pick_device


def bare_adam(problem: Problem, y, x0, lr: float, steps: int) -> list:
    """What a user would write by hand: torch.optim.Adam on x, keeping each step's per-target loss."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = problem.loss(problem.forward(x), y)
        losses.append(loss.detach())
        loss.sum().backward()
        opt.step()
    return losses


def forward_models(device: torch.device):
    """(name, problem, targets on `device`): the toy decoder and an MLP the size of a small image generator."""
    toy = toy_problem()
    _, y = toy_targets(toy, 256, seed=0)
    toy.forward.to(device)
    yield "toy decoder 16→32, batch 256", toy, y.to(device)
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())    # (B, 784)
    img = Problem(forward=gen.to(device), loss=mse_loss, x_shape=(64,), y_shape=(784,), name="mlp_generator")
    with torch.no_grad():
        y = gen(torch.randn(256, 64, device=device))
    yield "MLP generator 64→512→784, batch 256", img, y


def timed(fn, device: torch.device) -> float:
    """Wall seconds of fn(), with the device's queued work finished before and after."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    ap.add_argument("--out", help="folder for overhead.json and overhead.md (default: results/<profile>/bench)")
    args = ap.parse_args()
    device = pick_device(args.device)
    started, t0 = now(), time.perf_counter()
    rows = []
    for name, problem, y in forward_models(device):
        x0 = problem.initial_x(y.shape[0], torch.Generator().manual_seed(0)).to(device)
        ident = Identity(problem.dim_x).to(device)
        runs = {"bare": lambda: bare_adam(problem, y, x0, 0.1, args.steps),
                "llcore": lambda: invert(problem, y, None, "adam", 0.1, args.steps, x0=x0),
                "llcore_identity": lambda: invert(problem, y, ident, "adam", 0.1, args.steps, x0=x0)}
        for fn in runs.values():      # warm-up
            fn()
        times = {k: [] for k in runs}
        for _ in range(args.repeats):
            for k, fn in runs.items():
                times[k].append(timed(fn, device))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"forward_model": name, "steps": args.steps, "bare_s": med["bare"], "llcore_s": med["llcore"],
                     "llcore_identity_theta_s": med["llcore_identity"],
                     "overhead": med["llcore"] / med["bare"] - 1,
                     "overhead_identity_theta": med["llcore_identity"] / med["bare"] - 1})
        print(f"{name}: bare {med['bare']:.3f}s  llcore {med['llcore']:.3f}s  "
              f"(overhead {rows[-1]['overhead']:+.1%}; with an Identity θ module {rows[-1]['overhead_identity_theta']:+.1%})")
    out = Path(args.out) if args.out else repo_root() / "results" / args.profile / "bench"
    result = {"overhead": max(r["overhead"] for r in rows), "definition": "(llcore seconds / bare seconds) - 1, "
              "median of interleaved repeats, worst forward model", "rows": rows, "repeats": args.repeats,
              "provenance": provenance([0], started, time.perf_counter() - t0, device)}
    atomic_write_json(out / "overhead.json", result)
    lines = ["| forward model | steps | bare s | llcore s | overhead | overhead, Identity θ |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['forward_model']} | {r['steps']} | {r['bare_s']:.3f} | {r['llcore_s']:.3f} | "
              f"{r['overhead']:+.1%} | {r['overhead_identity_theta']:+.1%} |" for r in rows]
    atomic_write_text(out / "overhead.md", f"llcore {llcore.__version__}, {result['provenance']['device']}, "
                      f"{result['provenance']['started']}, median of {args.repeats} interleaved repeats\n\n" + "\n".join(lines) + "\n")
    print(f"wrote {out / 'overhead.json'}: overhead {result['overhead']:+.1%}")


if __name__ == "__main__":
    main()
