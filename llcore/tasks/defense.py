"""Reversing adversarial attacks as optimization-based inference (Mao et al., ICCV 2021; paper Sec. 4.2).

Given an attacked image y = x_adv, find a reversal vector r in the L∞ ball of radius ε_r that lowers the
self-supervised loss of the purified image, then classify it:

    r̂ = argmin_{‖r‖∞ ≤ ε_r}  L_ssl(clip(y + r)),      prediction = argmax f(clip(y + r̂))

As an llcore `Problem`: x = r (shape of one image), F = identity, L(r, y) = L_ssl(clip(y + r)), projection onto
the ε_r-ball in X. The baseline is PGD on r (the "sign" inner optimizer); landscape runs the same optimizer on z with
r = θ(z), θ bounded by ε_r·tanh. Accuracy along the way is read off the inversion trajectory (`accuracy_along`).

`DefendedClassifier` wraps a whole defense (the 1-step landscape reversal, or the baseline's multi-step reversal) and
the classifier as one differentiable classifier for adaptive attacks; `uniform_start` is the baseline's random start.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ..mapping import Mapping
from ..problem import Problem, linf_projection, zeros_init
from .ssl import SSLLoss


def purify(y: Tensor, r: Tensor) -> Tensor:
    """clip(y + r) to the image range [0, 1]; y, r (B, C, H, W)."""
    return (y + r).clamp(0.0, 1.0)


def reversal_problem(ssl_loss: SSLLoss, eps: float, image_shape: tuple) -> Problem:
    """The reversal of attacked images of shape image_shape (C, H, W) within ‖r‖∞ ≤ eps."""
    if not eps > 0:
        raise ValueError(f"the reversal budget eps must be > 0, got {eps}")
    return Problem(forward=nn.Identity(), loss=lambda r, y: ssl_loss(purify(y, r)), x_shape=image_shape,
                   y_shape=image_shape, init=zeros_init, project=linf_projection(eps), name="attack reversal")


@torch.no_grad()
def accuracy_along(classifier: nn.Module, y: Tensor, labels: Tensor, trajectory: Tensor,
                   mapping: Optional[Mapping] = None, chunk: int = 4096) -> Tensor:
    """Accuracy (S+1,) of classifier(clip(y + r_t)) at every step t of an inversion trajectory (S+1, B, …) of
    r (mapping None) or z (r = mapping(z)); y (B, C, H, W), labels (B,)."""
    out = []
    for z in trajectory:
        z = z.to(y.device)
        r = z if mapping is None else torch.cat([mapping(c) for c in z.reshape(z.shape[0], -1).split(chunk)])
        pred = classifier(purify(y, r.reshape(y.shape))).argmax(1)
        out.append((pred == labels.to(y.device)).float().mean())
    return torch.stack(out).cpu()


def uniform_start(eps: float, seed: int):
    """The base method's random start of the reversal, r_0 ~ U(−eps, eps) per pixel: a Method.x0-style function
    (seed, targets (B, C, H, W)) → r_0 (B, C, H, W) on the targets' device, drawn on the CPU with `seed` + the run's
    seed (the same start for the same seed)."""
    def start(s: int, y: Tensor) -> Tensor:
        g = torch.Generator().manual_seed(seed + s)
        return ((torch.rand(y.shape, generator=g) * 2 - 1) * eps).to(y.device)
    return start


class DefendedClassifier(nn.Module):
    """A reversal defense followed by the classifier, as one module an adaptive attacker differentiates:
    x (B, C, H, W) in [0, 1] ↦ logits (B, n_classes) of f(clip(x + r_S)) after S sign steps

        landscape (theta given):  z_{t+1} = z_t − lr·sign(∇_z L_ssl(clip(x + θ(z_t)))), z_0 = θ.initial_z(0), r = θ(z_S)
        baseline  (theta None):   r_{t+1} = Π_{ε_r}(r_t − lr·sign(∇_r L_ssl(clip(x + r_t)))), r_0 = 0 or ~ U(−ε_r, ε_r)

    (the same steps as llcore's `invert` with the "sign" optimizer on reversal_problem). The 1-step landscape defense
    is steps = 1 with θ; the base method's reversal is theta None, its steps, eps_r and random_start.

    bpda = "straight_through": differentiate through the SSL gradient, θ and f, with sign(·) replaced by the
           identity in the backward pass (its true derivative is zero almost everywhere) at every step;
    bpda = "identity":         treat the reversal r as a constant (the defense's Jacobian ≈ I), the classic BPDA.
    eot:  logits averaged over this many independent draws of the SSL augmentations (and of the random start),
          Expectation over Transformation, so the attacker sees the defense's randomness.
    A batch of one image is reversed as a pair with a copy of itself when the SSL loss takes its negatives from the
    batch (only ART's one-image probe of the output type does this; evaluations pass whole batches).
    """

    def __init__(self, classifier: nn.Module, ssl_loss: SSLLoss, theta: Optional[Mapping], lr: float,
                 bpda: str = "straight_through", eot: int = 4, steps: int = 1, eps_r: Optional[float] = None,
                 random_start: bool = False, seed: int = 0):
        super().__init__()
        if bpda not in ("straight_through", "identity"):
            raise ValueError(f"bpda must be 'straight_through' or 'identity', got {bpda!r}")
        if theta is None and eps_r is None:
            raise ValueError("the baseline reversal (theta None) needs its bound eps_r")
        self.classifier, self.ssl_loss, self.theta = classifier, ssl_loss, theta
        self.lr, self.bpda, self.eot, self.steps, self.eps_r = lr, bpda, eot, steps, eps_r
        self.random_start, self.generator = random_start, torch.Generator().manual_seed(seed)
        self.requires_grad_(False)

    def _start(self, x: Tensor) -> Tensor:
        if self.theta is not None:
            return self.theta.initial_z(torch.zeros(x.shape[0], self.theta.dim_x, device=x.device))
        if self.random_start:
            return ((torch.rand(x.shape, generator=self.generator) * 2 - 1) * self.eps_r).to(x)
        return torch.zeros_like(x)

    def reversal(self, x: Tensor) -> Tensor:
        """r_S (B, C, H, W) for images x; a graph back to x unless bpda is 'identity' or x needs no gradient."""
        if x.shape[0] == 1 and getattr(self.ssl_loss, "negatives", "") == "batch":
            return self.reversal(torch.cat([x, x]))[:1]
        keep = self.bpda == "straight_through" and x.requires_grad
        r_of = (lambda v: self.theta(v).reshape(x.shape)) if self.theta is not None else (lambda v: v)  # noqa: E731
        with torch.enable_grad():
            v = self._start(x)
            for _ in range(self.steps):
                if not v.requires_grad:
                    v = v.detach().requires_grad_(True)
                loss = self.ssl_loss(purify(x, r_of(v))).sum()
                (g,) = torch.autograd.grad(loss, v, create_graph=keep)
                step = g + (g.sign() - g).detach() if keep else g.sign()
                v = v - self.lr * step
                if self.theta is None:
                    v = v.clamp(-self.eps_r, self.eps_r)
                if not keep:
                    v = v.detach()
            r = r_of(v)
        return r if keep else r.detach()

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([self.classifier(purify(x, self.reversal(x))) for _ in range(self.eot)]).mean(0)


def adaptive_accuracy(attacked: dict, deployed: nn.Module, x: Tensor, y: Tensor, eps: float, steps: int,
                      losses=("ce", "dlr"), eot: int = 1, seed: int = 0, batch: int = 64,
                      static: Optional[Tensor] = None) -> dict:
    """A standard adaptive evaluation of a defense (Croce et al., ICML 2022, for test-time defenses): the defense as
    deployed (`deployed`, fresh randomness at every call) classifies x (N, C, H, W) in [0, 1] and, when given, the
    `static` examples (N, C, H, W) (e.g. PGD on the bare classifier); then, in AutoAttack's manner, L∞ APGD
    (attacks.apgd_eot) with each loss in `losses` ("ce", "dlr") on every differentiable stand-in of the defended
    classifier in `attacked` (name → module making one random draw per call, e.g. DefendedClassifier(..., bpda=...,
    eot=1)), its gradients averaged over `eot` draws (EOT), each attack run on the images still robust to the clean
    check and the attacks before it.

    Returns {"per_attack": {"clean": ..., "static": the static examples alone, "apgd_<loss>/<name>": robust accuracy
    after that adaptive attack and the ones before it}, "robust_accuracy": the worst case over all of them (an image
    counts only if no attack, static or adaptive, succeeds on it), "correct": that per-image result (N,) as 0/1}."""
    from .attacks import apgd_eot
    y = y.to(x.device)
    with torch.no_grad():
        robust = (deployed(x).argmax(1) == y).cpu()
    per = {"clean": float(robust.float().mean())}
    static_ok = torch.ones_like(robust)
    if static is not None:
        with torch.no_grad():
            static_ok = robust & (deployed(static.to(x.device)).argmax(1) == y).cpu()
        per["static"] = float(static_ok.float().mean())
    for i, loss in enumerate(losses):
        for j, (name, model) in enumerate(attacked.items()):
            idx = robust.nonzero().flatten()
            if len(idx):
                xa = apgd_eot(model, x[idx], y[idx], eps, steps, loss, eot, seed=seed + 100 * i + j, batch=batch)
                with torch.no_grad():
                    robust[idx] = (deployed(xa).argmax(1) == y[idx]).cpu()
            per[f"apgd_{loss}/{name}"] = float(robust.float().mean())
    robust &= static_ok
    return {"per_attack": per, "robust_accuracy": float(robust.float().mean()), "correct": robust.int().tolist()}
