"""Speed-up metrics, computed from mean metric curves, and per-target speed-ups.

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

How to read them. speedup_at[N] answers "how many times more steps does the tuned baseline need to be as good as
landscape is after N steps"; it is largest early and shrinks as both methods converge. speedup_steps is the strict
one, read at the budget; reached=False (a value < 1) means landscape never got to the baseline's final value. A
value capped at budget / N means the baseline never got there within the budget: the true factor is at least that.
The ratios read on mean curves are driven by the hardest targets: before quoting one, compare the per-target
speed-ups (per_target_speedup: each target against its own landscape value; per_target_summary: their median and
mean with bootstrap intervals and the share of targets that gain), the median and quantile curves and the fraction
reaching a tolerance. speedup_seconds includes θ's forward pass but not θ's training. Compare only against a
baseline whose settings were chosen on validation targets (llcore.sweep, llcore.compare), never on test targets.
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


def _check_budget(fn: str, budget, points: int, what: str) -> None:
    """ValueError unless budget is an int with 1 <= budget < points (a curve of `points` values, steps 0..budget)."""
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or not 1 <= budget < points:
        raise ValueError(f"{fn}: budget must be an int with 1 <= budget < curve length, got budget={budget!r} "
                         f"for {what}, steps 0..budget")


def speedup_steps(baseline, landscape, budget: int, higher_is_better: bool = False,
                  best_so_far: bool = True) -> tuple[float, bool]:
    """(ratio, reached) of the module docstring for curves baseline, landscape (≥ budget+1,) indexed by step;
    reached is False when landscape never reaches the baseline's budget value. budget: an int with
    1 <= budget < len of each curve (ValueError otherwise); higher_is_better: the metric's direction; best_so_far:
    read both on their running best (module docstring)."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    _check_budget("speedup_steps", budget, min(len(b), len(l)),
                  f"curves of {len(b)} (baseline) and {len(l)} (landscape) points")
    v = b[budget]
    sl = reach(l[: budget + 1], v, higher_is_better)
    if sl is not None:
        return reach(b, v, higher_is_better) / sl, True
    v = l[budget]
    return reach(b, v, higher_is_better) / reach(l[: budget + 1], v, higher_is_better), False


def speedup_seconds(baseline, landscape, baseline_seconds, landscape_seconds, budget: int,
                    higher_is_better: bool = False, best_so_far: bool = True) -> float:
    """speedup_steps' ratio in wall seconds: baseline, landscape are metric curves (≥ budget+1,), baseline_seconds,
    landscape_seconds each method's cumulative wall seconds at every step (same length); budget (1 <= budget < len
    of every curve and seconds array, ValueError otherwise), higher_is_better and best_so_far as in speedup_steps."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    bs, ls = _as_array(baseline_seconds), _as_array(landscape_seconds)
    _check_budget("speedup_seconds", budget, min(len(b), len(l), len(bs), len(ls)),
                  f"curves of {len(b)}, {len(l)} points and seconds of {len(bs)}, {len(ls)} (baseline, landscape)")
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
    for any N, or with per_step_capped=True a {str(N): bool} map. budget: an int, 1 <= budget < len(baseline); each
    N: an int, 1 <= N <= budget and N < len(landscape) (landscape may be shorter than the baseline, ≥ max N + 1);
    ValueError otherwise. higher_is_better, best_so_far: as in speedup_steps."""
    b, l = _pair(baseline, landscape, higher_is_better, best_so_far)
    _check_budget("speedup_at", budget, len(b), f"a baseline curve of {len(b)} points")
    steps = list(steps)
    bad = [n for n in steps if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= budget]
    if bad:
        raise ValueError(f"speedup_at: every step N must be an int with 1 <= N <= budget = {budget}, got {bad}; "
                         f"drop those steps or pass a larger budget (at most {len(b) - 1} for this baseline curve)")
    past = [n for n in steps if n >= len(l)]
    if past:
        raise ValueError(f"speedup_at: steps {past} are past the end of the landscape curve, which has {len(l)} "
                         f"points (steps 0..{len(l) - 1}); drop them or pass a longer landscape curve")
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


# per-target speed-ups: what share of targets gains, and by how much (the mean curve is driven by the hardest ones)

def per_target_speedup(reference, landscape, n: int, budget: int, higher_is_better: bool = False,
                       best_so_far: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(speed-ups (B,), capped (B,) bool): for each target b, the steps its reference needs to reach that target's
    own landscape value at step n, divided by n; budget / n (capped) where it never does within `budget` steps.

    reference: per-target curves (≥ budget+1, B), e.g. Record.loss of the reference method; landscape: (≥ n+1, B);
    1 <= n, n <= budget < len(reference); higher_is_better, best_so_far: as in speedup_at (running bests by default).
    """
    ref, land = _as_array(reference), _as_array(landscape)
    if ref.ndim != 2 or land.ndim != 2 or ref.shape[1] != land.shape[1]:
        raise ValueError(f"per-target curves must be (steps+1, B) with the same B, got {ref.shape} and {land.shape}")
    _check_budget("per_target_speedup", budget, ref.shape[0], f"reference curves of {ref.shape[0]} points")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= min(budget, land.shape[0] - 1):
        raise ValueError(f"per_target_speedup: n must be an int with 1 <= n <= budget = {budget} and n < the "
                         f"landscape curves' {land.shape[0]} points, got n={n!r}")
    if best_so_far:
        ref, land = (np.maximum if higher_is_better else np.minimum).accumulate(ref, 0), \
            (np.maximum if higher_is_better else np.minimum).accumulate(land, 0)
    out, capped = np.empty(ref.shape[1]), np.zeros(ref.shape[1], dtype=bool)
    for b in range(ref.shape[1]):
        hit = reach(ref[: budget + 1, b], land[n, b], higher_is_better)
        out[b], capped[b] = (budget / n, True) if hit is None else (hit / n, False)
    return out, capped


def bootstrap_interval(values, statistic=np.median, level: float = 0.95, resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval (lo, hi) of `statistic` over `values` (B,): `resamples` draws of B values with
    replacement from a numpy Generator seeded `seed` (so the same values give the same interval); level in (0, 1)."""
    v = _as_array(values).reshape(-1)
    if v.size == 0 or not 0 < level < 1:
        raise ValueError(f"need at least one value and 0 < level < 1, got {v.size} values, level {level!r}")
    draws = np.random.default_rng(seed).integers(0, v.size, size=(resamples, v.size))
    stats = statistic(v[draws], axis=1)
    return float(np.quantile(stats, (1 - level) / 2)), float(np.quantile(stats, (1 + level) / 2))


def per_target_summary(speedups, capped=None, level: float = 0.95, seed: int = 0) -> dict:
    """The numbers to report beside a curve-level speed-up, from `speedups` (B,) (per_target_speedup) and their
    `capped` flags (B,) or None; bootstrap intervals at `level`, drawn with `seed`:
    n, median and mean with their bootstrap intervals at `level` ([lo, hi]), fraction_gain (speed-up > 1),
    fraction_loss (< 1), fraction_capped (the reference never caught up: the speed-up is a lower bound)."""
    v = _as_array(speedups).reshape(-1)
    return {"n": int(v.size), "median": float(np.median(v)), "median_interval": list(bootstrap_interval(v, np.median,
            level, seed=seed)), "mean": float(v.mean()), "mean_interval": list(bootstrap_interval(v, np.mean, level,
            seed=seed)), "fraction_gain": float((v > 1).mean()), "fraction_loss": float((v < 1).mean()),
            "fraction_capped": float(np.mean(capped)) if capped is not None else 0.0, "level": level}
