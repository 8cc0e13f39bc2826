"""The benchmark: speed and memory of llcore on every experiment's forward model (a benchmark, not a test).

    (a) overhead   llcore's invert() vs a bare torch.optim.Adam loop on the same objective that keeps the same
                   per-step loss and metric, θ = none (X-space); median over repeats of (llcore s / bare s) − 1, the two
                   timed side by side, their order alternating
    (b) training   θ-training throughput vs batch size: E-step optimizer steps/s and M-step θ updates/s (MNIST GAN)
    (c) per step   wall seconds per optimizer step, baseline (X) vs landscape (Z, a 1024×3 residual θ)
    (d) amortization  from each experiment's committed results/<profile>/<exp>/metrics.json: θ training seconds,
                   seconds saved per inverted target (baseline's time to its final level − landscape's time to that
                   level), and how many inversions repay θ's training
    (e) memory     peak memory of inversion (baseline, landscape) and θ training (coordinate descent vs unrolled),
                   each in a fresh process: resident set growth on a CPU, torch's peak allocation on a GPU
    (f) fast paths the forward models' cheaper forms against the ones they replace (the frozen DCGAN generators,
                   SMPL's joints without the mesh): seconds per forward + backward at the experiment's batch (median
                   of interleaved repeats, speed-up = median of the paired ratios) and the largest difference in
                   output and gradient
    (g) precision  one θ-training round (E-step T = 20 and M-step K = 20 at batch 32, a 1024×3 residual θ) with F in
                   float32 and under bf16 autocast (TrainConfig.train_autocast), per forward model, timed side by
                   side (median of interleaved repeats; speed-up = median of the paired ratios)

Writes results/<profile>/bench/metrics.json and bench.md (or under --out DIR). Ratios are measured within one run
(the machine is shared). benchmarks/device_check.py runs it with --quick --device cuda --out runs/device_check/bench.

    .venv/bin/python benchmarks/bench.py [--profile default] [--device auto] [--quick] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from pathlib import Path

import torch

import llcore
from llcore import ResidualMLP, TrainConfig, Trainer, invert
from llcore.repro import registry
from llcore.repro.io import atomic_write_json, atomic_write_text
from llcore.repro.paths import repo_root
from llcore.repro.results import amortization as amortization_of, now, provenance
from llcore.seeding import pick_device

# forward models, one per experiment: (name, problem, targets), built on `device`


def toy(device, batch):
    from llcore.tasks.toy import toy_problem, toy_targets
    p = toy_problem()
    _, y = toy_targets(p, batch, seed=0)
    p.forward.to(device)
    return p, y.to(device)


def mnist_gan(device, batch):
    from llcore.tasks.gan import MnistGenerator, frozen_generator, gan_problem
    torch.manual_seed(0)
    g = frozen_generator(MnistGenerator(nz=64).eval()).to(device)    # untrained weights: the cost is the same
    p = gan_problem(g, 64, init="normal")
    with torch.no_grad():
        y = g(torch.randn(batch, 64, device=device))
    return p, y


def face_gan(device, batch):
    from llcore.tasks.gan import frozen_generator, gan_problem, load_face_generator
    g = frozen_generator(load_face_generator()).to(device)
    p = gan_problem(g, 100, init="normal")
    with torch.no_grad():
        y = g(torch.randn(batch, 100, generator=torch.Generator().manual_seed(0)).to(device))
    return p, y


def pose(device, batch):
    from llcore.tasks import body, poses
    from llcore.tasks.pose import PerspectiveCamera, make_targets, pose_problem
    smpl, _ = body.load_body(None)
    cam = PerspectiveCamera()
    mu = poses.mean_pose(poses.sample_poses(256, poses.SPLITS["train"], seed=1))
    p = pose_problem(smpl, cam, init_pose=mu, prior_mean=mu)
    y, _ = make_targets(poses.sample_poses(batch, poses.SPLITS["test_in"], seed=2), smpl, cam, noise=1.0, seed=2)
    p.forward.to(device)
    return p, y.to(device)


def reversal(device, batch):
    from llcore.tasks.classifiers import SmallCNN
    from llcore.tasks.data import mnist_split
    from llcore.tasks.defense import reversal_problem
    from llcore.tasks.ssl import Augment, SSLHead, SSLLoss
    torch.manual_seed(0)
    loss = SSLLoss(SmallCNN().eval(), SSLHead(), Augment(views=4, seed=0)).to(device)
    x, _ = mnist_split()["train"]
    loss.set_bank(x[:256].to(device))
    return reversal_problem(loss, 0.3, (1, 28, 28)), x[256:256 + batch].to(device)


# each experiment's F as llcore.repro.registry names it: {experiment: (builder above, batch timed)}
MODELS = {name: (globals()[builder], batch) for name, (builder, batch) in registry.BENCH.items()}
OPTIMIZER = {"adversarial_defense": ("sign", 0.1)}       # the reversal's PGD step; Adam elsewhere


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device) -> float:
    sync(device)
    t = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t


def interleaved(runs: dict, device, repeats: int, calls: int = 1, warm_up: bool = True) -> dict:
    """{name: [seconds per call, one per repeat]} for the functions `runs` {name: fn}, timed side by side: each
    repeat times every function (`calls` calls a timing), in an order that alternates between repeats, so a slow
    drift of the shared machine favours none of them. warm_up: call each once first."""
    if warm_up:
        for fn in runs.values():
            fn()
    times = {k: [] for k in runs}
    for i in range(repeats):
        for k in (list(runs) if i % 2 == 0 else list(runs)[::-1]):
            times[k].append(timed(lambda: [runs[k]() for _ in range(calls)], device) / calls)
    return times


def paired_ratio(a: list, b: list) -> float:
    """The median over repeats of a[i] / b[i]: two functions timed in the same repeat share its load."""
    return statistics.median(x / y for x, y in zip(a, b))


def bare_loop(problem, y, x0, lr, steps, optimizer):
    """What a user writes by hand: torch.optim.Adam (or a sign step) on x, keeping each step's per-target loss and,
    where the problem reports one, its quality metric (the same bookkeeping as llcore's Record)."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr) if optimizer == "adam" else None
    losses = []
    for _ in range(steps + 1):
        loss, metric = problem.objective_and_metric(x, y)
        losses.append((loss.detach(), metric))
        if len(losses) > steps:
            break
        if opt is not None:
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
        else:
            (g,) = torch.autograd.grad(loss.sum(), x)
            with torch.no_grad():
                x.sub_(lr * g.sign())
                if problem.project is not None:
                    x.copy_(problem.project(x))
    return losses


def theta_for(problem, device, width=1024, depth=3):
    torch.manual_seed(0)
    bound = 0.3 if problem.name == "attack reversal" else None
    return ResidualMLP(problem.dim_x, dim_z=min(problem.dim_x, 128) if bound else None, width=width, depth=depth,
                       bound=bound).to(device).eval()


def bench_steps(name, device, steps, repeats) -> dict:
    """(a) and (c) for one forward model."""
    build, batch = MODELS[name]
    problem, y = build(device, batch)
    optimizer, lr = OPTIMIZER.get(name, ("adam", 0.01))
    x0 = problem.initial_x(y.shape[0], torch.Generator().manual_seed(0)).to(device)
    theta = theta_for(problem, device)
    runs = {"bare": lambda: bare_loop(problem, y, x0, lr, steps, optimizer),
            "llcore": lambda: invert(problem, y, None, optimizer, lr, steps, x0=x0),
            "llcore_landscape": lambda: invert(problem, y, theta, optimizer, lr, steps, x0=x0)}
    times = interleaved(runs, device, repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    overhead = paired_ratio(times["llcore"], times["bare"]) - 1
    return {"forward_model": name, "batch": batch, "steps": steps, "optimizer": optimizer,
            "bare_s": med["bare"], "llcore_s": med["llcore"], "overhead": overhead,
            "baseline_s_per_step": med["llcore"] / steps, "landscape_s_per_step": med["llcore_landscape"] / steps,
            "landscape_step_cost": med["llcore_landscape"] / med["llcore"]}


def bench_training(device, batches, rounds) -> list:
    """(b): E-step optimizer steps/s and M-step θ updates/s on the MNIST GAN, per batch size."""
    rows = []
    for b in batches:
        problem, y = mnist_gan(device, max(b, 256))
        trainer = Trainer(problem, theta_for(problem, device).train(), y,
                          TrainConfig(rounds=rounds, batch_size=b, theta_batch=b, inner_steps=20, theta_steps=20, seed=0))
        trainer.e_step(); trainer.m_step()                          # warm-up
        e = statistics.median(timed(trainer.e_step, device) for _ in range(rounds))
        m = statistics.median(timed(trainer.m_step, device) for _ in range(rounds))
        rows.append({"batch": b, "e_step_steps_per_s": 20 / e, "m_step_updates_per_s": 20 / m,
                     "e_step_targets_steps_per_s": 20 * b / e, "round_s": e + m})
    return rows


def bench_train_precision(device, repeats, steps=20, batch=32) -> list:
    """(g): seconds per θ-training round with F in float32 and in bf16 (Trainer's train_autocast), per model."""
    rows = []
    for name, (build, _) in MODELS.items():
        problem, y = build(device, 256)
        rounds = {}
        for precision in (None, "bf16"):
            cfg = TrainConfig(rounds=1, batch_size=batch, theta_batch=batch, inner_steps=steps, theta_steps=steps,
                              train_autocast=precision, seed=0)
            t = Trainer(problem, theta_for(problem, device).train(), y, cfg)
            rounds["bf16" if precision else "float32"] = lambda t=t: (t.e_step(), t.m_step())
        times = interleaved(rounds, device, repeats)
        rows.append({"forward_model": name, "batch": batch, "float32_round_s": statistics.median(times["float32"]),
                     "bf16_round_s": statistics.median(times["bf16"]),
                     "speedup": paired_ratio(times["float32"], times["bf16"])})
    return rows


def _peak_child(case, device_name, queue):
    from llcore.repro.memory import measure_peak
    device = torch.device(device_name)
    problem, y = mnist_gan(device, 64)
    theta = theta_for(problem, device).train()
    if case == "inversion_baseline":
        work = lambda: invert(problem, y, None, "adam", 0.01, 50)
    elif case == "inversion_landscape":
        work = lambda: invert(problem, y, theta, "adam", 0.01, 50)
    else:
        mode = "unrolled" if case == "training_unrolled" else "coordinate"
        trainer = Trainer(problem, theta, y, TrainConfig(rounds=3, batch_size=64, theta_batch=64, inner_steps=20,
                                                         theta_steps=20, mode=mode, seed=0))
        work = lambda: trainer.train(progress=False, resume=False)
    queue.put(measure_peak(work, device))


def bench_memory(device) -> list:
    """(e), each case in a fresh process after its set-up (F, θ, targets): the growth of memory during the work
    (llcore.repro.memory.measure_peak: CUDA allocator peak, or the resident set's high-water mark reset just before)."""
    ctx, rows = mp.get_context("spawn"), []
    for case in ("inversion_baseline", "inversion_landscape", "training_coordinate", "training_unrolled"):
        q = ctx.Queue()
        p = ctx.Process(target=_peak_child, args=(case, str(device), q))
        p.start(); p.join()
        r = q.get() if p.exitcode == 0 else {"peak_mib": float("nan"), "method": f"child failed ({p.exitcode})"}
        rows.append({"case": case, "model": "MNIST GAN, batch 64, 50 steps / 3 rounds of T 20, θ 1024×3",
                     "peak_mib": r["peak_mib"], "measure": r["method"]})
    return rows


def fast_path_pairs(device) -> dict:
    """(f): name -> (batch, input dim, the reference forward model, its fast form), as the experiments use them."""
    from llcore.tasks import body
    from llcore.tasks.gan import MnistGenerator, frozen_generator, load_face_generator
    from llcore.tasks.pose import BodyJoints
    torch.manual_seed(0)
    mnist = MnistGenerator(nz=64).eval()
    for m in mnist.modules():                      # BatchNorm statistics away from (0, 1), as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5), m.running_var.uniform_(0.5, 2.0)
    faces = load_face_generator()
    smpl, _ = body.load_body(None)
    pairs = {"mnist_gan (frozen generator)": (64, 64, mnist, frozen_generator(mnist)),
             "face_gan (frozen generator)": (32, 100, faces, frozen_generator(faces)),
             "pose (SMPL joints without the mesh)": (64, 72, BodyJoints(smpl, whole_model=True), BodyJoints(smpl))}
    return {k: (b, d, ref.to(device).requires_grad_(False), fast.to(device).requires_grad_(False))
            for k, (b, d, ref, fast) in pairs.items()}


def bench_fast_paths(device, repeats) -> list:
    """(f): each fast form against its reference, timed side by side (order alternating), and their differences."""
    rows = []
    for name, (batch, dim, ref, fast) in fast_path_pairs(device).items():
        x = (0.3 * torch.randn(batch, dim, generator=torch.Generator().manual_seed(1))).to(device).requires_grad_(True)
        w = torch.randn_like(ref(x))
        runs = {k: (lambda f=f: torch.autograd.grad((f(x) * w).sum(), x)[0]) for k, f in (("ref", ref), ("fast", fast))}
        grads = {k: fn() for k, fn in runs.items()}                  # also the warm-up
        times = interleaved(runs, device, repeats, calls=5, warm_up=False)
        with torch.no_grad():
            out_diff = float((ref(x) - fast(x)).abs().max())
        rows.append({"forward_model": name, "batch": batch, "reference_s": statistics.median(times["ref"]),
                     "fast_s": statistics.median(times["fast"]),
                     "speedup": paired_ratio(times["ref"], times["fast"]),
                     "max_output_diff": out_diff,
                     "max_grad_diff": float((grads["ref"] - grads["fast"]).abs().max()),
                     "max_grad": float(grads["ref"].abs().max())})
    return rows


def _n_test(stem: str, run_name: str = None) -> int:
    """n_test of a notebook's default run (llcore.repro.runner.notebook_parameters)."""
    from llcore.repro.runner import notebook_parameters
    return int(notebook_parameters(stem, "default", run_name)["n_test"])


def amortization(profile) -> list:
    """(d) from the committed metrics: seconds saved per inverted target and the break-even count."""
    rows = []
    for exp, stem, run, split in (("toy", "00_toy", None, "test_in"),
                                  ("gan_inversion", "01_gan_inversion", "mnist", "test_in"),
                                  ("gan_inversion_faces", "01_gan_inversion", "faces", "test_in"),
                                  ("adversarial_defense", "02_adversarial_defense", None, "standard"),
                                  ("human_pose", "03_human_pose", None, "test_in_objective")):
        path = repo_root() / "results" / profile / exp / "metrics.json"
        if not path.exists():
            continue
        m = json.loads(path.read_text())
        s, train = m["splits"][split], m["theta"]["train_seconds_mean"]
        train = float(train[split] if isinstance(train, dict) else train)       # 02: one θ per backbone
        n = _n_test(stem, run)
        a = amortization_of(s, train, n)          # the same function the notebooks use
        rows.append({"experiment": exp, "split": split, "theta_train_s": train, "targets_per_batch": n,
                     "speedup_seconds": s["speedup_seconds"], "saved_s_per_target": a["seconds_saved_per_target"],
                     "break_even_inversions": a["break_even_inversions"],
                     "source": str(path.relative_to(repo_root()))})
    return rows


def table(rows, cols, fmt=".3g") -> str:
    f = lambda v: "never" if v is None else (format(v, fmt) if isinstance(v, float) else str(v))
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] +
                     ["| " + " | ".join(f(r[c]) for c in cols) + " |" for r in rows])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quick", action="store_true", help="few steps and repeats (a check that it runs)")
    ap.add_argument("--out", help="folder (default results/<profile>/bench)")
    args = ap.parse_args()
    device = pick_device(args.device)
    started, t0 = now(), time.perf_counter()
    steps, repeats = (5, 1) if args.quick else (30, 5)
    per_model = []
    for name in MODELS:
        per_model.append(bench_steps(name, device, steps, repeats))
        r = per_model[-1]
        print(f"{name}: overhead {r['overhead']:+.1%}, landscape step {r['landscape_step_cost']:.2f}x a baseline step")
    training = bench_training(device, [16, 64] if args.quick else [16, 64, 256], 1 if args.quick else 3)
    memory = bench_memory(device)
    fast_paths = bench_fast_paths(device, 3 if args.quick else 11)
    for r in fast_paths:
        print(f"{r['forward_model']}: {r['speedup']:.2f}x, max |output diff| {r['max_output_diff']:.2g}")
    precision = bench_train_precision(device, 1 if args.quick else 3, steps=2 if args.quick else 20)
    for r in precision:
        print(f"{r['forward_model']}: a θ round with F in bf16 {r['speedup']:.2f}x cheaper than float32")
    amort = amortization(args.profile)
    result = {"overhead_max": max(r["overhead"] for r in per_model), "overhead_limit": 0.10,
              "per_model": per_model, "training_throughput": training, "amortization": amort, "memory": memory,
              "fast_paths": fast_paths, "train_precision": precision,
              "quick": args.quick, "provenance": provenance([0], started, time.perf_counter() - t0, device)}
    out = Path(args.out) if args.out else repo_root() / "results" / args.profile / "bench"
    atomic_write_json(out / "metrics.json", result)
    md = [f"# Benchmark: llcore {llcore.__version__}, {result['provenance']['device']}, {started}"
          + (" (QUICK: not numbers to quote)" if args.quick else ""),
          f"\n## (a, c) Inversion loop per forward model: {steps} steps, median of {repeats} interleaved repeats (overhead: median of the paired ratios)\n",
          table(per_model, ["forward_model", "batch", "optimizer", "bare_s", "llcore_s", "overhead",
                            "baseline_s_per_step", "landscape_s_per_step", "landscape_step_cost"]),
          "\n## (b) θ-training throughput, MNIST GAN, T = K = 20, θ 1024×3\n",
          table(training, ["batch", "e_step_steps_per_s", "m_step_updates_per_s", "e_step_targets_steps_per_s", "round_s"]),
          "\n## (d) Amortization, from the committed metrics (test_in; defense: robust accuracy on the standard backbone; pose: its objective)\n",
          table(amort, ["experiment", "theta_train_s", "targets_per_batch", "speedup_seconds", "saved_s_per_target",
                        "break_even_inversions", "source"]),
          "\n## (e) Peak memory, each case in a fresh process\n",
          table(memory, ["case", "model", "peak_mib", "measure"]),
          "\n## (f) Fast paths: forward + backward seconds, fast form vs the form it replaces, median of interleaved repeats\n",
          table(fast_paths, ["forward_model", "batch", "reference_s", "fast_s", "speedup", "max_output_diff",
                             "max_grad_diff", "max_grad"]),
          "\n## (g) θ-training round with F in float32 and bf16 (TrainConfig.train_autocast), median of interleaved repeats\n",
          table(precision, ["forward_model", "batch", "float32_round_s", "bf16_round_s", "speedup"])]
    atomic_write_text(out / "bench.md", "\n".join(md) + "\n")
    print(f"wrote {out / 'metrics.json'}; worst overhead {result['overhead_max']:+.1%}")


if __name__ == "__main__":
    main()
