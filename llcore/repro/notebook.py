"""What every experiment notebook does around its experiment, written once.

    run = start("toy", profile, seed, n_seeds, device, out_dir)   # seeds, device, results folder, start time, banner
    theta, art = trained_theta(kind, key, make, problem, y_train, train_kw, seed, run.device)   # cached θ
    run.table(df, "curves", note)          # tables/curves.csv + .md, and displayed
    run.figure(fig, "loss_vs_step.png")    # figures/…, closed, and displayed
    m = run.write_metrics(splits=splits, …)     # metrics.json (validated, with provenance), read back
    check_curves(m, budget)                # every curve finite and the baseline descends

A θ is trained the way every notebook trains it: `set_seed(seed)`, then the mapping is built, then
`Trainer(problem, θ, targets, TrainConfig(**train_kw, seed=seed)).train()`; the artifact (state, history, seconds) is
cached under (kind, key) with `llcore.repro.cache.cached`, so the same settings and code load it instead.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import matplotlib

matplotlib.use("Agg")      # notebooks write figures to files and display the files

import numpy as np
import torch
from torch import Tensor

from .cache import cached
from .paths import results_dir
from .results import now, provenance, write_metrics, write_table
from ..config import TrainConfig
from ..mapping import Mapping
from ..problem import Problem
from ..seeding import pick_device, set_seed
from ..trainer import Trainer


def display(*objs) -> None:
    """IPython's display where there is one (a notebook), else print."""
    try:
        from IPython.display import display as show
    except ImportError:                                   # pragma: no cover - IPython ships with jupyter
        show = print
    show(*objs)


def show_image(path: Union[str, Path]) -> Path:
    """Display a saved figure in the notebook; return its path."""
    from IPython.display import Image
    display(Image(str(path)))
    return Path(path)


def show_markdown(lines: Sequence[str], sep: str = "\n\n") -> str:
    """Display sentences (built from the numbers just written) as one Markdown block; return the text."""
    from IPython.display import Markdown
    text = sep.join(lines)
    display(Markdown(text))
    return text


@dataclass
class Run:
    """One notebook run: its experiment, profile, seeds, device, results folder and start time."""

    experiment: str
    profile: str
    seeds: list
    device: torch.device
    out: Path
    started: str
    t_start: float

    def provenance(self) -> dict:
        return provenance(self.seeds, self.started, time.perf_counter() - self.t_start, self.device)

    def table(self, df, name: str, note: str = "", show: bool = True):
        """Write tables/<name>.csv and .md (with the note) and display the table."""
        write_table(df, self.out, name, note=note)
        if show:
            display(df)
        return df

    def figure(self, fig, name: str, dpi: int = 100, show: bool = True) -> Path:
        """Save a matplotlib figure as figures/<name>, close it and display the file."""
        import matplotlib.pyplot as plt
        path = self.out / "figures" / name
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
        return show_image(path) if show else path

    def metrics(self, **fields) -> dict:
        """metrics.json's content: experiment, profile, seeds, the given fields, provenance (timed now)."""
        return {"experiment": self.experiment, "profile": self.profile, "seeds": self.seeds, **fields,
                "provenance": self.provenance()}

    def write_metrics(self, **fields) -> dict:
        """Validate and write metrics.json (llcore.repro.results.write_metrics) and return it as read back."""
        path = write_metrics(self.out, self.metrics(**fields))
        print("wrote", path)
        return json.loads(path.read_text())


def start(experiment: str, profile: str, seed: int, n_seeds: int, device: str = "auto", out_dir: str = "",
          note: str = "") -> Run:
    """The start of every notebook: seeds seed, seed+1, …; the device; results/<profile>/<experiment>/ (or out_dir)
    with tables/ and figures/; the start time; and a one-line banner."""
    import llcore
    started, t_start = now(), time.perf_counter()
    dev = pick_device(device)
    seeds = [seed + i for i in range(n_seeds)]
    out = Path(out_dir) if out_dir else results_dir(profile, experiment)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    print(f"llcore {llcore.__version__} from {Path(llcore.__file__).parent} · device {dev} · seeds {seeds} · "
          f"writing to {out}" + (f"\n{note}" if note else ""))
    return Run(experiment, profile, seeds, dev, out, started, t_start)


