"""metrics.json as docs/results.md defines it: building, validating, writing, with provenance.

For one split, from per-seed mean curves c_s(t) (t = 0..budget) of each method:
    curves[m][t] = mean_s c_s(t),  spread[m][t] = std_s c_s(t)
and the speed-ups of metrics.py on the mean curves (speedup_seconds on mean cumulative seconds).
An ablation variant (variant_summary) is the same comparison against one shared baseline, plus the spread over
seeds of its final metric and of its speed-ups computed seed by seed.
"""
from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import platform
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .io import atomic_write_json
from ..metrics import (best_so_far, fraction_reaching, mean_and_spread, per_target_speedup, per_target_summary,
                       quantile_curves, speedup_at, speedup_seconds, speedup_steps)
from .paths import repo_root

REPORT_STEPS = (1, 5, 10, 20, 50, 100, 200)
# The engine's guards against fooling comparisons (speed-ups on the running best, llcore.metrics; sweeps that
# skip unstable learning rates and grow past the grid's edge, llcore.sweep) are on for the reproduction too: every
# notebook's speed-ups are read on running-best curves with per-N caps, and its sweeps use both guards. (Results
# committed before this switch were computed without them; their metrics carry no `speedup_rule`.)
ROBUST = True
SPEEDUP_STEPS = (5, 10, 20, 50)
# experiments whose metrics.json has no `splits` (no baseline-vs-landscape curves): 05 measures landscapes
WITHOUT_SPLITS = ("landscape", "theta_compute")
PER_TARGET_REFERENCES = ("baseline", "strongest_x")    # per-target speed-ups of landscape against these, when run
PACKAGES = ("torch", "torchvision", "numpy", "llcore", "papermill", "matplotlib", "pandas")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def git_sha(root: str | Path | None = None) -> str:
    """HEAD's sha, suffixed '+dirty' when tracked code differs from it; '' outside git. What runs write (results/,
    and README.md's generated claims block) and the documentation (README.md, docs/) do not make the code dirty."""
    root = root or repo_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results",
                                ":!README.md", ":!docs"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo's "model name", e.g. "AMD EPYC"), else the platform's word."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name") and ":" in line:
                return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device) -> str:
    """'cuda: <GPU name>' or 'cpu: <model>, <n> threads' (the threads torch uses)."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {cpu_model()}, {torch.get_num_threads()} threads"


def provenance(seeds: Sequence[int], started: str, wall_seconds: float, device) -> dict:
    pk = {}
    for name in PACKAGES:
        try:
            pk[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return {"git_sha": git_sha(), "packages": pk, "python": platform.python_version(),
            "device": device_name(device), "seeds": list(seeds), "started": started,
            "wall_seconds": round(float(wall_seconds), 2)}


def split_summary(curves: dict, seconds: dict, metric: str, budget: int, higher_is_better: bool = False,
                  report_steps: Sequence[int] = REPORT_STEPS, speedup_steps_at: Sequence[int] = SPEEDUP_STEPS,
                  per_target: dict | None = None, robust: bool | None = None) -> dict:
    """One `splits` entry. curves/seconds: {method: [per-seed array (budget+1,)]}; needs 'baseline' and 'landscape'.
    Other methods may stop earlier (arrays (S+1,), S < budget, e.g. a control tuned for step 10): their entries then
    hold the reported steps up to S only.

    per_target: {method: [per-seed array (budget+1, B)]}, each target's own curve; when given, the entry also has
    `curves_median`, `curves_quantiles` ({q: {method: {step: value}}}, over all targets of all seeds) and
    `fraction_reaching` (the fraction of targets at least as good as `tolerance`, the baseline's mean at the budget)
    and `speedup_per_target` ({reference: {N: llcore.metrics.per_target_summary}}: landscape's per-target speed-up
    at N against each of PER_TARGET_REFERENCES that ran the whole budget, pooled over seeds).
    Without it (a measure that only exists per seed, e.g. an accuracy), `curves_median` is the median over seeds.
    `median_over` says which ("targets" or "seeds").
    robust (default ROBUST): speed-ups on running-best curves and `speedup_at_capped` per N."""
    robust = ROBUST if robust is None else robust
    for need in ("baseline", "landscape"):
        if need not in curves:
            raise ValueError(f"split summary needs a {need!r} method, got {sorted(curves)}")
    steps = [t for t in report_steps if t <= budget]
    if budget not in steps:
        steps.append(budget)
    mean, spread = {}, {}
    for m, per_seed in curves.items():
        mu, sd = mean_and_spread(per_seed)
        short_ok = m not in ("baseline", "landscape") and 2 <= mu.shape[0] <= budget + 1
        if mu.shape[0] != budget + 1 and not short_ok:
            raise ValueError(f"method {m!r}: curves have {mu.shape[0]} points, expected budget+1 = {budget + 1}")
        mean[m], spread[m] = mu, sd
    b, l = mean["baseline"], mean["landscape"]
    bs, _ = mean_and_spread(seconds["baseline"])
    ls, _ = mean_and_spread(seconds["landscape"])
    ss, reached = speedup_steps(b, l, budget, higher_is_better, best_so_far=robust)
    sa, capped = speedup_at(b, l, [n for n in speedup_steps_at if n <= budget], budget, higher_is_better,
                            best_so_far=robust, per_step_capped=robust)
    at = lambda c: {str(t): float(c[t]) for t in steps if t < len(c)}                     # noqa: E731
    out = {
        "metric": metric, "higher_is_better": higher_is_better, "budget_steps": budget,
        "curves": {m: at(mu) for m, mu in mean.items()},
        "spread": {m: at(sd) for m, sd in spread.items()},
        "speedup_steps": float(ss), "speedup_steps_reached": reached,
        "speedup_seconds": speedup_seconds(b, l, bs, ls, budget, higher_is_better, best_so_far=robust),
        "speedup_at": sa, "speedup_at_capped": capped,
        "seconds_per_step": {m: float(mean_and_spread(s)[0][-1] / max(len(mean_and_spread(s)[0]) - 1, 1))
                             for m, s in seconds.items()},
    }
    if robust:
        out["speedup_rule"] = "best_so_far"
    if per_target is None:
        out["curves_median"] = {m: at(np.median(np.stack([np.asarray(c, dtype=np.float64) for c in per_seed]), 0))
                                for m, per_seed in curves.items()}
        out["median_over"] = "seeds"
    else:
        pooled = {m: np.concatenate([np.asarray(a, dtype=np.float64).reshape(len(a), -1) for a in per_seed], 1)
                  for m, per_seed in per_target.items()}                                  # (budget+1, all targets)
        qs = {m: quantile_curves(a) for m, a in pooled.items()}
        tol = float(best_so_far(b, higher_is_better)[budget])
        out["curves_median"] = {m: at(q["0.5"]) for m, q in qs.items()}
        out["median_over"] = "targets"
        out["curves_quantiles"] = {k: {m: at(q[k]) for m, q in qs.items()} for k in next(iter(qs.values()))}
        out["tolerance"] = tol
        out["fraction_reaching"] = {m: at(fraction_reaching(a, tol, higher_is_better)) for m, a in pooled.items()}
        out["speedup_per_target"] = {
            ref: {str(n): per_target_summary(*per_target_speedup(pooled[ref], pooled["landscape"], n, budget,
                                                                 higher_is_better, best_so_far=robust))
                  for n in speedup_steps_at if n <= budget}
            for ref in PER_TARGET_REFERENCES if ref in pooled and pooled[ref].shape[0] == budget + 1
            and "landscape" in pooled}
    return out


def amortization(split: dict, train_seconds: float, n_targets: int) -> dict:
    """When θ's training pays for itself, from one `splits` entry (the only definition; notebooks and the benchmark
    both call it). The baseline needs budget · (its seconds per step) for a batch of n_targets to reach its final
    level; landscape gets there speedup_seconds times sooner, so each inverted target saves

        saved = baseline_s_per_step · budget · (1 − 1 / speedup_seconds) / n_targets   seconds,

    and θ's training is repaid after train_seconds / saved inversions (None: never, when saved ≤ 0)."""
    sp = split["speedup_seconds"]
    saved = (split["seconds_per_step"]["baseline"] * split["budget_steps"] * (1 - 1 / sp) / n_targets
             if sp and sp > 0 else None)
    return {"theta_train_seconds": float(train_seconds), "targets_per_batch": int(n_targets),
            "seconds_saved_per_target": saved,
            "break_even_inversions": train_seconds / saved if saved is not None and saved > 0 else None}


