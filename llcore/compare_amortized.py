"""Landscape against and with an amortized start E(y) (llcore.amortized): five methods, each searched on validation
targets the way llcore.compare searches the strongest descent in X, then applied to any test targets.

    landscape                 descent in Z through θ from θ's start (as fair_comparison's landscape);
    landscape_then_x          k steps in Z, then descent in X (invert's refine_in_x): k = round(f·N) for f in k_grid,
                              the Z part landscape's Choice (searched among the step rules when that is L-BFGS), the
                              X part's family (step rules only) and lr by `strongest` in X from x_k = θ(z_k) for N − k
                              steps, which is the same descent; k = N is plain landscape;
    landscape_from_amortized  descent in Z from the exact lift of E(y) (amortized.ExactLift) through
                              `theta_amortized` (default θ; e.g. a θ trained with Trainer(start=amortized));
    strongest_x               descent in X from `starts` (default the problem's x_0);
    amortized_then_x          descent in X from E(y).

Each is read against the better of the last two on validation (the strongest alternative a user would pick) by the
per-target ratio of the value at N: median, bootstrap interval, fraction of targets better.

    plan = amortized_plan(problem, y_val, theta, E, steps=(10, 200))     # the searches, on validation
    outcomes = plan.apply(problem, y_test, theta, E)                      # {N: {method: MethodOutcome}}
    result = amortized_comparison(problem, y_val, y_test, theta, E)       # both at once

A plan chosen with one seed's θ and E applies to another seed's (the notebooks search once, on their first seed).
Every method has N steps (evaluations of F); E(y) and the lift cost no evaluation of F and are in `seconds`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from . import metrics
from .amortized import ExactLift
from .compare import FAMILIES, WIDE_GRID, Choice, Family, Grid, Start, around, run, strongest
from .inversion import Record, RefineInX, invert
from .mapping import Mapping
from .problem import Problem

AMORTIZED_METHODS = ("landscape", "landscape_then_x", "landscape_from_amortized", "strongest_x", "amortized_then_x")
K_GRID = (0.0, 0.25, 0.5, 1.0)      # landscape_then_x: its steps in Z, k = round(fraction · N); 1.0 is plain landscape
TINY = 1e-30                        # floor of both values in the paired ratios (an exact solution has objective 0)


@dataclass
class MethodOutcome:
    """One method at one step N. settings: chosen on validation, {family, lr, start, k, score (its mean validation
    objective at N)}, landscape_then_x adding x_family and x_lr (None where k = N); per_target: the test value at
    step N (B,); mean, median, quartiles (p25, p75) of it; seconds: wall seconds of the test run, its start included
    (E(y), the exact lift, the steps in Z); record: the test Record; versus: the paired comparison with the
    strongest alternative: against, median of the per-target ratio (this / alternative, < 1: this method is
    better), its bootstrap interval, fraction_better (ratio < 1)."""
    settings: dict
    per_target: np.ndarray
    mean: float
    median: float
    quartiles: tuple
    seconds: float
    record: Record
    versus: dict = field(default_factory=dict)


@dataclass
class StepPlan:
    """The Choices of one step N: landscape (`land`), its Z part for refinement (`zc`) with k and the X part (`xc`,
    None when k = N) and their validation `score`, the lifted-start landscape (`amort`), the strongest descent in X
    (`sx`) and from E(y) (`ax`), and the stronger of the last two on validation (`alternative`)."""
    land: Choice
    zc: Choice
    k: int
    xc: Optional[Choice]
    score: float
    amort: Choice
    sx: Choice
    ax: Choice

    @property
    def alternative(self) -> str:
        return "strongest_x" if self.sx.score <= self.ax.score else "amortized_then_x"

    def settings(self) -> dict:
        """{method: its settings} (MethodOutcome.settings)."""
        return {"landscape": _settings(self.land),
                "landscape_then_x": _settings(self.zc, k=self.k, score=self.score,
                                              x_family=self.xc and self.xc.family.label, x_lr=self.xc and self.xc.lr),
                "landscape_from_amortized": _settings(self.amort), "strongest_x": _settings(self.sx),
                "amortized_then_x": _settings(self.ax)}


def _settings(choice: Choice, **extra) -> dict:
    return {"family": choice.family.label, "lr": choice.lr, "start": choice.start, "k": None, "score": choice.score,
            **extra}


@dataclass
class AmortizedPlan:
    """amortized_plan's result: steps[N] (a StepPlan), every validation run (`rows`, with "method"), and the
    settings the test runs need (`starts` of the X descents, `which`, `seed`, `level`)."""
    steps: dict
    rows: list
    starts: Optional[dict] = None
    which: str = "loss"
    seed: int = 0
    level: float = 0.95

    def apply(self, problem: Problem, y_test: Tensor, theta: Mapping, amortized: Start,
              theta_amortized: Optional[Mapping] = None) -> dict:
        """Run every method of every step on y_test (B, *y_shape) with this θ and E (which may be another seed's
        than the plan's); {N: {method: MethodOutcome}}, each with its paired ratio to the plan's alternative."""
        lifted, z_starts, e_starts = ExactLift(theta_amortized or theta), {"θ's start": None}, {"E(y)": amortized}
        seed, starts = self.seed, self.starts
        outcomes = {}
        for n, p in self.steps.items():
            gen = torch.Generator().manual_seed(seed)
            go = {"landscape": lambda: run(problem, y_test, p.land, n, theta, z_starts, seed),
                  "landscape_then_x": lambda: invert(problem, y_test, theta, p.zc.optimizer, steps=n, generator=gen,
                                                     refine_in_x=RefineInX(p.k, (p.xc or p.zc).optimizer)),
                  "landscape_from_amortized": lambda: run(problem, y_test, p.amort, n, lifted, e_starts, seed),
                  "strongest_x": lambda: run(problem, y_test, p.sx, n, None, starts, seed),
                  "amortized_then_x": lambda: run(problem, y_test, p.ax, n, None, e_starts, seed)}
            settings, outcomes[n] = p.settings(), {}
            for name in AMORTIZED_METHODS:
                start = time.perf_counter()
                record = go[name]()
                seconds = time.perf_counter() - start
                v = (record.loss if self.which == "loss" else record.metric)[n].double().numpy()
                outcomes[n][name] = MethodOutcome(settings[name], v, float(v.mean()), float(np.median(v)),
                                                  tuple(float(q) for q in np.quantile(v, (0.25, 0.75))), seconds,
                                                  record)
            alt = outcomes[n][p.alternative].per_target
            for o in outcomes[n].values():
                ratio = np.maximum(o.per_target, TINY) / np.maximum(alt, TINY)
                o.versus = {"against": p.alternative, "median": float(np.median(ratio)),
                            "interval": metrics.bootstrap_interval(ratio, np.median, self.level, seed=seed),
                            "fraction_better": float((ratio < 1).mean())}
        return outcomes


def amortized_plan(problem: Problem, y_val: Tensor, theta: Mapping, amortized: Start, steps: Sequence[int] = (10,),
                   theta_amortized: Optional[Mapping] = None, families: Sequence[Family] = FAMILIES,
                   grid: Grid = WIDE_GRID, starts: Optional[dict] = None, k_grid: Sequence[float] = K_GRID,
                   which: str = "loss", seed: int = 0, level: float = 0.95,
                   narrow: Optional[float] = None, searched: Optional[dict] = None) -> AmortizedPlan:
    """Search the five methods (module docstring) on the validation targets for each N of `steps`.
    problem: the Problem; y_val: validation targets (B, *y_shape); theta: θ, the mapping of the Z searches;
    amortized: the start function E, targets → x_0 (amortized.as_start(net)); steps: the Ns (ints ≥ 1);
    theta_amortized: the θ of landscape_from_amortized (default `theta`; e.g. one trained with
    Trainer(start=amortized)); families, grid, starts: as in compare.strongest (starts: the X descent's starting
    points, default the problem's x_0); k_grid: landscape_then_x's fractions f of N in Z, k = round(f·N);
    which: report the objective ("loss", what every search minimises) or the problem's "metric" (lower is better)
    at step N; seed: the problem's x_0, the searches and the bootstraps; level: the bootstrap intervals' level;
    narrow: None searches `grid` at every N; a factor f searches only the first (smallest) N over `grid` and every
    later N around each family's best lr there, ×/÷ f (compare.around: 3 runs per family, as the notebooks'
    controls search the budget); searched: {(method, N): (Choice, its strongest rows)} searches already made on the
    same validation targets with the same families (e.g. a notebook's controls), used instead of searching again
    (their Choice's start must be a key of `starts`, or "θ's start" for landscape). Returns an AmortizedPlan;
    raises ValueError for bad steps, k_grid or which, a reused search's unknown start, or no step-rule family."""
    if not steps or any(not isinstance(n, int) or n < 1 for n in steps):
        raise ValueError(f"steps must be ints >= 1, got {steps!r}")
    if not k_grid or any(not 0 <= f <= 1 for f in k_grid):
        raise ValueError(f"k_grid holds fractions of N in [0, 1], got {k_grid!r}")
    if which not in ("loss", "metric") or (which == "metric" and problem.metric is None):
        raise ValueError(f"which must be 'loss' or, for a problem with a metric, 'metric'; got {which!r}")
    step_rules = [f for f in families if f.optimizer != "lbfgs"]
    if not step_rules:
        raise ValueError("landscape_then_x needs a step-rule family (adam, sgd, sign) among `families`")
    lifted, z_starts, e_starts = ExactLift(theta_amortized or theta), {"θ's start": None}, {"E(y)": amortized}
    rows, plans, first = [], {}, {}                 # first: the first N's rows per search, for `narrow`

    def search(method: str, n: int, mapping, fams, start_fns, part: str = "", **tag) -> Choice:
        g = grid if narrow is None or (method, part) not in first else around(first[method, part], narrow)
        if not part and (method, n) in (searched or {}):
            choice, table = searched[method, n]
            labels = list(start_fns or {"the problem's x₀": None})
            if choice.start not in labels:
                raise ValueError(f"the given {method} search at {n} starts from {choice.start!r}, not one of {labels}")
            table = [{**r, "reused": True} for r in table]
        else:
            choice, table = strongest(problem, y_val, n, mapping, fams, g, start_fns, seed)
        first.setdefault((method, part), table)
        rows.extend({"method": method, **tag, **r} for r in table)
        return choice

    for n in sorted(steps):
        land = search("landscape", n, theta, families, z_starts)
        zc = land if land.family.optimizer != "lbfgs" else search("landscape_then_x", n, theta, step_rules, z_starts,
                                                                  "z")
        candidates = []                                                    # (validation score, k, X Choice)
        for k, f in sorted({round(f * n): f for f in sorted(k_grid)}.items()):
            if k == n:
                candidates.append((zc.score, k, None))
                continue
            after = lambda y, k=k: run(problem, y, zc, k, theta, z_starts, seed).x      # noqa: E731  x_k = θ(z_k)
            xc = search("landscape_then_x", n - k, None, step_rules, {f"θ after {k} steps in Z": after}, f"x {f}",
                        k=k)
            candidates.append((xc.score, k, xc))
        score, k, xc = min(candidates, key=lambda c: c[0])
        plans[n] = StepPlan(land, zc, k, xc, score, search("landscape_from_amortized", n, lifted, families, e_starts),
                            search("strongest_x", n, None, families, starts),
                            search("amortized_then_x", n, None, families, e_starts))
    return AmortizedPlan(plans, rows, starts, which, seed, level)


@dataclass
class AmortizedComparison:
    """amortized_comparison's result: outcomes[N][method] (a MethodOutcome), alternative[N] (the strongest
    alternative, "strongest_x" or "amortized_then_x", whichever scored better on validation) and every validation
    run (`rows`, with "method")."""
    outcomes: dict
    alternative: dict
    rows: list = field(default_factory=list)

    def __str__(self) -> str:
        out = []
        for n, by_method in self.outcomes.items():
            for name, o in by_method.items():
                v, s = o.versus, o.settings
                out.append(f"N={n} {name}: median {o.median:.4g} (p25 {o.quartiles[0]:.4g}, p75 {o.quartiles[1]:.4g}), "
                           f"mean {o.mean:.4g}; / {v['against']}: median {v['median']:.3g} [{v['interval'][0]:.3g}, "
                           f"{v['interval'][1]:.3g}]; {s['family']}, lr {s['lr']:.3g}, start {s['start']}"
                           + ("" if s["k"] is None else f", k {s['k']}, then " + (
                               "nothing (all in Z)" if s["x_family"] is None else f"{s['x_family']}, lr {s['x_lr']:.3g}")))
        return "\n".join(out)


def amortized_comparison(problem: Problem, y_val: Tensor, y_test: Tensor, theta: Mapping, amortized: Start,
                         steps: Sequence[int] = (10,), theta_amortized: Optional[Mapping] = None,
                         families: Sequence[Family] = FAMILIES, grid: Grid = WIDE_GRID, starts: Optional[dict] = None,
                         k_grid: Sequence[float] = K_GRID, which: str = "loss", seed: int = 0,
                         level: float = 0.95, narrow: Optional[float] = None,
                         searched: Optional[dict] = None) -> AmortizedComparison:
    """amortized_plan on the validation targets, then AmortizedPlan.apply on y_test (B, *y_shape) with the same θ
    and E. problem, y_val, theta, amortized, steps, theta_amortized, families, grid, starts, k_grid, which, seed,
    level, narrow, searched: as in amortized_plan. Returns an AmortizedComparison (outcomes[N][method],
    alternative[N], rows)."""
    plan = amortized_plan(problem, y_val, theta, amortized, steps, theta_amortized, families, grid, starts, k_grid,
                          which, seed, level, narrow, searched)
    outcomes = plan.apply(problem, y_test, theta, amortized, theta_amortized)
    return AmortizedComparison(outcomes, {n: p.alternative for n, p in plan.steps.items()}, plan.rows)
