"""Learning-rate sweeps, chosen on held-out validation targets (never on test targets).

Each candidate lr runs the inversion loop on the validation targets; the score is, by default, the
area under the log-objective curve,

    score(lr) = mean_{t=1..S} log mean_b L_t,b(lr)

which rewards being low early *and* late (criterion "final" scores only the last step). A
non-finite run scores +inf. The same helper tunes every method, so each gets its own sweep.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import Tensor

from .inversion import invert
from .mapping import Mapping
from .problem import Problem

CRITERIA = ("auc", "final")


def score_curve(curve: Tensor, criterion: str = "auc") -> float:
    if criterion not in CRITERIA:
        raise ValueError(f"unknown sweep criterion {criterion!r}; choose one of {list(CRITERIA)}")
    c = curve.double()
    if not torch.isfinite(c).all():
        return math.inf
    return float(c[1:].clamp_min(1e-30).log().mean()) if criterion == "auc" else float(c[-1])


def sweep_lr(problem: Problem, y_val: Tensor, lrs: Sequence[float], mapping: Optional[Mapping] = None,
             optimizer: str = "adam", steps: int = 200, criterion: str = "auc", seed: int = 0,
             x0: Optional[Tensor] = None) -> tuple[float, list[dict]]:
    """Return (best lr, one row per lr with its score and its objective at the last step).
    x0: the method's own starting point (B, *x_shape); default the problem's, drawn with `seed`."""
    if not lrs:
        raise ValueError("sweep_lr needs at least one learning rate")
    rows = []
    for lr in lrs:
        rec = invert(problem, y_val, mapping, optimizer, lr, steps, x0=x0, generator=torch.Generator().manual_seed(seed))
        curve = rec.curve()
        rows.append({"lr": float(lr), "score": score_curve(curve, criterion), "final": float(curve[-1])})
    best = min(rows, key=lambda r: r["score"])
    if not math.isfinite(best["score"]):
        raise FloatingPointError(f"every learning rate in {list(lrs)} diverged on the validation targets")
    return best["lr"], rows