def variant_summary(baseline: dict, variant: dict, metric: str, budget: int, higher_is_better: bool = False) -> dict:
    """One ablation variant's entry of `variants` (docs/results.md) against a baseline.
    baseline, variant: {"curves": [per-seed array (budget+1,)], "seconds": [same]}, seed i of one paired with seed i
    of the other (same test targets). Speed-ups come from the mean curves (split_summary); `*_spread` is the standard
    deviation over seeds of the same number computed seed by seed; `final` is the mean metric at the budget."""
    if len(baseline["curves"]) != len(variant["curves"]):
        raise ValueError(f"baseline has {len(baseline['curves'])} seeds, the variant {len(variant['curves'])}")
    pair = lambda b, v: split_summary({"baseline": b["curves"], "landscape": v["curves"]},             # noqa: E731
                                      {"baseline": b["seconds"], "landscape": v["seconds"]}, metric, budget,
                                      higher_is_better)
    mean = pair(baseline, variant)
    per_seed = [pair({"curves": [bc], "seconds": [bs]}, {"curves": [vc], "seconds": [vs]})
                for bc, bs, vc, vs in zip(baseline["curves"], baseline["seconds"], variant["curves"], variant["seconds"])]
    finals = [float(np.asarray(c)[budget]) for c in variant["curves"]]
    return {
        "speedup_steps": mean["speedup_steps"],
        "speedup_steps_spread": float(np.std([q["speedup_steps"] for q in per_seed])),
        "final": float(np.mean(finals)), "final_spread": float(np.std(finals)),
        "speedup_seconds": mean["speedup_seconds"],
        "speedup_at": mean["speedup_at"], "speedup_at_capped": mean["speedup_at_capped"],
        "speedup_at_spread": {n: float(np.std([q["speedup_at"][n] for q in per_seed])) for n in mean["speedup_at"]},
        "speedup_steps_reached": mean["speedup_steps_reached"],
        "final_per_seed": finals, "speedup_steps_per_seed": [q["speedup_steps"] for q in per_seed],
        "curve": mean["curves"]["landscape"], "spread": mean["spread"]["landscape"],
    }


