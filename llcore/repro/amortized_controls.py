"""Landscape against and with an amortized start, as an experiment reports it (metrics.json `amortized`; claims 12
and 13).

An amortized start E: y → x (llcore.Regressor) is trained per seed on θ's own training targets by the problem's own
objective (llcore.train_amortized, cached like θ); its training seconds and evaluations of F are recorded, since
they count in a break-even like θ's. The five methods of llcore.compare_amortized (landscape, landscape then X,
landscape from the lifted E(y), the strongest descent in X, the strongest descent in X from E(y)) are searched once,
on the validation targets with the first seed's θ and E, over the controls' optimizer families and grid for step 10
and around each family's step-10 lr for the budget (as the controls search it; searches the controls already made
are reused), then applied to every split and seed. Per split and step, each method's values pooled over seeds and
targets: mean, median, quartiles, the spread of the per-seed means, seconds, and the paired per-target ratio to the
stronger alternative on validation (strongest_x or amortized_then_x; < 1: the method is better) with its bootstrap
interval.

    section = amortized_section(problem, y_train, y_val, splits, thetas, seeds, steps, kind, key, families, grid)
    run.table(amortized_table(section), "amortized")
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
from torch import Tensor

from .. import metrics
from ..amortized import Regressor, as_start, train_amortized
from ..compare import WIDE_GRID
from ..compare_amortized import AMORTIZED_METHODS, TINY, amortized_plan
from ..problem import Problem
from ..seeding import set_seed
from .cache import cached

REGRESSOR = dict(width=512, depth=3, steps=2000, lr=1e-3, batch_size=64)     # E's defaults; a notebook may override


def trained_regressor(problem: Problem, y_train: Tensor, seed: int, kind: str, key: dict, width: int, depth: int,
                      steps: int, lr: float, batch_size: int) -> tuple[Regressor, dict]:
    """E = Regressor(y_shape, x_shape, width, depth), seeded, trained by train_amortized on y_train (N, *y_shape)
    and cached under `<kind>_regressor` and (key, its settings, seed): (E in eval mode on y_train's device, its
    artifact: state, history, seconds, f_evaluations)."""
    config = {"problem": key, "width": width, "depth": depth, "steps": steps, "lr": lr, "batch_size": batch_size,
              "seed": seed}

    def make() -> Regressor:
        set_seed(seed)
        return Regressor(problem.y_shape, problem.x_shape, width, depth).to(y_train.device)

    def build() -> dict:
        return train_amortized(problem, y_train, make(), steps, lr, batch_size, seed, progress=True)

    art = cached(f"{kind}_regressor", config, build)
    net = make()
    net.load_state_dict(art["state"])
    return net.eval(), art


def pooled(per_seed: dict, n: int, alternative: str, level: float, seed: int) -> dict:
    """{method: numbers} at step n from {seed: plan.apply(...)}: values pooled over seeds and targets, and the paired
    ratio to `alternative` over every (seed, target)."""
    out = {}
    alt = np.concatenate([per_seed[s][n][alternative].per_target for s in per_seed])
    for name in AMORTIZED_METHODS:
        v = np.concatenate([per_seed[s][n][name].per_target for s in per_seed])
        ratio = np.maximum(v, TINY) / np.maximum(alt, TINY)
        seed_means = [float(per_seed[s][n][name].mean) for s in per_seed]
        out[name] = {"mean": float(v.mean()), "median": float(np.median(v)),
                     "quartiles": [float(q) for q in np.quantile(v, (0.25, 0.75))],
                     "spread": float(np.std(seed_means, ddof=1)) if len(seed_means) > 1 else 0.0,
                     "seconds": float(np.mean([per_seed[s][n][name].seconds for s in per_seed])),
                     "versus": {"against": alternative, "median": float(np.median(ratio)),
                                "interval": metrics.bootstrap_interval(ratio, np.median, level, seed=seed),
                                "fraction_better": float((ratio < 1).mean())}}
    return out


def amortized_section(problem: Problem, y_train: Tensor, y_val: Tensor, splits: dict[str, Callable[[int], Tensor]],
                      thetas: dict, seeds: Sequence[int], steps: Sequence[int], kind: str, key: dict,
                      families: Sequence, grid: Sequence[float] = (), starts: Optional[dict] = None,
                      which: str = "loss", regressor: Optional[dict] = None, level: float = 0.95,
                      narrow: Optional[float] = 3.0, controls=None, amortized: Optional[Callable] = None) -> dict:
    """The metrics.json section `amortized` (module docstring). splits: name -> seed -> test targets; thetas:
    seed -> θ; steps: the steps compared (10 and the budget); kind, key: the cache kind prefix and the problem's key;
    families, grid: the controls' (grid joined with WIDE_GRID's decades); starts: the X descent's start candidates
    {label: None or (seed, targets) -> x_0} (default the problem's x_0), bound to the first seed; which: "loss" or
    "metric"; regressor: overrides of REGRESSOR; narrow: the budget's searches around each family's step-10 lr,
    ×/÷ narrow (compare_amortized.amortized_plan; None: the whole grid at every step); controls: the notebook's
    llcore.repro.controls.Controls: where its families are `families`, its three searches (strongest X at 10 and
    the budget, landscape at 10) are reused, not repeated, and its starts are the X descent's (`starts` ignored);
    amortized: seed -> (E's start function, {train_seconds, f_evaluations, ...}) of an amortized start the notebook
    already has (e.g. 01's encoder), instead of training a regressor."""
    reg = {**REGRESSOR, **(regressor or {})}
    if amortized is None:
        nets = {s: trained_regressor(problem, y_train, s, kind, key, **reg) for s in seeds}
        e_of = {s: (as_start(net), {**reg, "train_seconds": float(art["seconds"]),
                                    "f_evaluations": int(art["f_evaluations"])}) for s, (net, art) in nets.items()}
    else:
        e_of = {s: amortized(s) for s in seeds}
    s0 = seeds[0]
    reused = controls.searched() if controls is not None and tuple(controls.families) == tuple(families) else {}
    if reused:
        starts = controls.starts
    bound = None if starts is None else {label: None if f is None else (lambda y, f=f: f(s0, y))
                                         for label, f in starts.items()}
    grid = tuple(sorted(set(WIDE_GRID) | {float(g) for g in grid}))
    plan = amortized_plan(problem, y_val, thetas[s0], e_of[s0][0], tuple(int(n) for n in steps),
                          families=families, grid=grid, starts=bound, which=which, seed=s0, level=level,
                          narrow=narrow, searched=reused)
    section = {"steps": [int(n) for n in steps], "which": which, "searched_on": f"validation targets, seed {s0}",
               "reused_from_controls": sorted(f"{m} at {n}" for m, n in reused),
               "regressor": {**e_of[s0][1], "train_seconds": [float(e_of[s][1]["train_seconds"]) for s in seeds]},
               "alternative": {str(n): p.alternative for n, p in plan.steps.items()},
               "settings": {str(n): p.settings() for n, p in plan.steps.items()}, "splits": {}}
    for split, targets in splits.items():
        per_seed = {s: plan.apply(problem, targets(s), thetas[s], e_of[s][0]) for s in seeds}
        section["splits"][split] = {str(n): pooled(per_seed, n, p.alternative, level, s0)
                                    for n, p in plan.steps.items()}
    return section


def amortized_table(section: dict) -> pd.DataFrame:
    """One row per split, step and method: its settings, mean and median at that step, and the paired ratio to the
    stronger alternative (median [interval], fraction of targets better)."""
    rows = []
    for split, by_step in section["splits"].items():
        for n, by_method in by_step.items():
            for name, o in by_method.items():
                s, v = section["settings"][n][name], o["versus"]
                how = f"{s['family']}, lr {s['lr']:.3g}, {s['start']}"
                if s.get("k") is not None:
                    how += f"; {s['k']} steps in Z, then " + (
                        "nothing" if s.get("x_family") is None else f"{s['x_family']}, lr {s['x_lr']:.3g} in X")
                rows.append({"split": split, "step": int(n), "method": name, "settings": how, "mean": o["mean"],
                             "median": o["median"], f"/ {v['against']} (median)": v["median"],
                             "interval": f"[{v['interval'][0]:.3g}, {v['interval'][1]:.3g}]",
                             "targets better": v["fraction_better"]})
    return pd.DataFrame(rows)


def plot_amortized(section: dict, path, ylabel: str, title: str = ""):
    """The section's figure: per split, each method's median (quartile bars) at 10 steps and at the budget, log
    scale (saved to path; returns it)."""
    import matplotlib.pyplot as plt
    splits = list(section["splits"])
    fig, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 4.2), squeeze=False)
    xs = np.arange(len(AMORTIZED_METHODS))
    for ax, split in zip(axes[0], splits):
        for j, (n, by_method) in enumerate(section["splits"][split].items()):
            med = np.array([by_method[m]["median"] for m in AMORTIZED_METHODS])
            q = np.array([by_method[m]["quartiles"] for m in AMORTIZED_METHODS])
            ax.errorbar(xs + 0.15 * (2 * j - 1), med, yerr=[med - q[:, 0], q[:, 1] - med], fmt="os"[j % 2],
                        capsize=3, label=f"at {n} steps")
        ax.set_xticks(xs, [m.replace("_", " ") for m in AMORTIZED_METHODS], rotation=25, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_title(split)
        ax.set_ylabel(f"{ylabel} (median, quartiles)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Landscape against and with an amortized start E(y), each searched on validation")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def show_amortized(run, section: dict, measure: str, n_test: int) -> pd.DataFrame:
    """Write the section's table (`amortized`) and figure (figures/amortized.png) for a notebook's run and show the
    figure; `measure` names what the section compares (e.g. "pixel MSE"), n_test the targets per split and seed."""
    from .notebook import show_image
    table = run.table(amortized_table(section), "amortized",
                      note=f"{measure} over {n_test} targets per split × seeds {run.seeds}; settings searched on "
                           f"{section['searched_on']}; ratio: per target, to the alternative (< 1: better).")
    show_image(plot_amortized(section, run.out / "figures" / "amortized.png", measure))
    return table
