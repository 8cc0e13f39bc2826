"""Held-out probes: per-round callbacks of `Trainer` that measure θ while it trains.

SpeedupProbe (TrainConfig.probe_every, probe_steps = N): on held-out targets, descent in Z with θ and descent
in X, both with the training's inner optimizer and lr from the same starting points, and

    probe_speedup = (first step at which X-space descent reaches landscape's mean loss at step N) / N,

capped at 10 when X-space descent does not reach it within 10·N steps. It is a progress signal for the bar and
the history, not a fair comparison: the X baseline is not tuned (llcore.sweep does that).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .inversion import invert
from .metrics import reach
from .problem import Problem


class SpeedupProbe:
    """Callable trainer -> {"probe_speedup": float} every `every` rounds, {} otherwise.

    targets: (M, *y_shape) held-out observations on the trainer's device; optimizer, lr: the inner ones;
    steps: N. The X-space curve (10·N steps) is computed once and reused."""

    def __init__(self, problem: Problem, targets: Tensor, optimizer: str, lr: float, steps: int = 10, every: int = 1):
        self.problem, self.targets, self.optimizer, self.lr = problem, targets, optimizer, lr
        self.steps, self.every = steps, every
        self._baseline = None

    @classmethod
    def from_config(cls, problem: Problem, targets: Tensor, config) -> "SpeedupProbe":
        """The probe a TrainConfig asks for: its inner optimizer and lr, probe_steps, probe_every."""
        return cls(problem, problem.check_targets(targets), config.inner_optimizer, config.inner_lr,
                   config.probe_steps, config.probe_every)

    def __call__(self, trainer) -> dict:
        if trainer.round % self.every:
            return {}
        n = self.steps
        if self._baseline is None:
            self._baseline = invert(self.problem, self.targets, None, self.optimizer, self.lr, 10 * n,
                                    generator=torch.Generator().manual_seed(1)).curve()
        rec = invert(self.problem, self.targets, trainer.mapping, self.optimizer, self.lr, n,
                     generator=torch.Generator().manual_seed(1))
        hit = reach(self._baseline, float(rec.curve()[n]))
        return {"probe_speedup": (hit if hit is not None else 10 * n) / n}
