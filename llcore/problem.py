"""The inversion problem: a frozen forward model F, a per-target loss, and the shape of its input x.

Optimization-based inference (OBI) solves, for each observation y,

    x̂ = argmin_x  L(F(x), y) + R(x)                                          (paper, Eq. 1)

`Problem` holds F, L, R, the shape of x, how to draw a starting point x_0, and an optional projection
onto the feasible set (a box for images, an L∞ ball for attack-reversal vectors). Everything an
experiment needs to plug into llcore is one `Problem`; the engine never looks inside F.

F is frozen on construction: its parameters get `requires_grad=False` and it is put in eval mode,
so neither inversion nor θ training can change it.

Optional mixed precision (autocast="bf16" or "fp16"): only F runs in low precision,

    pred = float32( F(x) under torch.autocast(x's device type, bfloat16 | float16) )
    value = L(pred, y) + R(x),   metric = m(pred, y)          (loss, regularizer, metric in float32)

so x, z, θ, the loss, its gradients with respect to x, z and θ, and the optimizer state stay float32. Only F is
cast: a network inside L (a perceptual or self-supervised loss) runs in float32. No loss scaling: fp16 gradients
inside F can underflow (bf16 has float32's range). fp16 needs CUDA. autocast=None (the default) runs everything as
written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn

AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}    # Problem.autocast → dtype of F's forward pass

# helpers

def zeros_init(n: int, x_shape: Sequence[int], generator: torch.Generator) -> Tensor:
    """x_0 = 0: n starts of shape x_shape → (n, *x_shape) on the CPU; generator is unused (the init signature)."""
    return torch.zeros(n, *x_shape)


def normal_init(scale: float = 1.0):
    """An init drawing x_0 ~ N(0, scale²) (scale default 1.0): (n, x_shape, generator) → (n, *x_shape), drawn on
    the CPU from `generator` so it is seed-exact."""
    def init(n: int, x_shape: Sequence[int], generator: torch.Generator) -> Tensor:
        return scale * torch.randn(n, *x_shape, generator=generator)
    return init


def box_projection(low: float, high: float):
    """Projection onto the box [low, high] (images), element-wise clamp: x (B, *x_shape) → same shape."""
    return lambda x: x.clamp(low, high)


def linf_projection(eps: float):
    """Projection onto the L∞ ball of radius eps around 0 (reversal vectors): clamp to [-eps, eps], same shape."""
    return lambda x: x.clamp(-eps, eps)


# classes

@dataclass
class Problem:
    """An inversion problem.

    forward:     F, maps x of shape (B, *x_shape) to a prediction; frozen here.
    loss:        L(pred, y) -> (B,), one value per target. Targets are optimized jointly with the
                 sum of these losses, so per-target Adam updates stay independent.
    x_shape:     shape of one x, without the batch dimension.
    y_shape:     shape of one target, checked on every call when given.
    init:        (n, x_shape, generator) -> x_0 of shape (n, *x_shape), on the CPU.
    project:     optional map onto the feasible set, applied to x after each step of X-space
                 descent (a mapping network bounds its own output instead, see mapping.py).
    regularizer: optional R(x) -> (B,), added to the loss.
    metric:      optional quality measure m(pred, y) -> (B,) to report besides the objective (e.g. pixel MSE
                 when the loss adds a perceptual term), computed from the same forward pass, no gradient.
    name:        how records and error messages name the problem (default "problem").
    autocast:    None (default, float32 as written), "bf16" or "fp16" (CUDA only): F's forward pass under
                 torch.autocast in that dtype, its prediction cast back to float32 (module docstring).
    dim_x (set, not passed): the number of elements of one x, prod(x_shape).
    """
    forward: Callable[[Tensor], Tensor]
    loss: Callable[[Tensor, Tensor], Tensor]
    x_shape: tuple
    y_shape: Optional[tuple] = None
    init: Callable[[int, Sequence[int], torch.Generator], Tensor] = zeros_init
    project: Optional[Callable[[Tensor], Tensor]] = None
    regularizer: Optional[Callable[[Tensor], Tensor]] = None
    metric: Optional[Callable[[Tensor, Tensor], Tensor]] = None
    name: str = "problem"
    autocast: Optional[str] = None
    dim_x: int = field(init=False)

    def __post_init__(self):
        self.x_shape = tuple(int(s) for s in self.x_shape)
        if self.y_shape is not None:
            self.y_shape = tuple(int(s) for s in self.y_shape)
        self.dim_x = 1
        for s in self.x_shape:
            self.dim_x *= s
        if isinstance(self.forward, nn.Module):
            self.forward.eval()
            self.forward.requires_grad_(False)
        if self.autocast is not None and self.autocast not in AUTOCAST:
            raise ValueError(f"{self.name}: autocast must be None, 'bf16' or 'fp16', got {self.autocast!r}")

    def predict(self, x: Tensor) -> Tensor:
        """F(x) for x (B, *x_shape): as written, or under autocast in the problem's dtype and cast back to float32."""
        if self.autocast is None:
            return self.forward(x)
        if self.autocast == "fp16" and x.device.type != "cuda":
            raise ValueError(f"{self.name}: autocast 'fp16' needs CUDA, x is on {x.device}; use 'bf16' or None")
        with torch.autocast(device_type=x.device.type, dtype=AUTOCAST[self.autocast]):
            pred = self.forward(x)
        return pred.float()

    def objective(self, x: Tensor, y: Tensor) -> Tensor:
        """L(F(x), y) + R(x), shape (B,). x: (B, *x_shape), y: (B, *y_shape)."""
        return self.objective_and_metric(x, y, with_metric=False)[0]

    def objective_and_metric(self, x: Tensor, y: Tensor, with_metric: bool = True) -> tuple[Tensor, Optional[Tensor]]:
        """(L(F(x), y) + R(x), m(F(x), y) or None), both (B,), from one forward pass. x: (B, *x_shape),
        y: (B, *y_shape); with_metric=False (default True) skips the metric and returns None for it."""
        pred = self.predict(x)
        value = self.loss(pred, y)
        if value.dim() != 1 or value.shape[0] != x.shape[0]:
            raise ValueError(f"{self.name}: loss must return shape (B,) = ({x.shape[0]},), "
                             f"got {tuple(value.shape)}")
        if self.regularizer is not None:
            value = value + self.regularizer(x)
        if not with_metric or self.metric is None:
            return value, None
        with torch.no_grad():
            return value, self.metric(pred.detach(), y)

    def initial_x(self, n: int, generator: torch.Generator) -> Tensor:
        """x_0 for n targets, shape (n, *x_shape), checked: the problem's init with `generator` (CPU)."""
        x0 = self.init(n, self.x_shape, generator)
        if tuple(x0.shape) != (n, *self.x_shape):
            raise ValueError(f"{self.name}: init returned shape {tuple(x0.shape)}, "
                             f"expected {(n, *self.x_shape)}")
        return x0

    def check_targets(self, y: Tensor) -> Tensor:
        """Validate a target batch y of shape (B, *y_shape): a tensor, batched, finite."""
        if not isinstance(y, Tensor):
            raise TypeError(f"{self.name}: targets must be a torch.Tensor, got {type(y).__name__}")
        if y.dim() < 1 or y.shape[0] < 1:
            raise ValueError(f"{self.name}: targets need a non-empty batch dimension, got shape {tuple(y.shape)}")
        if self.y_shape is not None and tuple(y.shape[1:]) != self.y_shape:
            raise ValueError(f"{self.name}: each target must have shape {self.y_shape}, "
                             f"got {tuple(y.shape[1:])} (batch shape {tuple(y.shape)})")
        if y.is_floating_point() and not torch.isfinite(y).all():
            bad = (~torch.isfinite(y.reshape(y.shape[0], -1))).any(1).nonzero().flatten().tolist()
            raise ValueError(f"{self.name}: targets contain NaN or Inf (batch rows {bad[:10]})")
        return y
