"""Speed-up metrics (docs/results.md), computed from mean metric curves.

A curve is indexed by step t = 0..budget (value after t optimizer steps), lower is better unless
`higher_is_better`. With reach(c, v) = the first step t >= 1 at which curve c is at least as good as v:

    speedup_steps   = reach(baseline, v) / reach(landscape, v),   v = baseline[budget]
                      (if landscape never reaches v: the same rule with v = landscape[budget], a value < 1)
    speedup_seconds = the same ratio with each method's cumulative wall seconds at those steps
    speedup_at[N]   = reach(baseline, landscape[N]) / N,  capped at budget / N when never reached

Step 0 (the starting point) counts as step 1 in these ratios, so they stay finite.

With best_so_far=True (the default) both curves are first replaced by their running best, c*(t) = best of
c(0..t): what a user who keeps the best iterate gets. A baseline whose curve rises again after a few steps then
cannot make landscape look faster (its value at the budget is its best, not its last); for monotone curves
nothing changes. quantile_curves and fraction_reaching read per-target curves, where one bad target can move a mean.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np


def _as_array(c) -> np.ndarray:
    return np.asarray(c.detach().cpu() if hasattr(c, "detach") else c, dtype=np.float64)


def reach(curve, value: float, higher_is_better: bool = False) -> Optional[int]:
    """First step t >= 1 (step 0 counted as 1) where curve[t] (a curve (S+1,)) is at least as good as value
    (≤ value, or ≥ when higher_is_better); None if never."""
    c = _as_array(curve)
    ok = c >= value if higher_is_better else c <= value
    hits = np.flatnonzero(ok)
    return None if hits.size == 0 else max(int(hits[0]), 1)


def best_so_far(curve, higher_is_better: bool = False) -> np.ndarray:
    """The running best of a curve (S+1,): c*(t) = min (max if higher_is_better) of curve[0..t]."""
    c = _as_array(curve)
    return np.maximum.accumulate(c) if higher_is_better else np.minimum.accumulate(c)


def _pair(baseline, landscape, higher_is_better: bool, running: bool) -> tuple[np.ndarray, np.ndarray]:
    b, l = _as_array(baseline), _as_array(landscape)
    return (best_so_far(b, higher_is_better), best_so_far(l, higher_is_better)) if running else (b, l)


def speedup_steps(baseline, landscape, budget: int, higher_is_better: bool = False,
                  best_so_far: bool = True) -> tuple[float, bool]:
    """(ratio, reached) of the module docstring for curves baseline, landscape (≥ budget+1,) indexed by step;
    reached is False when landscape never reaches the baseline's budget value. higher_is_better: the metric's
    direction; best_so_far: read both on their running best (module docstring)."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    v = b[budget]
    sl = reach(l[: budget + 1], v, higher_is_better)
    if sl is not None:
        return reach(b, v, higher_is_better) / sl, True
    v = l[budget]
    return reach(b, v, higher_is_better) / reach(l[: budget + 1], v, higher_is_better), False


def speedup_seconds(baseline, landscape, baseline_seconds, landscape_seconds, budget: int,
                    higher_is_better: bool = False, best_so_far: bool = True) -> float:
    """speedup_steps' ratio in wall seconds: baseline, landscape are metric curves (≥ budget+1,), baseline_seconds,
    landscape_seconds each method's cumulative wall seconds at every step (same length); budget, higher_is_better
    and best_so_far as in speedup_steps."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    bs, ls = _as_array(baseline_seconds), _as_array(landscape_seconds)
    v = b[budget]
    sl = reach(l[: budget + 1], v, higher_is_better)
    if sl is None:
        v = l[budget]
        sl = reach(l[: budget + 1], v, higher_is_better)
    return float(bs[reach(b, v, higher_is_better)] / ls[sl])


def speedup_at(baseline, landscape, steps: Iterable[int], budget: int, higher_is_better: bool = False,
               best_so_far: bool = True, per_step_capped: bool = False) -> tuple[dict, bool | dict]:
    """({str(N): ratio}, capped): for each N in steps, how many times more steps the baseline (curve, ≥ budget+1,)
    needs to match landscape's value at N; budget / N where it never does within `budget` steps. capped: one flag
    for any N, or with per_step_capped=True a {str(N): bool} map. higher_is_better, best_so_far: as in
    speedup_steps."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    out, capped = {}, {}
    for n in steps:
        sb = reach(b[: budget + 1], l[n], higher_is_better)
        out[str(n)], capped[str(n)] = (budget / n, True) if sb is None else (sb / n, False)
    return out, (capped if per_step_capped else any(capped.values()))


def quantile_curves(per_target, qs: Sequence[float] = (0.25, 0.5, 0.75, 0.9)) -> dict:
    """{str(q): curve (S+1,)} of the q-quantiles over targets of per_target, curves (S+1, B) (e.g. Record.loss);
    qs: the quantiles, 0.5 being the median curve."""
    a = _as_array(per_target)
    return {str(q): np.quantile(a, q, axis=1) for q in qs}


def fraction_reaching(per_target, tolerance: float, higher_is_better: bool = False) -> np.ndarray:
    """(S+1,): the fraction of targets whose best-so-far value is at least as good as `tolerance` by each step;
    per_target: curves (S+1, B); higher_is_better: the metric's direction."""
    a = best_so_far(_as_array(per_target), higher_is_better)
    return (a >= tolerance if higher_is_better else a <= tolerance).mean(axis=1)


def mean_and_spread(curves: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=0) across seeds of equally long curves, each (S+1,)."""
    a = np.stack([_as_array(c) for c in curves])
    return a.mean(0), a.std(0)


def psnr(mse, peak: float = 1.0):
    """Peak signal-to-noise ratio in dB from a mean squared error `mse` (scalar or array; images in [0, peak])."""
    return 10.0 * np.log10(peak ** 2 / np.maximum(_as_array(mse), 1e-12))
