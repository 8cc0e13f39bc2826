"""Loss landscapes around a solution, in X or in Z: 2-D slices and smoothness measures.

For one target y, a space with coordinates p (p = x in X, the baseline's space; p = z in Z, with x = θ(z)) has
the per-target loss

    ℓ(p) = L(F(x(p)), y) + R(x(p))                                  (paper, Eq. 1 in X; Eq. 3 in Z)

A 2-D slice around a centre c along directions d₁, d₂ is the grid (Li et al., "Visualizing the Loss Landscape of
Neural Nets", NeurIPS 2018)

    S[i, j] = ℓ(c + α_i d₁ + β_j d₂),    α_i, β_j evenly spaced in [-span, span]

with either
    random directions   d ~ N(0, I), made orthogonal, each scaled to a length that sets the space's scale (the
                        norm of the centre, or the distance the optimizer travelled): the filter-normalization
                        idea for a vector without filters; α, β are then in units of that length;
    a trajectory plane  the first two principal directions of an optimizer path p_0 … p_T around its end p_T,
                        of unit length; α, β are then distances in the space's own units.

Smoothness measures, per target:
    convex fraction     share of the slice's interior grid points where the discrete second differences along
                        both grid axes are ≥ 0 (convex along each axis; the mixed term is not checked)
    top eigenvalue      the Hessian eigenvalue of largest magnitude (signed), by power iteration on
                        Hessian-vector products H v = ∇_p (∇_p ℓ · v) (Pearlmutter 1994)
    gradient norm       ‖∇_p ℓ(p_t)‖ along the optimizer's path
    loss drop per unit length   (ℓ(p_0) - ℓ(p_T)) / Σ_t ‖p_{t+1} - p_t‖

Conventions: B targets, D = the space's dimension, points flattened to (B, D). A loss function is
loss_fn(points (M, D), y (M, *y_shape)) → (M,), one independent row per point (Problem.objective is, with F in
eval mode); `objective_fn` builds it for X or for Z. Batched Hessian-vector products rely on that independence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor

from .mapping import Mapping
from .problem import Problem

LossFn = Callable[[Tensor, Tensor], Tensor]
TINY = 1e-30

# helpers

def objective_fn(problem: Problem, mapping: Optional[Mapping] = None) -> LossFn:
    """ℓ over X (mapping None: p = x) or over Z (p = z, x = θ(z)): (points (M, D), y (M, …)) → (M,).

    problem: F, L, R and x's shape (points are reshaped to (M, *x_shape)); mapping: θ, or None for X (D = dim_x)."""
    def loss_fn(p: Tensor, y: Tensor) -> Tensor:
        x = p if mapping is None else mapping(p)
        return problem.objective(x.reshape(p.shape[0], *problem.x_shape), y)
    return loss_fn


def _repeat_targets(y: Tensor, times: int) -> Tensor:
    """y (B, …) → (times·B, …), row k·B + b = y[b]: the targets of points flattened from (times, B, D)."""
    return y.repeat(times, *([1] * (y.dim() - 1)))


def evaluate(loss_fn: LossFn, points: Tensor, y: Tensor, chunk: int = 1024) -> Tensor:
    """ℓ at many points without gradients: points (M, D), y (M, …) → (M,), in chunks of `chunk` rows (default 1024).

    loss_fn: (points (m, D), y (m, …)) → (m,), e.g. from objective_fn."""
    with torch.no_grad():
        return torch.cat([loss_fn(p, t) for p, t in zip(points.split(chunk), y.split(chunk))])


# directions and planes

def random_plane(center: Tensor, scale: Tensor | float, generator: Optional[torch.Generator] = None) -> Tensor:
    """Two orthogonal random directions per target, each of length `scale`: center (B, D), scale float or (B,)
    → (B, 2, D). Drawn on the CPU from `generator` (seed-exact), then moved to center's device."""
    b, d = center.shape
    if d < 2:
        raise ValueError(f"a plane needs a space of dimension >= 2, got D = {d}")
    v = torch.randn(b, 2, d, generator=generator, dtype=torch.float64)
    v[:, 0] /= v[:, 0].norm(dim=1, keepdim=True)
    v[:, 1] -= (v[:, 1] * v[:, 0]).sum(1, keepdim=True) * v[:, 0]         # Gram-Schmidt
    v[:, 1] /= v[:, 1].norm(dim=1, keepdim=True)
    scale = torch.as_tensor(scale).detach().double().cpu().reshape(-1, 1, 1)   # (B or 1, 1, 1)
    return (v * scale).to(center)


