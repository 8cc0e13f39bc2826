"""Reversing adversarial attacks as optimization-based inference (Mao et al., ICCV 2021; paper Sec. 4.2).

Given an attacked image y = x_adv, find a reversal vector r in the L∞ ball of radius ε_r that lowers the
self-supervised loss of the purified image, then classify it:

    r̂ = argmin_{‖r‖∞ ≤ ε_r}  L_ssl(clip(y + r)),      prediction = argmax f(clip(y + r̂))

As an llcore `Problem`: x = r (shape of one image), F = identity, L(r, y) = L_ssl(clip(y + r)), projection onto
the ε_r-ball in X. The baseline is PGD on r (the "sign" inner optimizer); landscape runs the same optimizer on z with
r = θ(z), θ bounded by ε_r·tanh. Accuracy along the way is read off the inversion trajectory (`accuracy_along`).

`DefendedClassifier` wraps the whole 1-step landscape defense as one differentiable classifier for adaptive attacks.
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


class DefendedClassifier(nn.Module):
    """x ↦ logits of f(clip(x + θ(z_1))), z_1 = z_0 − lr·sign(∇_z L_ssl(clip(x + θ(z_0)))): the 1-step landscape
    defense, made differentiable for an adaptive attacker.

    bpda = "straight_through": differentiate through the SSL gradient, θ and f, with sign(·) replaced by the
           identity in the backward pass (its true derivative is zero almost everywhere);
    bpda = "identity":         treat the reversal r as a constant (the defense's Jacobian ≈ I), the classic BPDA.
    eot:  logits averaged over this many independent draws of the SSL augmentations (Expectation over
          Transformation), so the attacker sees the defense's randomness.
    """

    def __init__(self, classifier: nn.Module, ssl_loss: SSLLoss, theta: Mapping, lr: float,
                 bpda: str = "straight_through", eot: int = 4):
        super().__init__()
        if bpda not in ("straight_through", "identity"):
            raise ValueError(f"bpda must be 'straight_through' or 'identity', got {bpda!r}")
        self.classifier, self.ssl_loss, self.theta = classifier, ssl_loss, theta
        self.lr, self.bpda, self.eot = lr, bpda, eot
        self.requires_grad_(False)

    def reversal(self, x: Tensor) -> Tensor:
        """r_1 (B, C, H, W) for images x; a graph back to x unless bpda is 'identity'."""
        with torch.enable_grad():
            z0 = self.theta.initial_z(torch.zeros(x.shape[0], self.theta.dim_x, device=x.device))
            z0.requires_grad_(True)
            loss = self.ssl_loss(purify(x, self.theta(z0).reshape(x.shape))).sum()
            keep = self.bpda == "straight_through" and x.requires_grad
            (g,) = torch.autograd.grad(loss, z0, create_graph=keep)
            step = g + (g.sign() - g).detach() if keep else g.sign()
            r = self.theta(z0 - self.lr * step).reshape(x.shape)
        return r if keep else r.detach()

    def forward(self, x: Tensor) -> Tensor:
        return torch.stack([self.classifier(purify(x, self.reversal(x))) for _ in range(self.eot)]).mean(0)
