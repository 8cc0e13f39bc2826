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


def sweep_by_accuracy(d, b: str, seed: int, method, grid, budget: int, measure, small_step: int = 10) -> list[dict]:
    """One validation run of `method` per step size in `grid` on backbone b's attacked validation images (seed `seed`'s
    problem): rows with the validation accuracy averaged over reversal steps 1…budget (the defense's lr criterion),
    at step 1, at `small_step` and its best. measure: compare()'s accuracy measure for the validation labels."""
    rows = []
    for lr in grid:
        r = compare(d.problems[(b, seed)], {"val": lambda s: d.attacked(b, "val", s)}, [method], {method.name: lr},
                    budget, [seed], measures={"acc": measure}, keep_trajectory=True)
        curve = r.measures["acc"]["val"][method.name][0]
        rows.append({"backbone": b, "method": method.name, "optimizer": method.optimizer, "lr": float(lr),
                     "val_acc_mean_1_to_budget": float(curve[1:].mean()), "val_acc_step1": float(curve[1]),
                     f"val_acc_step{small_step}": float(curve[min(small_step, budget)]),
                     "val_acc_best": float(curve[1:].max())})
    return rows


def best_row(rows: list, key: str) -> dict:
    """The row with the highest `key` (ties: the smaller lr)."""
    return max(rows, key=lambda r: (r[key], -r["lr"]))


# the reversal's optimizer families searched by the controls: the base method's sign step, Adam, plain gradient
# descent (whose useful step size is decades larger: the SSL loss's pixel gradients are small)
DEFENSE_FAMILIES = {"sign": None, "adam": None, "sgd": (0.1, 1.0, 10.0, 100.0, 1000.0)}


def defense_controls(d, b: str, seed: int, baseline, landscape, lr_grid, budget: int, measure,
                     small_step: int = 10) -> tuple[list, dict, list]:
    """The controls of llcore.repro.controls for the defense, scored like its own sweep (validation accuracy, not
    the SSL objective, which need not track the class): `strongest_x_10` (family × step size with the best validation
    accuracy at step small_step), `strongest_x` (the best mean accuracy over steps 1…budget, the baseline's
    criterion) and `theta_start` (the baseline's sign steps in X from θ(z₀), landscape's own start, its step size by
    the baseline's criterion). Families: DEFENSE_FAMILIES (None: lr_grid), all from the baseline's start.
    Returns (methods to evaluate, {name: lr}, sweep rows, {name: its choice}); a control equal to the baseline is
    still evaluated."""
    from .controls import theta_start
    from .experiment import Method
    rows = []
    for fam, grid in DEFENSE_FAMILIES.items():
        grid = sorted(grid or lr_grid)
        fam_rows = sweep_by_accuracy(d, b, seed, Method(f"x_{fam}", optimizer=fam, x0=baseline.x0), grid, budget,
                                     measure, small_step)
        for r in fam_rows:      # a family's best at its grid's edge: the optimum may lie outside (flagged, as sweeps do)
            r["at_edge"] = len(grid) > 1 and r["lr"] in (grid[0], grid[-1])
        rows += fam_rows
    pick10, pick = best_row(rows, f"val_acc_step{small_step}"), best_row(rows, "val_acc_mean_1_to_budget")
    ts = theta_start(d.problems[(b, seed)], landscape.mapping, baseline)
    ts_rows = sweep_by_accuracy(d, b, seed, ts, lr_grid, budget, measure, small_step)
    for r in rows:
        r["chosen_for"] = ", ".join(n for n, p in (("strongest_x_10", pick10), ("strongest_x", pick)) if p is r)
    pick_ts = best_row(ts_rows, "val_acc_mean_1_to_budget")
    for r in ts_rows:
        r["chosen_for"] = "theta_start" if r is pick_ts else ""
    methods = [Method("strongest_x_10", optimizer=pick10["optimizer"], x0=baseline.x0),
               Method("strongest_x", optimizer=pick["optimizer"], x0=baseline.x0),
               Method("theta_start", optimizer=ts.optimizer, x0=ts.x0)]
    lrs = {"strongest_x_10": pick10["lr"], "strongest_x": pick["lr"], "theta_start": pick_ts["lr"]}
    start = "the baseline's start"
    choices = {"strongest_x_10": {"family": pick10["optimizer"], "lr": pick10["lr"], "start": start,
                                  "criterion": f"validation accuracy at step {small_step}"},
               "strongest_x": {"family": pick["optimizer"], "lr": pick["lr"], "start": start,
                               "criterion": f"validation accuracy averaged over steps 1…{budget}"},
               "theta_start": {"family": ts.optimizer, "lr": pick_ts["lr"], "start": "θ(z₀)",
                               "criterion": f"validation accuracy averaged over steps 1…{budget}"}}
    return methods, lrs, rows + ts_rows, choices
