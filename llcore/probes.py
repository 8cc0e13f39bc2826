"""Held-out probes: per-round callbacks of `Trainer` that measure θ while it trains.

SpeedupProbe (TrainConfig.probe_every, probe_steps = N) reports the fair comparison's figure (llcore.compare) on
held-out targets, so the signal a user watches is the one they would report:

- the reference is the strongest descent in X for step N, chosen once on the probe targets before the first probe
  (`compare.strongest`: Adam with β₁ 0.9/0.5/0, gradient descent, L-BFGS; lrs over decades), or given;
- landscape runs the training's inner optimizer and lr from θ's start (it is not re-tuned each probe, which can
  only understate it);
- probe_speedup is the per-target median speed-up at N (`compare.evaluate`: the steps each target's reference needs
  to reach its landscape value at N, over N, capped at horizon / N); probe_speedup_curve the mean-curve figure;
  probe_fraction_gain the share of targets above 1.

TrainConfig.stop_patience ends training when probe_speedup has not improved for that many probes (Trainer).
"""
from __future__ import annotations

from typing import Optional, Sequence

from torch import Tensor

from . import compare
from .problem import Problem

PROBE_SEED = 1        # the probe's starting points (the problem's x_0 drawn with this seed)


def training_family(optimizer: str) -> compare.Family:
    """The search's Family of a training optimizer name (Adam with the default betas is the family "adam")."""
    return next((f for f in compare.FAMILIES if f.optimizer == optimizer and f.betas is None),
                compare.Family(optimizer, optimizer))


class SpeedupProbe:
    """Callable trainer -> {"probe_speedup", "probe_speedup_curve", "probe_fraction_gain"} every `every` rounds.

    targets: (M, *y_shape) held-out observations on the trainer's device; optimizer, lr: the training's inner ones;
    steps: N; reference: a compare.Choice to use instead of searching one; horizon: the reference's steps
    (default 10·N); families: the search's. The reference's record on the targets is computed once and reused."""

    def __init__(self, problem: Problem, targets: Tensor, optimizer: str, lr: float, steps: int = 10, every: int = 1,
                 reference: Optional[compare.Choice] = None, horizon: Optional[int] = None,
                 families: Sequence[compare.Family] = compare.FAMILIES):
        self.problem, self.targets, self.steps, self.every = problem, targets, steps, every
        self.horizon, self.families = horizon or 10 * steps, families
        self.landscape = compare.Choice(training_family(optimizer), lr, "θ's start", steps, float("nan"))
        self.reference, self._record = reference, None

    @classmethod
    def from_config(cls, problem: Problem, targets: Tensor, config,
                    reference: Optional[compare.Choice] = None) -> "SpeedupProbe":
        """The probe a TrainConfig asks for: its inner optimizer and lr, probe_steps, probe_every."""
        return cls(problem, problem.check_targets(targets), config.inner_optimizer, config.inner_lr,
                   config.probe_steps, config.probe_every, reference)

    def prepare(self) -> None:
        """Choose the reference (unless given) and run it on the probe targets, once."""
        if self.reference is None:
            self.reference, _ = compare.strongest(self.problem, self.targets, self.steps, None, self.families,
                                                  seed=PROBE_SEED)
        if self._record is None:
            self._record = compare.run(self.problem, self.targets, self.reference, self.horizon, seed=PROBE_SEED)

    def outcome(self, mapping) -> compare.Outcome:
        """The fair comparison's outcome of θ = mapping on the probe targets (compare.evaluate)."""
        self.prepare()
        return compare.evaluate(self.problem, self.targets, mapping, self._record, self.landscape, self.steps,
                                self.horizon, reference_choice=self.reference, seed=PROBE_SEED)

    def __call__(self, trainer) -> dict:
        if trainer.round % self.every:
            return {}
        s = self.outcome(trainer.mapping).summary
        return {"probe_speedup": s["median"], "probe_speedup_curve": s["curve"],
                "probe_fraction_gain": s["fraction_gain"]}
