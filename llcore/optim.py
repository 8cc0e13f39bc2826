"""Inner optimizers for z (or x), written as explicit update rules.

One rule serves inference, the E-step rollouts and the unrolled ablation (which differentiates
through the updates), so "the same optimizer" means the same code everywhere:

    adam:  m ← β₁m + (1-β₁)g,  v ← β₂v + (1-β₂)g²,  z ← z - lr·m̂ / (√v̂ + ε)   (Kingma & Ba, 2015)
    sgd:   z ← z - lr·g                                              (the paper's Eq. 4 with plain GD)
    sign:  z ← z - lr·sign(g)                                        (PGD's step, Madry et al. 2018)

Updates are element-wise, so optimizing a batch of targets with the summed loss keeps each
target's descent independent of the others.

"lbfgs" is not a step rule but a solver: `invert` runs torch.optim.LBFGS with a strong-Wolfe line search on each
target alone (llcore.lbfgs), counting every evaluation of F as a step. It serves inference and the fair comparison
(llcore.compare), not θ's training, which needs a step rule (OPTIMIZERS).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

OPTIMIZERS = ("adam", "sgd", "sign")       # step rules: inference and θ's training
SOLVERS = OPTIMIZERS + ("lbfgs",)          # what invert runs: the step rules and per-target L-BFGS


@dataclass
class InnerOptimizer:
    """One of the update rules above, with its settings.

    name: 'adam' (default), 'sgd', 'sign' or 'lbfgs' (invert only: the module docstring); lr: step size, finite and
    > 0 (default 0.1; for 'lbfgs' the initial step of each line search, 1 is the usual choice); betas: Adam's (β₁, β₂),
    each in [0, 1) (default (0.9, 0.999)); eps: Adam's ε > 0 (default 1e-8). betas and eps are Adam's only."""
    name: str = "adam"
    lr: float = 0.1
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self):
        if self.name not in SOLVERS:
            raise ValueError(f"unknown optimizer {self.name!r}; choose one of {list(SOLVERS)}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a finite number > 0, got {self.lr!r}")
        betas = tuple(self.betas)
        if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1) (Adam's β₁, β₂), got {self.betas!r}")
        self.betas = betas
        if not (isinstance(self.eps, (int, float)) and self.eps > 0):
            raise ValueError(f"eps must be a number > 0, got {self.eps!r}")

    def init_state(self, z: Tensor) -> dict:
        """Fresh state for iterate z: the step count t = 0, plus Adam's moments m, v (zeros like z) for 'adam'."""
        if self.name == "adam":
            return {"t": 0, "m": torch.zeros_like(z), "v": torch.zeros_like(z)}
        return {"t": 0}

    def step(self, z: Tensor, grad: Tensor, state: dict, differentiable: bool = False) -> Tensor:
        """One update. In place (and returns z) unless `differentiable`, which builds a graph instead.

        z: the iterate, any shape; grad: ∇_z of the summed loss, z's shape; state: from init_state, updated here;
        differentiable: return a new tensor, out of place, so the step can be back-propagated (default False)."""
        if self.name == "lbfgs":
            raise ValueError("'lbfgs' is a per-target solver, not a step rule: run it through llcore.invert")
        state["t"] += 1
        if self.name == "sgd":
            return z - self.lr * grad if differentiable else z.sub_(grad, alpha=self.lr)
        if self.name == "sign":
            return z - self.lr * grad.sign() if differentiable else z.sub_(grad.sign(), alpha=self.lr)
        b1, b2 = self.betas
        t = state["t"]
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        if differentiable:
            m = b1 * state["m"] + (1 - b1) * grad
            v = b2 * state["v"] + (1 - b2) * grad * grad
            state["m"], state["v"] = m, v
            # √(v + ε²) instead of √v keeps the derivative finite where a gradient entry is exactly 0
            denom = (v + self.eps ** 2).sqrt() / math.sqrt(bc2) + self.eps
            return z - (self.lr / bc1) * m / denom
        m, v = state["m"], state["v"]
        m.mul_(b1).add_(grad, alpha=1 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = v.sqrt().div_(math.sqrt(bc2)).add_(self.eps)
        return z.addcdiv_(m, denom, value=-self.lr / bc1)
