"""The two controls every experiment reports beside its same-family baseline (docs/results.md, claims 9 and 10).

A verdict "landscape is faster" depends on what it is compared with, so each experiment also evaluates:

- **the strongest descent in X** a user could pick, searched on the validation targets (never the test targets)
  by the engine's fair comparison (`llcore.compare.strongest`) over optimizer families (`FAMILIES`: Adam, Adam with
  less or no momentum, plain gradient descent, and per-target L-BFGS where the notebook asks for it, `families`),
  learning rates and starting points, and chosen *for the step compared*: `strongest_x_10` minimises the validation objective at
  step 10 (runs of 10 steps over a grid of decades, `WIDE_GRID`, joined with the notebook's grid, since families
  differ in their lr scale; it is evaluated on the test targets up to `SHORT_HORIZON` steps), `strongest_x` the
  objective at the budget (runs of the whole budget from the baseline's validated start, each family's lr searched
  around its step-10 best, ×/÷ 3, and the baseline's own lr; the sweep's guard grows a grid past its edge);
- **landscape given the same search** for step 10 (`landscape_10`: families × lrs in Z from its own start), so
  neither side of the step-10 comparison gets a search the other lacks;
- **`theta_start`**: the baseline's optimizer in X started from θ(z₀), landscape's own starting point, with its own
  lr sweep: what remains of landscape's lead once descent in X is given the learned start.

A choice identical to a method already evaluated (same family, lr, start, θ) is not run twice: `Controls.aliases`
names the method whose curves it shares (`Comparison.alias`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import pandas as pd
import torch
from torch import Tensor

from .. import compare
from ..compare import Family, around
from ..inversion import starting_point
from ..optim import InnerOptimizer
from ..problem import Problem
from ..sweep import sweep_lr
from .experiment import Method

SMALL_STEP = 10          # the step of the claims' small-budget comparison (claims.SMALL_BUDGET is this)
NAMES = ("strongest_x_10", "strongest_x", "landscape_10", "theta_start")   # the controls' method names
SHORT_HORIZON = 20       # test steps of the controls chosen for step SMALL_STEP


FAMILIES = compare.FIRST_ORDER           # the controls' families without L-BFGS; families(True) adds it


def families(lbfgs: bool) -> tuple:
    """The controls' optimizer families: the first-order ones, and per-target L-BFGS when `lbfgs` (a notebook
    parameter: L-BFGS runs one target at a time, B single-target passes of F per step, so it costs most on big F)."""
    return compare.FAMILIES if lbfgs else compare.FIRST_ORDER


def family_of(method: Method) -> str:
    """The FAMILIES label of a method's optimizer (or a description when it is none of them)."""
    default = InnerOptimizer().betas
    for f in compare.FAMILIES:
        if f.optimizer == method.optimizer and tuple(f.betas or default) == tuple(method.betas or default):
            return f.label
    return f"{method.optimizer} {method.betas or ''}".strip()


@dataclass
class Controls:
    """What `run_controls` chose: the methods to evaluate, their lrs, the aliases, the validation table and a summary
    for metrics.json (`choices`: {control: {family, lr, start, criterion}})."""
    methods: list
    lrs: dict
    aliases: dict                      # control name -> the evaluated method it equals
    table: pd.DataFrame
    choices: dict = field(default_factory=dict)
    starts: dict = field(default_factory=dict)       # every start label the searches used -> x0 fn (seed, y) or None
    families: tuple = ()
    budget: int = 0

    def searched(self) -> dict:
        """The engine's view of the three searches, for llcore.compare_amortized (`searched`):
        {("strongest_x", SMALL_STEP), ("strongest_x", budget), ("landscape", SMALL_STEP)} -> (Choice, rows)."""
        out, rows = {}, self.table.to_dict("records")
        for name, method, steps in (("strongest_x_10", "strongest_x", SMALL_STEP),
                                    ("strongest_x", "strongest_x", self.budget),
                                    ("landscape_10", "landscape", SMALL_STEP)):
            mine, c = [r for r in rows if r["method"] == name], self.choices[name]
            fam = next(f for f in self.families if f.label == c["family"])
            score = next(r["score"] for r in mine if r["chosen"])
            out[method, steps] = (compare.Choice(fam, c["lr"], c["start"], steps, float(score)), mine)
        return out


WIDE_GRID = compare.WIDE_GRID           # 1e-2 … 1e2 (grown past an edge): families differ by decades