def validate_metrics(m: dict) -> dict:
    """Check the contract's fixed fields; raise ValueError listing everything that is missing or wrong."""
    errs = []
    for k in ("experiment", "profile", "seeds", "provenance"):
        if k not in m:
            errs.append(f"missing {k!r}")
    splits = m.get("splits")
    if splits is None and m.get("experiment") in WITHOUT_SPLITS:
        splits = {}
    elif not isinstance(splits, dict) or not splits:
        errs.append("'splits' must be a non-empty dict")
        splits = {}
    for name, s in splits.items():
        for k in ("metric", "higher_is_better", "budget_steps", "curves", "spread", "speedup_steps",
                  "speedup_seconds", "speedup_at"):
            if k not in s:
                errs.append(f"split {name!r}: missing {k!r}")
        budget = str(s.get("budget_steps"))
        for meth in ("baseline", "landscape"):
            c = s.get("curves", {}).get(meth, {})
            for t in [str(t) for t in (1, 5, 10, 20, 50) if t <= int(s.get("budget_steps", 0))] + [budget]:
                if t not in c or not np.isfinite(c[t]):
                    errs.append(f"split {name!r}: curves[{meth!r}] lacks a finite value at step {t}")
            if budget not in s.get("spread", {}).get(meth, {}):
                errs.append(f"split {name!r}: spread[{meth!r}] lacks step {budget}")
    prov = m.get("provenance", {})
    for k in ("git_sha", "packages", "device", "started", "wall_seconds"):
        if k not in prov:
            errs.append(f"provenance: missing {k!r}")
    if errs:
        raise ValueError("metrics.json does not follow the results contract (docs/results.md):\n  " + "\n  ".join(errs))
    return m


def write_metrics(out_dir: str | Path, metrics: dict) -> Path:
    """Validate and atomically write <out_dir>/metrics.json."""
    return atomic_write_json(Path(out_dir) / "metrics.json", validate_metrics(metrics))


def dataframe_markdown(df, floatfmt: str = ".4g") -> str:
    """A pandas DataFrame as a Markdown table (a named index becomes a column)."""
    from .report import markdown_table
    if df.index.name is not None:
        df = df.reset_index()
    cell = lambda v: format(v, floatfmt) if isinstance(v, (float, np.floating)) else str(v)
    return markdown_table([str(c) for c in df.columns], [[cell(v) for v in row] for row in df.itertuples(index=False)])


def write_table(df, out_dir: str | Path, name: str, note: str = "") -> Path:
    """Write tables/<name>.csv and tables/<name>.md (with an optional provenance/threat-model note)."""
    from .io import atomic_write_text
    tables = Path(out_dir) / "tables"
    atomic_write_text(tables / f"{name}.csv", df.to_csv(index=df.index.name is not None))
    md = (note.strip() + "\n\n" if note else "") + dataframe_markdown(df)
    return atomic_write_text(tables / f"{name}.md", md)
