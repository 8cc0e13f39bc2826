"""Image classifiers for the adversarial-defense experiment, trained by the repo (analogues of robust backbones).

    SmallCNN      conv 5x5 (16) → pool → conv 5x5 (32) → pool → fc 128 (the features) → fc n_classes.
                  Inputs are images in [0, 1], (B, C, H, W); the input normalisation lives inside the model.
                  `features(x)` returns the penultimate activations (B, 128), `forward(x)` the logits.
    train_classifier(kind=...)
        "standard"  cross-entropy on clean images;
        "pgd_at"    Madry et al. (2018): cross-entropy on PGD examples (L∞ ε, random start), ε ramped up;
        "trades"    Zhang et al. (2019): CE(clean) + β·KL(p(clean) ‖ p(x')) with x' maximising that KL in the ε-ball.
    The training-time inner maximisation is the short PGD that is part of each training recipe (`_pgd`); the
    attacks that *evaluate* a defense come from the Adversarial Robustness Toolbox (attacks.py).
"""
from __future__ import annotations

import time
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checkpoint import torch_load

KINDS = ("standard", "pgd_at", "trades")


class SmallCNN(nn.Module):
    def __init__(self, channels: int = 1, size: int = 28, n_classes: int = 10, width: int = 16,
                 mean: float = 0.1307, std: float = 0.3081):
        super().__init__()
        self.config = {"channels": channels, "size": size, "n_classes": n_classes, "width": width,
                       "mean": mean, "std": std}
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, 128), nn.ReLU())
        self.head = nn.Linear(128, n_classes)
        self.feature_dim = 128

    def features(self, x: Tensor) -> Tensor:
        """(B, C, H, W) in [0, 1] → (B, 128)."""
        c, s = self.config["channels"], self.config["size"]
        if x.dim() != 4 or tuple(x.shape[1:]) != (c, s, s):
            raise ValueError(f"SmallCNN expects images of shape (B, {c}, {s}, {s}), got {tuple(x.shape)}")
        return self.body((x - self.config["mean"]) / self.config["std"])

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def _pgd(model: nn.Module, x: Tensor, objective, eps: float, step: float, steps: int, g: torch.Generator) -> Tensor:
    """Maximise objective(model(x')) over the L∞ ball of radius eps around x (random start), x' in [0, 1]."""
    if eps <= 0:
        return x
    delta = (torch.rand(x.shape, generator=g, device=x.device) * 2 - 1) * eps
    for _ in range(steps):
        delta.requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(model((x + delta).clamp(0, 1))), delta)
        delta = (delta.detach() + step * grad.sign()).clamp(-eps, eps)
    return (x + delta).clamp(0, 1).detach()


def train_classifier(x: Tensor, y: Tensor, kind: str = "standard", epochs: int = 10, batch: int = 128,
                     lr: float = 1e-3, eps: float = 0.3, pgd_steps: int = 10, ramp_epochs: int = 3,
                     trades_beta: float = 6.0, width: int = 16, seed: int = 0, device="cpu",
                     progress: bool = True) -> dict:
    """Train a SmallCNN on images x (N, C, H, W) in [0, 1] and labels y (N,). Returns an artifact
    {"state", "config", "kind", "history", "seconds"} for load_classifier."""
    if kind not in KINDS:
        raise ValueError(f"unknown classifier kind {kind!r}; choose one of {list(KINDS)}")
    if x.dim() != 4 or y.shape != (x.shape[0],):
        raise ValueError(f"expected x (N, C, H, W) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN(x.shape[1], x.shape[2], int(y.max()) + 1, width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = x.to(device), y.to(device)
    gd = torch.Generator(device=device).manual_seed(seed) if torch.device(device).type == "cuda" else g
    history, start = [], time.perf_counter()
    for epoch in tqdm(range(epochs), desc=f"train {kind} CNN", disable=not progress):
        e = eps * min(1.0, (epoch + 1) / ramp_epochs) if kind != "standard" else 0.0
        order = torch.randperm(x.shape[0], generator=g).to(device)
        total = 0.0
        for i in range(0, x.shape[0], batch):
            xb, yb = x[order[i:i + batch]], y[order[i:i + batch]]
            if kind == "pgd_at":
                xb = _pgd(model, xb, lambda out: F.cross_entropy(out, yb), e, 2.5 * e / pgd_steps, pgd_steps, gd)
                loss_fn = lambda: F.cross_entropy(model(xb), yb)
            elif kind == "trades":
                p_clean = F.softmax(model(xb), 1).detach()
                kl = lambda out: F.kl_div(F.log_softmax(out, 1), p_clean, reduction="batchmean")
                x_adv = _pgd(model, xb, kl, e, 2.5 * e / pgd_steps, pgd_steps, gd)

                def loss_fn():
                    out = model(xb)
                    return F.cross_entropy(out, yb) + trades_beta * F.kl_div(
                        F.log_softmax(model(x_adv), 1), F.softmax(out, 1), reduction="batchmean")
            else:
                loss_fn = lambda: F.cross_entropy(model(xb), yb)
            loss = loss_fn()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        history.append({"epoch": epoch, "eps": e, "loss": total / x.shape[0]})
    model.eval()
    return {"state": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "config": model.config,
            "kind": kind, "history": history, "seconds": time.perf_counter() - start}


def load_classifier(source, device="cpu") -> SmallCNN:
    """A SmallCNN from an artifact dict (train_classifier) or a file holding one (or a bare state dict with
    the default config). Missing, truncated or foreign files give a clear error."""
    hint = "Delete it to retrain (notebook 02 caches its backbones), or pass a file saved by train_classifier."
    art = source if isinstance(source, dict) else torch_load(source, "classifier file", hint)
    if not isinstance(art, dict):
        raise ValueError(f"classifier file {source} does not hold a dict (got {type(art).__name__}). {hint}")
    state = art.get("state", art)
    config = art.get("config", {})
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"classifier file {source} holds no state dict of tensors. {hint}")
    model = SmallCNN(**config)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"classifier file {source} does not match SmallCNN{config or ''}: {str(e)[:300]}. {hint}") from e
    return model.to(device).eval().requires_grad_(False)


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 1000) -> Tensor:
    """Per-image correctness (N,) float, 1.0 where argmax model(x) == y."""
    return torch.cat([(model(x[i:i + batch]).argmax(1) == y[i:i + batch]).float()
                      for i in range(0, x.shape[0], batch)])
