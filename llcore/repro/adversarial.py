"""Notebook 02's measurements around the defense (builders.defense_setup): the SSL premise per backbone, a second
attack (APGD-CE) and the adaptive evaluation (APGD-CE and APGD-DLR through BPDA and EOT) of the 1-step landscape
defense and of the baseline's reversal. Each keeps the order of its random draws
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


def adaptive_attack(d, b: str, seeds, thetas: dict, lrs: dict, n: int, eps: float, steps: int, eot: int,
                    eps_r: float, baseline_steps: int, random_start: bool = False, losses=("ce", "dlr"),
                    bpda=("straight_through",), batch: int = 64) -> dict:
    """The standard adaptive evaluation (tasks.defense.adaptive_accuracy: APGD-CE and APGD-DLR, BPDA, EOT over the
    SSL augmentations) of backbone b's two defenses on the first n test images, per seed:

        landscape  1 sign step in Z with θ = thetas[s] and lr lrs["landscape"]
        baseline   the reversal in X: baseline_steps sign steps of lr lrs["baseline"] in the ε_r ball, from r = 0 or
                   (random_start) from r ~ U(−ε_r, ε_r), as the base method

    each next to the same defense on the static PGD examples of the same images (d.attacked), which also count in the
    worst case. The attacker's SSL augmentations and the deployed defense's are independent streams; `batch` images
    are attacked at once (memory: one EOT draw of the reversal's graph for that many images). Per method:
    robust_accuracy (worst case per image over the static and adaptive attacks, mean over seeds), spread (std over
    seeds), per_attack (tasks.defense.adaptive_accuracy's, mean over seeds), static_pgd_same_images."""
    import time

    from ..tasks.defense import DefendedClassifier, adaptive_accuracy
    x, lab = d.x_test[:n].to(d.device), d.y_test[:n].to(d.device)
    spec = {"landscape": dict(theta=None, lr=lrs["landscape"], steps=1),
            "baseline": dict(theta=None, lr=lrs["baseline"], steps=baseline_steps, eps_r=eps_r,
                             random_start=random_start)}
    out = {}
    for k, (method, kw) in enumerate(spec.items()):
        per, static, start = [], [], time.perf_counter()
        for s in seeds:
            kw = {**kw, "theta": thetas[s] if method == "landscape" else None}
            stream = 50_000 + 20_000 * k + s
            deployed = DefendedClassifier(d.models[b], d.ssl_loss(b, stream + 10_000), eot=1, seed=stream + 10_000, **kw)
            attacked = {a: DefendedClassifier(d.models[b], d.ssl_loss(b, stream), bpda=a, eot=1, seed=stream, **kw)
                        for a in bpda}
            xs = d.attacked(b, "test", s)[:n]
            per.append(adaptive_accuracy(attacked, deployed, x, lab, eps, steps, losses, eot, 30_000 + s, batch, xs))
            with torch.no_grad():
                static.append(float((deployed(xs).argmax(1) == lab).float().mean()))
        worst = [p["robust_accuracy"] for p in per]
        out[method] = {"robust_accuracy": float(np.mean(worst)), "spread": float(np.std(worst)),
                       "per_attack": {a: float(np.mean([p["per_attack"][a] for p in per])) for a in per[0]["per_attack"]},
                       "static_pgd_same_images": float(np.mean(static)), "defense_steps": kw["steps"],
                       "seconds": time.perf_counter() - start}
    return {"methods": out, "n_examples": n, "seeds": list(seeds), "eot": eot, "steps": steps,
            "attack": f"APGD ({', '.join(l.upper() for l in losses)}; tasks.attacks.apgd_eot), L∞ ε={eps}, {steps} "
                      f"steps, 1 random start, through the defense with BPDA ({', '.join(bpda)}) and gradients "
                      f"averaged over {eot} draws of the SSL augmentations (EOT), each on the images still robust to the "
                      f"ones before; an image is robust only if every attack, the static PGD examples included, fails "
                      f"(Croce et al. 2022)"}


def split_name(b: str) -> str:
    """A backbone's name as a metrics.json split (snake_case): 'robustbench:Carmon2019Unlabeled' →
    'robustbench_carmon2019unlabeled'; 'standard' stays."""
    return b.replace(":", "_").lower()


def no_defense(d, b: str, seeds, n_clean: int, budget: int) -> tuple[list, list]:
    """Backbone b's accuracy without any reversal (r = 0), as flat curves (budget+1,) per seed: on seed s's PGD test
    examples, and on the first n_clean clean test images. (The baseline's step 0 when it starts from r = 0.)"""
    from ..tasks.classifiers import accuracy
    dev, y = d.device, d.y_test.to(d.device)
    clean = float(accuracy(d.models[b], d.x_test[:n_clean].to(dev), y[:n_clean]).mean())
    adv = [float(accuracy(d.models[b], d.attacked(b, "test", s), y[:d.attacked(b, "test", s).shape[0]]).mean())
           for s in seeds]
    return [np.full(budget + 1, a) for a in adv], [np.full(budget + 1, clean) for _ in seeds]
