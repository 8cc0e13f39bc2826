"""Comparing methods fairly, as every experiment notebook does (docs/results.md).

    1. each method gets its own learning-rate sweep on validation targets (sweep.py);
    2. every method runs the same inversion loop with the same budget on the same test targets;
    3. this repeats for each seed (θ, test targets and starting points may depend on the seed);
    4. curves are averaged over targets, then mean and spread over seeds (results.split_summary).

A `Method` says how to get its θ (None: descent in X), its lr grid, and optionally its own starting
point (e.g. an encoder's guess); a split is a function seed -> test targets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..inversion import invert
from ..mapping import Mapping
from ..optim import InnerOptimizer
from ..problem import Problem
from .results import ROBUST, split_summary
from ..sweep import sweep_lr


@dataclass
class Method:
    name: str
    mapping: Callable[[int], Optional[Mapping]] = lambda seed: None      # seed -> θ, or None for X-space descent
    lr_grid: Sequence[float] = (0.01, 0.03, 0.1, 0.3)
    optimizer: str = "adam"
    x0: Optional[Callable[[int, Tensor], Tensor]] = None                  # (seed, targets) -> x_0; default: problem's
    betas: Optional[tuple] = None                                         # Adam's (β₁, β₂); None: the engine's default
    steps: Optional[int] = None                                           # its own horizon on test (≤ budget); None: budget

    def inner(self, lr: float):
        """What `invert`/`sweep_lr` take as the optimizer: its name, or an InnerOptimizer when betas are set."""
        return self.optimizer if self.betas is None else InnerOptimizer(self.optimizer, lr, tuple(self.betas))


@dataclass
class Comparison:
    """Per-seed mean curves and cumulative seconds: curves[split][method] = [array (budget+1,) per seed];
    per_target[split][method] = [array (budget+1, B) per seed], each target's own curve."""
    budget: int
    seeds: list
    lrs: dict
    curves: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    last: dict = field(default_factory=dict)      # (split, method) -> Record of the last seed (for pictures)
    measures: dict = field(default_factory=dict)  # extra measures: name -> {split: {method: [per-seed curve]}}
    per_target: dict = field(default_factory=dict)
    measures_per_target: dict = field(default_factory=dict)   # name -> {split: {method: [per-seed (S+1, B)]}}

    def alias(self, name: str, of: str) -> None:
        """Record method `name` as having run exactly as method `of` (the same optimizer, lr, start and θ): it shares
        `of`'s curves, seconds and per-target curves instead of running again."""
        for table in (self.curves, self.seconds, self.per_target, *self.measures.values(),
                      *self.measures_per_target.values()):
            for per_method in table.values():
                if of in per_method:
                    per_method[name] = per_method[of]
        if of in self.lrs:
            self.lrs[name] = self.lrs[of]

    def summary(self, metric: str, higher_is_better: bool = False, measure: Optional[str] = None,
                robust: Optional[bool] = None) -> dict:
        """The `splits` entry of metrics.json, for the kept curve (with its median and quantile curves over targets)
        or one of the extra measures; robust: split_summary's (default: the reproduction's rule, results.ROBUST)."""
        curves = self.curves if measure is None else self.measures[measure]
        targets = self.per_target if measure is None else self.measures_per_target.get(measure, {})
        return {s: split_summary(curves[s], self.seconds[s], metric, self.budget, higher_is_better,
                                 per_target=targets.get(s) or None, robust=robust)
                for s in curves}


def _start(problem: Problem, method: Method, seed: int, y: Tensor) -> Optional[Tensor]:
    return None if method.x0 is None else method.x0(seed, y).reshape(y.shape[0], *problem.x_shape).cpu()


