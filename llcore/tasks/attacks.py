"""Evaluation attacks: from a maintained library, the Adversarial Robustness Toolbox (ART,
`adversarial-robustness-toolbox`), and an APGD with Expectation over Transformation written here for randomised defenses.

Each function takes a torch classifier (images in [0, 1] → logits), images x (N, C, H, W) and labels y (N,), and
returns attacked images as a CPU float tensor of x's shape. ART draws its random starts from NumPy's global
generator, so each call seeds NumPy and torch with `seed` first: the same seed gives the same examples.

    pgd_linf    L∞ PGD (Madry et al. 2018): ART ProjectedGradientDescent, random start(s)
    apgd        L∞ APGD (Croce & Hein 2020) with the cross-entropy or the DLR loss: ART AutoProjectedGradientDescent
    apgd_ce     apgd with the cross-entropy
    apgd_eot    L∞ APGD (CE or DLR) whose gradients are averaged over draws of a randomised model, one draw's graph in
                memory at a time (ART's APGD would hold every draw's graph of a multi-step reversal at once); seeded
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn


def art_classifier(model: nn.Module, x_shape: tuple, n_classes: int):
    """Wrap a torch classifier as an ART PyTorchClassifier (inputs clipped to [0, 1], cross-entropy loss)."""
    from art.estimators.classification import PyTorchClassifier

    device = next(iter(model.parameters()), torch.zeros(0)).device
    return PyTorchClassifier(model=model, loss=nn.CrossEntropyLoss(), input_shape=tuple(x_shape),
                             nb_classes=n_classes, clip_values=(0.0, 1.0),
                             device_type="gpu" if device.type == "cuda" else "cpu")


def _seeded(seed: int) -> None:
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _run(attack, x: Tensor, y: Tensor) -> Tensor:
    adv = attack.generate(x=x.detach().cpu().numpy().astype(np.float32), y=y.detach().cpu().numpy())
    return torch.from_numpy(adv).float()


def pgd_linf(model: nn.Module, x: Tensor, y: Tensor, eps: float = 0.3, step: float = 0.01, steps: int = 40,
             restarts: int = 1, n_classes: int = 10, seed: int = 0, batch: int = 500) -> Tensor:
    """L∞ PGD with `restarts` random starts (ART keeps, per image, the first start that succeeds)."""
    from art.attacks.evasion import ProjectedGradientDescent

    _seeded(seed)
    attack = ProjectedGradientDescent(art_classifier(model, x.shape[1:], n_classes), norm=np.inf, eps=eps,
                                      eps_step=step, max_iter=steps, num_random_init=restarts, batch_size=batch,
                                      verbose=False)
    return _run(attack, x, y)


APGD_LOSSES = {"ce": "cross_entropy", "dlr": "difference_logits_ratio"}


def apgd(model: nn.Module, x: Tensor, y: Tensor, eps: float = 0.3, steps: int = 100, loss: str = "ce",
         restarts: int = 1, n_classes: int = 10, seed: int = 0, batch: int = 500) -> Tensor:
    """L∞ APGD (Croce & Hein 2020, ART AutoProjectedGradientDescent; step size adapted by the attack, initial step
    2ε) on the cross-entropy (loss "ce") or the difference-of-logits ratio (loss "dlr", needs >= 3 classes):
    x (N, C, H, W) in [0, 1], y (N,) → attacked images (N, C, H, W) on the CPU, within eps of x."""
    from art.attacks.evasion import AutoProjectedGradientDescent

    if loss not in APGD_LOSSES:
        raise ValueError(f"unknown APGD loss {loss!r}; choose one of {sorted(APGD_LOSSES)}")
    _seeded(seed)
    attack = AutoProjectedGradientDescent(art_classifier(model, x.shape[1:], n_classes), norm=np.inf, eps=eps,
                                          eps_step=2 * eps, max_iter=steps, nb_random_init=restarts,
                                          batch_size=batch, loss_type=APGD_LOSSES[loss], verbose=False)
    return _run(attack, x, y)


def apgd_ce(model: nn.Module, x: Tensor, y: Tensor, eps: float = 0.3, steps: int = 100, restarts: int = 1,
            n_classes: int = 10, seed: int = 0, batch: int = 500) -> Tensor:
    """L∞ APGD on the cross-entropy: apgd(..., loss="ce")."""
    return apgd(model, x, y, eps, steps, "ce", restarts, n_classes, seed, batch)


def _dlr(logits: Tensor, y: Tensor) -> Tensor:
    """Per-image difference-of-logits ratio (Croce & Hein 2020), to be maximised: −(z_y − max_{i≠y} z_i) /
    (z_π1 − z_π3); logits (B, K >= 3), y (B,) → (B,)."""
    z = logits.sort(1, descending=True).values
    zy = logits.gather(1, y[:, None])[:, 0]
    other = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf")).max(1).values
    return -(zy - other) / (z[:, 0] - z[:, 2] + 1e-12)


def _eot_loss_grad(model: nn.Module, x: Tensor, y: Tensor, loss: str, eot: int) -> tuple[Tensor, Tensor]:
    """Per-image loss (B,) and its gradient (B, ...) averaged over `eot` calls of a randomised model, each call's
    graph freed before the next (memory of one draw)."""
    total_l, total_g = torch.zeros(x.shape[0], device=x.device), torch.zeros_like(x)
    for _ in range(eot):
        xg = x.detach().requires_grad_(True)
        out = model(xg)
        value = (torch.nn.functional.cross_entropy(out, y, reduction="none") if loss == "ce" else _dlr(out, y))
        (g,) = torch.autograd.grad(value.sum(), xg)
        total_l, total_g = total_l + value.detach(), total_g + g
    return total_l / eot, total_g / eot


def apgd_eot(model: nn.Module, x: Tensor, y: Tensor, eps: float, steps: int = 100, loss: str = "ce", eot: int = 1,
             seed: int = 0, batch: int = 64, rho: float = 0.75, momentum: float = 0.75) -> Tensor:
    """L∞ APGD (Croce & Hein, ICML 2020, Algorithm 1; written here) with Expectation over Transformation: every
    gradient and loss value is the mean over `eot` calls of a randomised model (e.g. a DefendedClassifier with eot=1),
    accumulated one call at a time so memory holds one call's graph. Step size 2ε, halved at the checkpoints
    0, 0.22, … of `steps` when fewer than rho of the steps since the last one raised an image's best loss, or when
    neither its step size nor its best loss changed; momentum 0.75; random start in the ball; `batch` images at once.
    x (N, C, H, W) in [0, 1], y (N,), loss "ce" or "dlr" → the iterate of highest loss per image (N, C, H, W), within
    eps of x and in [0, 1], on x's device."""
    if loss not in APGD_LOSSES:
        raise ValueError(f"unknown APGD loss {loss!r}; choose one of {sorted(APGD_LOSSES)}")
    p = [0.0, 0.22]
    while p[-1] < 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    checks = sorted({int(math.ceil(q * steps)) for q in p[1:] if q <= 1})
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, x.shape[0], batch):
        x0, yb = x[i:i + batch], y[i:i + batch]
        proj = lambda v: torch.min(torch.max(v, x0 - eps), x0 + eps).clamp(0, 1)      # noqa: E731
        xk = proj(x0 + (torch.rand(x0.shape, generator=g) * 2 - 1).to(x0) * eps)
        fk, grad = _eot_loss_grad(model, xk, yb, loss, eot)
        best_f, best_x = fk.clone(), xk.clone()
        eta = torch.full((x0.shape[0],), 2 * eps, device=x0.device)
        col = lambda t: t.reshape(-1, *[1] * (x0.dim() - 1))                           # noqa: E731
        x_prev, raised, last_check, eta_at, best_at = xk.clone(), torch.zeros_like(fk), 0, eta.clone(), best_f.clone()
        for k in range(steps):
            z = proj(xk + col(eta) * grad.sign())
            a = momentum if k > 0 else 1.0
            x_new = proj(xk + a * (z - xk) + (1 - a) * (xk - x_prev))
            f_new, g_new = _eot_loss_grad(model, x_new, yb, loss, eot)
            raised += (f_new > fk).float()
            better = f_new > best_f
            best_f, best_x = torch.where(better, f_new, best_f), torch.where(col(better), x_new, best_x)
            x_prev, xk, fk, grad = xk, x_new, f_new, g_new
            if k + 1 in checks:
                stalled = (raised < rho * (k + 1 - last_check)) | ((eta_at == eta) & (best_at == best_f))
                eta = torch.where(stalled, eta / 2, eta)
                xk = torch.where(col(stalled), best_x, xk)
                raised, last_check, eta_at, best_at = torch.zeros_like(fk), k + 1, eta.clone(), best_f.clone()
        out.append(best_x.detach())
    return torch.cat(out)
