"""The fair comparison: landscape against the strongest descent a user could pick, both chosen on validation targets.

A speed-up means little against an untuned baseline. For each step N compared, `fair_comparison`

1. searches the **reference** on the validation targets: optimizer families (`FAMILIES`: Adam with β₁ 0.9, 0.5 or 0,
   plain gradient descent, per-target L-BFGS counted per evaluation of F), each family's learning rates (a grid of
   decades, grown past its edge by llcore.sweep) and the starting points given, for the criterion "mean validation
   objective at step N" (`strongest`);
2. gives **landscape** the same search in Z from θ's start (or takes a fixed `Choice`, as the training probe does);
3. runs both on the test targets (the reference for `horizon` steps, so it can catch up) and reports per-target
   speed-ups at N: the steps each target's reference needs to reach that target's own landscape value at N, divided
   by N (llcore.metrics.per_target_speedup), their median and mean with bootstrap intervals and the fraction of
   targets that gain, beside the speed-up read off the mean curves (driven by the hardest targets).

The reference is chosen for step N, so at later steps it may not be the best X descent: a speed-up well above 1 is
read against a reference tuned for the landscape's step, not for the step where it catches up.

    result = fair_comparison(problem, y_val, y_test, theta, steps=(10,))
    print(result)                                  # one line per N; result.outcomes[10].summary holds the numbers

With an amortized start E(y), the same searches compare landscape against and with it: llcore.compare_amortized.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from . import metrics
from .inversion import Record, invert
from .mapping import Mapping
from .optim import InnerOptimizer
from .problem import Problem
from .sweep import sweep_lr


@dataclass(frozen=True)
class Family:
    """An optimizer family of the search: `label` names it in tables, `optimizer` as invert takes it ("adam",
    "sgd", "sign", "lbfgs"), Adam's `betas` (None: the engine's default (0.9, 0.999))."""
    label: str
    optimizer: str
    betas: Optional[tuple] = None

    def inner(self, lr: float) -> InnerOptimizer:
        """This family's InnerOptimizer at learning rate `lr`."""
        return InnerOptimizer(self.optimizer, lr) if self.betas is None else InnerOptimizer(self.optimizer, lr,
                                                                                             tuple(self.betas))


FIRST_ORDER = (Family("adam", "adam"), Family("adam β₁=0.5", "adam", (0.5, 0.999)),
               Family("adam β₁=0 (RMSprop-like)", "adam", (0.0, 0.999)), Family("gradient descent", "sgd"))
LBFGS = Family("L-BFGS", "lbfgs")          # per target, one step per evaluation of F (llcore.lbfgs)
FAMILIES = FIRST_ORDER + (LBFGS,)
WIDE_GRID = tuple(10.0 ** k for k in range(-2, 3))    # 1e-2 … 1e2 (grown past an edge): families differ by decades

Start = Optional[Callable[[Tensor], Tensor]]          # targets (B, *y_shape) -> x_0 (B, *x_shape); None: the problem's
Grid = Union[Sequence[float], Callable[[Family], Sequence[float]]]


@dataclass(frozen=True)
class Choice:
    """A method chosen on validation targets: its `family` and `lr`, `start` (the label of its starting point in
    the starts given to `strongest`), the step it was chosen for (`steps`) and its `score` there (the mean
    validation objective at that step)."""
    family: Family
    lr: float
    start: str
    steps: int
    score: float

    @property
    def optimizer(self) -> InnerOptimizer:
        """The family's InnerOptimizer at the chosen lr."""
        return self.family.inner(self.lr)

    def describe(self) -> str:
        """One phrase for tables and logs: family, lr, start."""
        return f"{self.family.label}, lr {self.lr:.3g}, start {self.start}"


