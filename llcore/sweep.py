"""Learning-rate sweeps, chosen on held-out validation targets (never on test targets).

Each candidate lr runs the inversion loop on the validation targets; the score is, by default, the
area under the log-objective curve,

    score(lr) = mean_{t=1..S} log mean_b L_t,b(lr)

which rewards being low early *and* late (criterion "final" scores only the last step; an int N scores the
objective at step N). Because "auc" rewards the whole curve, it may pick an lr that is worse at a given step
than another lr of the grid: to choose the best lr for step N, pass criterion=N (or run steps=N with "final").
A non-finite run scores +inf. The same helper tunes every method, so each gets its own sweep.

Two guards keep a sweep from fooling its user:
- unstable runs are not chosen (reject_unstable): a curve that ends more than half-way back from its best
  value towards its start, (L_S − min L) > ½ (L_0 − min L), diverged or oscillated, whatever its area;
- a best lr at the edge of the grid is suspicious (the optimum may lie outside): with extend = k the grid grows
  geometrically past that edge (same ratio as its last two values) up to k times until the best lr is inside;
  if it is still at the edge, a warning says so and the rows record it (`at_edge`).
A run whose mean curve holds a NaN/Inf is flagged (`nonfinite`) and never chosen, nor does it widen the grid: only
finite (and, with reject_unstable, stable) runs decide. When every run is non-finite the sweep raises
FloatingPointError: at every lr that usually means F itself returns NaN/Inf for some x, which no lr fixes (the
error names the runs that instead rose above their start before overflowing, a too-large lr).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from .inversion import invert
from .mapping import Mapping
from .optim import InnerOptimizer
from .problem import Problem

CRITERIA = ("auc", "final")   # the string criteria; an int N (the objective at step N) is also accepted


def _check_criterion(criterion: Union[str, int], steps: int) -> None:
    """Raise ValueError unless criterion is one of CRITERIA or an int N with 0 <= N <= steps (the curve's last
    step; a curve (S+1,) has steps = S)."""
    if isinstance(criterion, str):
        if criterion not in CRITERIA:
            raise ValueError(f"unknown sweep criterion {criterion!r}; choose one of {list(CRITERIA)} or an int "
                             f"step N (the objective at step N)")
        return
    if isinstance(criterion, bool) or not isinstance(criterion, numbers.Integral):
        raise ValueError(f"sweep criterion must be one of {list(CRITERIA)} or an int step N, got {criterion!r}")
    if not 0 <= int(criterion) <= steps:
        raise ValueError(f"sweep criterion step N={int(criterion)} is outside the run: it must satisfy "
                         f"0 <= N <= steps = {steps}; pass a smaller N or run more steps")


def score_curve(curve: Tensor, criterion: Union[str, int] = "auc") -> float:
    """The sweep score of a mean objective curve (S+1,), lower is better; +inf for a non-finite curve.

    criterion: "auc" (default; mean log objective over steps 1..S, which rewards the whole curve and so may prefer
    an lr that is worse at a given step), "final" (the last value, curve[S]) or an int N with 0 <= N <= S (the
    value at step N, curve[N]: the criterion to pick the best lr for step N). ValueError for any other value."""
    _check_criterion(criterion, curve.shape[0] - 1)
    c = curve.double()
    if not torch.isfinite(c).all():
        return math.inf
    if criterion == "auc":
        return float(c[1:].clamp_min(1e-30).log().mean())
    return float(c[-1]) if criterion == "final" else float(c[int(criterion)])


def is_stable(curve: Tensor) -> bool:
    """False when a mean objective curve (S+1,) is non-finite or ends more than half-way back from its best
    value towards its start (diverged or oscillating)."""
    c = curve.double()
    if not torch.isfinite(c).all():
        return False
    best = float(c.min())
    return float(c[-1]) - best <= 0.5 * (float(c[0]) - best)


def _check_steps(steps) -> None:
    """Raise ValueError unless steps (the budget of each sweep run) is an int >= 1."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"sweep_lr needs steps to be an int >= 1 (the budget of each run), got {steps!r}: "
                         f"with no step taken every lr scores the same")


def _first_nonfinite(curve: Tensor) -> Optional[int]:
    """The first step t at which a curve (S+1,) is NaN/Inf, or None when it is finite throughout."""
    bad = (~torch.isfinite(curve)).nonzero()
    return None if bad.numel() == 0 else int(bad[0, 0])


def _grew_first(curve: Tensor, bad: int) -> bool:
    """Whether a curve (S+1,) that turns NaN/Inf at step `bad` rose above its start just before (an overflow of a
    diverging run, not a NaN of F at a point that descent reached)."""
    return bad > 0 and float(curve[bad - 1]) > float(curve[0])