def choose_lrs(problem: Problem, y_val: Tensor, methods: Sequence[Method], budget: int, seed: int,
               criterion: str = "auc") -> tuple[dict, pd.DataFrame]:
    """Each method's lr, chosen on the validation targets with seed `seed`'s θ; and the sweep table."""
    lrs, rows = {}, []
    for m in methods:
        lrs[m.name], table = sweep_lr(problem, y_val, m.lr_grid, m.mapping(seed), m.inner(m.lr_grid[0]), budget, criterion,
                                      seed, x0=_start(problem, m, seed, y_val), reject_unstable=ROBUST,
                                      extend=2 if ROBUST else 0)
        rows += [{"method": m.name, **r, "chosen": r["lr"] == lrs[m.name]} for r in table]
    return lrs, pd.DataFrame(rows)


def choose_start(problem: Problem, y_val: Tensor, candidates: dict, lr_grid: Sequence[float], budget: int,
                 seed: int, criterion: str = "auc", optimizer: str = "adam") -> tuple[Method, str, pd.DataFrame]:
    """The baseline's starting point, chosen with its lr on the validation targets (X-space descent by `optimizer`).
    candidates: {label: x0 function (seed, targets) -> x_0, or None for the problem's own x_0}.
    Returns (the baseline Method with the chosen start and lr as its only grid value, the label, the sweep table)."""
    tables, best = [], None
    for label, x0 in candidates.items():
        lrs, table = choose_lrs(problem, y_val, [Method("baseline", lr_grid=lr_grid, optimizer=optimizer, x0=x0)],
                                budget, seed, criterion)
        table["start"] = label
        tables.append(table)
        score = float(table[table["chosen"]]["score"].iloc[0])
        if best is None or score < best[0]:
            best = (score, label, Method("baseline", lr_grid=[lrs["baseline"]], optimizer=optimizer, x0=x0))
    return best[2], best[1], pd.concat(tables, ignore_index=True)


def fixed_start(problem: Problem, y: Tensor, steps: int = 200, lr: float = 0.1, seed: int = 0) -> Tensor:
    """The single x that fits the targets y (N, *y_shape) best on average, shape x_shape:

        c* = argmin_c  1/N Σ_n L(F(c), y_n) + R(c),   by Adam from the problem's x_0 (drawn with `seed`).

    A baseline start that is a better *starting image* and nothing more: comparing landscape with Adam from c*
    separates θ's learned start from faster descent. Runs the one inversion loop (`invert`) on a problem whose
    single target is the whole set y."""
    y = problem.check_targets(y)
    n = y.shape[0]

    def mean_loss(pred: Tensor, ys: Tensor) -> Tensor:        # pred (1, ...), ys (1, N, *y_shape) -> (1,)
        return problem.loss(pred.expand(n, *pred.shape[1:]), ys[0]).mean().reshape(1)

    shared = Problem(forward=problem.forward, loss=mean_loss, x_shape=problem.x_shape, init=problem.init,
                     project=problem.project, regularizer=problem.regularizer, name=f"{problem.name} (one x for all)")
    rec = invert(shared, y[None], None, "adam", lr, steps, generator=torch.Generator().manual_seed(seed))
    return rec.x[0].detach()


