"""Evaluation attacks from a maintained library: the Adversarial Robustness Toolbox (ART, `adversarial-robustness-toolbox`).

Each function takes a torch classifier (images in [0, 1] → logits), images x (N, C, H, W) and labels y (N,), and
returns attacked images as a CPU float tensor of x's shape. ART draws its random starts from NumPy's global
generator, so each call seeds NumPy and torch with `seed` first: the same seed gives the same examples.

    pgd_linf    L∞ PGD (Madry et al. 2018): ART ProjectedGradientDescent, random start(s)
    apgd        L∞ APGD (Croce & Hein 2020) with the cross-entropy or the DLR loss: ART AutoProjectedGradientDescent
    apgd_ce     apgd with the cross-entropy
"""
from __future__ import annotations

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
