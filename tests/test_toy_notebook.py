"""Notebook 00_toy at the smoke profile, run twice with the same seed: identical numbers.

Wall-clock quantities (provenance, speedup_seconds, seconds_per_step, θ and E training seconds, the amortized
section's per-method seconds) are measurements of this machine's speed and are left out of the comparison; every
other number must match exactly.
"""
import json
import os
from pathlib import Path

import papermill
import yaml

ROOT = Path(__file__).resolve().parent.parent
TIMING_KEYS = {"provenance", "speedup_seconds", "seconds_per_step", "train_seconds_mean", "train_seconds", "seconds"}


def strip_timings(obj):
    if isinstance(obj, dict):
        return {k: strip_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    return obj


def run_smoke(tmp: Path, name: str) -> dict:
    params = yaml.safe_load((ROOT / "notebooks/params/smoke/00_toy.yaml").read_text())
    params.update(profile="smoke", seed=3, out_dir=str(tmp / name))
    os.environ["LLCORE_CACHE"] = str(tmp / f"cache_{name}")      # no θ shared between the two runs
    try:
        papermill.execute_notebook(str(ROOT / "notebooks/00_toy.ipynb"), str(tmp / f"{name}.ipynb"),
                                   parameters=params, kernel_name="python3", cwd=str(ROOT / "notebooks"),
                                   progress_bar=False)
    finally:
        del os.environ["LLCORE_CACHE"]
    return json.loads((tmp / name / "metrics.json").read_text())


def test_same_seed_same_numbers(tmp_path):
    a, b = run_smoke(tmp_path, "a"), run_smoke(tmp_path, "b")
    assert a["seeds"] == [3, 4]
    assert strip_timings(a) == strip_timings(b)
    assert a["splits"]["test_in"]["speedup_seconds"] > 0