def compare(problem: Problem, splits: dict[str, Callable[[int], Tensor]], methods: Sequence[Method], lrs: dict,
            budget: int, seeds: Sequence[int], which: str = "loss", snapshot_steps: Sequence[int] = (),
            on_record: Optional[Callable] = None, measures: Optional[dict] = None,
            keep_trajectory: bool = False) -> Comparison:
    """Run every method on every split for every seed; `which` = 'loss' or 'metric' picks the curve kept.
    measures: {name: fn(split, seed, y, record, mapping) -> per-step curve (budget+1,), or per target (budget+1, B)
    (then averaged over targets, the per-target curves kept for medians)}, extra curves per run
    (e.g. an error against ground truth that the objective cannot see; needs keep_trajectory=True to see z_t).
    on_record(split, method, seed, y, record) is called after each run (e.g. to score snapshots)."""
    out = Comparison(budget, list(seeds), dict(lrs))
    measures = measures or {}
    for split in splits:
        out.curves[split] = {m.name: [] for m in methods}
        out.seconds[split] = {m.name: [] for m in methods}
        out.per_target[split] = {m.name: [] for m in methods}
        for name in measures:
            out.measures.setdefault(name, {})[split] = {m.name: [] for m in methods}
    for seed in seeds:
        for split, targets in splits.items():
            y = targets(seed)
            for m in methods:
                mapping = m.mapping(seed)
                horizon = budget if m.steps is None else min(int(m.steps), budget)
                rec = invert(problem, y, mapping, m.inner(lrs[m.name]), lrs[m.name], horizon,
                             x0=_start(problem, m, seed, y), generator=torch.Generator().manual_seed(seed),
                             snapshot_steps=[t for t in snapshot_steps if t <= horizon],
                             keep_trajectory=keep_trajectory)
                out.curves[split][m.name].append(rec.curve(which).numpy())
                per_target = rec.loss if which == "loss" else rec.metric
                out.per_target[split][m.name].append(per_target.detach().cpu().numpy())
                for name, fn in measures.items():
                    value = np.asarray(fn(split, seed, y, rec, mapping))        # (S+1,) or per target (S+1, B)
                    if value.ndim == 2:
                        out.measures_per_target.setdefault(name, {}).setdefault(split, {}).setdefault(
                            m.name, []).append(value)
                        value = value.mean(1)
                    out.measures[name][split][m.name].append(value)
                out.seconds[split][m.name].append(rec.seconds.numpy())
                out.last[(split, m.name)] = rec
                if on_record is not None:
                    on_record(split, m.name, seed, y, rec)
    return out


def curves_table(splits: dict, lrs: dict) -> pd.DataFrame:
    """One row per (split, method): the mean metric at the reported steps and the spread at the budget."""
    rows = []
    for split, s in splits.items():
        b = str(s["budget_steps"])
        for m, c in s["curves"].items():
            rows.append({"split": split, "method": m, "lr": lrs.get(m), **{f"step {t}": v for t, v in c.items()},
                         f"std@{b}": s["spread"][m].get(b)})
    return pd.DataFrame(rows)


def speedup_table(splits: dict) -> pd.DataFrame:
    rows = []
    for split, s in splits.items():
        rows.append({"split": split, "speedup_steps": s["speedup_steps"], "speedup_seconds": s["speedup_seconds"],
                     **{f"speedup_at[{n}]": v for n, v in s["speedup_at"].items()},
                     "capped": s.get("speedup_at_capped", False)})
    return pd.DataFrame(rows)


COLORS = {"baseline": "tab:gray", "landscape": "tab:blue", "random_theta": "tab:orange",
          "encoder_init": "tab:green", "encoder": "tab:green", "landscape_clean_trained": "tab:cyan",
          "no_defense": "black"}
OTHER_COLORS = ["tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:red", "tab:cyan", "gold", "black"]


def draw_bands(ax, curves: dict, lrs: Optional[dict] = None, log: bool = True, first: int = 1) -> None:
    """On one axis: each method's mean curve over seeds from step `first`, with a band = min–max over seeds.
    curves: {method: [per-seed array (budget+1,)]}; log: draw log10 of the values; lrs: {method: lr} for the legend."""
    others = iter(OTHER_COLORS * len(curves))
    for m, per_seed in curves.items():
        a = np.stack(per_seed)
        a = np.log10(np.maximum(a, 1e-12)) if log else a
        t = np.arange(a.shape[1])
        label = f"{m} (lr {lrs[m]:g})" if lrs and m in lrs else m
        line, = ax.plot(t[first:], a.mean(0)[first:], color=COLORS.get(m) or next(others), label=label)
        ax.fill_between(t[first:], a.min(0)[first:], a.max(0)[first:], color=line.get_color(), alpha=0.2)


