"""Reading the θ-compute scaling study (notebooks/studies/theta_scaling.py writes results/default/theta_scaling/).

The study trains θ at several compute levels (roll-outs = rounds × batch size) and seeds, and measures landscape at
10 steps against the strongest descent in X (the "reference") and, for the GANs, the encoder start. Here:

    trend_points(entry, measure, split, against)   (roll-outs, gains): one point per (level, seed)
    fit_trend(rollouts, gains)   log gain = a + b · log2 roll-outs by least squares: b per doubling, its t interval,
                                 and whether the gain grows, stays flat or falls with compute
    trend(metrics)               fit_trend per problem of the study's metrics.json
    extrapolate(fit, points, rollouts)   the fitted gain at other compute (the paper's, say) with its interval;
                                 an extrapolation, never a result

This module imports nothing from llcore: the claims rules and the study both read it.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

SMALL_STEP = 10           # the study's small-budget step: gains and speed-ups are read there
GROWS, FLAT, FALLS = "grows", "flat", "falls"

MEASURES = {
    "gain_at_10": lambda a: a["gain_at"][str(SMALL_STEP)],          # the other side's metric at 10 over landscape's
    "speedup_median_10": lambda a: a["speedup_10"]["median"],      # per-target median speed-up at 10
}


def _t(level: float, dof: int) -> float:
    from scipy import stats
    return float(stats.t.ppf((1 + level) / 2, dof))


def fit_trend(rollouts: Sequence[float], gains: Sequence[float], level: float = 0.95) -> dict:
    """Least-squares fit of log(gain) = a + b · log2(rollouts) over points (n,) (every seed of every level):
    b = the change of log gain per doubling of θ's roll-outs, its standard error and its Student-t interval at
    `level` (n − 2 degrees of freedom); verdict "grows" when the interval lies above 0, "falls" below, else "flat".
    Returns {"slope_per_doubling", "factor_per_doubling" (exp b), "intercept" (a, at log2 rollouts = 0), "se",
    "interval", "level", "n", "x_mean", "sxx", "resid_var", "verdict"}.
    Raises ValueError for fewer than 3 points, fewer than 2 distinct roll-outs, or a gain that is not > 0."""
    x, g = np.log2(np.asarray(rollouts, dtype=float)), np.asarray(gains, dtype=float)
    if x.shape != g.shape or x.size < 3 or np.unique(x).size < 2:
        raise ValueError(f"need ≥ 3 points at ≥ 2 compute levels, got rollouts {list(rollouts)}, gains {list(gains)}")
    if not np.all(np.isfinite(g) & (g > 0)) or not np.all(np.isfinite(x)):
        raise ValueError(f"gains must be finite and > 0 and rollouts > 0, got {list(gains)}, {list(rollouts)}")
    y = np.log(g)
    xc = x - x.mean()
    sxx = float((xc ** 2).sum())
    slope = float((xc * (y - y.mean())).sum() / sxx)
    resid = y - y.mean() - slope * xc
    resid_var = float((resid ** 2).sum() / (x.size - 2))
    se = math.sqrt(resid_var / sxx)
    half = _t(level, x.size - 2) * se
    lo, hi = slope - half, slope + half
    verdict = GROWS if lo > 0 else FALLS if hi < 0 else FLAT
    return {"slope_per_doubling": slope, "factor_per_doubling": math.exp(slope),
            "intercept": float(y.mean() - slope * x.mean()), "se": se, "interval": [lo, hi], "level": level,
            "n": int(x.size), "x_mean": float(x.mean()), "sxx": sxx, "resid_var": resid_var, "verdict": verdict}


def extrapolate(fit: dict, rollouts: float) -> dict:
    """The fitted gain at `rollouts` (e.g. the paper's compute) and the `fit["level"]` interval of the fitted mean
    there: exp(a + b·x ± t·sqrt(s²(1/n + (x − x̄)²/Sxx))). Valid only if the log-linear trend holds that far, which
    nothing here measures: label it as an extrapolation."""
    x = math.log2(float(rollouts))
    mean = fit["intercept"] + fit["slope_per_doubling"] * x
    half = _t(fit["level"], fit["n"] - 2) * math.sqrt(fit["resid_var"] * (1 / fit["n"]
                                                                          + (x - fit["x_mean"]) ** 2 / fit["sxx"]))
    return {"rollouts": float(rollouts), "gain": math.exp(mean), "interval": [math.exp(mean - half),
                                                                              math.exp(mean + half)],
            "level": fit["level"], "doublings_beyond": x - fit["x_mean"]}


def trend_points(entry: dict, measure: str = "gain_at_10", split: str = "test_in",
                 against: str = "reference") -> tuple[list, list]:
    """(rollouts, gains), one point per seed of each level of a problem's metrics.json entry."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose among {', '.join(MEASURES)}")
    xs, gs = [], []
    for lv in entry["levels"].values():
        for s in lv["seeds"]:
            xs.append(lv["rollouts"])
            gs.append(MEASURES[measure](s["splits"][split]["against"][against]))
    return xs, gs


def trend(metrics: dict, measure: str = "gain_at_10", split: str = "test_in", against: str = "reference",
          level: float = 0.95) -> dict:
    """Per problem of the study's metrics.json: does landscape's gain (`measure` of MEASURES on `split`, against
    the reference or, for the GANs, the "encoder" start) grow, stay flat or fall with θ's training roll-outs?
    {problem: fit_trend(...) plus "measure", "split", "against", "rollouts": [min, max]}; problems lacking that
    split or side, or measured at fewer than 2 levels, are left out."""
    out = {}
    for name, entry in metrics.get("problems", {}).items():
        if len(entry.get("levels", {})) < 2:
            continue
        try:
            xs, gs = trend_points(entry, measure, split, against)
        except KeyError:
            continue
        out[name] = {**fit_trend(xs, gs, level), "measure": measure, "split": split, "against": against,
                     "rollouts": [min(xs), max(xs)]}
    return out