def strongest(problem: Problem, y_val: Tensor, steps: int, mapping: Optional[Mapping] = None,
              families: Sequence[Family] = FAMILIES, grid: Grid = WIDE_GRID, starts: Optional[dict] = None,
              seed: int = 0, extend: int = 2) -> tuple[Choice, list[dict]]:
    """The best (family, start, lr) on the validation targets y_val (B, *y_shape) by the mean objective at step
    `steps`: each family × start runs llcore.sweep.sweep_lr (runs of `steps` steps, criterion "final", unstable runs
    rejected, the grid grown `extend` times past an edge). A family that never descends stably is recorded and
    skipped. mapping: θ (search in Z) or None (in X); families: the Family tuple searched (default FAMILIES); grid: the lrs, or a function family -> lrs (empty: skip);
    starts: {label: None (the problem's x_0, drawn with `seed`) or a function targets -> x_0}, default the problem's.
    Returns (the Choice, one row per run: family, start, steps, lr, score, final, stable, ..., chosen,
    best_of_family). Raises FloatingPointError when no family descends stably."""
    starts = starts or {"the problem's x₀": None}
    rows, best = [], None
    for fam in families:
        lrs = sorted(set(float(g) for g in (grid(fam) if callable(grid) else grid)))
        if not lrs:
            continue
        for label, start in starts.items():
            x0 = None if start is None else start(y_val)
            try:
                lr, table = sweep_lr(problem, y_val, lrs, mapping, fam.inner(lrs[0]), steps, "final", seed, x0=x0,
                                     reject_unstable=True, extend=extend)
            except FloatingPointError as err:          # this family never descends stably here: skip it
                rows.append({"family": fam.label, "start": label, "steps": steps, "lr": float("nan"),
                             "score": float("inf"), "stable": False, "note": str(err), "chosen": False,
                             "best_of_family": False})
                continue
            score = next(r["score"] for r in table if r["lr"] == lr)
            rows += [{"family": fam.label, "start": label, "steps": steps, **r, "chosen": False,
                      "best_of_family": r["lr"] == lr} for r in table]
            if best is None or score < best.score:
                best = Choice(fam, lr, label, steps, score)
    if best is None:
        raise FloatingPointError("no optimizer family descended stably on the validation targets")
    for r in rows:
        r["chosen"] = r["family"] == best.family.label and r["start"] == best.start and r["lr"] == best.lr
    return best, rows


def around(rows: list, factor: float = 3.0) -> Callable[[Family], Sequence[float]]:
    """A family's grid for a longer horizon: its best lr in an earlier `strongest` search's rows (any start),
    divided and multiplied by `factor` (the sweep grows past the edge if needed); no grid for a family that never
    descended. Searching the budget this way costs 3 runs per family instead of a grid of decades."""
    best = {}
    for r in rows:
        if r.get("best_of_family") and (r["family"] not in best or r["score"] < best[r["family"]][0]):
            best[r["family"]] = (r["score"], r["lr"])
    tidy = lambda x: float(f"{x:.6g}")                    # 0.3 / 3 is 0.1, not 0.09999999999999999  # noqa: E731
    return lambda fam: () if fam.label not in best else tuple(tidy(best[fam.label][1] * f)
                                                              for f in (1 / factor, 1.0, factor))


def run(problem: Problem, y: Tensor, choice: Choice, steps: int, mapping: Optional[Mapping] = None,
        starts: Optional[dict] = None, seed: int = 0) -> Record:
    """Run `choice` on `problem` for targets y (B, *y_shape), `steps` steps, in Z through θ = `mapping` (None: in
    X), from its start (looked up by label in `starts`, as given to `strongest`; the problem's x_0 drawn with `seed`
    when absent or None; in Z lifted by θ). Returns the Record."""
    start = (starts or {}).get(choice.start)
    return invert(problem, y, mapping, choice.optimizer, steps=steps, x0=None if start is None else start(y),
                  generator=torch.Generator().manual_seed(seed))


@dataclass
class Outcome:
    """One step N of a fair comparison (`n`): the `reference` and `landscape` Choices, their test records
    (`reference_record`, horizon steps; `landscape_record`, N steps), the `per_target` speed-ups at N (B,) and the
    `summary` (metrics.per_target_summary, plus "curve": the speed-up read off the mean curves)."""
    n: int
    reference: Choice
    landscape: Choice
    reference_record: Record          # on the test targets, `horizon` steps
    landscape_record: Record          # on the test targets, N steps
    per_target: np.ndarray            # (B,) per-target speed-ups at N
    summary: dict                     # metrics.per_target_summary, plus "curve" (mean-curve speed-up), "capped"

    def line(self) -> str:
        """The outcome in one printable line: median with its interval, mean, share that gains, mean-curve figure."""
        s = self.summary
        lo, hi = s["median_interval"]
        return (f"N={self.n}: per-target speed-up median {s['median']:.2f} [{lo:.2f}, {hi:.2f}], mean {s['mean']:.2f}, "
                f"{100 * s['fraction_gain']:.0f}% of {s['n']} targets gain; mean curve {s['curve']:.2f} "
                f"(reference {self.reference.describe()}; landscape {self.landscape.describe()})")