def trajectory_plane(trajectory: Tensor) -> tuple[Tensor, Tensor]:
    """The plane of an optimizer path: trajectory (T+1, B, D) → (directions (B, 2, D) orthonormal, explained
    (B, 2)), the first two principal directions of p_t - p_T (PCA around the end point, as Li et al. 2018) and
    the share of Σ_t ‖p_t - p_T‖² each one explains. Signs are chosen so the start p_0 has coordinates ≥ 0."""
    if trajectory.dim() != 3 or trajectory.shape[0] < 2 or trajectory.shape[2] < 2:
        raise ValueError(f"trajectory must be (T+1 >= 2, B, D >= 2), got {tuple(trajectory.shape)}")
    a = (trajectory - trajectory[-1]).transpose(0, 1).double()             # (B, T+1, D)
    _, s, vh = torch.linalg.svd(a, full_matrices=False)                     # vh (B, min(T+1, D), D)
    dirs = vh[:, :2]                                                        # (B, 2, D)
    if dirs.shape[1] < 2:                                                   # T+1 = 1 cannot happen; D >= 2
        raise ValueError("trajectory_plane needs at least two points")
    start = (a[:, 0:1] * dirs).sum(-1)                                      # (B, 2) start's coordinates
    dirs = dirs * torch.where(start < 0, -1.0, 1.0).to(dirs)[..., None]
    explained = s[:, :2].pow(2) / s.pow(2).sum(1, keepdim=True).clamp_min(TINY)
    return dirs.to(trajectory), explained.to(trajectory)


def project(points: Tensor, center: Tensor, directions: Tensor) -> Tensor:
    """Plane coordinates (α, β) of points: points (…, B, D), center (B, D), directions (B, 2, D), orthogonal
    (random_plane, trajectory_plane) → (…, B, 2), α = (p - c)·d₁ / ‖d₁‖², likewise β."""
    rel = points - center                                                   # (…, B, D)
    dots = (rel.unsqueeze(-2) * directions).sum(-1)                         # (…, B, 2)
    return dots / directions.pow(2).sum(-1).clamp_min(TINY)


# slices

@dataclass
class Slice:
    """A 2-D slice per target. values[b, i, j] = ℓ_b(center[b] + alpha[b, i] d₁ + beta[b, j] d₂).

    values (B, G, G), alpha (B, G), beta (B, G): as below; center (B, D): the slice's centre c;
    directions (B, 2, D): d₁, d₂ per target (G = grid points per axis)."""
    values: Tensor       # (B, G, G) loss; first grid axis along d₁, second along d₂
    alpha: Tensor        # (B, G) coordinates along d₁ (in units of ‖d₁‖)
    beta: Tensor         # (B, G) coordinates along d₂
    center: Tensor       # (B, D)
    directions: Tensor   # (B, 2, D)


def slice_2d(loss_fn: LossFn, y: Tensor, center: Tensor, directions: Tensor, span: Tensor | float = 1.0,
             grid: int = 25, chunk: int = 1024) -> Slice:
    """The loss on a grid × grid plane around each target's centre.

    loss_fn: (points (M, D), y (M, …)) → (M,) (objective_fn); y (B, …), center (B, D), directions (B, 2, D);
    span: half-width of the grid in units of each direction's length, a float (default 1.0), (B,) per target, or
    (B, 2) per target and axis; grid: points per axis, >= 3 (default 25; an odd one puts the centre on the grid);
    chunk: rows per loss_fn call (default 1024). Returns a Slice with values (B, grid, grid)."""
    b, d = center.shape
    if grid < 3:
        raise ValueError(f"grid must be >= 3 (second differences need neighbours), got {grid}")
    if tuple(directions.shape) != (b, 2, d):
        raise ValueError(f"directions must have shape {(b, 2, d)}, got {tuple(directions.shape)}")
    span = torch.as_tensor(span, dtype=center.dtype, device=center.device)
    span = span.reshape(-1, 1).expand(b, 2) if span.dim() < 2 else span                  # (B, 2)
    unit = torch.linspace(-1.0, 1.0, grid, dtype=center.dtype, device=center.device)     # (G,)
    alpha, beta = span[:, :1] * unit, span[:, 1:] * unit                                  # (B, G) each
    values = []
    for k in range(b):
        a, c = torch.meshgrid(alpha[k], beta[k], indexing="ij")                           # (G, G) each
        pts = center[k] + a.reshape(-1, 1) * directions[k, 0] + c.reshape(-1, 1) * directions[k, 1]  # (G², D)
        yk = y[k:k + 1].expand(pts.shape[0], *y.shape[1:])
        values.append(evaluate(loss_fn, pts, yk, chunk).reshape(grid, grid))
    return Slice(torch.stack(values), alpha, beta, center, directions)


def convex_fraction(values: Tensor, rtol: float = 1e-6) -> Tensor:
    """Share of interior grid points that are convex along both grid axes: values (…, G, G) → (…,).

    A point counts when both second differences v[i-1] - 2 v[i] + v[i+1] (along each axis) are ≥ -tol, with
    tol = rtol · (max - min of that slice), so float noise on a flat patch does not count as concavity."""
    v = values.double()
    tol = rtol * (v.amax((-2, -1)) - v.amin((-2, -1)))[..., None, None]
    d2a = v[..., 2:, 1:-1] - 2 * v[..., 1:-1, 1:-1] + v[..., :-2, 1:-1]    # (…, G-2, G-2) along axis 1
    d2b = v[..., 1:-1, 2:] - 2 * v[..., 1:-1, 1:-1] + v[..., 1:-1, :-2]    # along axis 2
    return ((d2a >= -tol) & (d2b >= -tol)).double().mean((-2, -1)).to(values.dtype)


