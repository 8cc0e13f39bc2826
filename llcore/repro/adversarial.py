"""Notebook 02's measurements around the defense (builders.defense_setup): the SSL premise per backbone, a second
attack (APGD-CE) and the adaptive attack on the 1-step landscape defense. Each keeps the order of its random draws
(ART attacks seed NumPy and torch; SSL losses draw from their own augmentation streams)."""
from __future__ import annotations

import numpy as np
import torch

from .experiment import compare


def premise(d, b: str, s: int, n_test: int, eps: float, attack_steps: int) -> dict:
    """Backbone b's clean and PGD accuracy, and its SSL loss (seed s's problem, r = 0) on clean, attacked and
    randomly sign-noised (±eps on every pixel) test images: does the attack raise the self-supervised loss?"""
    from ..tasks.classifiers import accuracy
    dev, x, y = d.device, d.x_test[:n_test].to(d.device), d.y_test[:n_test].to(d.device)
    xa = d.attacked(b, "test", s)
    row = {"backbone": b, **d.train_seconds[b],
           "clean_accuracy": float(accuracy(d.models[b], d.x_test.to(dev), d.y_test.to(dev)).mean()),
           f"robust_accuracy (PGD-{attack_steps})": float(accuracy(d.models[b], xa, y).mean())}
    loss, zero = d.problems[(b, s)].objective, torch.zeros(n_test, *d.image_shape, device=dev)
    sign = torch.sign(torch.randn(n_test, *d.image_shape, generator=torch.Generator().manual_seed(1)).to(dev))
    with torch.no_grad():
        row["ssl_loss_clean"] = float(loss(zero, x).mean())
        row["ssl_loss_attacked"] = float(loss(zero, xa).mean())
        row["ssl_loss_random_sign_noise"] = float(loss(zero, (x + eps * sign).clamp(0, 1)).mean())
    return row


def apgd(d, b: str, seeds, methods, lrs: dict, budget: int, n: int, eps: float, steps: int, measure, report) -> dict:
    """APGD-CE (ART) examples of backbone b on the first n test images, per seed, reversed by `methods`;
    measure(labels) -> compare() measure of accuracy. Mean and spread over seeds of accuracy at the `report` steps."""
    from ..tasks import attacks
    accs = {}
    for s in seeds:
        xa = attacks.apgd_ce(d.models[b], d.x_test[:n].to(d.device), d.y_test[:n].to(d.device), eps=eps, steps=steps,
                             n_classes=d.n_classes, seed=20_000 + s).to(d.device)
        r = compare(d.problems[(b, s)], {"apgd": lambda _s: xa}, methods, lrs, budget, [s],
                    measures={"acc": measure(d.y_test[:n].to(d.device))}, keep_trajectory=True)
        for m, c in r.measures["acc"]["apgd"].items():
            accs.setdefault(m, []).append(c[0])
    return {"attack": f"ART AutoProjectedGradientDescent, cross-entropy, L∞ ε={eps}, {steps} steps, 1 start",
            "n_examples": n, "seeds": list(seeds),
            "curves": {m: {str(t): float(np.mean([c[t] for c in cs])) for t in report} for m, cs in accs.items()},
            "spread": {m: {str(t): float(np.std([c[t] for c in cs])) for t in report} for m, cs in accs.items()}}


def adaptive_attack(d, b: str, seeds, thetas: dict, lr: float, n: int, eps: float, attack_step: float, steps: int,
                    eot: int) -> dict:
    """ART PGD through the 1-step landscape defense of backbone b (DefendedClassifier, θ = thetas[s], reversal lr),
    with EOT over the SSL augmentations and two BPDA approximations (straight-through sign, identity); the defense is
    evaluated as deployed (fresh augmentations). robust_accuracy: the worse of the two per seed, mean over seeds."""
    from ..tasks import attacks
    from ..tasks.defense import DefendedClassifier
    lab = d.y_test[:n].to(d.device)
    per = {"straight_through": [], "identity": [], "static_same_images": []}
    for s in seeds:
        ssl = d.ssl_loss(b, 50_000 + s)
        deployed = DefendedClassifier(d.models[b], d.ssl_loss(b, 60_000 + s), thetas[s], lr, eot=1)
        for bpda in ("straight_through", "identity"):
            attacked_model = DefendedClassifier(d.models[b], ssl, thetas[s], lr, bpda=bpda, eot=eot)
            xa = attacks.pgd_linf(attacked_model, d.x_test[:n].to(d.device), lab, eps=eps, step=attack_step * 40 / steps,
                                  steps=steps, restarts=1, n_classes=d.n_classes, seed=30_000 + s).to(d.device)
            with torch.no_grad():
                per[bpda].append(float((deployed(xa).argmax(1) == lab).float().mean()))
        with torch.no_grad():
            per["static_same_images"].append(float((deployed(d.attacked(b, "test", s)[:n]).argmax(1) == lab).float().mean()))
    worst = [min(a, c) for a, c in zip(per["straight_through"], per["identity"])]
    return {"robust_accuracy": float(np.mean(worst)), "spread": float(np.std(worst)),
            "per_approximation": {k: float(np.mean(v)) for k, v in per.items()},
            "static_pgd_same_images": float(np.mean(per["static_same_images"])),
            "attack": f"ART ProjectedGradientDescent on the defended classifier, L∞ ε={eps}, {steps} steps, "
                      f"EOT {eot}, BPDA straight-through sign / identity, worst of the two per seed",
            "n_examples": n, "seeds": list(seeds), "defense_steps": 1}
