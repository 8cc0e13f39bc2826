"""The "unrolled" ablation (TrainConfig(mode="unrolled")): no coordinate descent, no replay.

Each round draws a batch of training targets, runs T inner steps in Z with a differentiable optimizer update,
and takes one θ step on the trajectory loss back-propagated through all T steps (paper, Eq. 5, optimized
directly):

    θ ← θ − η ∇_θ  mean_y  Σ_{t=0..T} L(F(θ(z_t(θ))), y)        ("last": L at z_T only)

Memory grows with T (every step's graph is kept), which is what coordinate descent avoids.
"""
from __future__ import annotations

import torch

from .inversion import invert


def unrolled_round(trainer) -> dict:
    """One round of the unrolled ablation for a Trainer; returns the same stats as an E-step + M-step."""
    cfg = trainer.config
    parts = [trainer.draw(generator) for generator, _ in trainer.streams().values()]
    y, z0 = torch.cat([p[1] for p in parts]), torch.cat([p[2] for p in parts])
    rec = invert(trainer.train_problem, y, trainer.mapping, cfg.inner_optimizer, cfg.inner_lr, cfg.inner_steps,
                 z0=z0, differentiable=True)
    loss = rec.loss.mean() if cfg.trajectory_loss == "all" else rec.loss[-1].mean()
    m_loss = trainer.theta_update(loss)
    return {"e_loss_0": float(rec.loss[0].detach().mean()), "e_loss_T": float(rec.loss[-1].detach().mean()),
            "m_loss": m_loss, "m_loss_last": m_loss}