def _all_nonfinite_error(curves: dict) -> FloatingPointError:
    """The error of a sweep whose every run went NaN/Inf; curves: {lr: its mean objective curve (S+1,)}."""
    first = {lr: _first_nonfinite(c) for lr, c in sorted(curves.items())}
    where = ", ".join(f"{lr:g} (step {t})" for lr, t in first.items())
    grew = [lr for lr, t in first.items() if _grew_first(curves[lr], t)]
    note = (f" The runs at lr {', '.join(f'{lr:g}' for lr in grew)} rose above their start before they did, as a "
            f"diverging run overflows: for those the lr itself is too large." if grew else "")
    return FloatingPointError(
        f"the objective was NaN/Inf on the validation targets for every learning rate tried: {where} (lr, first "
        f"non-finite step of the mean curve). When this happens at every lr, the forward model F itself probably "
        f"returns NaN/Inf for some x (or the loss does for some F(x)): check F, e.g. problem.objective(x, y) on the "
        f"iterates of one run, before changing the lr grid.{note}")


def sweep_lr(problem: Problem, y_val: Tensor, lrs: Sequence[float], mapping: Optional[Mapping] = None,
             optimizer: Union[str, InnerOptimizer] = "adam", steps: int = 200, criterion: Union[str, int] = "auc",
             seed: int = 0, x0: Optional[Tensor] = None, reject_unstable: bool = True,
             extend: int = 2) -> tuple[float, list[dict]]:
    """Return (best lr, one row per lr tried: lr, score, final objective, stable, nonfinite (the mean curve holds a
    NaN/Inf), added (grown past the grid), at_edge (the chosen lr is the grid's first or last)), rows sorted by lr.

    problem, y_val (B, *y_shape): the problem and its validation targets; lrs: the grid, in increasing order;
    mapping: θ (None: descent in X); optimizer: "adam", "sgd" or "sign", or an InnerOptimizer whose other settings
    (e.g. Adam's betas) are kept while its lr takes each grid value; steps: the budget of each run, an int >= 1
    (default 200); criterion: "auc" (default), "final" or an int N with 0 <= N <= steps (score_curve). "auc"
    rewards the whole curve and may pick an lr that is worse at a given step: for the best lr at step N pass
    criterion=N (or steps=N with "final"). seed: draws the start; x0: the method's own starting point (B, *x_shape),
    default the problem's; reject_unstable, extend: the guards of the module docstring (only finite runs, and with
    reject_unstable only stable ones, are chosen or widen the grid).
    Raises ValueError for a bad steps or criterion (before any run), FloatingPointError when every run is NaN/Inf
    (check F) or, with reject_unstable, when every run diverged or oscillated."""
    if not lrs:
        raise ValueError("sweep_lr needs at least one learning rate")
    _check_steps(steps)
    _check_criterion(criterion, steps)
    grid = sorted(float(lr) for lr in lrs)
    rows: list[dict] = []
    curves: dict = {}                      # lr -> its mean objective curve (S+1,), for the all-NaN error

    def run(lr: float, added: bool) -> None:
        opt = dataclasses.replace(optimizer, lr=lr) if isinstance(optimizer, InnerOptimizer) else optimizer
        with warnings.catch_warnings():          # invert's per-target NaN warning: the row's `nonfinite` says it
            warnings.simplefilter("ignore", RuntimeWarning)
            rec = invert(problem, y_val, mapping, opt, lr, steps, x0=x0,
                         generator=torch.Generator().manual_seed(seed))
        curve = rec.curve()
        curves[lr] = curve
        rows.append({"lr": lr, "score": score_curve(curve, criterion), "final": float(curve[-1]),
                     "stable": is_stable(curve), "nonfinite": not bool(torch.isfinite(curve).all()), "added": added})

    def best() -> Optional[dict]:
        finite = [r for r in rows if not r["nonfinite"]]
        ok = [r for r in finite if r["stable"]] if reject_unstable else finite
        return min(ok or finite, key=lambda r: r["score"]) if finite else None

    def edge() -> Optional[dict]:
        """The row that decides the widening: the best finite one; when none is finite but every run overflowed as
        it diverged (rose above its start first), the smallest lr, so the grid grows downward as for any too-large
        grid; never because of a NaN that F returned at a point descent reached."""
        b = best()
        if b is None and all(_grew_first(curves[r["lr"]], _first_nonfinite(curves[r["lr"]])) for r in rows):
            return min(rows, key=lambda r: r["lr"])
        return b

    for lr in grid:
        run(lr, False)
    for _ in range(extend if len(grid) > 1 else 0):
        tried = sorted(r["lr"] for r in rows)
        b = edge()
        if b is not None and b["lr"] == tried[-1]:
            run(tried[-1] * tried[-1] / tried[-2], True)
        elif b is not None and b["lr"] == tried[0]:
            run(tried[0] * tried[0] / tried[1], True)
        else:
            break
    chosen = best()
    if chosen is None:
        raise _all_nonfinite_error(curves)
    if reject_unstable and not chosen["stable"]:
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