def search(problem: Problem, y_val: Tensor, name: str, grid_of: Callable[[Family], Sequence[float]], steps: int,
           seed: int, starts: dict, mapping: Callable[[int], object] = lambda s: None,
           families: Sequence[Family] = FAMILIES, horizon: Optional[int] = None) -> tuple[Method, dict, list]:
    """The engine's search (llcore.compare.strongest) with seed `seed`'s θ, as a notebook Method: the best
    (family, start, lr) on the validation targets y_val (B, *y_shape) by the objective at step `steps`.
    starts: {label: x0 function (seed, targets) -> x_0, or None for the problem's own}; mapping: seed -> θ or None.
    Returns (the Method, evaluated for `horizon` steps on test (None: the budget), its choice, the sweep rows)."""
    engine_starts = {label: None if x0 is None else (lambda y, x0=x0: x0(seed, y)) for label, x0 in starts.items()}
    try:
        choice, rows = compare.strongest(problem, y_val, steps, mapping(seed), families, grid_of, engine_starts, seed)
    except FloatingPointError as err:
        raise FloatingPointError(f"{name}: {err}") from err
    fam = choice.family
    method = Method(name, mapping=mapping, lr_grid=[choice.lr], optimizer=fam.optimizer, x0=starts[choice.start],
                    betas=fam.betas, steps=horizon)
    return method, {"family": fam.label, "start": choice.start, "lr": choice.lr,
                    "criterion": f"objective at step {steps}"}, [{"method": name, **r} for r in rows]


def theta_start(problem: Problem, theta: Callable[[int], object], baseline: Method,
                name: str = "theta_start") -> Method:
    """Descent in X with the baseline's optimizer, started at θ(z₀): landscape's own start, z₀ drawn as `compare`
    draws it for landscape (the problem's x_0 with the seed's generator, lifted into Z)."""
    def x0(seed: int, y: Tensor) -> Tensor:
        th = theta(seed)
        z0 = starting_point(problem, len(y), th, generator=torch.Generator().manual_seed(seed))
        if th is None:                      # no θ: its start is the problem's own x_0
            return z0
        with torch.no_grad():
            return th(z0).reshape(len(y), *problem.x_shape).detach()
    return Method(name, lr_grid=baseline.lr_grid, optimizer=baseline.optimizer, betas=baseline.betas, x0=x0)


def same_run(a: Method, b: Method, lr_a: float, lr_b: float) -> bool:
    """Whether two methods would run identically (θ compared by identity of the seed function's result at seed 0)."""
    return (a.optimizer == b.optimizer and tuple(a.betas or ()) == tuple(b.betas or ()) and lr_a == lr_b
            and a.x0 is b.x0 and a.mapping(0) is b.mapping(0))


