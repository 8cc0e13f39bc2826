"""The self-supervised signal of the attack-reversal defense (Mao et al., ICCV 2021), on a frozen classifier.

    Augment        V random views of each image, differentiable in the image: a small random affine move
                   (rotation, scale, shift) by grid sampling, plus Gaussian noise. Its own seeded generator.
    SimCLRAugment  the base method's CIFAR-10 views (random resized crop, flip, colour jitter, greyscale),
                   differentiable in the image; make_augment(kind, views, seed) picks one of the two.
    SSLHead        an MLP on the classifier's frozen penultimate features → a unit-norm embedding (optionally with
                   BatchNorm, the base method's 640 → 256 → 16 head on a WideResNet).
    multiview_nce  the SimCLR / InfoNCE loss with V views per image and temperature τ: each view's positives are
                   the other views of its image, its negatives the views of other images (training) or a fixed
                   bank of clean-image embeddings.
    SSLLoss        images (B, C, H, W) → per-image contrastive loss (B,), what the reversal vector minimises, with
                   one of two kinds of negatives:
                   "batch": the views of the other images in the batch, as in the base method and in training. An
                            image's loss then depends on its batch (B ≥ 2), but the loss cannot be lowered by merely
                            moving every image away from clean data.
                   "bank":  a fixed bank of clean-image embeddings: each image's loss is independent of its batch, but
                            a reversal can lower it by pushing an image's features away from all clean ones, which
                            destroys the class (measured on MNIST: attacked digits had a *lower* bank loss than clean).
"""
from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Augment:
    """views(x): (B, C, H, W) → (B·V, C, H, W), the V views of image b at rows b·V … b·V + V − 1."""

    def __init__(self, views: int = 4, rotate_deg: float = 10.0, scale: tuple = (0.9, 1.1), shift: float = 0.1,
                 noise: float = 0.05, seed: int = 0):
        if views < 2:
            raise ValueError(f"a contrastive loss needs at least 2 views, got {views}")
        self.views, self.rotate, self.scale, self.shift, self.noise = views, math.radians(rotate_deg), scale, shift, noise
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: Tensor) -> Tensor:
        n = x.shape[0] * self.views
        u = lambda: torch.rand(n, generator=self.generator) * 2 - 1           # U(-1, 1), drawn on the CPU
        lo, hi = self.scale
        angle, s = u() * self.rotate, lo + (u() + 1) / 2 * (hi - lo)
        tx, ty = u() * self.shift, u() * self.shift                           # in [-1, 1] image coordinates
        cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
        theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1).to(x)
        xv = x.repeat_interleave(self.views, 0)
        grid = F.affine_grid(theta, list(xv.shape), align_corners=False)
        out = F.grid_sample(xv, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.noise > 0:
            out = out + self.noise * torch.randn(out.shape, generator=self.generator).to(x)
        return out


class SimCLRAugment:
    """SimCLR's views (Chen et al., ICML 2020), as the base method uses them on CIFAR-10, differentiable in the image
    (the reversal's gradient flows through them): views(x): (B, 3, H, W) in [0, 1] → (B·V, 3, H, W), image b's V views
    at rows b·V … b·V + V − 1, each

      random resized crop to H x W (area scale ~ U(0.08, 1), aspect ratio log-uniform in [3/4, 4/3], bilinear),
      horizontal flip (p 0.5),
      colour jitter with probability jitter_p (0.8 in SimCLR): brightness, contrast, saturation ~ U(1 − s, 1 + s)
      with s = jitter[0:3], then a hue rotation by U(−h, h)·2π with h = jitter[3] (a rotation of the chroma plane
      in YIQ, a differentiable stand-in for HSV's hue shift), each followed by a clamp to [0, 1],
      random greyscale (p grey).

    Crop and flip are one affine resampling (grid_sample); every draw comes from its own seeded CPU generator."""

    def __init__(self, views: int = 4, jitter: tuple = (0.8, 0.8, 0.8, 0.2), jitter_p: float = 0.8,
                 grey: float = 0.2, scale: tuple = (0.08, 1.0), ratio: tuple = (3 / 4, 4 / 3), seed: int = 0):
        if views < 2:
            raise ValueError(f"a contrastive loss needs at least 2 views, got {views}")
        self.views, self.jitter, self.jitter_p, self.grey = views, tuple(jitter), jitter_p, grey
        self.scale, self.ratio = scale, ratio
        self.seed(seed)

    def seed(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def _u(self, n: int, lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.generator)

    def __call__(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"SimCLRAugment expects colour images (B, 3, H, W), got {tuple(x.shape)}")
        n = x.shape[0] * self.views
        area = self._u(n, *self.scale)
        aspect = torch.exp(self._u(n, math.log(self.ratio[0]), math.log(self.ratio[1])))
        w, h = torch.sqrt(area * aspect).clamp(max=1.0), torch.sqrt(area / aspect).clamp(max=1.0)   # crop / side
        cx, cy = self._u(n, -1, 1) * (1 - w), self._u(n, -1, 1) * (1 - h)                         # its centre
        flip = torch.where(torch.rand(n, generator=self.generator) < 0.5, -1.0, 1.0)
        zero = torch.zeros(n)
        theta = torch.stack([torch.stack([w * flip, zero, cx], 1), torch.stack([zero, h, cy], 1)], 1).to(x)
        xv = x.repeat_interleave(self.views, 0)
        out = F.grid_sample(xv, F.affine_grid(theta, list(xv.shape), align_corners=False), mode="bilinear",
                            padding_mode="border", align_corners=False)
        b, c, s, hue = self.jitter
        apply = (torch.rand(n, generator=self.generator) < self.jitter_p).float()
        fb, fc, fs = (1 + apply * self._u(n, -v, v) for v in (b, c, s))
        angle = apply * self._u(n, -hue, hue) * 2 * math.pi
        use_grey = (torch.rand(n, generator=self.generator) < self.grey).to(x)[:, None, None, None]
        col = lambda t: t.to(x)[:, None, None, None]                                         # noqa: E731
        out = (out * col(fb)).clamp(0, 1)
        mean = _luma(out).mean((1, 2, 3), keepdim=True)
        out = ((out - mean) * col(fc) + mean).clamp(0, 1)
        g = _luma(out)
        out = ((out - g) * col(fs) + g).clamp(0, 1)
        out = _rotate_hue(out, angle.to(x)).clamp(0, 1)
        return use_grey * _luma(out).expand_as(out) + (1 - use_grey) * out


def _luma(x: Tensor) -> Tensor:
    """(B, 3, H, W) → (B, 1, H, W), ITU-R 601 luma (what torchvision's greyscale uses)."""
    return 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _rotate_hue(x: Tensor, angle: Tensor) -> Tensor:
    """Rotate the chroma (I, Q) of images x (B, 3, H, W) by angle (B,) radians; luma unchanged."""
    m = _YIQ.to(x)
    cos, sin, one, zero = torch.cos(angle), torch.sin(angle), torch.ones_like(angle), torch.zeros_like(angle)
    rot = torch.stack([torch.stack([one, zero, zero], 1), torch.stack([zero, cos, -sin], 1),
                       torch.stack([zero, sin, cos], 1)], 1)                                     # (B, 3, 3)
    full = torch.linalg.inv(m) @ rot @ m
    return torch.einsum("bij,bjhw->bihw", full, x)


AUGMENTS = {"affine": Augment, "simclr": SimCLRAugment}


def make_augment(kind: str, views: int, seed: int):
    """The views of the SSL loss: 'affine' (Augment: small affine moves + noise, any channels; the MNIST default) or
    'simclr' (SimCLRAugment: the base method's CIFAR-10 views)."""
    if kind not in AUGMENTS:
        raise ValueError(f"unknown augment {kind!r}; choose one of {sorted(AUGMENTS)}")
    return AUGMENTS[kind](views=views, seed=seed)


class SSLHead(nn.Module):
    """features (N, feature_dim) → unit-norm embeddings (N, out): Linear(feature_dim, width) [→ BatchNorm1d] → ReLU
    → Linear(width, out). The base method's head on a WRN-*-10: 640 → 256 → 16 with BatchNorm (batchnorm=True)."""

    def __init__(self, feature_dim: int = 128, width: int = 256, out: int = 64, batchnorm: bool = False):
        super().__init__()
        self.config = {"feature_dim": feature_dim, "width": width, "out": out, "batchnorm": batchnorm}
        norm = [nn.BatchNorm1d(width)] if batchnorm else []
        self.net = nn.Sequential(nn.Linear(feature_dim, width), *norm, nn.ReLU(), nn.Linear(width, out))

    def forward(self, features: Tensor) -> Tensor:
        """(N, feature_dim) → (N, out), unit norm."""
        return F.normalize(self.net(features), dim=1)


def multiview_nce(e: Tensor, tau: float = 0.2, negatives: Tensor | None = None) -> Tensor:
    """Per-image InfoNCE (B,) for embeddings e (B, V, D), unit norm.

    For anchor view i of image b the candidates are all other views of b (positives) and the negatives: every
    view of every other image in the batch when `negatives` is None, else the rows of `negatives` (N, D).
    loss_b = mean over ordered pairs i ≠ j of −log softmax_candidates(⟨e_bi, e_bj⟩ / τ)."""
    B, V, _ = e.shape
    pos = torch.einsum("bid,bjd->bij", e, e) / tau                               # (B, V, V)
    eye = torch.eye(V, dtype=torch.bool, device=e.device)
    pos_off = pos.masked_fill(eye, float("-inf"))
    if negatives is None:
        flat = e.reshape(B * V, -1)
        allsim = (flat @ flat.T / tau).reshape(B, V, B, V)
        same = torch.eye(B, dtype=torch.bool, device=e.device)[:, None, :, None].expand(B, V, B, V)
        neg = allsim.masked_fill(same, float("-inf")).reshape(B, V, B * V)
    else:
        neg = torch.einsum("bid,nd->bin", e, negatives) / tau                   # (B, V, N)
    denom = torch.logsumexp(torch.cat([pos_off, neg], dim=2), dim=2)            # (B, V)
    logp = pos - denom[:, :, None]                                               # (B, V, V)
    return -(logp.masked_fill(eye, 0.0).sum((1, 2)) / (V * (V - 1)))


class SSLLoss(nn.Module):
    """images (B, C, H, W) → per-image contrastive loss (B,) of the frozen backbone's features through the head;
    negatives "batch" (the other images' views) or "bank" (a fixed bank of clean-image embeddings, set_bank)."""

    def __init__(self, backbone: nn.Module, head: SSLHead, augment: Augment, tau: float = 0.2,
                 negatives: str = "bank"):
        super().__init__()
        if negatives not in ("batch", "bank"):
            raise ValueError(f"negatives must be 'batch' or 'bank', got {negatives!r}")
        self.backbone, self.head, self.augment, self.tau, self.negatives = backbone, head, augment, tau, negatives
        self.requires_grad_(False)
        self.register_buffer("bank", torch.zeros(0, head.config["out"]))

    def embed(self, x: Tensor) -> Tensor:
        """(B, C, H, W) → (B, V, D) embeddings of V augmented views."""
        return self.head(self.backbone.features(self.augment(x))).reshape(x.shape[0], self.augment.views, -1)

    @torch.no_grad()
    def set_bank(self, clean: Tensor) -> None:
        """Negatives: one augmented view of each clean image (N, C, H, W)."""
        self.bank = self.embed(clean)[:, 0].contiguous()

    def forward(self, x: Tensor) -> Tensor:
        if self.negatives == "batch":
            if x.shape[0] < 2:
                raise ValueError("SSLLoss(negatives='batch') needs at least 2 images in a batch, got 1")
            return multiview_nce(self.embed(x), self.tau)
        if self.bank.shape[0] == 0:
            raise RuntimeError("SSLLoss needs a bank of negatives: call set_bank(clean_images) first")
        return multiview_nce(self.embed(x), self.tau, self.bank)


def train_ssl_head(backbone: nn.Module, x: Tensor, steps: int = 1000, batch: int = 128, views: int = 4,
                   tau: float = 0.2, lr: float = 1e-3, seed: int = 0, device="cpu", progress: bool = True,
                   augment: str = "affine", head: dict | None = None) -> dict:
    """SimCLR on frozen features: train an SSLHead(backbone.feature_dim, **head) on images x (N, C, H, W) with the
    `augment` views (make_augment). Returns {"state", "config", "history", "seconds"}; load with `load_ssl_head`."""
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    backbone = backbone.to(device).eval().requires_grad_(False)
    head = SSLHead(backbone.feature_dim, **(head or {})).to(device)
    aug = make_augment(augment, views, seed + 1)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    history, start = [], time.perf_counter()
    for step in tqdm(range(steps), desc="train SSL head", disable=not progress):
        xb = x[torch.randint(0, x.shape[0], (batch,), generator=g)].to(device)
        with torch.no_grad():
            feats = backbone.features(aug(xb))
        loss = multiview_nce(head(feats).reshape(batch, views, -1), tau).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            history.append({"step": step, "loss": loss.item()})
    return {"state": {k: v.detach().cpu() for k, v in head.state_dict().items()}, "config": head.config,
            "history": history, "seconds": time.perf_counter() - start, "views": views, "tau": tau}


def load_ssl_head(art: dict, device="cpu") -> SSLHead:
    head = SSLHead(**art["config"])
    head.load_state_dict(art["state"])
    return head.to(device).eval().requires_grad_(False)