def evaluate(problem: Problem, y: Tensor, theta: Mapping, reference: Union[Choice, Record], landscape: Choice,
             n: int, horizon: int, reference_choice: Optional[Choice] = None, starts: Optional[dict] = None,
             landscape_starts: Optional[dict] = None, seed: int = 0, level: float = 0.95) -> Outcome:
    """Speed-ups at step n of θ = `theta` run as `landscape` (a Choice, in Z) against `reference` on `problem`'s
    targets y (B, *y_shape): the reference is a Choice (run here in X for `horizon` steps) or its Record already
    computed on y for at least `horizon` steps (then pass `reference_choice` for the report). starts,
    landscape_starts: the start functions by label (as in `strongest`); seed: the problem's x_0 and the bootstrap;
    level: of the bootstrap intervals. The training probe (llcore.probes) calls this, so its figure is the fair
    comparison's. Returns an Outcome."""
    if isinstance(reference, Choice):
        reference_choice, reference = reference, run(problem, y, reference, horizon, None, starts, seed)
    if reference.steps < horizon:
        raise ValueError(f"the reference record has {reference.steps} steps, fewer than horizon={horizon}")
    land = run(problem, y, landscape, n, theta, landscape_starts, seed)
    speedups, capped = metrics.per_target_speedup(reference.loss, land.loss, n, horizon)
    curve, _ = metrics.speedup_at(reference.curve(), land.curve(), [n], horizon)
    summary = {**metrics.per_target_summary(speedups, capped, level, seed), "curve": curve[str(n)]}
    return Outcome(n, reference_choice, landscape, reference, land, speedups, summary)


@dataclass
class FairComparison:
    """fair_comparison's result: outcomes[N] per step compared, and every validation run (`rows`)."""
    outcomes: dict
    rows: list = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(o.line() for o in self.outcomes.values())


def fair_comparison(problem: Problem, y_val: Tensor, y_test: Tensor, theta: Mapping, steps: Sequence[int] = (10,),
                    horizon: Optional[int] = None, families: Sequence[Family] = FAMILIES, grid: Grid = WIDE_GRID,
                    starts: Optional[dict] = None, landscape: Optional[Choice] = None,
                    landscape_starts: Optional[dict] = None, seed: int = 0, level: float = 0.95) -> FairComparison:
    """Landscape (θ, descent in Z) against the strongest descent in X, both searched on y_val, at each step N.

    y_val, y_test: validation and test targets (B, *y_shape); theta: θ; steps: the N compared; horizon: the steps the
    reference runs on test to catch up (default 10·max N); families, grid, starts: the reference's search
    (`strongest`); landscape: a fixed Choice for θ instead of the same search in Z from `landscape_starts` (default
    θ's lift of the problem's x_0); seed: draws the starts and the bootstrap; level: of the bootstrap intervals.
    Module docstring: what the numbers mean."""
    if not steps or any(not isinstance(n, int) or n < 1 for n in steps):
        raise ValueError(f"steps must be ints >= 1, got {steps!r}")
    horizon = horizon or 10 * max(steps)
    if horizon < max(steps):
        raise ValueError(f"horizon={horizon} is shorter than the largest step compared, {max(steps)}")
    outcomes, rows = {}, []
    for n in steps:
        ref, ref_rows = strongest(problem, y_val, n, None, families, grid, starts, seed)
        land = landscape
        if land is None:
            land, land_rows = strongest(problem, y_val, n, theta, families, grid,
                                        landscape_starts or {"θ's start": None}, seed)
            rows += [{"method": "landscape", **r} for r in land_rows]
        rows += [{"method": "reference", **r} for r in ref_rows]
        outcomes[n] = evaluate(problem, y_test, theta, ref, land, n, horizon, starts=starts,
                               landscape_starts=landscape_starts, seed=seed, level=level)
    return FairComparison(outcomes, rows)


# the comparison with an amortized start E(y) (llcore.amortized)
