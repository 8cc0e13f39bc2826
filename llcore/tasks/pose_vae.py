"""A small pose VAE trained on the training poses (the VPoser idea): a learned *generative* latent to descend in.

    q(w | x) = N(μ_φ(x), σ_φ(x)²),   x̂ = D(w),   loss = ‖x̂ − x‖² + β · KL(q(w | x) ‖ N(0, I))

Descending in w with x = D(w) separates "a latent learned to generate poses" from landscape learning's
"a latent learned for descent". `DecoderMapping` exposes D as an llcore Mapping; descent starts at w = 0.
"""
from __future__ import annotations

import time

import torch
from torch import Tensor, nn
from tqdm import tqdm

from ..mapping import Mapping


class PoseVAE(nn.Module):
    def __init__(self, dim_x: int = 72, latent: int = 32, hidden: int = 256):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(dim_x, hidden), nn.LeakyReLU(0.2),       # (B, hidden)
                                     nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                     nn.Linear(hidden, 2 * latent))                       # (B, 2·latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.LeakyReLU(0.2),      # (B, hidden)
                                     nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                     nn.Linear(hidden, dim_x))                            # (B, dim_x)
        self.latent = latent

    def forward(self, x: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        w = mu + (0.5 * log_var).exp() * torch.randn(mu.shape, generator=generator).to(mu.device)
        return self.decoder(w), mu, log_var


class DecoderMapping(Mapping):
    """x = D(w): the VAE decoder as θ; descent starts at w = 0, the prior's mean."""

    def __init__(self, vae: PoseVAE):
        super().__init__(vae.decoder[-1].out_features, vae.latent)
        self.decoder = vae.decoder

    def unbounded(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def initial_z(self, x0: Tensor) -> Tensor:
        return torch.zeros(x0.shape[0], self.dim_z, device=x0.device)


def train_pose_vae(poses: Tensor, latent: int = 32, steps: int = 3000, batch: int = 256, lr: float = 1e-3,
                   beta: float = 1e-3, seed: int = 0, progress: bool = True) -> dict:
    """Fit a PoseVAE to training poses (N, 72); returns {'state', 'config', 'seconds', 'losses'}."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    vae = PoseVAE(poses.shape[1], latent)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in tqdm(range(steps), desc="train pose VAE", disable=not progress, mininterval=5.0):
        x = poses[torch.randint(len(poses), (batch,), generator=g)]
        rec, mu, log_var = vae(x, g)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        loss = (rec - x).pow(2).sum(1).mean() + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"state": {k: v.detach().clone() for k, v in vae.state_dict().items()},
            "config": {"dim_x": poses.shape[1], "latent": latent}, "seconds": time.perf_counter() - start,
            "losses": losses}


def load_pose_vae(art: dict) -> PoseVAE:
    vae = PoseVAE(**art["config"])
    vae.load_state_dict(art["state"])
    return vae.eval()
