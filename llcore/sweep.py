"""Learning-rate sweeps, chosen on held-out validation targets (never on test targets).

Each candidate lr runs the inversion loop on the validation targets; the score is, by default, the
area under the log-objective curve,

    score(lr) = mean_{t=1..S} log mean_b L_t,b(lr)

which rewards being low early *and* late (criterion "final" scores only the last step). A
non-finite run scores +inf. The same helper tunes every method, so each gets its own sweep.

Two guards keep a sweep from fooling its user:
- unstable runs are not chosen (reject_unstable): a curve that ends more than half-way back from its best
  value towards its start, (L_S − min L) > ½ (L_0 − min L), diverged or oscillated, whatever its area;
- a best lr at the edge of the grid is suspicious (the optimum may lie outside): with extend = k the grid grows
  geometrically past that edge (same ratio as its last two values) up to k times until the best lr is inside;
  if it is still at the edge, a warning says so and the rows record it (`at_edge`).
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from .inversion import invert
from .mapping import Mapping
from .optim import InnerOptimizer
from .problem import Problem

CRITERIA = ("auc", "final")


def score_curve(curve: Tensor, criterion: str = "auc") -> float:
    """The sweep score of a mean objective curve (S+1,), lower is better: criterion "auc" (mean log objective over
    steps 1..S) or "final" (the last value); +inf for a non-finite curve."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown sweep criterion {criterion!r}; choose one of {list(CRITERIA)}")
    c = curve.double()
    if not torch.isfinite(c).all():
        return math.inf
    return float(c[1:].clamp_min(1e-30).log().mean()) if criterion == "auc" else float(c[-1])


def is_stable(curve: Tensor) -> bool:
    """False when a mean objective curve (S+1,) is non-finite or ends more than half-way back from its best
    value towards its start (diverged or oscillating)."""
    c = curve.double()
    if not torch.isfinite(c).all():
        return False
    best = float(c.min())
    return float(c[-1]) - best <= 0.5 * (float(c[0]) - best)


def sweep_lr(problem: Problem, y_val: Tensor, lrs: Sequence[float], mapping: Optional[Mapping] = None,
             optimizer: Union[str, InnerOptimizer] = "adam", steps: int = 200, criterion: str = "auc", seed: int = 0,
             x0: Optional[Tensor] = None, reject_unstable: bool = True, extend: int = 2) -> tuple[float, list[dict]]:
    """Return (best lr, one row per lr tried: lr, score, final objective, stable, added (grown past the grid),
    at_edge (the chosen lr is the grid's first or last)).

    problem, y_val (B, *y_shape): the problem and its validation targets; lrs: the grid, in increasing order;
    mapping: θ (None: descent in X); optimizer: "adam", "sgd" or "sign", or an InnerOptimizer whose other settings
    (e.g. Adam's betas) are kept while its lr takes each grid value; steps: the budget of each run;
    criterion: "auc" or "final" (score_curve); seed: draws the start; x0: the method's own starting point
    (B, *x_shape), default the problem's; reject_unstable, extend: the guards of the module docstring."""
    if not lrs:
        raise ValueError("sweep_lr needs at least one learning rate")
    grid = sorted(float(lr) for lr in lrs)
    rows: list[dict] = []

    def run(lr: float, added: bool) -> None:
        opt = dataclasses.replace(optimizer, lr=lr) if isinstance(optimizer, InnerOptimizer) else optimizer
        rec = invert(problem, y_val, mapping, opt, lr, steps, x0=x0, generator=torch.Generator().manual_seed(seed))
        curve = rec.curve()
        rows.append({"lr": lr, "score": score_curve(curve, criterion), "final": float(curve[-1]),
                     "stable": is_stable(curve), "added": added})

    def best() -> dict:
        ok = [r for r in rows if r["stable"]] if reject_unstable else rows
        return min(ok or rows, key=lambda r: r["score"])

    for lr in grid:
        run(lr, False)
    for _ in range(extend if len(grid) > 1 else 0):
        tried = sorted(r["lr"] for r in rows)
        b = best()["lr"]
        if b == tried[-1]:
            run(tried[-1] * tried[-1] / tried[-2], True)
        elif b == tried[0]:
            run(tried[0] * tried[0] / tried[1], True)
        else:
            break
    chosen = best()
    if not math.isfinite(chosen["score"]) or (reject_unstable and not chosen["stable"]):
        raise FloatingPointError(f"every learning rate in {sorted(r['lr'] for r in rows)} diverged or oscillated "
                                 f"on the validation targets")
    tried = sorted(r["lr"] for r in rows)
    edge = len(tried) > 1 and chosen["lr"] in (tried[0], tried[-1])
    for r in rows:
        r["at_edge"] = edge and r is chosen
    if edge:
        warnings.warn(f"the best learning rate {chosen['lr']:g} is at the edge of the grid {tried}: the optimum may "
                      f"lie outside it (extend={extend} grid steps were tried); widen the grid", stacklevel=2)
    rows.sort(key=lambda r: r["lr"])
    return chosen["lr"], rows
