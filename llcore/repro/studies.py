"""The committed validation studies behind a default setting, read back for the notebooks that use the setting.

A study (notebooks/studies/*.py) runs on validation targets only and writes its numbers to
results/default/<experiment>/studies/<name>.json; a notebook shows them as a table beside the setting they chose,
read from that file, so no number of a study is typed into a notebook by hand.

    rounds_table(experiment)   notebooks/studies/theta_rounds.py: θ kept at several training rounds of one run
                               (seed 0), each against the notebook's baseline on the validation targets
    show_rounds_study(experiment)   that table in a notebook, under a one-line caption (nothing without a study)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pandas as pd

from .paths import repo_root


def study_path(experiment: str, name: str, root: str | Path | None = None) -> Path:
    """results/default/<experiment>/studies/<name>.json (studies run at the default profile)."""
    return Path(root or repo_root()) / "results" / "default" / experiment / "studies" / f"{name}.json"


def rounds_table(experiment: str, root: str | Path | None = None) -> Optional[pd.DataFrame]:
    """One row per kept round of the θ-rounds study of `experiment` (None when it has none): training seconds, the
    lr chosen for that θ, and the study's measures; for the GAN and pose problems speed-up at 5, 10 and 20 steps and
    the curve at step 10 and at the budget (the baseline's in the last row), for the defense robust accuracy at
    reversal steps 1 and 10 and its mean over steps 1…budget."""
    path = study_path(experiment, "theta_rounds", root)
    if not path.is_file():
        return None
    study = json.loads(path.read_text())
    rows, base = [], study["baseline"]
    for r, v in study["rounds"].items():
        row = {"rounds": int(r), "θ training (s, 1 thread)": round(v["train_seconds"]), "lr": v["lr"]}
        if "speedup_at" in v:
            row.update({f"speed-up at {n}": v["speedup_at"][str(n)] for n in (5, 10, 20)})
            row.update({f"{study.get('curve', 'metric')} at {t}": x for t, x in v["metric_at"].items()})
        else:
            row.update(_accuracy(v))
        rows.append(row)
    last = {"rounds": "baseline", "θ training (s, 1 thread)": None, "lr": base["lr"]}
    last.update({f"{study.get('curve', 'metric')} at {t}": x for t, x in base.get("metric_at", {}).items()}
                if "metric_at" in base else _accuracy(base))
    return pd.DataFrame(rows + [last])


def _accuracy(row: dict) -> dict:
    return {"robust acc. at 1": row["val_acc_step1"], "robust acc. at 10": row["val_acc_step10"],
            "mean over 1…budget": row["val_acc_mean_1_to_budget"]}


def show_rounds_study(experiment: str) -> None:
    """Display rounds_table(experiment) under its caption in a notebook; nothing where no rounds study was run."""
    from .notebook import display
    table = rounds_table(experiment)
    if table is not None:
        print("θ kept at several rounds of one training run (seed 0), on the validation targets:")
        display(table)
