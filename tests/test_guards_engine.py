"""Clear errors and warnings of the inversion loop, the optimizers and the trainer, where a user would otherwise get a
raw traceback from deep inside, or silently wrong numbers."""
import warnings

import pytest
import torch

from llcore import InnerOptimizer, Problem, ResidualMLP, TrainConfig, Trainer, TrainingDiverged, invert


def holey(threshold=0.5):
    """F(x) = x, NaN where x[:, 0] > threshold: a forward model undefined on part of its input space."""
    def forward(x):
        return torch.where(x[:, :1] > threshold, torch.full_like(x, float("nan")), x)
    return Problem(forward=forward, loss=lambda p, y: (p - y).pow(2).sum(1), x_shape=(2,), name="holey")


def test_a_theta_of_the_wrong_width_is_named_in_invert():
    p = holey()
    with pytest.raises(ValueError, match="dim_x=3.*x has 2 elements"):
        invert(p, torch.zeros(4, 2), ResidualMLP(dim_x=3, width=8), steps=2)


def test_nan_from_f_is_warned_per_target_and_marked_in_the_record():
    p = holey()
    y = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.2, 0.1]])          # only target 1 walks into the hole
    with pytest.warns(RuntimeWarning, match=r"1 of 3 targets \(target 1 from step \d+"):
        rec = invert(p, y, None, "adam", lr=0.2, steps=20)
    assert list(rec.meta["nonfinite"]) == [1]
    assert torch.isfinite(rec.loss[:, [0, 2]]).all()                # the other targets are unaffected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = invert(p, y[[0, 2]], None, "adam", lr=0.2, steps=20)
    assert clean.meta["nonfinite"] == {} and torch.equal(clean.loss, rec.loss[:, [0, 2]])


def test_an_lr_beside_an_inner_optimizer_is_refused_not_ignored():
    p = holey()
    with pytest.raises(ValueError, match="InnerOptimizer's lr is used"):
        invert(p, torch.zeros(2, 2), None, InnerOptimizer("adam", 0.3), lr=0.1, steps=1)
    rec = invert(p, torch.zeros(2, 2), None, InnerOptimizer("adam", 0.3), steps=1)
    assert rec.meta["lr"] == 0.3


@pytest.mark.parametrize("betas", [(1.5, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9,)])
def test_betas_outside_0_1_are_refused(betas):
    with pytest.raises(ValueError, match="betas"):
        InnerOptimizer("adam", 0.1, betas)


def test_the_trainer_blames_f_not_the_lr_when_f_returns_nan_at_a_finite_x():
    p = holey(threshold=0.0)                                          # half of the starts fall in the hole
    p.init = lambda n, shape, g: torch.randn(n, *shape, generator=g)
    theta = ResidualMLP(dim_x=2, width=8)
    cfg = TrainConfig(rounds=2, batch_size=8, inner_steps=3, theta_steps=1, theta_batch=8)
    with pytest.raises(TrainingDiverged, match="F or the loss returned nan at a finite x.*will not help"):
        Trainer(p, theta, torch.zeros(16, 2), cfg).train(progress=False)


def test_the_trainer_still_blames_the_lr_when_z_diverges():
    p = Problem(forward=lambda x: x, loss=lambda pred, y: (pred - y).pow(4).sum(1) * 1e30, x_shape=(2,))
    theta = ResidualMLP(dim_x=2, width=8)
    cfg = TrainConfig(rounds=2, batch_size=8, inner_steps=20, inner_optimizer="sgd", inner_lr=1e3, theta_steps=1,
                      theta_batch=8)
    with pytest.raises(TrainingDiverged, match="inner_lr"):
        Trainer(p, theta, torch.ones(16, 2), cfg).train(progress=False)