def plot_grid(rows: dict, path: str | Path, lrs: Optional[dict] = None, log: bool = True, xscale: str = "log",
              first: int = 1, hlines: Optional[dict] = None, title: str = "", xlabel: str = "optimizer steps",
              higher_is_better: bool = False) -> Path:
    """Band plots in a grid: rows = {row ylabel: {panel title: {method: [per-seed curve]}}}, one row of panels per
    entry (every row with the same panels). lrs: {panel title: {method: lr}} for the legends; hlines: {(row ylabel,
    panel title): {label: value}}, dotted reference lines; xscale "log" or "symlog" (from step 0); higher_is_better
    only names the direction on the y axis. Saves the figure to path and returns it."""
    import matplotlib.pyplot as plt
    names = list(rows)
    panels = list(rows[names[0]])
    fig, axes = plt.subplots(len(names), len(panels), figsize=(5.5 * len(panels), 4 * len(names)), squeeze=False,
                             sharey=len(names) == 1, sharex=len(names) > 1)
    for i, row in enumerate(names):
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            draw_bands(ax, rows[row][panel], None if lrs is None else lrs.get(panel, {}), log, first)
            for label, v in ((hlines or {}).get((row, panel)) or {}).items():
                ax.axhline(v, color="black", ls=":", lw=1, label=label)
            if xscale == "symlog":
                ax.set_xscale("symlog", linthresh=1)
            else:
                ax.set_xscale(xscale)
            ax.grid(alpha=0.3)
            ax.set_title(panel, fontsize=9)
            if i == len(names) - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                direction = " (higher is better)" if higher_is_better else ""
                ax.set_ylabel((f"log10 {row}" if log else row) + direction)
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(comparison: Comparison, path: str | Path, ylabel: str, log: bool = True, title: str = "",
                measure: Optional[str] = None, xscale: str = "log", first: int = 1,
                higher_is_better: bool = False, methods: Optional[Sequence[str]] = None,
                exclude: Sequence[str] = ()) -> Path:
    """Metric vs step per split (one panel each), mean over targets, band = min–max over seeds; only `methods`
    (default: all) except `exclude`."""
    curves = comparison.curves if measure is None else comparison.measures[measure]
    keep = lambda per_method: {m: c for m, c in per_method.items()                          # noqa: E731
                               if (methods is None or m in methods) and m not in exclude}
    panels = {f"{split}: band = min–max over seeds {comparison.seeds}": keep(curves[split]) for split in curves}
    return plot_grid({ylabel: panels}, path, lrs={p: comparison.lrs for p in panels}, log=log, xscale=xscale,
                     first=first, title=title, higher_is_better=higher_is_better)


def plot_quantile_bands(per_target: dict, methods: Sequence[str], budget: int, ylabel: str, title: str = "",
                        qs: tuple = (0.25, 0.5, 0.75)):
    """Per-target curves read robustly, one panel per split: the median over all targets of all seeds (solid), the
    qs[0]–qs[2] quantile band, and the mean (dashed), log y, log x from step 1.
    per_target: {split: {method: [per-seed array (budget+1, B)]}}. Returns the figure (not saved)."""
    import matplotlib.pyplot as plt
    from ..metrics import quantile_curves
    splits = list(per_target)
    fig, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 4), squeeze=False, sharey=True)
    t = np.arange(1, budget + 1)
    others = iter(OTHER_COLORS * len(methods))
    colors = {m: COLORS.get(m) or next(others) for m in methods}
    for ax, split in zip(axes[0], splits):
        for m in methods:
            pooled = np.concatenate([np.asarray(a, dtype=np.float64).reshape(len(a), -1)
                                     for a in per_target[split][m]], 1)              # (S+1, all targets), S ≤ budget
            q = quantile_curves(pooled, qs)
            lo, mid, hi = (q[str(x)][1:] for x in qs)
            tm = t[:len(mid)]
            ax.fill_between(tm, lo, hi, color=colors[m], alpha=0.2, lw=0)
            ax.plot(tm, mid, color=colors[m], label=f"{m}: median, {qs[0]:.0%}–{qs[2]:.0%}")
            ax.plot(tm, pooled.mean(1)[1:], color=colors[m], ls="--", lw=1, label=f"{m}: mean")
        ax.set(xscale="log", yscale="log", title=split, xlabel="optimizer steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
