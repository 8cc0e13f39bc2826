"""Speed-up metrics (docs/results.md), computed from mean metric curves.

A curve is indexed by step t = 0..budget (value after t optimizer steps), lower is better unless
`higher_is_better`. With reach(c, v) = the first step t >= 1 at which curve c is at least as good as v:

    speedup_steps   = reach(baseline, v) / reach(landscape, v),   v = baseline[budget]
                      (if landscape never reaches v: the same rule with v = landscape[budget], a value < 1)
    speedup_seconds = the same ratio with each method's cumulative wall seconds at those steps
    speedup_at[N]   = reach(baseline, landscape[N]) / N,  capped at budget / N when never reached

Step 0 (the starting point) counts as step 1 in these ratios, so they stay finite.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np


def _as_array(c) -> np.ndarray:
    return np.asarray(c.detach().cpu() if hasattr(c, "detach") else c, dtype=np.float64)


def reach(curve, value: float, higher_is_better: bool = False) -> Optional[int]:
    """First step t >= 1 (step 0 counted as 1) where curve[t] is at least as good as value; None if never."""
    c = _as_array(curve)
    ok = c >= value if higher_is_better else c <= value
    hits = np.flatnonzero(ok)
    return None if hits.size == 0 else max(int(hits[0]), 1)


def speedup_steps(baseline, landscape, budget: int, higher_is_better: bool = False) -> tuple[float, bool]:
    """(ratio, reached): reached is False when landscape never reaches the baseline's budget value."""
    b, l = _as_array(baseline), _as_array(landscape)
    v = b[budget]
    sl = reach(l[: budget + 1], v, higher_is_better)
    if sl is not None:
        return reach(b, v, higher_is_better) / sl, True
    v = l[budget]
    return reach(b, v, higher_is_better) / reach(l[: budget + 1], v, higher_is_better), False


def speedup_seconds(baseline, landscape, baseline_seconds, landscape_seconds, budget: int,
                    higher_is_better: bool = False) -> float:
    """speedup_steps' ratio, in each method's cumulative wall seconds at the steps it names."""
    b, l = _as_array(baseline), _as_array(landscape)
    bs, ls = _as_array(baseline_seconds), _as_array(landscape_seconds)
    v = b[budget]
    sl = reach(l[: budget + 1], v, higher_is_better)
    if sl is None:
        v = l[budget]
        sl = reach(l[: budget + 1], v, higher_is_better)
    return float(bs[reach(b, v, higher_is_better)] / ls[sl])


def speedup_at(baseline, landscape, steps: Iterable[int], budget: int,
               higher_is_better: bool = False) -> tuple[dict, bool]:
    """({str(N): ratio}, capped): how many times more steps the baseline needs to match landscape at N."""
    b, l = _as_array(baseline), _as_array(landscape)
    out, capped = {}, False
    for n in steps:
        sb = reach(b[: budget + 1], l[n], higher_is_better)
        if sb is None:
            out[str(n)], capped = budget / n, True
        else:
            out[str(n)] = sb / n
    return out, capped


def at_steps(curve, steps: Sequence[int]) -> dict:
    """{str(t): curve[t]} as floats."""
    c = _as_array(curve)
    return {str(t): float(c[t]) for t in steps}


def mean_and_spread(curves: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof=0) across seeds of equally long curves, each (S+1,)."""
    a = np.stack([_as_array(c) for c in curves])
    return a.mean(0), a.std(0)


def psnr(mse, peak: float = 1.0):
    """Peak signal-to-noise ratio in dB from a mean squared error (images in [0, peak])."""
    return 10.0 * np.log10(peak ** 2 / np.maximum(_as_array(mse), 1e-12))
