"""A small synthetic inversion problem: a fixed random tanh MLP decoder (the toy of notebook 00).

    F(x) = W₃ tanh(W₂ tanh(W₁ A x)),   y = F(x*),   L(F(x), y) = mean_j (F(x)_j - y_j)²

A is a fixed random rotation times log-spaced singular values (condition number `condition`), so
the landscape over x is curved along directions no per-coordinate optimizer step can rescale, and the
tanh layers (gain `gain`) make it non-convex. Solutions x* lie on a random k-dimensional subspace
(a stand-in for a data distribution, see toy_solutions). With dim_x = 2 the
landscape can be drawn; larger dim_x gives the numbers.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..problem import Problem, zeros_init


class RandomDecoder(nn.Module):
    """x (B, dim_x) → (B, dim_y), weights fixed by `seed`."""

    def __init__(self, dim_x: int = 16, dim_y: int = 32, width: int = 64, gain: float = 2.0,
                 condition: float = 100.0, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(dim_x, dim_x, generator=g))
        s = torch.logspace(0, -math.log10(condition), dim_x) if dim_x > 1 else torch.ones(1)
        self.register_buffer("A", q * s)                                          # (dim_x, dim_x)
        self.register_buffer("W1", gain * torch.randn(width, dim_x, generator=g) / math.sqrt(dim_x))
        self.register_buffer("W2", gain * torch.randn(width, width, generator=g) / math.sqrt(width))
        self.register_buffer("W3", torch.randn(dim_y, width, generator=g) / math.sqrt(width))

    def forward(self, x: Tensor) -> Tensor:
        h = torch.tanh(x @ self.A.T @ self.W1.T)                                 # (B, width)
        h = torch.tanh(h @ self.W2.T)                                            # (B, width)
        return h @ self.W3.T                                                     # (B, dim_y)


def mse_loss(pred: Tensor, y: Tensor) -> Tensor:
    """Per-target mean squared error, (B,)."""
    return (pred - y).pow(2).flatten(1).mean(1)


def toy_problem(dim_x: int = 16, dim_y: int = 32, width: int = 64, gain: float = 2.0,
                condition: float = 100.0, seed: int = 0) -> Problem:
    """The toy inversion problem; x_0 = 0."""
    decoder = RandomDecoder(dim_x, dim_y, width, gain, condition, seed)
    return Problem(forward=decoder, loss=mse_loss, x_shape=(dim_x,), y_shape=(dim_y,), init=zeros_init,
                   name=f"toy{dim_x}d")


def toy_solutions(dim_x: int, n: int, seed: int, manifold_dim: int | None = None, prior_seed: int = 0) -> Tensor:
    """n solutions x*, (n, dim_x): x* ~ N(0, I), or, with `manifold_dim` k, x* = M s with s ~ N(0, I_k) and a
    fixed random M (seeded by `prior_seed`) scaled so each coordinate has unit variance: the structure of a
    data distribution that θ can learn and plain descent in X cannot use."""
    g = torch.Generator().manual_seed(seed)
    if manifold_dim is None:
        return torch.randn(n, dim_x, generator=g)
    m = torch.randn(dim_x, manifold_dim, generator=torch.Generator().manual_seed(10_000 + prior_seed))
    m = m / m.norm(dim=1, keepdim=True)
    return torch.randn(n, manifold_dim, generator=g) @ m.T


def toy_targets(problem: Problem, n: int, seed: int, manifold_dim: int | None = 4) -> tuple[Tensor, Tensor]:
    """n solutions x* (see toy_solutions) and their observations y = F(x*): ((n, dim_x), (n, dim_y))."""
    x_star = toy_solutions(problem.dim_x, n, seed, manifold_dim)
    with torch.no_grad():
        return x_star, problem.forward(x_star)
