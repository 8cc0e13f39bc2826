"""L-BFGS as an inversion solver: what `invert(..., optimizer="lbfgs")` runs (not a step rule, see llcore.optim).

For a small x a quasi-Newton method is often the strongest descent a user could pick, so the fair comparison
(llcore.compare) searches it beside the first-order families. It is run so that it stays comparable with them:

- **per target**: torch.optim.LBFGS (strong-Wolfe line search, history 10) on each target alone, so a target's
  curve never depends on the other targets of the batch (its line search and curvature pairs are its own);
- **counted per evaluation**: step t is the t-th evaluation of F (forward + backward) after the one at z₀, line
  search trials included, so "objective at step N" costs L-BFGS what N steps cost Adam;
- **best so far**: row t holds the best point among evaluations 0..t (line-search trials can be worse than the
  point they start from), with its metric, x snapshot and z; the last row's point is the returned x, z;
- in X, a problem's projection is applied inside the objective, f(P(x)) (a projected step would break the line
  search), so every point evaluated and returned is feasible; in Z, θ bounds its own output as usual.

Seconds are summed over targets (one target after another): seconds[t] is when every target had done t evaluations.
Where torch's line search breaks down (its step overflows float32 at a far too large lr), that target's solver stops:
its best point is kept for the evaluations left, so its curve stays flat, as a user's would.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

import torch
from torch import Tensor

from .problem import Problem

HISTORY = 10          # curvature pairs kept (torch's default is 100; 10 is the textbook choice)


class _Budget(Exception):
    """Raised inside the closure once a target has used its evaluations."""


def solve(problem: Problem, y: Tensor, decode: Callable[[Tensor], Tensor], z0: Tensor, lr: float, steps: int,
          snapshot_steps: list[int], keep_trajectory: bool, sync: Callable[[], None]) -> dict:
    """Per-target L-BFGS from z0 (B, *z_shape) on y (B, *y_shape), `steps` evaluations after the first.

    decode: z (1, *z_shape) -> x (1, *x_shape) (θ, or the projection in X); sync: waits for the device.
    Returns invert's Record fields: loss and metric (S+1, B) best so far (metric None without one), seconds (S+1,),
    x (B, *x_shape), z (B, *z_shape), snapshots {t: x_t}, trajectory (S+1, B, *z_shape) or None."""
    batch = y.shape[0]
    loss = torch.full((steps + 1, batch), math.nan)
    metric = torch.full((steps + 1, batch), math.nan) if problem.metric is not None else None
    seconds = torch.zeros(steps + 1, dtype=torch.float64)
    xs, zs, snaps, traj = [], [], {t: [] for t in snapshot_steps}, []
    for b in range(batch):
        z = z0[b:b + 1].detach().clone().requires_grad_(True)
        opt = torch.optim.LBFGS([z], lr=lr, max_iter=steps + 1, max_eval=2 * steps + 2, history_size=HISTORY,
                                line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0)
        best = {"value": math.inf, "x": None, "z": z.detach().clone(), "metric": math.nan}
        rows: list[dict] = []                                     # one per evaluation: the best so far after it
        clock: list[float] = []
        sync()
        start = time.perf_counter()

        def closure() -> Tensor:
            if len(rows) > steps:
                raise _Budget
            opt.zero_grad(set_to_none=True)
            x = decode(z)
            value, m = problem.objective_and_metric(x, y[b:b + 1], with_metric=metric is not None)
            value.sum().backward()
            v = float(value.detach())
            if math.isfinite(v) and (v < best["value"] or not math.isfinite(best["value"])):
                best.update(value=v, x=x.detach().clone(), z=z.detach().clone(),
                            metric=float(m[0]) if m is not None else math.nan)
            elif best["x"] is None:                               # a non-finite first evaluation: keep it visible
                best.update(x=x.detach().clone(), z=z.detach().clone(), value=v)
            sync()
            clock.append(time.perf_counter() - start)
            rows.append(dict(best))
            return value.sum()

        try:
            while len(rows) <= steps:
                opt.step(closure)
        except _Budget:
            pass
        except (RuntimeError, OverflowError):      # the line search's step overflowed (a far too large lr): the
            pass                                   # solver stops there; its best point stands for the evaluations left
        rows += [rows[-1]] * (steps + 1 - len(rows))
        clock += [clock[-1]] * (steps + 1 - len(clock))
        for t, r in enumerate(rows[: steps + 1]):
            loss[t, b] = r["value"]
            if metric is not None:
                metric[t, b] = r["metric"]
            if t in snaps:
                snaps[t].append(r["x"])
            if keep_trajectory:
                traj.append(r["z"])
        seconds += torch.tensor(clock[: steps + 1], dtype=torch.float64)
        xs.append(rows[steps]["x"]); zs.append(rows[steps]["z"])
    trajectory = None
    if keep_trajectory:                                           # traj is target-major: (B, S+1) → (S+1, B, …)
        trajectory = torch.stack(traj).reshape(batch, steps + 1, *z0.shape[1:]).transpose(0, 1).contiguous()
    return {"loss": loss, "metric": metric, "seconds": seconds, "x": torch.cat(xs), "z": torch.cat(zs),
            "snapshots": {t: torch.cat(v) for t, v in snaps.items()}, "trajectory": trajectory}
