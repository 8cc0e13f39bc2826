"""Reading the θ-compute scaling study (notebooks/studies/theta_scaling.py writes results/default/theta_scaling/).

The study trains θ at several compute levels (roll-outs = rounds × batch size) and seeds, and measures landscape at
10 steps against the strongest descent in X (the "reference") and, for the GANs, the encoder start. Here:

    trend_points(entry, measure, split, against)   (roll-outs, gains): one point per (level, seed)
    fit_trend(rollouts, gains)   log gain = a + b · log2 roll-outs by least squares: b per doubling, its t interval,
                                 and whether the gain grows, stays flat or falls with compute
    trend(metrics)               fit_trend per problem of the study's metrics.json
    extrapolate(fit, rollouts)   the fitted gain at other compute (the paper's, say) with its interval;
                                 an extrapolation, never a result
    read_study(folder)           the study's metrics.json (a clear error naming the command that writes it)
    levels_rows(study), trend_rows(study, fits, paper_rollouts), sentences(...)   what notebook 07 shows

This module imports only the registry from llcore: the claims rules, notebook 07 and the study all read it.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from .registry import COLUMNS

SMALL_STEP = 10           # the study's small-budget step: gains and speed-ups are read there
GROWS, FLAT, FALLS = "grows", "flat", "falls"
COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_scaling.py <problems>"
SIDES = {"reference": "the strongest descent in X", "encoder": "the encoder start (descent in X from E(y))"}

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
    there: exp(a + b·x ± t·sqrt(s²(1/n + (x − x̄)²/Sxx))). Valid only if the log-linear trend holds that far,
    which nothing here measures: label it as an extrapolation."""
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


# what notebook 07 reads


def read_study(folder: str | Path) -> dict:
    """<folder>/metrics.json of the study; FileNotFoundError naming the command that writes it, ValueError when the
    file is not the study's."""
    path = Path(folder) / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(f"no θ-compute study at {path}: run `{COMMAND}` (resumable; see its docstring)")
    study = json.loads(path.read_text(encoding="utf-8"))
    if study.get("experiment") != "theta_scaling" or not isinstance(study.get("problems"), dict):
        raise ValueError(f"{path} is not the θ-compute study's metrics (experiment {study.get('experiment')!r})")
    return study


def _mean(xs: list) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def levels_rows(study: dict, split: str = "test_in") -> list[dict]:
    """One row per (problem, level): roll-outs, F evaluations, θ's mean training seconds, and the mean over seeds of
    landscape's gain at SMALL_STEP over each side measured and of the per-target median speed-up over the reference."""
    rows = []
    for name, entry in study["problems"].items():
        for level, lv in entry["levels"].items():
            seeds = lv["seeds"]
            row = {"problem": name, "level": level + (" (default)" if lv.get("default") else ""),
                   "roll-outs": lv["rollouts"], "F evaluations": lv["f_evaluations"], "seeds": len(seeds),
                   "θ training (s, 1 thread)": round(_mean([s["train_seconds"] for s in seeds]), 1)}
            against = lambda s: s["splits"][split]["against"]                       # noqa: E731
            for side in SIDES:
                if all(side in against(s) for s in seeds):
                    row[f"gain at {SMALL_STEP} vs {side}"] = _mean([MEASURES["gain_at_10"](against(s)[side])
                                                                   for s in seeds])
            row[f"median speed-up at {SMALL_STEP}"] = _mean([MEASURES["speedup_median_10"](against(s)["reference"])
                                                            for s in seeds])
            rows.append(row)
    return rows


def fits(study: dict) -> dict:
    """{(problem, side): fit} for the gain at SMALL_STEP on test_in against each side the study measured."""
    out = {}
    for side in SIDES:
        for name, fit in trend(study, against=side).items():
            out[(name, side)] = fit
    return out


def trend_rows(all_fits: dict, paper_rollouts: float) -> list[dict]:
    """One row per (problem, side): the verdict, the factor per doubling and its interval, the points, and the
    fitted gain extrapolated to `paper_rollouts` with its interval."""
    rows = []
    for (name, side), fit in all_fits.items():
        ex = extrapolate(fit, paper_rollouts)
        lo, hi = (math.exp(b) for b in fit["interval"])
        rows.append({"problem": name, "against": side, "verdict": fit["verdict"],
                     "× per doubling": fit["factor_per_doubling"],
                     f"{fit['level']:.0%} interval": f"[{lo:.3g}, {hi:.3g}]",
                     "θ measured": fit["n"], "roll-outs": f"{fit['rollouts'][0]:,}–{fit['rollouts'][1]:,}",
                     f"extrapolated gain at {paper_rollouts:,.0f}": ex["gain"],
                     "its interval": f"[{ex['interval'][0]:.3g}, {ex['interval'][1]:.3g}]"})
    return rows


def sentences(all_fits: dict, paper_rollouts: float) -> list[str]:
    """Per problem and side, in words: grows / stays flat / falls, the factor per doubling with its interval, and the
    extrapolation to `paper_rollouts`, labelled as one."""
    words = {GROWS: "grows", FLAT: "stays flat (no trend beyond the noise over seeds)", FALLS: "falls"}
    out = []
    for (name, side), fit in all_fits.items():
        lo, hi = (math.exp(b) for b in fit["interval"])
        ex = extrapolate(fit, paper_rollouts)
        doublings = math.log2(paper_rollouts / fit["rollouts"][1])
        out.append(f"**{name}**, against {SIDES[side]}: landscape's gain at {SMALL_STEP} steps "
                   f"**{words[fit['verdict']]}** "
                   f"with θ's training compute, ×{fit['factor_per_doubling']:.3g} per doubling of roll-outs "
                   f"({fit['level']:.0%} interval [{lo:.3g}, {hi:.3g}]; {fit['n']} θ over {fit['rollouts'][0]:,}–"
                   f"{fit['rollouts'][1]:,} roll-outs). *Extrapolation, not a result:* if the fitted line held "
                   f"{doublings:.1f} doublings beyond the largest level measured, the gain at {paper_rollouts:,.0f} "
                   f"roll-outs would be {ex['gain']:.3g} ({ex['level']:.0%} interval of the line "
                   f"[{ex['interval'][0]:.3g}, {ex['interval'][1]:.3g}]).")
    return out


def not_run(study: dict) -> list[str]:
    """A sentence naming the claims-table problems the study has not measured at 2 or more levels (none: [])."""
    done = {name for name, e in study["problems"].items() if len(e.get("levels", {})) >= 2}
    missing = [f"{c.scaling_problem} ({c.title})" for c in COLUMNS
               if c.scaling_problem and c.scaling_problem not in done]
    return [f"Not yet measured by the study at 2 or more levels: {', '.join(missing)} "
            f"(`{COMMAND}` runs or resumes it)."] if missing else []
