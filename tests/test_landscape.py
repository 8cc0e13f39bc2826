"""llcore.landscape: slices, convexity, Hessian power iteration and path measures on functions with known answers."""
import pytest
import torch

from llcore import ResidualMLP, invert
from llcore.landscape import (convex_fraction, gradient_norms, loss_drop_per_length, objective_fn, path_length,
                              path_measures, project, random_plane, slice_2d, top_hessian_eigenvalue,
                              trajectory_plane)


def quadratic(matrix):
    """ℓ(p) = ½ pᵀ A p per row, ignoring y: Hessian A, gradient A p."""
    return lambda p, y: 0.5 * ((p @ matrix) * p).sum(1)


def test_power_iteration_recovers_the_top_eigenvalue_of_a_quadratic():
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0)))
    eig = torch.tensor([5.0, 2.0, 1.0, 0.5, -0.3, 0.1])
    a = q @ torch.diag(eig) @ q.T
    points = torch.randn(3, 6)                                  # the Hessian is A everywhere
    lam = top_hessian_eigenvalue(quadratic(a), points, torch.zeros(3, 1), iters=60,
                                 generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(lam, torch.full((3,), 5.0), rtol=1e-3, atol=1e-3)


def test_power_iteration_keeps_the_sign_and_treats_targets_separately():
    # rows are independent targets: row 0 sees diag(1, -4) (dominant -4), row 1 diag(3, 1) (dominant 3)
    scales = torch.tensor([[1.0, -4.0], [3.0, 1.0]])
    loss = lambda p, y: 0.5 * (scales * p * p).sum(1)           # noqa: E731
    lam = top_hessian_eigenvalue(loss, torch.ones(2, 2), torch.zeros(2, 1), iters=80,
                                 generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(lam, torch.tensor([-4.0, 3.0]), rtol=1e-3, atol=1e-3)


def test_convex_fraction_of_a_convex_slice_is_one_and_of_a_saddle_below_one():
    center, dirs = torch.zeros(1, 2), torch.eye(2)[None]       # (1, 2), (1, 2, 2): the coordinate axes
    bowl = slice_2d(lambda p, y: (p ** 2).sum(1), torch.zeros(1, 1), center, dirs, span=2.0, grid=11)
    saddle = slice_2d(lambda p, y: p[:, 0] ** 2 - p[:, 1] ** 2, torch.zeros(1, 1), center, dirs, span=2.0, grid=11)
    assert convex_fraction(bowl.values).item() == 1.0
    assert convex_fraction(saddle.values).item() < 1.0
    # a ridge that is concave on half the grid: x ↦ -|x|³ for x > 0, x² for x ≤ 0
    mixed = slice_2d(lambda p, y: torch.where(p[:, 0] > 0, -p[:, 0].abs() ** 3, p[:, 0] ** 2),
                     torch.zeros(1, 1), center, dirs, span=1.0, grid=21)
    assert 0.3 < convex_fraction(mixed.values).item() < 0.7


def test_slices_have_the_documented_shape_and_values():
    b, d, g = 3, 5, 7
    y = torch.randn(b, 4)
    loss = lambda p, t: (p ** 2).sum(1) + t.sum(1)              # noqa: E731
    center = torch.randn(b, d)
    dirs = random_plane(center, center.norm(dim=1), torch.Generator().manual_seed(0))
    assert dirs.shape == (b, 2, d)
    torch.testing.assert_close(dirs.norm(dim=-1), center.norm(dim=1, keepdim=True).expand(b, 2))
    assert (dirs[:, 0] * dirs[:, 1]).sum(1).abs().max() < 1e-5  # orthogonal
    s = slice_2d(loss, y, center, dirs, span=torch.tensor([[1.0, 2.0]] * b), grid=g)
    assert s.values.shape == (b, g, g) and s.alpha.shape == (b, g) and s.beta.shape == (b, g)
    assert s.beta[0, -1].item() == pytest.approx(2.0)
    i, j, k = 1, 5, 2                                          # values[k, i, j] is ℓ at c + α_i d₁ + β_j d₂
    p = center[k] + s.alpha[k, i] * dirs[k, 0] + s.beta[k, j] * dirs[k, 1]
    torch.testing.assert_close(s.values[k, i, j], loss(p[None], y[k:k + 1])[0])
    torch.testing.assert_close(s.values[:, g // 2, g // 2], loss(center, y))   # odd grid: the centre is on it


def test_trajectory_plane_spans_a_planar_path_and_projection_recovers_coordinates():
    b, t, d = 2, 12, 6
    basis, _ = torch.linalg.qr(torch.randn(d, 2, generator=torch.Generator().manual_seed(0)))   # (d, 2)
    coords = torch.randn(t, b, 2, generator=torch.Generator().manual_seed(1))
    traj = coords @ basis.T + torch.randn(b, d)                 # (t, b, d), every path in one shifted plane
    dirs, explained = trajectory_plane(traj)
    assert dirs.shape == (b, 2, d) and explained.shape == (b, 2)
    torch.testing.assert_close(explained.sum(1), torch.ones(b))
    xy = project(traj, traj[-1], dirs)                          # (t, b, 2)
    rebuilt = traj[-1] + xy[..., :1] * dirs[:, 0] + xy[..., 1:] * dirs[:, 1]
    torch.testing.assert_close(rebuilt, traj, rtol=1e-4, atol=1e-4)
    assert (xy[0] >= 0).all()                                   # the start has non-negative coordinates


def test_path_measures_on_a_straight_descent():
    traj = torch.linspace(4.0, 0.0, 5).reshape(5, 1, 1) * torch.tensor([[[0.6, 0.8]]])   # (5, 1, 2), length 4
    loss = lambda p, y: (p ** 2).sum(1)                         # noqa: E731
    losses = (traj ** 2).sum(-1)                                # (5, 1): 16 → 0
    assert path_length(traj).item() == pytest.approx(4.0)
    assert loss_drop_per_length(losses, traj).item() == pytest.approx(4.0)
    torch.testing.assert_close(gradient_norms(loss, traj, torch.zeros(1, 1)), 2 * traj.norm(dim=-1))
    m = path_measures(loss, torch.zeros(1, 1), traj, losses, hessian_iters=5)
    assert m["hessian_top_end"].item() == pytest.approx(2.0, abs=1e-4)
    assert m["grad_norm_mean"].item() == pytest.approx(4.0)     # mean of 2·(4, 3, 2, 1, 0)
    assert m["displacement"].item() == pytest.approx(4.0)


def test_objective_fn_in_x_and_in_z_on_a_real_inversion(toy):
    p, y = toy
    y = y[:4]
    theta = ResidualMLP(p.dim_x, width=32, depth=2)             # the identity at initialisation
    rec = invert(p, y, theta, "adam", 0.1, 10, keep_trajectory=True)
    fx, fz = objective_fn(p), objective_fn(p, theta)
    torch.testing.assert_close(fz(rec.trajectory[3], y), rec.loss[3])
    torch.testing.assert_close(fx(rec.trajectory[3], y), rec.loss[3])  # θ = identity: X and Z agree
    m = path_measures(fz, y, rec.trajectory, rec.loss, hessian_iters=3)
    assert all(v.shape == (4,) and torch.isfinite(v).all() for v in m.values())
    assert (m["loss_drop_per_length"] > 0).all()