def run_controls(problem: Problem, y_val: Tensor, baseline: Method, landscape: Method, lrs: dict, budget: int,
                 seed: int, lr_grid: Sequence[float], starts: Optional[dict] = None,
                 families: Sequence[Family] = FAMILIES, lr_criterion: str = "auc") -> Controls:
    """Choose the controls on the validation targets y_val with seed `seed`'s θ.

    baseline, landscape: the experiment's own methods (landscape's `mapping` gives θ per seed); lrs: their chosen lrs;
    starts: the baseline's start candidates {label: x0 fn or None} (default: the baseline's own start only);
    lr_criterion: the sweep criterion of theta_start's lr (the one the baseline's lr was chosen with)."""
    base_start = {"the baseline's start": baseline.x0}
    starts = dict(starts) if starts else base_start
    wide = lambda fam: sorted(set(WIDE_GRID) | set(lr_grid))                                  # noqa: E731
    short, c10, rows10 = search(problem, y_val, "strongest_x_10", wide, SMALL_STEP, seed, starts,
                                families=families, horizon=SHORT_HORIZON)
    near = around(rows10)
    at_budget = lambda fam: (*near(fam), *(lrs[baseline.name],) * (family_of(baseline) == fam.label))  # noqa: E731
    full, cb, rowsb = search(problem, y_val, "strongest_x", at_budget, budget, seed, base_start, families=families)
    land10, cl, rowsl = search(problem, y_val, "landscape_10", wide, SMALL_STEP, seed, {"θ's start": landscape.x0},
                               mapping=landscape.mapping, families=families, horizon=SHORT_HORIZON)
    ts = theta_start(problem, landscape.mapping, baseline)
    try:
        lr_ts, ts_rows = sweep_lr(problem, y_val, lr_grid, None, ts.inner(lr_grid[0]), budget, lr_criterion, seed,
                                  x0=ts.x0(seed, y_val), reject_unstable=True, extend=2)
    except FloatingPointError:      # nothing in the notebook's grid descends stably from θ(z₀): the decades
        lr_ts, ts_rows = sweep_lr(problem, y_val, wide(None), None, ts.inner(lr_grid[0]), budget, lr_criterion, seed,
                                  x0=ts.x0(seed, y_val), reject_unstable=True, extend=2)
    rows = rows10 + rowsb + rowsl + [{"method": "theta_start", "family": family_of(baseline), "start": "θ(z₀)",
                                      "steps": budget, **r, "chosen": r["lr"] == lr_ts} for r in ts_rows]
    chosen = {"strongest_x_10": c10, "strongest_x": cb, "landscape_10": cl,
              "theta_start": {"family": family_of(baseline), "start": "θ(z₀)", "lr": lr_ts,
                              "criterion": f"sweep score '{lr_criterion}' over {budget} steps"}}
    new_lrs = {"strongest_x_10": c10["lr"], "strongest_x": cb["lr"], "landscape_10": cl["lr"], "theta_start": lr_ts}
    methods, aliases = [], {}
    for m, twin in ((short, baseline), (full, baseline), (land10, landscape), (ts, None)):
        if twin is not None and same_run(m, twin, new_lrs[m.name], lrs[twin.name]):
            aliases[m.name] = twin.name
        else:
            methods.append(m)
    for name, c in chosen.items():
        c["same_as"] = aliases.get(name)
    return Controls(methods, new_lrs, aliases, pd.DataFrame(rows), chosen, {**starts, **base_start}, tuple(families),
                    budget)


def add_aliases(result, controls: Controls) -> None:
    """After `compare`: give every aliased control the curves of the method it equals."""
    for name, twin in controls.aliases.items():
        result.alias(name, twin)


def describe(metrics: dict, split_names: Sequence[str], fmt: str = ".3g") -> list[str]:
    """Markdown sentences for a notebook's conclusion: on each split, landscape against the controls at step
    SMALL_STEP (and the budget), read from the metrics just written."""
    lines, choices = [], metrics.get("controls") or {}
    for k in split_names:
        s = metrics["splits"][k]
        c, budget = s["curves"], str(s["budget_steps"])
        if "strongest_x_10" not in c:
            continue
        small = str(SMALL_STEP) if str(SMALL_STEP) in c["strongest_x_10"] else budget   # a budget below 10 steps
        v = lambda m, t=small: format(c[m][t], fmt)                                  # noqa: E731
        lr = lambda d: format(d["lr"], ".3g") if "lr" in d else "?"                  # noqa: E731
        sx, sb = choices.get("strongest_x_10", {}), choices.get("strongest_x", {})
        sx, sb = sx.get(k, sx) if "lr" not in sx else sx, sb.get(k, sb) if "lr" not in sb else sb   # per split
        mine = "landscape_10" if "landscape_10" in c else "landscape"
        lines.append(
            f"**{k}, controls** (metric {s['metric']}, {'higher' if s['higher_is_better'] else 'lower'} is better): "
            f"at step {small} landscape{' tuned for that step (landscape_10)' if mine != 'landscape' else ''} "
            f"{v(mine)} against the "
            f"strongest descent in X tuned for it (strongest_x_10: {sx.get('family', '?')}, lr {lr(sx)}, "
            f"start {sx.get('start', '?')}) {v('strongest_x_10')}; at the {budget}-step budget landscape "
            f"{v('landscape', budget)} against strongest_x ({sb.get('family', '?')}, lr {lr(sb)}) "
            f"{v('strongest_x', budget)}. Descent in X from θ's start alone (theta_start): {v('theta_start')} at step "
            f"{small} (landscape {v('landscape')}), {v('theta_start', budget)} at the budget.")
    return lines


def plot_controls(result, path, ylabel: str, measure: Optional[str] = None, log: bool = True, title: str = ""):
    """The controls' figure: baseline, landscape and the four controls, metric vs step per split (saved to path)."""
    from .experiment import plot_curves
    return plot_curves(result, path, ylabel, log=log, measure=measure, methods=("baseline", "landscape", *NAMES),
                       title=title or "Landscape against the controls (strongest descent in X; θ's start alone)")