def trained_theta(kind: str, key: dict, make: Callable[[], Mapping], problem: Problem,
                  targets: Union[Tensor, Callable[[], Tensor]], train_kw: dict, seed: int, device,
                  progress: bool = True, log: Callable[[str], None] = print) -> tuple[Mapping, dict]:
    """θ for one seed, trained by coordinate descent with experience replay and cached under (kind, key).

    make() builds the untrained mapping (it is called after set_seed(seed), so it draws θ's initialisation);
    targets: θ's training targets, or a function giving them (called only when θ is trained).
    Returns (θ on `device` in eval mode, the artifact {"state", "history", "seconds"})."""
    def build():
        y = targets() if callable(targets) else targets
        set_seed(seed)
        theta = make().to(device)
        trainer = Trainer(problem, theta, y, TrainConfig(**train_kw, seed=seed))
        history = trainer.train(progress=progress)
        return {"state": {k: v.cpu() for k, v in theta.state_dict().items()}, "history": history,
                "seconds": trainer.seconds}
    art = cached(kind, key, build, log=log)
    theta = make()
    theta.load_state_dict(art["state"])
    return theta.to(device).eval(), art


def check_curves(m: dict, budget: int, descends: Optional[Callable[[str], bool]] = None) -> None:
    """The end-of-notebook checks: every curve of every split finite, and on the splits where descends(name) is true
    (default: all) the baseline's value at the budget below its value at step 1 (descent descends)."""
    for name, s in m["splits"].items():
        assert all(np.isfinite(v) for c in s["curves"].values() for v in c.values()), name
        if descends is None or descends(name):
            c = s["curves"]["baseline"]
            assert c[str(budget)] < c["1"], f"{name}: descent descends"
    print("checks passed")


def mean_median_notes(m: dict, steps: Sequence[int] = (10,), a: str = "landscape", b: str = "baseline") -> list[str]:
    """Sentences for a conclusion, one per split and step where the mean and the median over targets disagree about
    which of methods a and b is ahead (splits without `curves_median` are skipped); a closing sentence says which
    splits agree, so the reader knows the medians were read."""
    notes, agree = [], []
    for name, s in m["splits"].items():
        med = s.get("curves_median")
        if not med or a not in med or b not in med:
            continue
        better = (lambda x, y: x > y) if s.get("higher_is_better") else (lambda x, y: x < y)
        for t in [str(t) for t in (*steps, s["budget_steps"])]:
            if t not in med[a] or t not in s["curves"][a]:
                continue
            by_mean, by_median = better(s["curves"][a][t], s["curves"][b][t]), better(med[a][t], med[b][t])
            if by_mean != by_median:
                over = s.get("median_over", "targets")
                notes.append(f"**{name}, step {t}: mean and median disagree.** The mean says {a if by_mean else b} is "
                             f"ahead ({s['curves'][a][t]:.3g} vs {s['curves'][b][t]:.3g}), the median over {over} says "
                             f"{a if by_median else b} ({med[a][t]:.3g} vs {med[b][t]:.3g}): a minority of {over} "
                             "moves the mean.")
            else:
                agree.append(f"{name}@{t}")
    if agree:
        notes.append(f"Mean and median agree on which of {a} and {b} is ahead at " + ", ".join(agree) + ".")
    return notes + per_target_notes(m, steps)


def per_target_notes(m: dict, steps: Sequence[int] = (10,)) -> list[str]:
    """Sentences for a conclusion where landscape's per-target speed-up at N (the median over targets, with its
    bootstrap interval and the share of targets that gain: `speedup_per_target`) and the speed-up read off the mean
    curves disagree: on different sides of 1, or more than 1.5 times apart."""
    notes = []
    for name, s in m["splits"].items():
        for ref, by_n in (s.get("speedup_per_target") or {}).items():
            for n in [str(t) for t in steps]:
                pt = by_n.get(n)
                curve = s["speedup_at"].get(n) if ref == "baseline" else None
                if pt is None:
                    continue
                lo, hi = pt["median_interval"]
                sides = curve is not None and (curve > 1) != (pt["median"] > 1)
                apart = curve is not None and max(curve, pt["median"]) > 1.5 * min(curve, pt["median"])
                if curve is None or sides or apart:
                    against = f" against {curve:.2g} on the mean curves" if curve is not None else ""
                    who = {"strongest_x": "strongest_x (the strongest descent in X for the budget)"}.get(ref, ref)
                    notes.append(f"**{name}, speed-up at {n} steps against {who}, per target:** median {pt['median']:.2g} "
                                 f"[{lo:.2g}, {hi:.2g}] ({pt['level']:.0%} bootstrap), mean {pt['mean']:.2g}; "
                                 f"{pt['fraction_gain']:.0%} of {pt['n']} targets gain{against}.")
    return notes
