"""Notebook 00's picture of the two landscapes for a 2-D toy: the loss over X with plain Adam's path beside the
learned loss over Z with landscape learning's path, for the held-out target where the two differ most.

    summary, fig = picture_2d(problem, theta, y_test, baseline_lr, landscape_lr, steps=30, grid=121)
    run.figure(fig, "landscape_2d.png", dpi=110)
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..inversion import invert
from ..mapping import Mapping
from ..problem import Problem


def picture_2d(problem: Problem, theta: Mapping, y_test: Tensor, baseline_lr: float, landscape_lr: float,
               steps: int = 30, grid: int = 121, lim: float = 3.0) -> tuple[dict, object]:
    """Adam in X (lr baseline_lr) and Adam in Z through θ (lr landscape_lr), `steps` steps from the problem's
    x_0, on y_test (B, *y_shape) of a problem with a 2-D x; the target k where their step-`steps` losses differ
    most is drawn on a grid × grid lattice of [-lim, lim]² (log10 loss). Returns ({target, steps, the two final
    losses of k and the two mean final losses over all B}, the matplotlib figure)."""
    import matplotlib.pyplot as plt
    if tuple(problem.x_shape) != (2,):
        raise ValueError(f"picture_2d draws a 2-D x; this problem's x has shape {tuple(problem.x_shape)}")
    b = invert(problem, y_test, None, "adam", baseline_lr, steps, keep_trajectory=True)
    ls = invert(problem, y_test, theta, "adam", landscape_lr, steps, keep_trajectory=True)
    k = int(torch.argmax(b.loss[steps] - ls.loss[steps]))          # the target where the two differ most
    g = torch.linspace(-lim, lim, grid)
    points = torch.cartesian_prod(g, g).to(y_test.device)          # (grid², 2)
    with torch.no_grad():
        yk = y_test[k:k + 1].expand(points.shape[0], -1)
        loss_x = problem.objective(points, yk).reshape(grid, grid).T.cpu()
        loss_z = problem.objective(theta(points), yk).reshape(grid, grid).T.cpu()
        path_z = ls.trajectory[:, k]
        paths = [(0, b.trajectory[:, k].cpu(), "white", f"baseline x_t ({steps} steps)"),
                 (0, theta(path_z).cpu(), "tab:red", "landscape θ(z_t)"), (1, path_z.cpu(), "tab:red", "landscape z_t")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, loss, title in ((axes[0], loss_x, "loss over X:  L(F(x), y)"),
                            (axes[1], loss_z, "learned loss over Z:  L(F(θ(z)), y)")):
        im = ax.contourf(g, g, np.log10(loss.numpy() + 1e-6), levels=30, cmap="viridis")
        fig.colorbar(im, ax=ax, label="log10 loss")
        ax.set_title(title)
        ax.set_aspect("equal")
    for i, path, color, label in paths:
        axes[i].plot(*path.T, "o-", color=color, ms=3, lw=1, label=label)
    for ax in axes:
        ax.legend(loc="lower left", fontsize=8)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    axes[0].set_xlabel("x₁"); axes[0].set_ylabel("x₂"); axes[1].set_xlabel("z₁"); axes[1].set_ylabel("z₂")  # noqa: E702
    fig.tight_layout()
    summary = {"target": k, "steps": steps, "baseline_final": float(b.loss[steps, k]),
               "landscape_final": float(ls.loss[steps, k]), "baseline_mean_final": float(b.curve()[steps]),
               "landscape_mean_final": float(ls.curve()[steps])}
    return summary, fig
