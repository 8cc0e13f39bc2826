import pytest
import torch

from llcore import InnerOptimizer, ResidualMLP, invert, make_mapping


def test_identity_residual_theta_reproduces_the_baseline(toy):
    # θ starts as the identity, so descent in Z is the X-space baseline step for step
    p, y = toy
    base = invert(p, y, None, "adam", 0.05, 50, generator=torch.Generator().manual_seed(0))
    theta = ResidualMLP(p.dim_x, width=64, depth=3)
    land = invert(p, y, theta, "adam", 0.05, 50, generator=torch.Generator().manual_seed(0))
    assert (land.loss - base.loss).abs().max() <= 1e-6
    assert base.loss[-1].mean() < 0.5 * base.loss[0].mean()   # and the baseline did move


def test_batched_targets_descend_independently(toy):
    p, y = toy
    together = invert(p, y[:4], None, "adam", 0.1, 20)
    alone = torch.cat([invert(p, y[i:i + 1], None, "adam", 0.1, 20).loss for i in range(4)], 1)
    torch.testing.assert_close(together.loss, alone, rtol=1e-5, atol=1e-7)


def test_record_shapes_snapshots_and_trajectory(toy):
    p, y = toy
    rec = invert(p, y, make_mapping("residual", p.dim_x, dim_z=32, width=32), steps=7,
                 snapshot_steps=[0, 3, 7], keep_trajectory=True)
    assert rec.loss.shape == (8, 32) and rec.seconds.shape == (8,)
    assert torch.all(rec.seconds[1:] >= rec.seconds[:-1])
    assert sorted(rec.snapshots) == [0, 3, 7] and rec.snapshots[3].shape == (32, 16)
    assert rec.trajectory.shape == (8, 32, 32)
    torch.testing.assert_close(rec.snapshots[7], rec.x)


@pytest.mark.parametrize("name", ["adam", "sgd", "sign"])
def test_differentiable_steps_match_in_place_steps(toy, name):
    p, y = toy
    theta = make_mapping("residual", p.dim_x, width=32)
    a = invert(p, y, theta, name, 0.01, 5)
    b = invert(p, y, theta, name, 0.01, 5, differentiable=True)
    torch.testing.assert_close(a.loss, b.loss.detach(), rtol=1e-4, atol=1e-6)


def test_projection_keeps_x_feasible(toy):
    from llcore import linf_projection
    p, y = toy
    p.project = linf_projection(0.05)
    rec = invert(p, y, None, "sign", 0.02, 10)
    assert rec.x.abs().max() <= 0.05 + 1e-7


def test_bounded_mapping_stays_in_its_ball(toy):
    p, y = toy
    theta = make_mapping("mlp", p.dim_x, width=32, bound=0.1)
    rec = invert(p, y, theta, "adam", 0.5, 10)
    assert rec.x.abs().max() <= 0.1


def test_bad_inputs_get_clear_errors(toy):
    p, y = toy
    with pytest.raises(ValueError, match="each target must have shape"):
        invert(p, y[:, :5], steps=2)
    bad = y.clone(); bad[3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf"):
        invert(p, bad, steps=2)
    with pytest.raises(TypeError, match="torch.Tensor"):
        invert(p, y.numpy(), steps=2)
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        invert(p, y, optimizer="adamw", steps=2)
    with pytest.raises(ValueError, match="learning rate"):
        InnerOptimizer("adam", lr=float("nan"))
    with pytest.raises(ValueError, match="unknown mapping 'resnet'"):
        make_mapping("resnet", 16)
    with pytest.raises(ValueError, match=r"z0 must have shape \(32, 16\)"):
        invert(p, y, None, steps=2, z0=torch.zeros(32, 15))
    with pytest.raises(ValueError, match=r"x0 must have shape \(32, 16\)"):
        invert(p, y, None, steps=2, x0=torch.zeros(31, 16))       # batch mismatch with the targets
    theta = make_mapping("residual", 16, dim_z=8, width=16)
    with pytest.raises(ValueError, match=r"z0 must have shape \(32, 8\)"):
        invert(p, y, theta, steps=2, z0=torch.zeros(32, 16))
    with pytest.raises(ValueError, match="steps must be"):
        invert(p, y, steps=-1)


def test_record_save_and_load_round_trip(toy, tmp_path):
    from llcore.repro.io import load_record, save_record
    p, y = toy
    rec = invert(p, y, None, steps=4, snapshot_steps=[2], keep_trajectory=True)
    back = load_record(save_record(tmp_path / "r.pt", rec))
    assert torch.equal(back.loss, rec.loss) and torch.equal(back.snapshots[2], rec.snapshots[2])
    assert torch.equal(back.trajectory, rec.trajectory) and back.meta == rec.meta
