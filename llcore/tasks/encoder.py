"""The encoder baseline of GAN inversion: a network E: image → latent, trained once on the training images.

    E* = argmin_E  mean_i ‖G(E(y_i)) − y_i‖²  +  λ · mean_j ‖E(G(x_j)) − x_j‖²,   x_j ~ N(0, I)

(reconstruction of real training images through the frozen generator, plus latent regression on
generated samples, which keeps E's outputs where G was trained). Used alone (`encoder`: 0 optimizer
steps) and as the starting point of X-space descent (`encoder_init`).
"""
from __future__ import annotations

import time

import torch
from torch import Tensor, nn
from tqdm import tqdm


class ConvEncoder(nn.Module):
    """(B, C, H, W) images in [0, 1] → (B, latent_dim). Strided convolutions, then a linear head."""

    def __init__(self, channels: int, size: int, latent_dim: int, width: int = 64):
        super().__init__()
        layers, c, s = [], channels, size
        for w in (width, 2 * width, 4 * width):
            layers += [nn.Conv2d(c, w, 4, 2, 1), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]   # (B, w, s/2, s/2)
            c, s = w, (s + 1) // 2 if s % 2 else s // 2
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            n = self.features(torch.zeros(1, channels, size, size)).numel()
        self.head = nn.Linear(n, latent_dim)                                                  # (B, latent_dim)

    def forward(self, y: Tensor) -> Tensor:
        return self.head(self.features(y).flatten(1))


def train_encoder(generator: nn.Module, images: Tensor, latent_dim: int, steps: int = 2000, batch: int = 64,
                  lr: float = 1e-3, latent_weight: float = 1.0, seed: int = 0, progress: bool = True) -> dict:
    """Train a ConvEncoder for a frozen generator; returns {'state', 'seconds', 'losses'} (CPU tensors)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    device = images.device
    enc = ConvEncoder(images.shape[1], images.shape[2], latent_dim).to(device)
    generator.eval().requires_grad_(False)
    opt = torch.optim.Adam(enc.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in tqdm(range(steps), desc="train encoder", disable=not progress, mininterval=5.0):
        y = images[torch.randint(len(images), (batch,), generator=g).to(device)]
        x = torch.randn(batch, latent_dim, generator=g).to(device)
        with torch.no_grad():
            fake = generator(x)
        loss = (generator(enc(y)) - y).pow(2).mean() + latent_weight * (enc(fake) - x).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    enc.eval()
    return {"state": {k: v.cpu() for k, v in enc.state_dict().items()}, "seconds": time.perf_counter() - start,
            "losses": losses, "config": {"channels": images.shape[1], "size": images.shape[2], "latent_dim": latent_dim}}


def load_encoder(art: dict) -> ConvEncoder:
    enc = ConvEncoder(**art["config"])
    enc.load_state_dict(art["state"])
    return enc.eval().requires_grad_(False)