# derivatives

def gradient_norms(loss_fn: LossFn, points: Tensor, y: Tensor, chunk: int = 1024) -> Tensor:
    """‖∇_p ℓ‖ at points (…, B, D) for targets y (B, …) → (…, B) (e.g. a whole path (T+1, B, D)).

    loss_fn: (points (M, D), y (M, …)) → (M,) (objective_fn); chunk: rows per gradient call (default 1024)."""
    lead, (b, d) = points.shape[:-2], points.shape[-2:]
    flat = points.detach().reshape(-1, d)
    targets = _repeat_targets(y, flat.shape[0] // b)
    norms = []
    with torch.enable_grad():
        for p, t in zip(flat.split(chunk), targets.split(chunk)):
            p = p.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(loss_fn(p, t).sum(), p)
            norms.append(g.norm(dim=1))
    return torch.cat(norms).reshape(*lead, b)


def top_hessian_eigenvalue(loss_fn: LossFn, points: Tensor, y: Tensor, iters: int = 20,
                           generator: Optional[torch.Generator] = None) -> Tensor:
    """The Hessian eigenvalue of largest magnitude (signed) of ℓ at each point: points (B, D), y (B, …) → (B,).

    loss_fn: (points (B, D), y (B, …)) → (B,), rows independent (objective_fn); iters: power iterations, >= 1
    (default 20).

    Power iteration v ← H v / ‖H v‖ from a random unit v (drawn on the CPU from `generator`), every target at
    once: the rows of loss_fn are independent, so the Hessian of Σ_b ℓ_b is block-diagonal and one
    Hessian-vector product of the sum gives every target's own. Returns the Rayleigh quotient vᵀ H v of the
    last iterate; it converges at the rate |λ₂ / λ₁| per iteration."""
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    p = points.detach().clone().requires_grad_(True)
    v = torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p)
    v = v / v.norm(dim=1, keepdim=True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(loss_fn(p, y).sum(), p, create_graph=True)
        if not g.requires_grad:                                            # ℓ linear in p: H = 0
            return torch.zeros(p.shape[0], dtype=p.dtype, device=p.device)
        for _ in range(iters):
            (hv,) = torch.autograd.grad(g, p, grad_outputs=v, retain_graph=True, allow_unused=True)
            hv = torch.zeros_like(p) if hv is None else hv.detach()
            lam = (v * hv).sum(1)                                           # (B,) Rayleigh quotient
            v = hv / hv.norm(dim=1, keepdim=True).clamp_min(TINY)
    return lam


# measures along an optimizer path

def path_length(trajectory: Tensor) -> Tensor:
    """Σ_t ‖p_{t+1} - p_t‖: trajectory (T+1, B, D) → (B,)."""
    return (trajectory[1:] - trajectory[:-1]).norm(dim=-1).sum(0)


def loss_drop_per_length(losses: Tensor, trajectory: Tensor) -> Tensor:
    """(ℓ(p_0) - ℓ(p_T)) / path length: losses (T+1, B), trajectory (T+1, B, D) → (B,)."""
    return (losses[0] - losses[-1]).to(trajectory) / path_length(trajectory).clamp_min(TINY)


def path_measures(loss_fn: LossFn, y: Tensor, trajectory: Tensor, losses: Tensor, hessian_iters: int = 20,
                  generator: Optional[torch.Generator] = None) -> dict[str, Tensor]:
    """Every per-target measure of one space along one optimizer path, each (B,):
    grad_norm_mean (mean over t = 0..T of ‖∇ℓ(p_t)‖), hessian_top_start / hessian_top_end (at p_0 / p_T),
    loss_drop_per_length, path_length, displacement ‖p_T - p_0‖, loss_start, loss_end.
    loss_fn: ℓ of that space (objective_fn); trajectory (T+1, B, D) in the space's coordinates, losses (T+1, B),
    y (B, …); hessian_iters: power iterations of top_hessian_eigenvalue (default 20); generator: CPU generator of
    its random start vectors (None: torch's global stream)."""
    losses = losses.to(trajectory)
    return {
        "grad_norm_mean": gradient_norms(loss_fn, trajectory, y).mean(0),
        "hessian_top_start": top_hessian_eigenvalue(loss_fn, trajectory[0], y, hessian_iters, generator),
        "hessian_top_end": top_hessian_eigenvalue(loss_fn, trajectory[-1], y, hessian_iters, generator),
        "loss_drop_per_length": loss_drop_per_length(losses, trajectory),
        "path_length": path_length(trajectory),
        "displacement": (trajectory[-1] - trajectory[0]).norm(dim=-1),
        "loss_start": losses[0],
        "loss_end": losses[-1],
    }
